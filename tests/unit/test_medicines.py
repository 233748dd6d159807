"""A MedicationStatement another system sent, read as a person reads it (decision 0037)."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import given

from tests.unit.fhir.kept_content import kept_content
from wholecare.fhir import elements, medicines

TODAY = dt.date(2026, 11, 24)

#: UK Core's own example, UKCore-MedicationStatement-Amoxicillin-Example, in JSON.
AMOXICILLIN: dict[str, Any] = {
    "resourceType": "MedicationStatement",
    "status": "active",
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "https://dmd.nhs.uk",
                "code": "39732311000001104",
                "display": "Amoxicillin 250mg capsules",
            }
        ]
    },
    "subject": {"reference": "Patient/UKCore-Patient-RichardSmith-Example"},
    "effectivePeriod": {"start": "2021-02-15T13:50:00+00:00", "end": "2021-05-15T13:50:00+00:00"},
    "dateAsserted": "2017-02-22",
    "reasonCode": [
        {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "65363002", "display": "Otitis media"}
            ]
        }
    ],
    "dosage": [{"text": "2 capsules 4 times a day."}],
}


def test_uk_cores_example_reads_as_its_sender_wrote_it() -> None:
    read = medicines.summarise(AMOXICILLIN, TODAY)
    assert read == medicines.Medicine(
        name="Amoxicillin 250mg capsules",
        named=True,
        code="39732311000001104",
        status_code="active",
        dosage="2 capsules 4 times a day.",
        status="Taking",
        taking=True,
        starts=dt.date(2021, 2, 15),
        ends=dt.date(2021, 5, 15),
        past_end=True,
        reason="Otitis media",
        note="",
    )


@pytest.mark.parametrize(
    ("medication", "named"),
    [
        (
            {"medicationCodeableConcept": {"text": "Sertraline 50mg tablets", "coding": []}},
            "Sertraline 50mg tablets",
        ),
        (
            {
                "medicationCodeableConcept": {
                    "coding": [{"system": "https://dmd.nhs.uk", "code": "1"}]
                }
            },
            "Medicine coded 1 (no name sent)",
        ),
        ({"medicationCodeableConcept": {}}, "Medicine not named"),
        (
            {
                "contained": [
                    {"resourceType": "Medication", "id": "other", "code": {"text": "Wrong"}},
                    {"resourceType": "Medication", "id": "m1", "code": {"text": "Metformin"}},
                ],
                "medicationReference": {"reference": "#m1"},
            },
            "Metformin",
        ),
        (
            {"medicationReference": {"reference": "Medication/abc", "display": "Insulin glargine"}},
            "Insulin glargine",
        ),
        (
            {"medicationReference": {"reference": "Medication/abc"}},
            "Medicine not named (Medication/abc)",
        ),
        ({"medicationReference": {"reference": "#missing"}}, "Medicine not named (#missing)"),
    ],
)
def test_the_medicine_is_named_by_whatever_the_sender_gave(
    medication: dict[str, Any], named: str
) -> None:
    read = medicines.summarise({"status": "active", **medication}, TODAY)
    assert read.name == named
    assert read.named is not named.startswith(("Medicine not named", "Medicine coded"))


@pytest.mark.parametrize(
    ("medication", "code"),
    [
        (
            {"medicationCodeableConcept": {"coding": [{"system": medicines.DMD, "code": "42"}]}},
            "42",
        ),
        (
            {
                "medicationCodeableConcept": {
                    "coding": [
                        {"system": "http://snomed.info/sct", "code": "1"},
                        {"system": medicines.DMD, "code": "42"},
                    ]
                }
            },
            "42",
        ),
        ({"medicationCodeableConcept": {"coding": [{"system": "other", "code": "1"}]}}, ""),
        ({"medicationCodeableConcept": {"text": "Metformin"}}, ""),
        (
            {
                "contained": [
                    {
                        "resourceType": "Medication",
                        "id": "m1",
                        "code": {"coding": [{"system": medicines.DMD, "code": "7"}]},
                    }
                ],
                "medicationReference": {"reference": "#m1"},
            },
            "7",
        ),
        ({"medicationReference": {"reference": "Medication/abc"}}, ""),
    ],
)
def test_the_dmd_code_is_read_from_the_statement_or_its_contained_medication(
    medication: dict[str, Any], code: str
) -> None:
    assert medicines.summarise({"status": "active", **medication}, TODAY).code == code


@pytest.mark.parametrize(
    ("status", "label", "taking"),
    [
        ("active", "Taking", True),
        ("on-hold", "Paused", False),
        ("intended", "About to start", False),
        ("stopped", "Stopped", False),
        ("completed", "Course finished", False),
        ("not-taken", "Not taken", False),
        ("unknown", "Unknown", False),
    ],
)
def test_each_status_says_whether_the_person_takes_it(
    status: str, label: str, taking: bool
) -> None:
    read = medicines.summarise({**AMOXICILLIN, "status": status}, TODAY)
    assert (read.status, read.taking) == (label, taking)
    assert read.past_end is (status == "active")


def test_an_active_medicine_whose_period_has_not_ended_is_not_past_its_end() -> None:
    running = {**AMOXICILLIN, "effectivePeriod": {"start": "2026-11-01", "end": "2026-12-01"}}
    assert not medicines.summarise(running, TODAY).past_end
    open_ended = {**AMOXICILLIN, "effectivePeriod": {"start": "2026-11-01"}}
    assert not medicines.summarise(open_ended, TODAY).past_end
    started = {
        **{k: v for k, v in AMOXICILLIN.items() if k != "effectivePeriod"},
        "effectiveDateTime": "2019-07",
    }
    read = medicines.summarise(started, TODAY)
    assert (read.starts, read.ends) == (dt.date(2019, 7, 1), None)


def test_every_dosage_and_note_is_read_in_turn() -> None:
    read = medicines.summarise(
        {
            **AMOXICILLIN,
            "dosage": [{"text": "One in the morning"}, {"timing": {}}, {"text": "Two at night"}],
            "note": [{"text": "Takes with food."}, {"text": "Reviewed by pharmacist."}],
        },
        TODAY,
    )
    assert read.dosage == "One in the morning; Two at night"
    assert read.note == "Takes with food. Reviewed by pharmacist."


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2021-02-15T13:50:00+00:00", dt.date(2021, 2, 15)),
        ("2021-02-15", dt.date(2021, 2, 15)),
        ("2021-02", dt.date(2021, 2, 1)),
        ("2021", dt.date(2021, 1, 1)),
        ("2021-02-30", None),
        ("soon", None),
        ("", None),
        (None, None),
        (20210215, None),
    ],
)
def test_a_fhir_date_is_the_calendar_day_its_sender_wrote(
    written: Any, day: dt.date | None
) -> None:
    assert elements.calendar_date(written) == day


@given(
    kept_content(
        "status",
        "medicationCodeableConcept",
        "medicationReference",
        "contained",
        "effectivePeriod",
        "effectiveDateTime",
        "reasonCode",
        "dosage",
        "note",
    )
)
def test_whatever_was_kept_a_statement_reads_without_error(content: dict[str, Any]) -> None:
    read = medicines.summarise(content, TODAY)
    assert read.name
    assert read.taking is (content.get("status") == "active")
