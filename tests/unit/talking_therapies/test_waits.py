"""The waiting-list rules: marks, statuses, first-to-second waits and the breach forecast."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.talking_therapies.waits import (
    FirstTreatmentWait,
    SecondTreatmentWait,
    WaitStatus,
    forecast,
    rate_per_week,
)

TODAY = dt.date(2026, 11, 23)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@pytest.mark.parametrize(
    ("waited", "status", "source"),
    [
        (0, WaitStatus.WITHIN_6_WEEKS, "received today"),
        (
            42,
            WaitStatus.WITHIN_6_WEEKS,
            "NHS England: DATEDIFF(received, first) <= 42 is within 6 weeks",
        ),
        (43, WaitStatus.PAST_6_WEEKS, "day 43 is past 6 weeks"),
        (126, WaitStatus.PAST_6_WEEKS, "NHS England: <= 126 days is within 18 weeks"),
        (127, WaitStatus.PAST_18_WEEKS, "day 127 is past 18 weeks"),
    ],
)
def test_first_treatment_wait(waited, status, source):
    wait = FirstTreatmentWait(ago(waited), TODAY)
    assert wait.days == waited
    assert wait.status is status, source
    assert wait.six_week_mark == ago(waited) + dt.timedelta(days=42)
    assert wait.eighteen_week_mark == ago(waited) + dt.timedelta(days=126)


@pytest.mark.parametrize(("since_first", "over"), [(90, False), (91, True)])
def test_first_to_second_is_nhs_englands_more_than_90_days(since_first, over):
    wait = SecondTreatmentWait(ago(since_first), TODAY)
    assert wait.over_90_days is over
    assert wait.mark == ago(since_first) + dt.timedelta(days=90)


def test_forecast_golden():
    # Waited 40 and 38 days: past 6 weeks on days 43 (in 3 and 5 days), both in week 1.
    # Waited 122 days: past 18 weeks (day 127) in week 1 too; past 6 weeks long ago (not counted).
    received = [ago(40), ago(38), ago(122), ago(10)]
    weeks = forecast(received, today=TODAY, first_treatments_per_week=0)
    assert [w.six_week_breaches for w in weeks] == [2, 0, 0, 0]
    assert [w.eighteen_week_breaches for w in weeks] == [1, 0, 0, 0]
    # Day 43 for the one who waited 10 days falls in week 5: outside the forecast.
    started = forecast(received, today=TODAY, first_treatments_per_week=2)
    assert [w.first_treatments for w in started] == [2, 2, 0, 0]
    # The two longest waiters (122 and 40 days) start in week 1; 38 days still breaches.
    assert [w.six_week_breaches for w in started] == [1, 0, 0, 0]
    assert [w.eighteen_week_breaches for w in started] == [0, 0, 0, 0]


def test_fractional_capacity_carries_over():
    weeks = forecast([ago(1)] * 10, today=TODAY, first_treatments_per_week=1.5)
    assert [w.first_treatments for w in weeks] == [1, 2, 1, 2]


def test_capacity_must_be_a_number():
    with pytest.raises(ValueError, match="capacity"):
        forecast([], today=TODAY, first_treatments_per_week=-1)


def test_rate_per_week():
    assert rate_per_week([ago(1), ago(10), ago(56), ago(57)], today=TODAY, weeks=8) == 2 / 8


waiting_lists = st.lists(st.integers(min_value=0, max_value=200).map(ago), max_size=60)


@given(waiting_lists, st.floats(min_value=0, max_value=20), st.floats(min_value=0, max_value=20))
def test_more_capacity_never_means_more_breaches(received, low, extra):
    slower = forecast(received, today=TODAY, first_treatments_per_week=low)
    faster = forecast(received, today=TODAY, first_treatments_per_week=low + extra)
    assert sum(w.six_week_breaches for w in faster) <= sum(w.six_week_breaches for w in slower)
    assert sum(w.eighteen_week_breaches for w in faster) <= sum(
        w.eighteen_week_breaches for w in slower
    )


@given(waiting_lists)
def test_without_capacity_every_mark_crossed_in_four_weeks_is_a_breach(received):
    weeks = forecast(received, today=TODAY, first_treatments_per_week=0)
    expected = sum(1 for r in received if 0 <= 43 - (TODAY - r).days <= 27)
    assert sum(w.six_week_breaches for w in weeks) == expected
    assert sum(w.first_treatments for w in weeks) == 0
