"""Golden table for the end of the working day, when an unreviewed risk task escalates."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.talking_therapies.workday import LONDON, escalation_due, is_overdue, is_working_day


def london(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


GOLDEN = [
    # (raised, due, source)
    ("2026-11-23 09:15", "2026-11-23 17:00", "Monday morning: the same working day"),
    ("2026-11-23 16:59", "2026-11-23 17:00", "One minute before the end of the day"),
    ("2026-11-23 17:00", "2026-11-24 17:00", "At 17:00 the day has ended: next working day"),
    ("2026-11-27 18:30", "2026-11-30 17:00", "Friday evening: Monday"),
    ("2026-11-28 11:00", "2026-11-30 17:00", "Saturday: Monday"),
    ("2026-12-24 17:30", "2026-12-29 17:00", "GOV.UK 2026: 25 December and substitute 28 December"),
    ("2026-08-31 10:00", "2026-09-01 17:00", "GOV.UK 2026: summer bank holiday 31 August"),
    (
        "2026-04-02 20:00",
        "2026-04-07 17:00",
        "GOV.UK 2026: Good Friday 3 and Easter Monday 6 April",
    ),
    ("2027-12-24 12:00", "2027-12-24 17:00", "Christmas Eve 2027 is a working day"),
    ("2027-12-24 17:01", "2027-12-29 17:00", "GOV.UK 2027: substitutes 27 and 28 December"),
    ("2026-03-29 08:00", "2026-03-30 17:00", "Sunday of the clock change: BST Monday 17:00"),
]


@pytest.mark.parametrize(("raised", "due", "source"), GOLDEN)
def test_golden(raised, due, source):
    assert escalation_due(london(raised)) == london(due), source


def test_utc_input_is_read_in_london_time():
    raised = dt.datetime(2026, 6, 1, 15, 30, tzinfo=dt.UTC)  # 16:30 BST
    assert escalation_due(raised) == london("2026-06-01 17:00")


def test_naive_times_and_unlisted_years_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        escalation_due(dt.datetime(2026, 1, 5, 9))
    with pytest.raises(ValueError, match="bank holidays for 2031"):
        is_working_day(dt.date(2031, 1, 6))


@given(
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 20)).map(
        lambda d: d.replace(tzinfo=LONDON)
    )
)
def test_due_is_a_working_day_at_five_after_raising_within_a_week(raised):
    due = escalation_due(raised)
    assert due > raised
    assert due - raised < dt.timedelta(days=7)
    local = due.astimezone(LONDON)
    assert local.time() == dt.time(17)
    assert is_working_day(local.date())
    assert not is_overdue(raised, due - dt.timedelta(seconds=1))
    assert is_overdue(raised, due)
