"""Physical markers of long-term conditions, shown beside the mood measures on one time axis.

Pure Python, no Django. Which markers go with which condition value set (the record's
`vocabulary.VALUE_SET_LABELS`), their codes, units and the plausible range a value must fall in
to be recorded (a typing check, not a clinical target). LOINC codes are from loinc.org; the
range limits are the ones laboratory and spirometry systems accept.

`from_observation` reads the same markers from a FHIR Observation another system sent (a GP
system's HbA1c, a blood pressure panel), so that the chart shows them beside those recorded here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOINC = "http://loinc.org"
SNOMED_CT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class Marker:
    code: str
    label: str
    unit: str
    low: float
    high: float
    value_sets: tuple[str, ...]
    loinc: str
    snomed: tuple[str, ...]
    """SNOMED CT observable codes UK systems send it under (UK Core codes observations in SNOMED
    CT first)."""
    ucum: tuple[str, ...]
    """UCUM codes of the units a value is charted in (besides `unit` as text): a score may come
    as "{score}", "1" or with no unit."""


MARKERS: tuple[Marker, ...] = (
    Marker(
        "hba1c",
        "HbA1c",
        "mmol/mol",
        20,
        200,
        ("diabetes",),
        "59261-8",
        ("1003671000000109",),
        ("mmol/mol",),
    ),
    Marker("fev1", "FEV1 (% predicted)", "%", 5, 150, ("copd", "asthma"), "20149-1", (), ("%",)),
    Marker(
        "cat",
        "COPD Assessment Test",
        "score 0-40",
        0,
        40,
        ("copd",),
        "89407-1",
        (),
        ("{score}", "1", ""),
    ),
    Marker(
        "systolic-bp",
        "Systolic blood pressure",
        "mmHg",
        50,
        260,
        ("hypertension", "coronary-heart-disease", "heart-failure", "stroke-tia"),
        "8480-6",
        ("72313002",),
        ("mm[Hg]",),
    ),
)
MARKERS_BY_CODE: dict[str, Marker] = {m.code: m for m in MARKERS}


def marker(code: str) -> Marker:
    try:
        return MARKERS_BY_CODE[code]
    except KeyError:
        raise ValueError(f"{code!r} is not a physical marker Wholecare records") from None


def for_value_sets(value_sets: set[str]) -> tuple[Marker, ...]:
    """The markers relevant to a person with conditions in these value sets, in table order."""
    return tuple(m for m in MARKERS if value_sets.intersection(m.value_sets))


def check_value(code: str, value: float) -> None:
    found = marker(code)
    if not found.low <= value <= found.high:
        raise ValueError(
            f"{found.label} must be between {found.low:g} and {found.high:g} {found.unit}"
        )


BLOOD_PRESSURE_PANELS: tuple[tuple[str, str], ...] = ((LOINC, "85354-9"), (SNOMED_CT, "75367002"))
"""Codes of a blood pressure observation whose components hold the systolic value (UK Core's
example of a blood pressure observation)."""

CHARTED_STATUSES = frozenset({"final", "amended", "corrected"})
"""Observation statuses whose values are charted."""
READ_STATUSES = CHARTED_STATUSES | {"preliminary"}
"""Observation statuses read at all: a preliminary result is listed, not charted."""

_BY_CODING: dict[tuple[str, str], Marker] = {
    **{(LOINC, m.loinc): m for m in MARKERS},
    **{(SNOMED_CT, code): m for m in MARKERS for code in m.snomed},
}


def codings() -> tuple[tuple[str, str], ...]:
    """Every (system, code) an Observation holding a marker may be coded with at its top level."""
    return (*_BY_CODING, *BLOOD_PRESSURE_PANELS)


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of a marker, charted."""

    code: str
    value: float
    observed_on: dt.date
    sent_as: str = ""
    """The value as sent, where it was converted to the marker's unit."""


@dataclass(frozen=True, slots=True)
class NotCharted:
    """A marker another system sent that cannot be charted, and why: listed, never dropped."""

    label: str
    observed_on: dt.date | None
    value: str
    reason: str


def from_observation(content: Mapping[str, Any]) -> list[Reading | NotCharted]:
    """The markers a FHIR Observation holds, at its top level and in its components (a blood
    pressure panel), each charted or listed with the reason it cannot be. An Observation that is
    cancelled, entered in error or only registered holds none."""
    status = content.get("status")
    if status not in READ_STATUSES:
        return []
    observed_on = _effective_date(content)
    found: list[Reading | NotCharted] = []
    for part in (content, *content.get("component", ())):
        marker = _marker(part.get("code"))
        if marker is None:
            continue
        found.append(_reading(marker, part, observed_on, status == "preliminary"))
    return found


def _marker(code: Any) -> Marker | None:
    if not isinstance(code, Mapping):
        return None
    for coding in code.get("coding", ()):
        found = _BY_CODING.get((coding.get("system"), coding.get("code")))
        if found is not None:
            return found
    return None


def _effective_date(content: Mapping[str, Any]) -> dt.date | None:
    period = content.get("effectivePeriod") or {}
    when = (
        content.get("effectiveDateTime") or content.get("effectiveInstant") or period.get("start")
    )
    try:
        return dt.date.fromisoformat(str(when)[:10]) if when else None
    except ValueError:
        return None


def _reading(
    marker: Marker, part: Mapping[str, Any], observed_on: dt.date | None, preliminary: bool
) -> Reading | NotCharted:
    quantity = part.get("valueQuantity") or {}
    raw = quantity.get("value")
    unit = quantity.get("code") if quantity.get("system") == UCUM else quantity.get("unit") or ""
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        absent = part.get("dataAbsentReason") or {}
        reason = absent.get("text") or _first_display(absent) or "none given"
        return NotCharted(marker.label, observed_on, "", f"no value ({reason})")
    value = float(raw)
    shown = f"{value:g} {quantity.get('unit') or unit}".strip()
    if observed_on is None:
        return NotCharted(marker.label, observed_on, shown, "no date")
    if preliminary:
        return NotCharted(marker.label, observed_on, shown, "a preliminary result")
    sent_as = ""
    if marker.code == "hba1c" and unit == "%":
        value, sent_as = ifcc_from_ngsp(value), shown
    elif unit not in (*marker.ucum, marker.unit):
        return NotCharted(marker.label, observed_on, shown, f"not in {marker.unit}")
    if not marker.low <= value <= marker.high:
        return NotCharted(
            marker.label,
            observed_on,
            shown,
            f"outside the plausible {marker.low:g} to {marker.high:g} {marker.unit}",
        )
    return Reading(marker.code, value, observed_on, sent_as)


def ifcc_from_ngsp(percent: float) -> float:
    """An HbA1c in % (NGSP/DCCT) in mmol/mol (IFCC), by the IFCC-NGSP master equation
    NGSP = 0.09148 * IFCC + 2.152 (Hoelzel et al., Clin Chem 2004; 50: 166-174), to the whole
    mmol/mol laboratories report."""
    return float(round((percent - 2.152) / 0.09148))


def _first_display(concept: Mapping[str, Any]) -> str:
    return next((c.get("display") or c.get("code") or "" for c in concept.get("coding", ())), "")
