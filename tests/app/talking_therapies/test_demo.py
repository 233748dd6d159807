"""The pathway in the demonstration area: a living service for the demo sign-ins."""

import pytest
from django.test import Client
from django.urls import reverse

from wholecare.demo.load import load_demo
from wholecare.directory.models import Staff
from wholecare.fhir.models import Resource
from wholecare.record.models import Referral
from wholecare.record.services import may_start_on_pathway
from wholecare.talking_therapies import engine, selectors
from wholecare.talking_therapies.demo import AlreadyLoaded, load_talking_therapies
from wholecare.talking_therapies.models import RiskTask, SelfReferral, TTReferral

pytestmark = pytest.mark.django_db


@pytest.fixture
def area(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo(people=300, seed=3, password="a-long-demo-password")
    load_talking_therapies(seed=3)


def _staff(username: str) -> Staff:
    return Staff.objects.select_related("user").get(user__username=username)


def test_every_state_is_there_and_outcomes_come_from_the_engine(area):
    statuses = set(TTReferral.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in TTReferral.Status}
    assert (
        TTReferral.objects.exclude(ending_reason="").values("ending_reason").distinct().count() >= 3
    )
    assert RiskTask.objects.filter(reviewed_at__isnull=True).exists()
    at_risk = RiskTask.objects.filter(reviewed_at__isnull=True).values("person")
    assert Resource.objects.filter(
        resource_type="MedicationStatement",
        person__in=at_risk,
        content__medicationCodeableConcept__text="Amitriptyline 10mg tablets",
    ).exists(), "a risk to review names a medicine more toxic in overdose"
    assert SelfReferral.objects.exists()
    pwp = _staff("demo-pwp")
    sent = Referral.objects.filter(service__in=pwp.services.all(), pathway="").select_related(
        "service"
    )
    assert any(may_start_on_pathway(r, {r.service_id}) for r in sent), "one from another system"
    outcomes = [engine.referral_outcome(r) for r in TTReferral.objects.filter(status="discharged")]
    assert any(o.recovered for o in outcomes)
    with pytest.raises(AlreadyLoaded):
        load_talking_therapies(seed=3)


def test_the_demo_sign_ins_see_a_living_service(area):
    pwp, therapist, nurse = (
        _staff("demo-pwp"),
        _staff("demo-therapist"),
        _staff("demo-practice-nurse"),
    )
    assert selectors.caseload(by=pwp.user).rows
    assert selectors.caseload(by=therapist.user).rows
    found = selectors.case_finding(by=nurse.user, practice_id=None, register="")
    assert found.unscreened or found.not_referred
    service = selectors.tt_services(pwp).first()
    assert service is not None
    client = Client()
    client.force_login(pwp.user)
    page = client.get(reverse("talking_therapies:waiting-list", args=[service.pk]))
    assert page.status_code == 200
    assert "Waiting for a first treatment" in page.content.decode()


def test_the_practices_systems_send_blood_pressures_and_care_plans(area):
    """Kept through the FHIR create a real client uses, so the demo's pages show them charted
    and on the summary (decisions 0026, 0027)."""
    referral = TTReferral.objects.filter(service__in=_staff("demo-pwp").services.all()).first()
    assert referral is not None
    pwp = _staff("demo-pwp")
    chart = selectors.person_page(by=pwp.user, public_id=referral.person.public_id).chart
    assert chart is not None
    assert any(
        point.note.startswith("Sent by ")
        for panel in chart.panels
        if panel.title == "Systolic blood pressure"
        for point in panel.points
    )
    plans = Resource.objects.filter(resource_type="CarePlan")
    assert plans.exists()
    assert set(plans.values_list("author__discipline", flat=True)) == {"gp"}
