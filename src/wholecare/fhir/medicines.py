"""A FHIR MedicationStatement another system sent, as a reader of the shared record needs it: the
medicine, how it is taken, whether the person is taking it now, since when and why. Pure Python,
no Django.

Only the elements a person can act on are read; the statement is kept whole by the FHIR edge
(decisions 0006 and 0037) and an API client reads every element there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wholecare.fhir.elements import as_list, calendar_date, concept_text
from wholecare.medicines import overdose

CURRENT = ("active", "on-hold", "intended")
"""The statuses of a medicine the person takes now, has paused or is about to start."""
ENDED = ("stopped", "completed")
"""The statuses of a medicine the person no longer takes."""
DMD = "https://dmd.nhs.uk"
"""The NHS Dictionary of Medicines and Devices (dm+d), which codes medicines in UK Core."""

_STATUS_LABELS = {
    "active": "Taking",
    "on-hold": "Paused",
    "intended": "About to start",
    "stopped": "Stopped",
    "completed": "Course finished",
}


@dataclass(frozen=True, slots=True)
class Medicine:
    name: str
    named: bool
    """Whether the sender named it; `name` otherwise says that it did not."""
    code: str
    """Its dm+d code, when the sender gave one (on the statement or its contained Medication)."""
    status_code: str
    """Its FHIR status (`CURRENT`, `ENDED` or another)."""
    dosage: str
    """How it is taken, in the sender's words (`dosage.text`), each dosage in turn."""
    status: str
    taking: bool
    """Active: the person takes it now."""
    starts: dt.date | None
    ends: dt.date | None
    past_end: bool
    """Active, yet the period the sender gave for it ended before today."""
    reason: str
    note: str

    @property
    def more_toxic_in_overdose(self) -> str:
        """Why it is more toxic in overdose than others for the same purpose (decision 0044),
        for staff assessing a risk of suicide; empty for most medicines."""
        return overdose.more_toxic(self.name) if self.named else ""


def summarise(content: Mapping[str, Any], today: dt.date) -> Medicine:
    """The medicine (its coded name, or the contained Medication it refers to), its dosage,
    status, period, reason and notes, each in the sender's words."""
    status = str(content.get("status", ""))
    starts, ends = _period(content)
    name = _medicine_name(content)
    return Medicine(
        name=name or _unnamed(content),
        named=bool(name),
        code=_dmd_code(content),
        status_code=status,
        dosage="; ".join(_texts(content.get("dosage"))),
        status=_STATUS_LABELS.get(status, status.replace("-", " ").capitalize()),
        taking=status == "active",
        starts=starts,
        ends=ends,
        past_end=status == "active" and ends is not None and ends < today,
        reason=", ".join(
            text for text in (concept_text(c) for c in as_list(content.get("reasonCode"))) if text
        ),
        note=" ".join(_texts(content.get("note"))),
    )


def sent_name(content: Mapping[str, Any]) -> str:
    """The name the sender gave the medicine; empty when it gave none."""
    return _medicine_name(content)


def _medicine_name(content: Mapping[str, Any]) -> str:
    """The name the sender gave: the coded concept's, the contained Medication's, or the
    reference's display; empty when it gave none."""
    concept = content.get("medicationCodeableConcept")
    if isinstance(concept, Mapping):
        return concept_text(concept)
    reference = content.get("medicationReference")
    if not isinstance(reference, Mapping):
        return ""
    return concept_text(_contained_medication(content)) or str(reference.get("display") or "")


def _unnamed(content: Mapping[str, Any]) -> str:
    """What a page says of a medicine the sender did not name: its code, or its reference."""
    concept = content.get("medicationCodeableConcept")
    if isinstance(concept, Mapping):
        return _bare_code(concept)
    reference = content.get("medicationReference")
    if not isinstance(reference, Mapping):
        return "Medicine not named"
    return f"Medicine not named ({reference.get('reference') or 'no reference'})"


def _dmd_code(content: Mapping[str, Any]) -> str:
    concept = content.get("medicationCodeableConcept")
    if not isinstance(concept, Mapping):
        concept = _contained_medication(content)
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, Mapping) and coding.get("system") == DMD and coding.get("code"):
            return str(coding["code"])
    return ""


def _contained_medication(content: Mapping[str, Any]) -> Mapping[str, Any]:
    """The code of the contained Medication the statement refers to; empty when there is none."""
    reference = content.get("medicationReference")
    target = str(reference.get("reference", "")) if isinstance(reference, Mapping) else ""
    if target.startswith("#"):
        for contained in _contained(content.get("contained")):
            if contained.get("resourceType") == "Medication" and contained.get("id") == target[1:]:
                code = contained.get("code")
                return code if isinstance(code, Mapping) else {}
    return {}


def _bare_code(concept: Mapping[str, Any]) -> str:
    codes = [
        str(c["code"])
        for c in as_list(concept.get("coding"))
        if isinstance(c, Mapping) and c.get("code")
    ]
    return f"Medicine coded {codes[0]} (no name sent)" if codes else "Medicine not named"


def _texts(elements: Any) -> list[str]:
    """The `text` of each element of a list (Dosage, Annotation) that has one."""
    return [str(e["text"]) for e in as_list(elements) if isinstance(e, Mapping) and e.get("text")]


def _contained(value: Any) -> Sequence[Mapping[str, Any]]:
    return [c for c in as_list(value) if isinstance(c, Mapping)]


def _period(content: Mapping[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    period = content.get("effectivePeriod")
    if isinstance(period, Mapping):
        return calendar_date(period.get("start")), calendar_date(period.get("end"))
    return calendar_date(content.get("effectiveDateTime")), None
