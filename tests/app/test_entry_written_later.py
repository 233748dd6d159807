"""An entry written after the event (a home visit written up back at the base) says when it
happened, and the timeline shows when it was written, as a retrospective note must."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.app.signed_in import on_care_team
from wholecare.directory.disciplines import Discipline

pytestmark = pytest.mark.django_db

NOTE = {
    "kind": "encounter",
    "title": "Home visit",
    "text": "Leg ulcer dressed",
    "sensitivity": "normal",
}


def _new(person: Any) -> str:
    return reverse("web:entry-new", kwargs={"public_id": person.public_id})


def _timeline(client: Client, person: Any) -> str:
    return client.get(
        reverse("web:person", kwargs={"public_id": person.public_id})
    ).content.decode()


def test_a_visit_written_up_later_is_dated_when_it_happened_and_says_when_written(
    person: Any,
) -> None:
    _, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    client.post(
        _new(person),
        {
            **NOTE,
            "occurred_on_0": str(yesterday.day),
            "occurred_on_1": str(yesterday.month),
            "occurred_on_2": str(yesterday.year),
            "occurred_time": "9.15",
        },
    )
    entry = person.entries.get()
    assert timezone.localtime(entry.occurred_at).replace(tzinfo=None) == dt.datetime.combine(
        yesterday, dt.time(9, 15)
    )
    assert entry.written_later
    written = timezone.localtime(entry.created_at).strftime("%-d %b %Y, %H:%M")
    assert f"<strong>written {written}</strong>" in _timeline(client, person)


def test_an_entry_made_now_is_dated_now_and_not_marked(person: Any) -> None:
    _, client = on_care_team(Discipline.GP, person)
    before = timezone.now()
    client.post(_new(person), NOTE)
    entry = person.entries.get()
    assert before <= entry.occurred_at <= timezone.now()
    assert not entry.written_later
    assert "<strong>written" not in _timeline(client, person)


def test_a_time_alone_is_today(person: Any) -> None:
    _, client = on_care_team(Discipline.GP, person)
    client.post(_new(person), {**NOTE, "occurred_time": "00:00"})
    occurred = timezone.localtime(person.entries.get().occurred_at)
    assert (occurred.date(), occurred.time()) == (timezone.localdate(), dt.time(0, 0))


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            {"occurred_on_0": "1", "occurred_on_1": "3", "occurred_on_2": "2026"},
            "Enter the time it happened",
        ),
        ({"occurred_time": "25:00"}, "Enter the time on the 24-hour clock"),
        ({"occurred_time": "half past"}, "Enter the time on the 24-hour clock"),
        (
            {
                "occurred_on_0": "30",
                "occurred_on_1": "2",
                "occurred_on_2": "2026",
                "occurred_time": "10:00",
            },
            "The date it happened must be a real date",
        ),
        (
            {
                "occurred_on_0": "1",
                "occurred_on_1": "1",
                "occurred_on_2": "2099",
                "occurred_time": "10:00",
            },
            "The date and time it happened must be in the past",
        ),
    ],
)
def test_a_bad_date_or_time_says_what_is_wrong_and_adds_nothing(
    person: Any, when: dict[str, str], message: str
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    page = client.post(_new(person), {**NOTE, **when})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not person.entries.exists()
