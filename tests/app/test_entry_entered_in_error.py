"""A timeline entry written in error (on the wrong person's record, say) is marked so by whoever
wrote it, with a reason (decision 0024): it leaves the timeline and every export for everyone,
and stays in the audit trail."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests import factories
from tests.app.signed_in import signed_in
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import exports, selectors, services
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db

WRONG = "Home visit: leg ulcer redressed"


@pytest.fixture
def nurse(person: Person) -> Staff:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    factories.CareTeamMembershipFactory(person=person, staff=nurse)
    return nurse


@pytest.fixture
def wrong(person: Person, nurse: Staff) -> RecordEntry:
    return services.entry_create(
        by=nurse.user, person=person, kind="encounter", title=WRONG, text="Dressing changed."
    )


def _page(entry: RecordEntry) -> str:
    return reverse(
        "web:entry-entered-in-error",
        kwargs={"public_id": entry.person.public_id, "entry_id": entry.pk},
    )


def _titles(by: Staff, person: Person) -> list[str]:
    summary = selectors.person_summary(by=by.user, public_id=person.public_id)
    return [entry.title for entry in summary.timeline.entries]


def test_the_author_marks_an_entry_and_it_leaves_the_record_for_everyone(
    person: Person, nurse: Staff, wrong: RecordEntry, gp: Any
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    assert _titles(gp, person) == [WRONG]
    services.entry_enter_in_error(
        by=nurse.user, entry=wrong, reason="Written on the wrong person's record"
    )
    assert _titles(gp, person) == []
    assert _titles(nurse, person) == []
    exported = exports.person_record(by=gp.user, public_id=person.public_id)
    assert (exported["entries"], exported["entries_withheld"]) == ([], 0)
    kept = RecordEntry.objects.including_entered_in_error().get(pk=wrong.pk)
    assert kept.entered_in_error_by == nurse
    assert kept.entered_in_error_reason == "Written on the wrong person's record"
    assert AuditEvent.objects.filter(
        person_id=person.pk,
        what=f"encounter: {WRONG} marked entered in error",
        why="Written on the wrong person's record",
    ).exists()
    with pytest.raises(ValidationError, match="already been marked"):
        services.entry_enter_in_error(by=nurse.user, entry=wrong, reason="Again")


def test_only_the_author_may_mark_it_and_a_reason_is_needed(
    person: Person, nurse: Staff, wrong: RecordEntry, gp: Any
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    with pytest.raises(AccessDenied, match="Only whoever wrote an entry"):
        services.entry_enter_in_error(by=gp.user, entry=wrong, reason="Looks wrong to me")
    with pytest.raises(ValidationError) as refused:
        services.entry_enter_in_error(by=nurse.user, entry=wrong, reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why this entry was entered in error"]}
    assert _titles(gp, person) == [WRONG], "nothing marked"
    page = signed_in(gp).get(_page(wrong))
    assert page.status_code == 403
    assert "Only whoever wrote an entry can mark it entered in error" in page.content.decode()
    summary = signed_in(gp).get(reverse("web:person", kwargs={"public_id": person.public_id}))
    assert _page(wrong) not in summary.content.decode()


def test_the_author_marks_it_from_the_timeline(
    person: Person, nurse: Staff, wrong: RecordEntry
) -> None:
    client = signed_in(nurse)
    summary = client.get(reverse("web:person", kwargs={"public_id": person.public_id}))
    assert _page(wrong) in summary.content.decode()
    page = client.get(_page(wrong))
    assert page.status_code == 200
    assert "Dressing changed." in page.content.decode()
    assert (
        "Say why this entry was entered in error" in client.post(_page(wrong), {}).content.decode()
    )
    done = client.post(_page(wrong), {"reason": "Wrong person"}, follow=True)
    body = done.content.decode()
    assert f"“{WRONG}” has been marked entered in error." in body
    assert f">{WRONG}<" not in body
    gone = client.get(_page(wrong))
    assert gone["Location"] == reverse("web:person", kwargs={"public_id": person.public_id})


def test_an_entry_the_viewer_may_not_read_is_not_shown_by_its_page(
    person: Person, nurse: Staff
) -> None:
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    note = factories.RecordEntryFactory(
        person=person,
        author=therapist,
        title="Session 4: thought records",
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
    )
    page = signed_in(nurse).get(_page(note))
    assert page.status_code == 302
    assert "Session 4" not in signed_in(nurse).get(page["Location"]).content.decode()
