"""Whoever reviews a risk of suicide sees the medicines other systems list that are more toxic in
overdose; the person's own record does not tag them (decision 0044)."""

from django.urls import reverse

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import signed_in, signed_in_as_person
from tests.app.talking_therapies.conftest import Setting, days_ago, score, treated_course
from wholecare.directory.disciplines import Discipline
from wholecare.talking_therapies.models import RiskTask


def _takes(tt: Setting, name: str) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, organisation=tt.practice)
    factories.CareTeamMembershipFactory(person=tt.person, staff=gp)
    send_as(gp, medicine_taken(tt.person, name, dosage="One or two at night"))


def test_a_risk_to_review_names_the_medicines_more_toxic_in_overdose(tt: Setting) -> None:
    _takes(tt, "Amitriptyline 10mg tablets")
    _takes(tt, "Metformin 500mg tablets")
    referral = treated_course(tt)
    pwp = signed_in(tt.pwp)
    page = pwp.get(reverse("talking_therapies:referral", args=[referral.public_id]))
    assert 'id="more-toxic-in-overdose"' not in page.content.decode()

    score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, 2], days_ago(0))
    page = pwp.get(reverse("talking_therapies:referral", args=[referral.public_id]))
    html = page.content.decode()
    warning = html[html.index('id="more-toxic-in-overdose"') :][:400]
    assert "<strong>Amitriptyline 10mg tablets</strong> (a tricyclic antidepressant)" in warning
    assert "Metformin" not in warning
    task = RiskTask.objects.get()
    review = pwp.get(reverse("talking_therapies:risk-review", args=[task.pk])).content.decode()
    assert "Medicines more toxic in overdose" in review
    assert "<strong>Amitriptyline 10mg tablets</strong>" in review

    summary = pwp.get(reverse("web:person", args=[tt.person.public_id])).content.decode()
    card = summary[summary.index('id="medicines-heading"') :][:3000]
    assert "More toxic in overdose" in card
    assert "weighed for anyone at risk of suicide" in card
    own = signed_in_as_person(tt.person).get(reverse("web:my-record")).content.decode()
    assert "Amitriptyline 10mg tablets" in own
    assert "toxic" not in own


def test_without_such_a_medicine_the_review_says_nothing_of_overdose(tt: Setting) -> None:
    _takes(tt, "Sertraline 50mg tablets")
    referral = treated_course(tt)
    score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, 1], days_ago(0))
    task = RiskTask.objects.get()
    review = signed_in(tt.pwp).get(reverse("talking_therapies:risk-review", args=[task.pk]))
    assert "more toxic in overdose" not in review.content.decode().lower()
