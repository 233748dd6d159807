"""When an unreviewed risk task escalates: the end of the working day.

Pure Python, no Django. The working day ends at 17:00 (Europe/London) on a working day: Monday to
Friday except the bank holidays of England and Wales (GOV.UK, "UK bank holidays", England and
Wales list). A task raised on a working day before 17:00 escalates at 17:00 that day; one raised
later, at a weekend or on a bank holiday escalates at 17:00 on the next working day. The caseload
and the service manager's page apply this rule when they are read, so nothing depends on the
scheduler having run `wholecare escalate-risk`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
END_OF_DAY = dt.time(17, 0)

#: England and Wales bank holidays (GOV.UK), including substitute days.
BANK_HOLIDAYS: frozenset[dt.date] = frozenset(
    dt.date.fromisoformat(day)
    for day in (
        # 2025
        "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25",
        "2025-12-25", "2025-12-26",
        # 2026 (Boxing Day is a Saturday: substitute Monday 28 December)
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
        "2026-12-25", "2026-12-28",
        # 2027 (Christmas Day and Boxing Day at the weekend: substitutes 27 and 28 December)
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
        "2027-12-27", "2027-12-28",
    )
)  # fmt: skip
KNOWN_YEARS = frozenset(day.year for day in BANK_HOLIDAYS)


def is_working_day(day: dt.date) -> bool:
    if day.year not in KNOWN_YEARS:
        raise ValueError(
            f"bank holidays for {day.year} are not listed in workday.BANK_HOLIDAYS; add them"
        )
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def escalation_due(raised_at: dt.datetime) -> dt.datetime:
    """17:00 London time on the working day the task was raised, or on the next working day."""
    if raised_at.tzinfo is None:
        raise ValueError("raised_at must be timezone-aware")
    local = raised_at.astimezone(LONDON)
    day = local.date()
    if is_working_day(day) and local.time() < END_OF_DAY:
        return dt.datetime.combine(day, END_OF_DAY, tzinfo=LONDON)
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=LONDON)


def is_overdue(raised_at: dt.datetime, now: dt.datetime) -> bool:
    return now >= escalation_due(raised_at)
