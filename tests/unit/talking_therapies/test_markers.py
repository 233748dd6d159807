"""Physical markers read from the FHIR Observations other systems send: golden cases, each citing
what it encodes, and a property over any value."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.talking_therapies import markers
from wholecare.talking_therapies.markers import NotCharted, Reading

DAY = dt.date(2026, 3, 4)


def _observation(
    code: tuple[str, str], quantity: dict[str, Any] | None, **extra: Any
) -> dict[str, Any]:
    system, value = code
    found: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": value}]},
        "effectiveDateTime": "2026-03-04T09:30:00+00:00",
        **extra,
    }
    if quantity is not None:
        found["valueQuantity"] = quantity
    return found


def _ucum(value: float, code: str, unit: str = "") -> dict[str, Any]:
    return {"value": value, "system": markers.UCUM, "code": code, "unit": unit or code}


HBA1C_LOINC = (markers.LOINC, "59261-8")
HBA1C_SNOMED = (markers.SNOMED_CT, "1003671000000109")
SYSTOLIC = (markers.SNOMED_CT, "72313002")

# The blood pressure panel as UK Core's example codes it
# (UKCore-Observation-VitalSigns-BloodPressure-Example): SNOMED CT 75367002, the systolic and
# diastolic values as components in mm[Hg].
BLOOD_PRESSURE = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": markers.SNOMED_CT, "code": "75367002"}]},
    "effectiveDateTime": "2026-03-04",
    "component": [
        {
            "code": {"coding": [{"system": markers.SNOMED_CT, "code": "72313002"}]},
            "valueQuantity": _ucum(142, "mm[Hg]", "millimeter of mercury"),
        },
        {
            "code": {"coding": [{"system": markers.SNOMED_CT, "code": "1091811000000102"}]},
            "valueQuantity": _ucum(94, "mm[Hg]", "millimeter of mercury"),
        },
    ],
}

GOLDEN: list[tuple[str, dict[str, Any], list[Reading | NotCharted]]] = [
    (
        "HbA1c by LOINC 59261-8 (IFCC, mmol/mol) is charted as sent",
        _observation(HBA1C_LOINC, _ucum(58, "mmol/mol")),
        [Reading("hba1c", 58.0, DAY)],
    ),
    (
        "HbA1c in % (NGSP) becomes mmol/mol by the IFCC-NGSP master equation: 7.0% is 53",
        _observation(HBA1C_SNOMED, _ucum(7.0, "%")),
        [Reading("hba1c", 53.0, DAY, sent_as="7 %")],
    ),
    (
        "HbA1c 6.5%, the WHO 2011 diagnostic threshold, is 48 mmol/mol",
        _observation(HBA1C_SNOMED, _ucum(6.5, "%")),
        [Reading("hba1c", 48.0, DAY, sent_as="6.5 %")],
    ),
    (
        "A unit given as text only is matched to the marker's unit",
        _observation(HBA1C_LOINC, {"value": 61, "unit": "mmol/mol"}),
        [Reading("hba1c", 61.0, DAY)],
    ),
    (
        "UK Core's blood pressure panel: the systolic component is charted, the diastolic is not a"
        " marker",
        BLOOD_PRESSURE,
        [Reading("systolic-bp", 142.0, DAY)],
    ),
    (
        "A COPD Assessment Test score may come with no unit",
        _observation((markers.LOINC, "89407-1"), {"value": 22}),
        [Reading("cat", 22.0, DAY)],
    ),
    (
        "effectivePeriod.start dates it when there is no effectiveDateTime",
        _observation(
            SYSTOLIC,
            _ucum(150, "mm[Hg]"),
            effectiveDateTime=None,
            effectivePeriod={"start": "2026-03-04T08:00:00Z", "end": "2026-03-05T08:00:00Z"},
        ),
        [Reading("systolic-bp", 150.0, DAY)],
    ),
    (
        "A value in a unit the marker is not charted in is listed with why (FHIR R4 Quantity: the"
        " unit is part of the value)",
        _observation(HBA1C_LOINC, _ucum(8.1, "mmol/L")),
        [NotCharted("HbA1c", DAY, "8.1 mmol/L", "not in mmol/mol")],
    ),
    (
        "A value outside the plausible range is listed, not charted (a typing error upstream)",
        _observation(SYSTOLIC, _ucum(1420, "mm[Hg]")),
        [
            NotCharted(
                "Systolic blood pressure",
                DAY,
                "1420 mm[Hg]",
                "outside the plausible 50 to 260 mmHg",
            )
        ],
    ),
    (
        "A preliminary result (FHIR observation-status) is listed, not charted",
        _observation(HBA1C_LOINC, _ucum(58, "mmol/mol"), status="preliminary"),
        [NotCharted("HbA1c", DAY, "58 mmol/mol", "a preliminary result")],
    ),
    (
        "No value: the dataAbsentReason says why",
        _observation(
            HBA1C_LOINC, None, dataAbsentReason={"coding": [{"code": "error", "display": "Error"}]}
        ),
        [NotCharted("HbA1c", DAY, "", "no value (Error)")],
    ),
    (
        "No date: it cannot be placed on the time axis",
        _observation(HBA1C_LOINC, _ucum(58, "mmol/mol"), effectiveDateTime=None),
        [NotCharted("HbA1c", None, "58 mmol/mol", "no date")],
    ),
    (
        "Entered in error, cancelled or registered: no result to show (FHIR observation-status)",
        _observation(HBA1C_LOINC, _ucum(58, "mmol/mol"), status="entered-in-error"),
        [],
    ),
    (
        "A code that is not a marker holds none",
        _observation((markers.LOINC, "2345-7"), _ucum(5.2, "mmol/L")),
        [],
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"), [(c, e) for _, c, e in GOLDEN], ids=[w for w, _, _ in GOLDEN]
)
def test_golden(content: dict[str, Any], expected: list[Reading | NotCharted]) -> None:
    assert markers.from_observation(content) == expected


@given(
    value=st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(), st.none()),
    unit=st.sampled_from(["mmol/mol", "%", "mmol/L", "", "mm[Hg]"]),
    status=st.sampled_from(["final", "amended", "preliminary", "cancelled", "unknown"]),
)
def test_a_value_is_charted_only_in_range_and_never_lost(
    value: Any, unit: str, status: str
) -> None:
    found = markers.from_observation(_observation(HBA1C_LOINC, _ucum(value, unit), status=status))
    if status in {"cancelled", "unknown"}:
        assert found == []
        return
    [one] = found
    if isinstance(one, Reading):
        assert status in markers.CHARTED_STATUSES
        assert 20 <= one.value <= 200
    else:
        assert one.reason


def test_every_top_level_coding_is_searched_for() -> None:
    assert HBA1C_LOINC in markers.codings()
    assert (markers.SNOMED_CT, "75367002") in markers.codings(), "the blood pressure panel"
