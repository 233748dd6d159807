"""`wholecare demo` and `wholecare.demo.load.load_demo` against a real (test) database."""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.medicationstatement import MedicationStatement

from tests.app.signed_in import signed_in
from wholecare.access import permissions
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.demo import population
from wholecare.demo.load import DemoAlreadyLoaded, DemoResult, demo_usernames, load_demo
from wholecare.directory.disciplines import MENTAL_HEALTH, Discipline
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir.mappers.medication import REVIEW_GROUP
from wholecare.fhir.models import Resource, SearchToken
from wholecare.medicines import selectors as medicines_selectors
from wholecare.record import selectors
from wholecare.record.models import (
    Alert,
    CareTeamMembership,
    Condition,
    Person,
    RecordEntry,
    Referral,
    SocialCareNeed,
)
from wholecare.record.vocabulary import ConditionGroup, Sensitivity

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-demo-password"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo() -> DemoResult:
    return load_demo(people=300, seed=3, password=PASSWORD)


def staff(username: str) -> Staff:
    return Staff.objects.select_related("user").get(user__username=username)


def has_ltc_and_depression_or_anxiety(person: Person) -> bool:
    concepts = [c.concept for c in person.conditions.all()]
    return any(c.group is ConditionGroup.LONG_TERM for c in concepts) and any(
        c.value_set in {"depression", "anxiety"} for c in concepts
    )


def test_load_demo_builds_the_area_and_one_sign_in_per_discipline(demo: DemoResult) -> None:
    assert Person.objects.count() == 300 == demo.people
    assert demo.loaded
    assert demo.password == PASSWORD
    assert set(demo.usernames) == set(demo_usernames())
    for discipline in Discipline:
        member = staff(f"demo-{discipline.value}")
        assert member.discipline == discipline.value
        assert member.user.check_password(PASSWORD)
    patient = get_user_model().objects.get(username="demo-patient")
    assert patient.check_password(PASSWORD)
    assert (Person.objects.get(user=patient).nhs_number or "").startswith("999")
    assert set(Staff.objects.values_list("discipline", flat=True)) == {d.value for d in Discipline}
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert kinds == set(Organisation.Kind.values)
    assert Organisation.objects.filter(kind=Organisation.Kind.GP_PRACTICE).count() >= 3
    events = AuditEvent.objects.filter(what="demo population loaded: 300 people, seed 3")
    assert events.count() == 1
    # Beside the load, only what the demo pharmacist's reconciliation wrote, as any would.
    others = AuditEvent.objects.exclude(pk__in=events)
    assert set(others.values_list("actor_role", flat=True)) == {Discipline.PHARMACIST.value}


def test_the_demo_gp_is_named_gp_of_many_including_ltc_with_depression(demo: DemoResult) -> None:
    gp = staff("demo-gp")
    named = Person.objects.filter(care_team__staff=gp, care_team__role="Named GP")
    assert named.count() >= 30
    assert sum(has_ltc_and_depression_or_anxiety(p) for p in named) >= 3
    nurse = staff("demo-practice-nurse")
    nursed = Person.objects.filter(care_team__staff=nurse).prefetch_related("conditions")
    assert nursed.exists()
    assert all(
        any(c.concept.group is ConditionGroup.LONG_TERM for c in p.conditions.all()) for p in nursed
    )


def test_demo_therapists_have_open_referrals_and_write_therapy_notes(demo: DemoResult) -> None:
    for username in ("demo-therapist", "demo-pwp"):
        member = staff(username)
        kinds = set(member.services.values_list("kind", flat=True))
        assert kinds == {Service.Kind.TALKING_THERAPIES}
        open_referrals = Referral.objects.filter(
            service__in=member.services.all(), status=Referral.Status.OPEN
        )
        assert open_referrals.exists()
        notes = RecordEntry.objects.filter(
            author=member, sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY
        )
        assert notes.exists()
        assert permissions.can_open_record(member, open_referrals.first().person)  # type: ignore[union-attr]
    gp_decisions = SharingConsent.objects.filter(discipline=Discipline.GP.value)
    assert gp_decisions.filter(decision=SharingConsent.Decision.PERMIT).exists()
    assert gp_decisions.filter(decision=SharingConsent.Decision.DENY).exists()


def test_therapy_notes_follow_consent(demo: DemoResult) -> None:
    gp, therapist = staff("demo-gp"), staff("demo-therapist")
    withheld = Person.objects.get(
        nhs_number=demo.examples["therapy-withheld-from-gp"].replace(" ", "")
    )
    shared = Person.objects.get(user__username="demo-patient")
    therapy = Sensitivity.PSYCHOLOGICAL_THERAPY
    for person in (withheld, shared):
        assert permissions.can_open_record(gp, person)
        assert therapy in permissions.sensitive_access(therapist, person).sensitivities
    assert therapy not in permissions.sensitive_access(gp, withheld).sensitivities
    assert therapy in permissions.sensitive_access(gp, shared).sensitivities


