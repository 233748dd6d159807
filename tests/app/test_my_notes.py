"""The person reads the notes and letters written in their record since they started using it
online, except what a clinician withheld and safeguarding entries (decision 0040)."""

import datetime as dt
import itertools

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.app.signed_in import signed_in, signed_in_as_person
from wholecare.access.models import AuditEvent
from wholecare.access.rules import person_reads_entry
from wholecare.directory.disciplines import Discipline
from wholecare.record import selectors, services
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity, WithheldFromPerson

pytestmark = pytest.mark.django_db

ONLINE_SINCE = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _online(person: Person) -> Client:
    """The person, signed in, with online access since `ONLINE_SINCE`."""
    return signed_in_as_person(person, online_since=ONLINE_SINCE)


def _notes(person: Person, before: selectors.EntryMark | None = None) -> selectors.MyNotes:
    assert person.user is not None
    return selectors.my_notes(by=person.user, before=before)


def _entry(person: Person, title: str, written: dt.datetime, **fields: object) -> RecordEntry:
    entry = factories.RecordEntryFactory(person=person, title=title, occurred_at=written, **fields)
    RecordEntry.objects.filter(pk=entry.pk).update(created_at=written)
    entry.refresh_from_db()
    return entry


def _page(client: Client, query: str = "") -> str:
    response = client.get(reverse("web:my-notes") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_person_reads_what_was_written_since_they_went_online(person: Person) -> None:
    client = _online(person)
    nurse = factories.StaffFactory(
        discipline=Discipline.DISTRICT_NURSE, user__first_name="Nia", user__last_name="Hale"
    )
    _entry(person, "Visit before going online", ONLINE_SINCE - dt.timedelta(minutes=1))
    _entry(
        person,
        "Home visit: leg ulcer",
        ONLINE_SINCE + dt.timedelta(days=3),
        author=nurse,
        text="Ulcer healing well; next visit Tuesday.",
    )
    page = _page(client)
    assert "Home visit: leg ulcer" in page
    assert "Ulcer healing well; next visit Tuesday." in page
    assert "Nia Hale, District nurse" in page
    assert "1 June 2026" in page
    assert "Visit before going online" not in page
    assert AuditEvent.objects.filter(
        person_id=person.pk, action="view", what="own notes and letters"
    ).exists()


def test_withheld_safeguarding_and_entered_in_error_entries_are_not_shown(person: Person) -> None:
    client = _online(person)
    later = ONLINE_SINCE + dt.timedelta(days=1)
    _entry(person, "Therapy session 3", later, sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY)
    _entry(person, "Strategy meeting", later, sensitivity=Sensitivity.SAFEGUARDING)
    _entry(person, "Partner history", later, withheld_from_person=WithheldFromPerson.THIRD_PARTY)
    _entry(person, "Wrong record", later, entered_in_error_at=later)
    _entry(factories.PersonFactory(), "Another person", later)
    page = _page(client)
    assert "Therapy session 3" in page
    for hidden in ("Strategy meeting", "Partner history", "Wrong record", "Another person"):
        assert hidden not in page


def test_the_query_agrees_with_the_rule_for_every_kind_of_entry(person: Person) -> None:
    """`entries_person_reads_q` is `rules.person_reads_entry` compiled, case by case."""
    client = _online(person)
    expected = set()
    cases = itertools.product(Sensitivity, (-1, 0, 1), ("", *(w.value for w in WithheldFromPerson)))
    for n, (sensitivity, offset, withheld) in enumerate(cases):
        written = ONLINE_SINCE + dt.timedelta(seconds=offset)
        title = f"Case {n}"
        _entry(person, title, written, sensitivity=sensitivity, withheld_from_person=withheld)
        if person_reads_entry(
            sensitivity=sensitivity,
            written_at=written,
            withheld=bool(withheld),
            online_since=ONLINE_SINCE,
        ):
            expected.add(title)
    read = {e.title for e in _notes(person).entries}
    assert read == expected
    assert len(expected) == 2 * 3
    assert "Case 0" not in _page(client)


def test_older_notes_come_a_page_at_a_time(person: Person) -> None:
    client = _online(person)
    for n in range(selectors.TIMELINE_PAGE + 2):
        _entry(person, f"Note {n:03d}", ONLINE_SINCE + dt.timedelta(hours=n))
    first = _notes(person)
    assert first.has_more
    assert first.entries[0].title == f"Note {selectors.TIMELINE_PAGE + 1:03d}"
    last = first.entries[-1]
    page = _page(client)
    assert "Show older notes" in page
    older = _page(
        client, f"?before={last.occurred_at.isoformat().replace('+', '%2B')}&before_id={last.pk}"
    )
    assert "Note 001" in older
    assert "Note 000" in older
    assert "Note 002" not in older
    assert "Show older notes" not in older


def test_a_link_wholecare_did_not_write_is_refused_and_staff_are_turned_away(
    person: Person, gp: object
) -> None:
    client = _online(person)
    response = client.get(reverse("web:my-notes") + "?before=yesterday&before_id=1")
    assert response.status_code == 400
    assert "Show older notes" in response.content.decode()
    assert signed_in(gp).get(reverse("web:my-notes")).status_code == 403


def test_a_note_withheld_then_released_reaches_the_person(person: Person) -> None:
    client = _online(person)
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    factories.CareTeamMembershipFactory(person=person, staff=nurse)
    entry = services.entry_create(
        by=nurse.user,
        person=person,
        kind="note",
        title="Discussed worries about daughter",
        text="Daughter's diagnosis discussed.",
        withheld_from_person=WithheldFromPerson.THIRD_PARTY,
    )
    assert "Discussed worries about daughter" not in _page(client)
    services.entry_show_to_person(by=nurse.user, entry=entry)
    assert "Discussed worries about daughter" in _page(client)


def test_my_record_leads_to_the_notes(person: Person) -> None:
    client = _online(person)
    response = client.get(reverse("web:my-record"))
    assert reverse("web:my-notes") in response.content.decode()
