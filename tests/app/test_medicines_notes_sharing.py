"""What a reconciliation, a medication review or a correction writes of medicines the sharing
rule restricts reaches nobody the medicines are withheld from (decision 0047), and a request to
the prescriber about an ordinary medicine reaches the prescriber whatever else its note names
(decision 0048)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.conftest import PSY, reconcile_asking
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access.models import SharingConsent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.fhir.access import readable_q
from wholecare.medicines import selectors, services
from wholecare.medicines.models import MedicationReview, PrescriberRequest
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db
SEX = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SEX"}]}


def _gp_reads_therapy_records(person: Person) -> None:
    """The person's decision that their GP reads their psychological therapy records."""
    SharingConsent.objects.create(
        person=person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
        recorded_at=timezone.now(),
    )


def test_a_reconciliation_naming_a_therapy_medicine_is_a_therapy_note(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    psychiatrist = therapy_medicine
    entry = reconcile_asking(psychiatrist, person, gp.organisation.ods_code)
    assert entry.sensitivity == Sensitivity.PSYCHOLOGICAL_THERAPY
    assert "Mirtazapine" in entry.text
    client = signed_in(gp)
    summary = client.get(reverse("web:person", args=[person.public_id])).content.decode()
    assert "Mirtazapine" not in summary
    assert "Reconciled on" not in summary
    caseload = client.get(reverse("web:caseload"))
    assert [r.medicine for r in caseload.context["prescriber_requests"]] == [
        "Atorvastatin 20mg tablets"
    ]
    assert b"Mirtazapine" not in caseload.content
    asked = PrescriberRequest.objects.get(medicine__startswith="Mirtazapine")
    with pytest.raises(AccessDenied, match="sharing rule keeps this request from you"):
        services.request_answer(by=gp.user, request=asked, answer="done")
    page = client.get(
        reverse("web:prescriber-request", args=[person.public_id, asked.public_id]), follow=True
    )
    assert "the sharing rule keeps it from you" in page.content.decode()
    assert "Mirtazapine" not in page.content.decode()
    colleague, colleague_client = on_care_team(Discipline.MENTAL_HEALTH_NURSE, person)
    theirs = colleague_client.get(reverse("web:person", args=[person.public_id])).content
    assert b"Mirtazapine 15mg tablets</strong>: to correct the list, asked of" in theirs
    assert selectors.last_reconciled(colleague, person) is not None


def test_a_request_about_an_ordinary_medicine_reaches_the_prescriber_whatever_its_note_names(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    """The therapy note asked the GP practice about atorvastatin too: the GP, who reads no
    therapy records, sees and answers that request, and the answer is an ordinary note."""
    reconcile_asking(therapy_medicine, person, gp.organisation.ods_code)
    client = signed_in(gp)
    asked = PrescriberRequest.objects.get(medicine__startswith="Atorvastatin")
    assert asked.sensitivity == Sensitivity.NORMAL
    summary = client.get(reverse("web:person", args=[person.public_id])).content.decode()
    assert "Atorvastatin 20mg tablets</strong>: to correct the list, asked of" in summary
    page = client.get(reverse("web:prescriber-request", args=[person.public_id, asked.public_id]))
    assert page.status_code == 200
    assert "Mirtazapine" not in page.content.decode()
    answered = services.request_answer(by=gp.user, request=asked, answer="done")
    assert answered.answer_entry is not None
    assert answered.answer_entry.sensitivity == Sensitivity.NORMAL
    assert "Mirtazapine" not in answered.answer_entry.text


def test_where_the_person_shares_therapy_records_with_their_gp_the_gp_answers(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    _gp_reads_therapy_records(person)
    entry = reconcile_asking(therapy_medicine, person, gp.organisation.ods_code)
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
        reconcile_asking(gp, person)
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


def test_whoever_asks_is_told_when_nobody_asked_could_read_the_request(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    """The GP practice is offered for both medicines, but for the therapy one it says that
    nobody there who answers may read it, so the psychiatrist contacts them directly as well;
    once the person shares therapy records with their GP, it does not."""
    _, client = on_care_team(Discipline.PSYCHIATRIST, person)
    reconcile = reverse("web:medicines-reconcile", args=[person.public_id])

    def offered() -> dict[str, str]:
        form = client.get(reconcile).context["form"]
        return {
            medicine.name: dict(form.fields[f"asked_of_{n}"].choices)[gp.organisation.ods_code]
            for n, medicine in enumerate(form.medicines, start=1)
        }

    practice = gp.organisation.name
    assert offered() == {
        "Atorvastatin 20mg tablets": practice,
        "Mirtazapine 15mg tablets": f"{practice} (nobody there who answers in Wholecare may read"
        " this medicine's record: ask them directly as well)",
    }
    _gp_reads_therapy_records(person)
    assert set(offered().values()) == {practice}
