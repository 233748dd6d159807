"""Golden table: every built-in ConceptMap translation, each row citing its source
(golden_translations.csv). A change to a built-in map (a new release) must change this table."""

import csv
from pathlib import Path
from typing import Any

import pytest

from wholecare.terminology import operations
from wholecare.terminology.fhir_io import MAPPING_SOURCE_EXTENSION, MAPPING_VERIFIED_EXTENSION
from wholecare.terminology.models import ConceptMapRelease

pytestmark = pytest.mark.django_db

BASE = "https://wholecare.example.org/ConceptMap/"
SYSTEMS = {
    "snomed-ct-to-icd-10": (operations.SNOMED_CT, operations.ICD10),
    "icd-10-to-snomed-ct": (operations.ICD10, operations.SNOMED_CT),
    "social-care-need-to-snomed-ct": (
        "https://wholecare.example.org/CodeSystem/social-care-need",
        operations.SNOMED_CT,
    ),
    "discipline-to-sds-job-role": (
        "https://wholecare.example.org/CodeSystem/discipline",
        "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName",
    ),
}
with (Path(__file__).parent / "golden_translations.csv").open(encoding="utf-8") as table:
    ROWS = list(csv.DictReader(table))


def _matches(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for parameter in parameters["parameter"]:
        if parameter["name"] == "match":
            parts = {part["name"]: part for part in parameter["part"]}
            extensions = {e["url"]: e for e in parameter["extension"]}
            found.append(
                {
                    "equivalence": parts["equivalence"]["valueCode"],
                    "coding": parts.get("concept", {}).get("valueCoding", {}),
                    "source": extensions[MAPPING_SOURCE_EXTENSION]["valueString"],
                    "verified": extensions[MAPPING_VERIFIED_EXTENSION]["valueBoolean"],
                }
            )
    return found


def test_every_row_cites_a_source_and_every_mapping_is_in_the_table():
    assert all(row["source"] for row in ROWS)
    held = sum(
        ConceptMapRelease.objects.get(concept_map__url=BASE + name).mappings.count()
        for name in SYSTEMS
    )
    assert held == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['concept_map']}:{r['source_code']}" for r in ROWS])
def test_translation(row):
    source_system, target_system = SYSTEMS[row["concept_map"]]
    answer = operations.translate(
        url=BASE + row["concept_map"], system=source_system, code=row["source_code"]
    )
    (match,) = _matches(answer)
    assert match["equivalence"] == row["equivalence"]
    assert match["coding"].get("code", "") == row["target_code"]
    assert match["coding"].get("display", "") == row["target_display"]
    if row["target_code"]:
        assert match["coding"]["system"] == target_system
    assert match["verified"] == (row["verified"] == "yes")
    assert match["source"] == row["source"]


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if r["concept_map"] == "snomed-ct-to-icd-10"],
    ids=lambda r: r["source_code"],
)
def test_reading_the_snomed_map_backwards_agrees_with_the_icd10_map(row):
    backwards = operations.translate(
        url=BASE + "snomed-ct-to-icd-10",
        system=operations.ICD10,
        code=row["target_code"],
        reverse=True,
    )
    forwards = operations.translate(
        url=BASE + "icd-10-to-snomed-ct", system=operations.ICD10, code=row["target_code"]
    )
    strip = [{k: v for k, v in m.items() if k != "source"} for m in _matches(backwards)]
    assert strip == [{k: v for k, v in m.items() if k != "source"} for m in _matches(forwards)]
