"""What a reconciliation, a medication review or a correction writes of medicines the sharing
rule restricts reaches nobody the medicines are withheld from (decision 0047)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access.models import SharingConsent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.fhir.access import readable_q
from wholecare.medicines import selectors, services
from wholecare.medicines.models import MedicationReview, PrescriberRequest
from wholecare.medicines.reconciliation import Decision
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db

PSY = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}
SEX = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SEX"}]}


@pytest.fixture
def therapy_medicine(gp: Staff, person: Person) -> Staff:
    """The GP practice lists atorvastatin; the mental health trust lists mirtazapine as a
    psychological therapy record, which the GP (not a default reader) does not read. Returns the
    psychiatrist, who reads both."""
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    psychiatrist: Staff = on_care_team(Discipline.PSYCHIATRIST, person)[0]
    send_as(gp, medicine_taken(person, "Atorvastatin 20mg tablets"))
    send_as(psychiatrist, medicine_taken(person, "Mirtazapine 15mg tablets", meta=PSY))
    return psychiatrist


def _gp_reads_therapy_records(person: Person) -> None:
    """The person's decision that their GP reads their psychological therapy records."""
    SharingConsent.objects.create(
        person=person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
        recorded_at=timezone.now(),
    )


def _reconcile(by: Staff, person: Person, ask: str = "") -> RecordEntry:
    """Reconcile as `by`, asking `ask` (an ODS code) to correct every medicine whose lists
    differ, or finding each difference intended."""
    compared = selectors.comparison(by, person, timezone.localdate())
    differing = [n for n, m in enumerate(compared.medicines, start=1) if m.differences]
    found = dict.fromkeys(range(1, len(compared.medicines) + 1), (Decision.AS_LISTED.value, ""))
    decision = Decision.PRESCRIBER_ASKED if ask else Decision.INTENDED
    found.update(dict.fromkeys(differing, (decision.value, "Not on the practice list.")))
    return services.reconcile(
        by=by.user,
        person=person,
        fingerprint=compared.fingerprint,
        found=found,
        asked_of=dict.fromkeys(differing, ask),
        checked_with=["person"],
    ).entry


def test_a_reconciliation_naming_a_therapy_medicine_is_a_therapy_note(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    psychiatrist = therapy_medicine
    entry = _reconcile(psychiatrist, person, gp.organisation.ods_code)
    assert entry.sensitivity == Sensitivity.PSYCHOLOGICAL_THERAPY
    assert "Mirtazapine" in entry.text
    client = signed_in(gp)
    summary = client.get(reverse("web:person", args=[person.public_id])).content.decode()
    assert "Mirtazapine" not in summary
    assert "Reconciled on" not in summary
    assert not client.get(reverse("web:caseload")).context["prescriber_requests"]
    asked = PrescriberRequest.objects.get(medicine__startswith="Mirtazapine")
    with pytest.raises(AccessDenied, match="sharing rule keeps the note that asked"):
        services.request_answer(by=gp.user, request=asked, answer="done")
    colleague, colleague_client = on_care_team(Discipline.MENTAL_HEALTH_NURSE, person)
    theirs = colleague_client.get(reverse("web:person", args=[person.public_id])).content
    assert b"Mirtazapine 15mg tablets</strong>: to correct the list, asked of" in theirs
    assert selectors.last_reconciled(colleague, person) is not None


def test_where_the_person_shares_therapy_records_with_their_gp_the_gp_answers(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    _gp_reads_therapy_records(person)
    entry = _reconcile(therapy_medicine, person, gp.organisation.ods_code)
    assert [a.medicine for a in selectors.requests_to_answer(by=gp.user)[0]] == [
        "Atorvastatin 20mg tablets",
        "Mirtazapine 15mg tablets",
    ]
    asked = PrescriberRequest.objects.get(medicine__startswith="Mirtazapine")
    answered = services.request_answer(by=gp.user, request=asked, answer="done")
    assert answered.answer_entry is not None
    assert answered.answer_entry.sensitivity == entry.sensitivity


def test_lists_restricted_two_ways_cannot_share_one_note(gp: Staff, person: Person) -> None:
    """The GP reads sexual health records by default, and therapy records by the person's
    consent: one note cannot follow both rules, so nothing is written."""
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    _gp_reads_therapy_records(person)
    psychiatrist, _ = on_care_team(Discipline.PSYCHIATRIST, person)
    send_as(gp, medicine_taken(person, "Emtricitabine 200mg / tenofovir 245mg tablets", meta=SEX))
    send_as(psychiatrist, medicine_taken(person, "Mirtazapine 15mg tablets", meta=PSY))
    with pytest.raises(ValidationError) as error:
        _reconcile(gp, person)
    assert "one note cannot be shared both ways" in error.value.message_dict["__all__"][0]
    assert (
        "psychological therapy notes and sexual health entries"
        in (error.value.message_dict["__all__"][0])
    )
    assert not RecordEntry.objects.filter(person=person).exists()


def test_a_medication_review_naming_a_sexual_health_medicine_is_a_sexual_health_note(
    gp: Staff, person: Person
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    send_as(gp, medicine_taken(person, "Emtricitabine 200mg / tenofovir 245mg tablets", meta=SEX))
    send_as(gp, medicine_taken(person, "Ramipril 5mg capsules"))
    compared = selectors.comparison(gp, person, timezone.localdate())
    services.medication_review_record(
        by=gp.user,
        person=person,
        fingerprint=compared.fingerprint,
        agreed={1: ("continue", ""), 2: ("continue", "")},
        what_matters="Staying well on fewer tablets.",
        agreed_with_person=True,
    )
    entry = MedicationReview.objects.get().entry
    assert entry.sensitivity == Sensitivity.SEXUAL_HEALTH
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, person)
    assert not RecordEntry.objects.filter(readable_q(pharmacist), pk=entry.pk).exists()
