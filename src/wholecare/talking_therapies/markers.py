"""Physical markers of long-term conditions, shown beside the mood measures on one time axis.

Pure Python, no Django. Which markers go with which condition value set (the record's
`vocabulary.VALUE_SET_LABELS`), their codes, units and the plausible range a value must fall in
to be recorded (a typing check, not a clinical target). LOINC codes are from loinc.org; the
range limits are the ones laboratory and spirometry systems accept.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Marker:
    code: str
    label: str
    unit: str
    low: float
    high: float
    value_sets: tuple[str, ...]
    loinc: str


MARKERS: tuple[Marker, ...] = (
    Marker("hba1c", "HbA1c", "mmol/mol", 20, 200, ("diabetes",), "59261-8"),
    Marker("fev1", "FEV1 (% predicted)", "%", 5, 150, ("copd", "asthma"), "20149-1"),
    Marker("cat", "COPD Assessment Test", "score 0-40", 0, 40, ("copd",), "89407-1"),
    Marker(
        "systolic-bp",
        "Systolic blood pressure",
        "mmHg",
        50,
        260,
        ("hypertension", "coronary-heart-disease", "heart-failure", "stroke-tia"),
        "8480-6",
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
