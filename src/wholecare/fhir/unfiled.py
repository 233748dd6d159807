"""Results waiting to be filed: the Observations a member of staff's systems sent without a
Patient (held unfiled, decision 0013), listed for them and filed from the web.

Filing goes through the FHIR update interaction itself, as the member of staff, so the web and
the API apply one rule (a care relationship with the person, a subject that resolves, audited)
and the result's history shows the filing as its next version.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.fhir import interactions
from wholecare.fhir.auth import Grant
from wholecare.fhir.base import ENTERED_IN_ERROR, Ctx
from wholecare.fhir.models import ApiClient, Resource
from wholecare.fhir.scopes import parse_scopes
from wholecare.fhir.store import Item
from wholecare.record.models import Person

OBSERVATION = "Observation"
SCOPES = "user/Observation.cru"
"""Read it, and update it to name the Patient: a write that adds to a record, so also create."""
CLIENT_NAME = "Wholecare: results waiting to be filed"


@dataclass(frozen=True)
class Waiting:
    fhir_id: str
    version: int
    what: str
    value: str
    effective: str
    received_at: dt.datetime


def _waiting_rows(staff: Staff) -> QuerySet[Resource]:
    return (
        Resource.objects.filter(resource_type=OBSERVATION, person__isnull=True, author=staff)
        .exclude(status=ENTERED_IN_ERROR)
        .order_by("-last_updated", "-pk")
    )


def count_waiting(staff: Staff) -> int:
    return _waiting_rows(staff).count()


def waiting(staff: Staff) -> list[Waiting]:
    """The results `staff`'s systems sent without a Patient, newest first."""
    return [_waiting(row) for row in _waiting_rows(staff)]


def waiting_one(staff: Staff, fhir_id: str) -> Waiting | None:
    row = _waiting_rows(staff).filter(fhir_id=fhir_id).first()
    return None if row is None else _waiting(row)


def _waiting(row: Resource) -> Waiting:
    content: dict[str, Any] = row.content
    return Waiting(
        fhir_id=row.fhir_id,
        version=row.version,
        what=describe_code(content.get("code") or {}),
        value=describe_value(content),
        effective=describe_when(str(content.get("effectiveDateTime") or "")),
        received_at=row.last_updated,
    )


def describe_when(text: str) -> str:
    """A FHIR dateTime as people here read it: "20 Nov 2026, 09:30" in UK time, "20 Nov 2026"
    for a date, the text itself for a year or a month (or anything unreadable)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == len("2026-11-20"):
        return f"{moment.day} {moment:%b %Y}"
    if moment.tzinfo is not None:
        moment = timezone.localtime(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def describe_code(concept: dict[str, Any]) -> str:
    """A CodeableConcept as a person reads it: its text, else a coding's display, else the code
    with its system."""
    if concept.get("text"):
        return str(concept["text"])
    codings = concept.get("coding") or []
    for coding in codings:
        if coding.get("display"):
            return str(coding["display"])
    for coding in codings:
        if coding.get("code"):
            return f"{coding['code']} ({coding.get('system', 'no system')})"
    return "Not coded"


def describe_value(content: dict[str, Any]) -> str:
    """An Observation's value (or why it has none) as text; components are listed."""
    if "valueQuantity" in content:
        quantity = content["valueQuantity"]
        unit = quantity.get("unit") or quantity.get("code") or ""
        return f"{quantity.get('comparator', '')}{quantity.get('value', '')} {unit}".strip()
    if "valueCodeableConcept" in content:
        return describe_code(content["valueCodeableConcept"])
    for element in ("valueString", "valueBoolean", "valueInteger", "valueDateTime"):
        if element in content:
            return str(content[element])
    if "dataAbsentReason" in content:
        return f"No value: {describe_code(content['dataAbsentReason'])}"
    parts = [
        f"{describe_code(part.get('code') or {})} {describe_value(part)}".strip()
        for part in content.get("component", [])
    ]
    return "; ".join(parts)


def file(staff: Staff, fhir_id: str, version: int, person: Person) -> Item:
    """File one of `staff`'s results waiting (`Resource.DoesNotExist` for any other) on
    `person`'s record, through the FHIR update interaction as `staff` (which raises `FhirError`
    when they may not); `version` is the one that was shown, so a result changed in the meantime
    is not filed unseen."""
    grant = Grant(
        staff=staff,
        client=ApiClient(name=CLIENT_NAME, staff=staff, allowed_scopes=SCOPES),
        scopes=parse_scopes(SCOPES),
        patient=None,
    )
    ctx = Ctx(grant=grant, base="")
    current = _waiting_rows(staff).get(fhir_id=fhir_id)
    content = {
        **current.content,
        "id": fhir_id,
        "subject": {"reference": f"Patient/{person.public_id}"},
    }
    _, found = interactions.update(ctx, OBSERVATION, fhir_id, content, if_match=f'W/"{version}"')
    return found
