"""Waiting-list rules: days waited, the 6- and 18-week marks, the 90-day first-to-second
treatment wait, and a forecast of breaches in the next four weeks given current capacity.

Pure Python, no Django. The marks are the NHS Talking Therapies waiting-time standards as the
outcomes engine counts them (`wholecare.outcomes.rules`: referral to first treatment within 42
and 126 days; first to second treatment more than 90 days is NHS England's
"FirstToSecondMoreThan90Days"), so the waiting list and the outcomes agree on what a breach is.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from wholecare.outcomes import rules

SIX_WEEKS = rules.WITHIN_6_WEEKS_DAYS
EIGHTEEN_WEEKS = rules.WITHIN_18_WEEKS_DAYS
FIRST_TO_SECOND = rules.FIRST_TO_SECOND_OVER_DAYS
FORECAST_WEEKS = 4


class WaitStatus(StrEnum):
    WITHIN_6_WEEKS = "within-6-weeks"
    PAST_6_WEEKS = "past-6-weeks"
    PAST_18_WEEKS = "past-18-weeks"

    @property
    def label(self) -> str:
        return {
            "within-6-weeks": "Within 6 weeks",
            "past-6-weeks": "Past 6 weeks",
            "past-18-weeks": "Past 18 weeks",
        }[self.value]


@dataclass(frozen=True, slots=True)
class FirstTreatmentWait:
    """A referral waiting for its first treatment contact."""

    received: dt.date
    today: dt.date

    @property
    def days(self) -> int:
        return (self.today - self.received).days

    @property
    def six_week_mark(self) -> dt.date:
        """The last day on which a first treatment still counts as within 6 weeks."""
        return self.received + dt.timedelta(days=SIX_WEEKS)

    @property
    def eighteen_week_mark(self) -> dt.date:
        return self.received + dt.timedelta(days=EIGHTEEN_WEEKS)

    @property
    def status(self) -> WaitStatus:
        if self.days > EIGHTEEN_WEEKS:
            return WaitStatus.PAST_18_WEEKS
        if self.days > SIX_WEEKS:
            return WaitStatus.PAST_6_WEEKS
        return WaitStatus.WITHIN_6_WEEKS


@dataclass(frozen=True, slots=True)
class SecondTreatmentWait:
    """A referral in treatment with one treatment contact so far: the hidden wait."""

    first_treatment: dt.date
    today: dt.date

    @property
    def days(self) -> int:
        return (self.today - self.first_treatment).days

    @property
    def mark(self) -> dt.date:
        """The last day on which a second treatment is still within 90 days of the first."""
        return self.first_treatment + dt.timedelta(days=FIRST_TO_SECOND)

    @property
    def over_90_days(self) -> bool:
        return self.days > FIRST_TO_SECOND


@dataclass(frozen=True, slots=True)
class WeekForecast:
    start: dt.date
    end: dt.date
    first_treatments: int
    six_week_breaches: int
    eighteen_week_breaches: int


def forecast(
    received: Sequence[dt.date],
    *,
    today: dt.date,
    first_treatments_per_week: float,
    weeks: int = FORECAST_WEEKS,
) -> list[WeekForecast]:
    """Breaches of the 6- and 18-week marks expected in each of the next `weeks` weeks.

    The people waiting for a first treatment start in order of referral (longest wait first), at
    the current rate of first treatments per week (whole starts, carried over between weeks), at
    the start of each week. A referral breaches a mark in a week when the first day past the mark
    falls in that week and it has not started by then. Referrals already past a mark today are
    counted by the waiting list, not here.
    """
    if first_treatments_per_week < 0 or not math.isfinite(first_treatments_per_week):
        raise ValueError("capacity must be a finite number of first treatments per week, >= 0")
    queue = sorted(received)
    started = 0
    result: list[WeekForecast] = []
    for week in range(weeks):
        start = today + dt.timedelta(days=7 * week)
        end = start + dt.timedelta(days=6)
        available = math.floor(first_treatments_per_week * (week + 1) + 1e-9) - math.floor(
            first_treatments_per_week * week + 1e-9
        )
        starts = min(available, len(queue) - started)
        started += starts
        waiting = queue[started:]
        result.append(
            WeekForecast(
                start=start,
                end=end,
                first_treatments=starts,
                six_week_breaches=_breaching(waiting, SIX_WEEKS, start, end),
                eighteen_week_breaches=_breaching(waiting, EIGHTEEN_WEEKS, start, end),
            )
        )
    return result


def _breaching(waiting: Sequence[dt.date], limit: int, start: dt.date, end: dt.date) -> int:
    first_day_past = (r + dt.timedelta(days=limit + 1) for r in waiting)
    return sum(1 for day in first_day_past if start <= day <= end)


def rate_per_week(first_treatment_dates: Sequence[dt.date], *, today: dt.date, weeks: int) -> float:
    """Current capacity: first treatments per week over the last `weeks` weeks up to today."""
    if weeks <= 0:
        raise ValueError("weeks must be positive")
    since = today - dt.timedelta(days=7 * weeks)
    return sum(1 for day in first_treatment_dates if since < day <= today) / weeks
