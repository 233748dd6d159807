"""An AllergyIntolerance another system sent, read as a person reads it (decision 0038)."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import given

from tests.unit.fhir.kept_content import kept_content
from wholecare.fhir import allergies

CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
SNOMED = "http://snomed.info/sct"

#: UK Core's own example, UKCore-AllergyIntolerance-Amoxicillin-Example, in JSON.
AMOXICILLIN: dict[str, Any] = {
    "resourceType": "AllergyIntolerance",
    "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active", "display": "Active"}]},
    "verificationStatus": {
        "coding": [{"system": VERIFICATION, "code": "confirmed", "display": "Confirmed"}]
    },
    "code": {"coding": [{"system": SNOMED, "code": "372687004", "display": "Amoxicillin"}]},
    "patient": {"reference": "Patient/UKCore-Patient-RichardSmith-Example"},
    "recordedDate": "2019-12-10T13:00:00+00:00",
    "reaction": [
        {
            "manifestation": [
                {"coding": [{"system": SNOMED, "code": "247472004", "display": "Urticarial rash"}]}
            ],
            "severity": "mild",
        }
    ],
}


def _status(clinical: str | None, verification: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if clinical:
        found["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": clinical}]}
    if verification:
        found["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    return found


def test_uk_cores_example_reads_as_its_sender_wrote_it() -> None:
    assert allergies.summarise(AMOXICILLIN) == allergies.AllergySummary(
        what="Amoxicillin",
        no_known=False,
        in_force=True,
        unconfirmed=False,
        intolerance=False,
        categories=(),
        criticality="",
        reactions=("Urticarial rash (mild)",),
        worst_severity="mild",
        recorded=dt.date(2019, 12, 10),
        note="",
    )


@pytest.mark.parametrize(
    ("clinical", "verification", "in_force", "unconfirmed"),
    [
        ("active", "confirmed", True, False),
        ("active", "unconfirmed", True, True),
        ("active", None, True, False),
        ("active", "refuted", False, False),
        ("inactive", "confirmed", False, False),
        ("resolved", "confirmed", False, False),
        (None, "entered-in-error", False, False),
    ],
)
def test_only_an_active_allergy_not_refuted_is_in_force(
    clinical: str | None, verification: str | None, in_force: bool, unconfirmed: bool
) -> None:
    content = {
        **{k: v for k, v in AMOXICILLIN.items() if not k.endswith("Status")},
        **_status(clinical, verification),
    }
    read = allergies.summarise(content)
    assert (read.in_force, read.unconfirmed) == (in_force, unconfirmed)


@pytest.mark.parametrize(
    ("code", "no_known"),
    [
        ("716186003", True),  # No known allergy
        ("409137002", True),  # No known drug allergy (UKCore-...-NegHandlNoKnownAllergies-Example)
        ("429625007", True),  # No known food allergy
        ("196461000000101", False),  # Transfer-degraded drug allergy: an allergy, unnamed
        ("372687004", False),  # Amoxicillin
    ],
)
def test_a_no_known_allergy_statement_is_never_read_as_an_allergy(
    code: str, no_known: bool
) -> None:
    content = {**AMOXICILLIN, "code": {"coding": [{"system": SNOMED, "code": code}]}}
    assert allergies.summarise(content).no_known is no_known


def test_how_dangerous_and_what_kind_of_reaction_are_read() -> None:
    read = allergies.summarise(
        {
            **AMOXICILLIN,
            "type": "allergy",
            "category": ["medication", "food"],
            "criticality": "high",
            "reaction": [
                {"manifestation": [{"text": "Wheeze"}], "severity": "moderate"},
                {"manifestation": [{"text": "Anaphylaxis"}], "severity": "severe"},
                {"manifestation": [{"text": "Itching"}]},
            ],
            "note": [{"text": "Carries an adrenaline pen."}],
        }
    )
    assert read.criticality == "High risk"
    assert read.categories == ("Medicine", "Food")
    assert read.reactions == ("Wheeze (moderate)", "Anaphylaxis (severe)", "Itching")
    assert read.worst_severity == "severe"
    assert read.note == "Carries an adrenaline pen."
    assert allergies.summarise({**AMOXICILLIN, "type": "intolerance"}).intolerance


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ({"text": "Elastoplast", "coding": []}, "Elastoplast"),
        ({"coding": [{"system": SNOMED, "code": "1"}]}, "Allergy coded 1 (no description sent)"),
        ({}, "Allergy not described"),
        (None, "Allergy not described"),
    ],
)
def test_what_the_person_reacts_to_is_never_blank(code: Any, what: str) -> None:
    assert allergies.summarise({**AMOXICILLIN, "code": code}).what == what


@given(
    kept_content(
        "clinicalStatus",
        "verificationStatus",
        "code",
        "type",
        "category",
        "criticality",
        "reaction",
        "recordedDate",
        "note",
    )
)
def test_whatever_was_kept_an_allergy_reads_without_error(content: dict[str, Any]) -> None:
    read = allergies.summarise(content)
    assert read.what
    if "clinicalStatus" not in content:
        assert not read.in_force
