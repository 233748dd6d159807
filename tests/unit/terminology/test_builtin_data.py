"""The built-in releases say what record/vocabulary.py says. A change to the vocabulary without a
new release (a new file with a new version) fails here."""

from typing import Any

import pytest

from wholecare.directory.disciplines import LABELS, Discipline
from wholecare.record import vocabulary
from wholecare.terminology import fhir_io
from wholecare.terminology.builtin import DATA_DIR

VALUE_SET = "https://wholecare.example.org/ValueSet/"


def _read() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in fhir_io.files_in([DATA_DIR]):
        for item in fhir_io.read_file(path):
            key = (item.resource["url"], item.resource["version"])
            assert key not in found, f"{key} is shipped twice"
            found[key] = item.resource
    return found


RELEASES = _read()


def _newest(url: str) -> dict[str, Any]:
    versions = [resource for (u, _), resource in RELEASES.items() if u == url]
    assert versions, f"no built-in release of {url}"
    return versions[-1]


def _concepts(concepts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    flat = {}
    for concept in concepts:
        flat[concept["code"]] = concept
        flat.update(_concepts(concept.get("concept", [])))
    return flat


def _plain(concept: dict[str, Any]) -> str | None:
    for designation in concept.get("designation", []):
        if designation["use"]["code"] == fhir_io.PLAIN_ENGLISH:
            return str(designation["value"])
    return None


def test_every_condition_is_in_the_snomed_subset_with_its_display_and_glossary():
    concepts = _concepts(_newest(vocabulary.SNOMED_CT)["concept"])
    for condition in vocabulary.CONDITIONS:
        concept = concepts[condition.snomed]
        assert concept["display"] == condition.display
        assert _plain(concept) == condition.plain


def test_every_condition_icd10_code_is_in_the_icd10_subset_with_the_same_glossary():
    concepts = _concepts(_newest(vocabulary.ICD10)["concept"])
    for condition in vocabulary.CONDITIONS:
        assert _plain(concepts[condition.icd10]) == condition.plain


def test_every_snomed_concept_says_where_it_was_found():
    for code, concept in _concepts(_newest(vocabulary.SNOMED_CT)["concept"]).items():
        evidence = [p for p in concept.get("property", []) if p["code"] == "evidence"]
        assert len(evidence) == 1, code
        assert evidence[0]["valueString"], code


@pytest.mark.parametrize("name", list(vocabulary.VALUE_SET_LABELS))
def test_condition_value_sets_list_the_vocabulary_codes_in_order(name):
    value_set = _newest(f"{VALUE_SET}condition-{name}")
    (include,) = value_set["compose"]["include"]
    assert include["system"] == vocabulary.SNOMED_CT
    assert [c["code"] for c in include["concept"]] == [c.snomed for c in vocabulary.value_set(name)]
    assert value_set["title"] == vocabulary.VALUE_SET_LABELS[name]


def test_social_care_need_terms_match_the_vocabulary():
    concepts = _concepts(_newest(vocabulary.SOCIAL_CARE_NEED_SYSTEM)["concept"])
    assert list(concepts) == [need.code for need in vocabulary.SOCIAL_CARE_NEEDS]
    for need in vocabulary.SOCIAL_CARE_NEEDS:
        assert concepts[need.code]["display"] == need.display
        assert _plain(concepts[need.code]) == need.plain


def test_disciplines_match_the_directory():
    concepts = _concepts(_newest("https://wholecare.example.org/CodeSystem/discipline")["concept"])
    assert {code: c["display"] for code, c in concepts.items()} == {
        discipline.value: LABELS[discipline] for discipline in Discipline
    }
    assert all(_plain(concept) for concept in concepts.values())


def test_ethnic_categories_match_uk_core():
    uk_core = _newest("https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland")
    assert uk_core["version"] == "1.1.1"
    codes = {c["code"]: c["display"] for c in uk_core["concept"]}
    assert codes == vocabulary.ETHNIC_CATEGORIES


def test_contact_methods_are_the_uk_core_codes():
    uk_core = _newest("https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod")
    assert {c["code"] for c in uk_core["concept"]} == set(vocabulary.CONTACT_METHODS)


def test_snomed_to_icd10_map_follows_the_vocabulary():
    concept_map = _newest("https://wholecare.example.org/ConceptMap/snomed-ct-to-icd-10")
    (group,) = concept_map["group"]
    pairs = {e["code"]: [t["code"] for t in e["target"]] for e in group["element"]}
    assert pairs == {c.snomed: [c.icd10] for c in vocabulary.CONDITIONS}


def test_every_mapping_says_where_it_came_from_and_whether_it_is_verified():
    for (url, _), resource in RELEASES.items():
        if resource["resourceType"] != "ConceptMap":
            continue
        for group in resource["group"]:
            for element in group["element"]:
                for target in element["target"]:
                    extensions = {e["url"]: e for e in target["extension"]}
                    assert extensions[fhir_io.MAPPING_SOURCE_EXTENSION]["valueString"], url
                    assert "valueBoolean" in extensions[fhir_io.MAPPING_VERIFIED_EXTENSION], url
