"""A FHIR CarePlan another system sent, as a reader of the shared record needs it: what the plan
is for, whose it is, how long it runs and what is to be done. Pure Python, no Django.

Only the elements a person can act on are read; the plan itself is kept whole by the FHIR edge
(decision 0006) and an API client reads every element there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wholecare.fhir.elements import calendar_date, concept_text

IN_FORCE = ("active", "on-hold", "draft")
"""The statuses of a plan still to be followed (or about to be), in the order shown."""

_STATUS_LABELS = {
    "active": "In force",
    "on-hold": "On hold",
    "draft": "Draft, not yet agreed",
}
_ACTIVITY_STATUS_LABELS = {
    "not-started": "Not started",
    "scheduled": "Scheduled",
    "in-progress": "In progress",
    "on-hold": "On hold",
    "completed": "Done",
    "cancelled": "Cancelled",
    "stopped": "Stopped",
    "unknown": "",
    "entered-in-error": "",
}


@dataclass(frozen=True, slots=True)
class Activity:
    what: str
    status: str
    note: str
    """Why it has its status (`statusReason`)."""
    outcome: str


@dataclass(frozen=True, slots=True)
class CarePlanSummary:
    title: str
    status: str
    in_force: bool
    """Active: to be followed now (not on hold, not a draft)."""
    description: str
    starts: dt.date | None
    ends: dt.date | None
    past_end: bool
    """Its period ended before today, yet the sender has not closed it."""
    author: str
    addresses: tuple[str, ...]
    activities: tuple[Activity, ...]


def summarise(content: Mapping[str, Any], today: dt.date) -> CarePlanSummary:
    """The plan's title (its own, else its category, else its description), status, period,
    author and activities, each named by its description, code or reference, whichever it has.
    An activity entered in error is left out."""
    category = concept_text(next(iter(content.get("category", ())), {}))
    description = str(content.get("description") or "")
    period = content.get("period") or {}
    ends = calendar_date(period.get("end"))
    return CarePlanSummary(
        title=str(content.get("title") or category or description or "Care plan"),
        status=_STATUS_LABELS.get(str(content.get("status")), str(content.get("status", ""))),
        in_force=content.get("status") == "active",
        description=description if description != content.get("title") else "",
        starts=calendar_date(period.get("start")),
        ends=ends,
        past_end=ends is not None and ends < today,
        author=_reference_text(content.get("author")),
        addresses=tuple(
            text for text in (_reference_text(a) for a in content.get("addresses", ())) if text
        ),
        activities=tuple(
            _activity(a)
            for a in content.get("activity", ())
            if (a.get("detail") or {}).get("status") != "entered-in-error"
        ),
    )


def _activity(activity: Mapping[str, Any]) -> Activity:
    detail = activity.get("detail") or {}
    what = (
        detail.get("description")
        or concept_text(detail.get("code"))
        or _reference_text(activity.get("reference"))
        or "An activity with no description"
    )
    return Activity(
        what=str(what),
        status=_ACTIVITY_STATUS_LABELS.get(str(detail.get("status")), ""),
        note=concept_text(detail.get("statusReason")),
        outcome="; ".join(
            text for text in map(concept_text, activity.get("outcomeCodeableConcept", ())) if text
        ),
    )


def _reference_text(reference: Any) -> str:
    """A reference's display: what a reader can understand (an id alone says nothing)."""
    if not isinstance(reference, Mapping):
        return ""
    return str(reference.get("display") or "")
