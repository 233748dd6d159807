"""A structured medication review made with the person, and what it does to the list of those
to consider for one (decisions 0043 and 0045)."""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access import services as access_services
from wholecare.directory.disciplines import Discipline
from wholecare.medicines import selectors, services
from wholecare.medicines.models import MedicationReview, ReviewedMedicine
from wholecare.record.models import Person, RecordEntry
from wholecare.record.services import entry_enter_in_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def taking(gp: Any, person: Person) -> Person:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    for name in ("Tramadol 50mg capsules", "Amitriptyline 10mg tablets", "Metformin 500mg tablets"):
        send_as(gp, medicine_taken(person, name))
    send_as(gp, medicine_taken(person, "Naproxen 500mg tablets", status="stopped"))
    return person


def _url(person: Person) -> str:
    return reverse("web:medication-review", args=[person.public_id])


def _posted(page: Any, **answers: Any) -> dict[str, Any]:
    today = timezone.localdate()
    soon = today + dt.timedelta(days=120)
    return {
        "fingerprint": page.context["form"]["fingerprint"].value(),
        **{f"outcome_{n}": "continue" for n in range(1, 4)},
        "what_matters": "Less pain at night without feeling drowsy in the day.",
        "agreed_with_person": "yes",
        "next_review_0": soon.day,
        "next_review_1": soon.month,
        "next_review_2": soon.year,
        **answers,
    }


def _to_consider(staff: Any) -> list[Person]:
    return [row.person for row in selectors.medication_reviews_to_consider(by=staff.user).rows]


def test_a_pharmacist_reviews_the_medicines_with_the_person_who_then_leaves_the_list(
    taking: Person,
) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, taking)
    assert _to_consider(pharmacist) == [taking]
    page = client.get(_url(taking))
    assert page.status_code == 200
    rows = page.context["form"].rows
    assert [r.medicine.name for r in rows] == [
        "Amitriptyline 10mg tablets",
        "Metformin 500mg tablets",
        "Tramadol 50mg capsules",
    ]
    html = page.content.decode()
    assert "Naproxen" not in html
    assert "More toxic in overdose" in html
    saved = client.post(
        _url(taking),
        _posted(
            page,
            outcome_1="reduce",
            how_1="10mg at night only; GP to change the repeat",
            outcome_3="stop",
            how_3="Taper over four weeks; GP to stop the repeat",
        ),
    )
    assert saved.status_code == 302, saved.context["form"].errors
    review = MedicationReview.objects.get(person=taking)
    assert review.reviewed_by == pharmacist
    assert review.agreed_with_person
    assert review.next_review == timezone.localdate() + dt.timedelta(days=120)
    assert [
        (m.position, m.name, m.outcome, m.note)
        for m in ReviewedMedicine.objects.filter(review=review)
    ] == [
        (1, "Amitriptyline 10mg tablets", "reduce", "10mg at night only; GP to change the repeat"),
        (2, "Metformin 500mg tablets", "continue", ""),
        (3, "Tramadol 50mg capsules", "stop", "Taper over four weeks; GP to stop the repeat"),
    ]
    entry = review.entry
    assert entry.title == "Structured medication review: 1 to stop, 1 to reduce, 1 to continue"
    assert "What matters to the person: Less pain at night" in entry.text
    assert "3. Tramadol 50mg capsules: Stop. Taper over four weeks" in entry.text
    assert "Agreed with the person." in entry.text
    summary = client.get(reverse("web:person", args=[taking.public_id])).content.decode()
    assert 'id="medication-reviewed"' in summary
    assert _to_consider(pharmacist) == []


def test_the_person_is_listed_again_when_the_agreed_review_is_due_or_the_note_withdrawn(
    taking: Person,
) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, taking)
    client.post(_url(taking), _posted(client.get(_url(taking))))
    review = MedicationReview.objects.get()
    review.next_review = timezone.localdate()
    review.save()
    assert _to_consider(pharmacist) == [taking]
    review.next_review = None
    review.save()
    assert _to_consider(pharmacist) == []
    entry_enter_in_error(by=pharmacist.user, entry=review.entry, reason="Wrong person")
    assert _to_consider(pharmacist) == [taking]
    assert selectors.last_review(taking) is None


def test_each_answer_is_checked_and_nothing_is_saved_while_one_is_wrong(taking: Person) -> None:
    _, client = on_care_team(Discipline.PHARMACIST, taking)
    page = client.get(_url(taking))
    past = timezone.localdate() - dt.timedelta(days=1)
    refused = client.post(
        _url(taking),
        _posted(
            page,
            outcome_1="stop",
            how_1=" ",
            outcome_2="",
            what_matters="",
            agreed_with_person="",
            next_review_0=past.day,
            next_review_1=past.month,
            next_review_2=past.year,
        ),
    )
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert errors["outcome_1"] == [
        "Amitriptyline 10mg tablets: say how, and who will make the change"
    ]
    assert errors["outcome_2"] == ["Metformin 500mg tablets: choose what was agreed"]
    assert errors["what_matters"] == ["Say what matters to the person about their medicines"]
    assert errors["agreed_with_person"] == ["Say whether the person agreed what was decided"]
    assert errors["next_review"] == ["The next review must be after today and within 12 months"]
    assert MedicationReview.objects.count() == 0
    assert not RecordEntry.objects.filter(person=taking).exists()


def test_lists_changed_since_the_page_opened_are_shown_again_unsaved(
    gp: Any, taking: Person
) -> None:
    _, client = on_care_team(Discipline.PHARMACIST, taking)
    page = client.get(_url(taking))
    send_as(gp, medicine_taken(taking, "Pregabalin 75mg capsules"))
    again = client.post(_url(taking), _posted(page))
    assert again.status_code == 200
    assert again.context["changed_since_opened"] == services.CHANGED_SINCE_OPENED
    assert "Pregabalin 75mg capsules" in again.content.decode()
    assert MedicationReview.objects.count() == 0


def test_only_pharmacists_and_gps_caring_for_the_person_record_a_review(taking: Person) -> None:
    _, client = on_care_team(Discipline.DISTRICT_NURSE, taking)
    page = client.get(_url(taking))
    assert page.status_code == 403
    assert "recorded by a pharmacist or GP caring for" in page.content.decode()
    assert client.post(_url(taking), {}).status_code == 403
    summary = client.get(reverse("web:person", args=[taking.public_id])).content.decode()
    assert "Record a structured medication review" not in summary
    glass = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    access_services.break_glass_open(
        by=glass.user, person=taking, reason="Called to an overdose: what does she take?"
    )
    assert signed_in(glass).get(_url(taking)).status_code == 403
    stranger = signed_in(factories.StaffFactory(discipline=Discipline.GP))
    assert "Tramadol" not in stranger.get(_url(taking)).content.decode()
    assert MedicationReview.objects.count() == 0


def test_the_person_is_told_when_their_medicines_were_last_reviewed(
    gp: Any, taking: Person
) -> None:
    own = signed_in_as_person(taking, online_since=timezone.now() - dt.timedelta(days=1))
    client = signed_in(gp)
    client.post(_url(taking), _posted(client.get(_url(taking))))
    mine = own.get(reverse("web:my-record")).content.decode()
    assert "Your medicines were last reviewed with you on" in mine
    assert f"by {gp.display_name} (GP), to be reviewed again by" in mine
    notes = own.get(reverse("web:my-notes")).content.decode()
    assert "Structured medication review: 3 to continue" in notes