def test_demo_notes_read_as_written_when_they_happened(demo: DemoResult) -> None:
    entries = list(RecordEntry.objects.all())
    assert entries
    assert not [entry for entry in entries if entry.written_later]


def test_the_social_worker_is_on_some_care_teams_but_not_all(demo: DemoResult) -> None:
    social_worker = staff("demo-social-worker")
    openable = Person.objects.filter(permissions.people_openable_q(social_worker))
    assert CareTeamMembership.objects.filter(staff=social_worker).exists()
    assert 0 < openable.count() < Person.objects.count()
    patient = Person.objects.get(user__username="demo-patient")
    assert not permissions.can_open_record(social_worker, patient)
    assert permissions.can_break_glass(social_worker)


def test_managers_and_analysts_open_no_one_without_a_reason(demo: DemoResult) -> None:
    for username in ("demo-service-manager", "demo-analyst", "demo-privacy-officer"):
        member = staff(username)
        assert not Person.objects.filter(permissions.people_openable_q(member)).exists()
    assert not staff("demo-service-manager").services.exists()


def test_the_demo_patient_has_a_joined_up_record(demo: DemoResult) -> None:
    patient = Person.objects.get(user__username="demo-patient")
    assert has_ltc_and_depression_or_anxiety(patient)
    entries = patient.entries.all()
    disciplines = set(entries.values_list("discipline", flat=True))
    assert len(disciplines) >= 4
    assert disciplines & {d.value for d in MENTAL_HEALTH}
    assert entries.filter(sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY).exists()
    assert patient.care_team.filter(role="Named GP", staff__user__username="demo-gp").exists()


def test_the_demo_patient_reads_the_notes_written_since_they_went_online(
    demo: DemoResult,
) -> None:
    patient = Person.objects.get(user__username="demo-patient")
    assert patient.user is not None
    since = patient.user.date_joined
    notes = selectors.my_notes(by=patient.user).entries
    assert notes
    assert all(note.created_at >= since for note in notes)
    assert patient.entries.filter(created_at__lt=since).exists()


def test_the_demo_carer_reads_her_mothers_record_and_recent_notes(demo: DemoResult) -> None:
    mother = Person.objects.get(proxies__proxy__username="demo-carer")
    assert "cared-for" in demo.examples
    carer = Client()
    carer.force_login(get_user_model().objects.get(username="demo-carer"))
    record = carer.get(reverse("web:proxy-record", kwargs={"public_id": mother.public_id}))
    assert mother.full_name in record.content.decode()
    notes = carer.get(reverse("web:proxy-notes", kwargs={"public_id": mother.public_id}))
    assert notes.status_code == 200
    assert "wc-timeline-entry" in notes.content.decode()


def test_demo_medicines_are_what_a_gp_system_sends_and_show_where_people_look(
    demo: DemoResult,
) -> None:
    statements = Resource.objects.filter(resource_type="MedicationStatement")
    assert statements.count() > 100
    for kept in statements.order_by("pk")[:200]:
        MedicationStatement.model_validate(kept.content)
        assert kept.versions.get().content == kept.content
        assert kept.tokens.filter(param="category", value__in=["community", "outpatient"]).exists()
    clinic = statements.filter(tokens__param="category", tokens__value="outpatient")
    assert clinic.exists()
    assert set(clinic.values_list("author__organisation__kind", flat=True)) == {
        Organisation.Kind.ACUTE_TRUST
    }
    cared_for = Person.objects.get(proxies__proxy__username="demo-carer")
    pharmacist = Staff.objects.get(user__username="demo-pharmacist")
    compared = medicines_selectors.comparison(pharmacist, cared_for, timezone.localdate())
    assert len(compared.sources) == 2
    assert compared.differing > 0
    grouped = SearchToken.objects.filter(param=REVIEW_GROUP, resource__in=statements)
    assert {"opioid", "insulin"} <= set(grouped.values_list("value", flat=True))
    stopped = statements.filter(status="stopped")
    assert stopped.exists()
    assert all(s.date_end is not None for s in stopped)
    people_with_medicines = statements.values("person").distinct().count()
    assert 0.2 < people_with_medicines / Person.objects.count() < 0.9
    patient = Person.objects.get(user__username="demo-patient")
    assert patient.user is not None
    own = Client()
    own.force_login(patient.user)
    page = own.get(reverse("web:my-record")).content.decode()
    taken = statements.filter(person=patient, status="active").values_list("content", flat=True)
    assert taken
    for content in taken:
        assert content["medicationCodeableConcept"]["text"] in page
    area = population.build_area(people=300, seed=3)
    again = population.generate_people(area, people=300, seed=3, as_of=timezone.localdate())
    assert sorted((str(m.fhir_id), m.name) for spec in again for m in spec.medicines) == sorted(
        (s.fhir_id, s.content["medicationCodeableConcept"]["text"]) for s in statements
    )


