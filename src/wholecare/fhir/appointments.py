"""A FHIR Appointment another system sent, as a reader of the shared record needs it: what it is
for, when, with whom, how (in person, by telephone, by video) and what to do before it. Pure
Python, no Django.

Only the elements a person can act on are read; the appointment is kept whole by the FHIR edge
(decisions 0006 and 0039) and an API client reads every element there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wholecare.fhir.elements import as_list, concept_text

UPCOMING = ("booked", "pending", "proposed", "arrived", "checked-in", "waitlist")
"""The statuses of an appointment still to happen (or happening now)."""
UNDATED = ("waitlist", "proposed")
"""The statuses of a coming appointment that may have no date yet (FHIR's invariant app-3), listed
without one."""
DELIVERY_CHANNEL = "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeliveryChannel"

_STATUS_LABELS = {
    "booked": "Booked",
    "pending": "Not yet confirmed",
    "proposed": "Offered, not yet booked",
    "arrived": "Arrived",
    "checked-in": "Checked in",
    "waitlist": "On the waiting list",
}


@dataclass(frozen=True, slots=True)
class AppointmentSummary:
    what: str
    status: str
    starts: dt.datetime | None
    ends: dt.datetime | None
    with_whom: tuple[str, ...]
    """Everyone and everywhere taking part but the person: clinicians, services, places."""
    channel: str
    """In person, by telephone or by video, as UK Core's delivery channel extension says."""
    instructions: str
    """What the person is asked to do before it (`patientInstruction`)."""
    comment: str
    """What the sender noted for those caring for the person (`comment`)."""


def summarise(content: Mapping[str, Any]) -> AppointmentSummary:
    status = str(content.get("status", ""))
    return AppointmentSummary(
        what=_what(content),
        status=_STATUS_LABELS.get(status, status.replace("-", " ").capitalize()),
        starts=_instant(content.get("start")),
        ends=_instant(content.get("end")),
        with_whom=tuple(
            str(actor["display"])
            for actor in (
                p.get("actor")
                for p in as_list(content.get("participant"))
                if isinstance(p, Mapping)
            )
            if isinstance(actor, Mapping)
            and actor.get("display")
            and not str(actor.get("reference", "")).startswith("Patient/")
            and actor.get("type") != "Patient"
        ),
        channel=_channel(content),
        instructions=str(content.get("patientInstruction") or ""),
        comment=str(content.get("comment") or ""),
    )


def _what(content: Mapping[str, Any]) -> str:
    if content.get("description"):
        return str(content["description"])
    for element in ("serviceType", "specialty"):
        for concept in as_list(content.get(element)):
            if concept_text(concept):
                return concept_text(concept)
    return concept_text(content.get("appointmentType")) or "Appointment"


def _channel(content: Mapping[str, Any]) -> str:
    for extension in as_list(content.get("extension")):
        if not isinstance(extension, Mapping):
            continue
        concept = extension.get("valueCodeableConcept")
        if not isinstance(concept, Mapping):
            continue
        for coding in as_list(concept.get("coding")):
            if isinstance(coding, Mapping) and coding.get("system") == DELIVERY_CHANNEL:
                return str(coding.get("display") or coding.get("code") or "")
    return ""


def _instant(value: Any) -> dt.datetime | None:
    """A FHIR instant, which always has a time zone; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