def test_the_demo_gp_finds_a_request_to_correct_a_list_asked_of_their_practice(
    demo: DemoResult,
) -> None:
    gp = Staff.objects.get(user__username="demo-gp")
    client = Client()
    client.force_login(gp.user)
    waiting = client.get(reverse("web:caseload")).context["prescriber_requests"]
    assert waiting
    assert {(a.asked_of, a.kind) for a in waiting} == {(gp.organisation, "correction")}
    person = waiting[0].person
    assert waiting[0].asked_by.discipline == Discipline.PHARMACIST
    text = next(s.try_this for s in demo.sign_ins if s.username == "demo-gp")
    assert f"correct {demo.examples['prescriber-request']}'s medicines list" in text
    assert demo.examples["prescriber-request"].replace(" ", "") == person.nhs_number


def test_demo_allergies_are_what_a_gp_system_sends_and_nothing_is_often_sent(
    demo: DemoResult,
) -> None:
    kept = Resource.objects.filter(resource_type="AllergyIntolerance")
    for allergy in kept.order_by("pk")[:200]:
        AllergyIntolerance.model_validate(allergy.content)
        assert allergy.status == "active"
    codes = Counter(
        c.get("text") or c["coding"][0]["display"]
        for c in kept.values_list("content__code", flat=True)
    )
    assert set(codes) == {"Amoxicillin", "Peanuts", "Codeine", "No known drug allergy"}
    with_any = kept.values("person").distinct().count()
    assert 0.3 < with_any / Person.objects.count() < 0.75
    both = kept.filter(content__code__text="Codeine").values("person")
    assert not kept.filter(person__in=both, content__code__coding__0__code="409137002").exists()


def test_demo_reviews_booked_are_coming_appointments_on_the_pages(demo: DemoResult) -> None:
    booked = Resource.objects.filter(resource_type="Appointment")
    assert booked.count() >= 5
    today = timezone.localdate()
    for kept in booked:
        Appointment.model_validate(kept.content)
        assert kept.date_start is not None
        assert today < timezone.localdate(kept.date_start) <= today + dt.timedelta(days=45)
        assert timezone.localtime(kept.date_start).weekday() < 5
    person = Person.objects.filter(fhir_resources__in=booked).order_by("pk").first()
    assert person is not None
    gp = person.care_team.get(role="Named GP").staff
    page = signed_in(gp).get(reverse("web:person", args=[person.public_id])).content.decode()
    for content in booked.filter(person=person).values_list("content", flat=True):
        assert content["description"] in page


def test_loaded_rows_pass_model_validation(demo: DemoResult) -> None:
    models: list[type[Model]] = [
        Organisation,
        Service,
        Staff,
        Person,
        Condition,
        SocialCareNeed,
        CareTeamMembership,
        Referral,
        SharingConsent,
        Alert,
        RecordEntry,
    ]
    for model in models:
        rows = list(model.objects.order_by("pk")[:150])  # type: ignore[attr-defined]
        assert rows, model
        for row in rows:
            row.full_clean()


def test_a_second_load_is_refused() -> None:
    call_command("demo", "--people", "20", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="already holds 20 people") as refused:
        call_command("demo", "--people", "20", stdout=StringIO(), stderr=StringIO())
    assert refused.value.returncode == 2
    with pytest.raises(DemoAlreadyLoaded):
        load_demo(people=20, seed=1)
    assert Person.objects.count() == 20


def test_if_empty_loads_once_then_only_resets_the_sign_ins(monkeypatch) -> None:
    monkeypatch.setenv("WHOLECARE_DEMO_PASSWORD", "first-password-123")
    out = StringIO()
    call_command("demo", "--people", "25", "--if-empty", stdout=out, stderr=StringIO())
    assert "Loaded 25 synthetic people" in out.getvalue()
    monkeypatch.setenv("WHOLECARE_DEMO_PASSWORD", "second-password-456")
    out = StringIO()
    call_command("demo", "--people", "25", "--if-empty", stdout=out, stderr=StringIO())
    printed = out.getvalue()
    assert Person.objects.count() == 25
    assert "already loaded" in printed
    assert "Password for every demo sign-in: second-password-456" in printed
    for username in demo_usernames():
        assert username in printed
    user = get_user_model().objects.get(username="demo-privacy-officer")
    assert user.check_password("second-password-456")


def test_without_a_password_one_is_generated_each_run(monkeypatch) -> None:
    monkeypatch.delenv("WHOLECARE_DEMO_PASSWORD", raising=False)
    first = load_demo(people=10, seed=1)
    assert len(first.password) >= 12
    assert get_user_model().objects.get(username="demo-gp").check_password(first.password)
