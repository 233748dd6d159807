"""$lookup, $validate-code, $expand, $translate: answers name their release; unknowns are clear."""

from typing import Any

import pytest

from tests.app.terminology.helpers import COLOUR, code_system, concept_map, load, value_set
from wholecare.terminology import errors, operations
from wholecare.terminology.operations import ICD10, SNOMED_CT

pytestmark = pytest.mark.django_db

ETHNIC = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
LTC = "https://wholecare.example.org/ValueSet/long-term-conditions"
SOCIAL = "https://wholecare.example.org/CodeSystem/social-care-need"
SNOMED_TO_ICD10 = "https://wholecare.example.org/ConceptMap/snomed-ct-to-icd-10"


def _values(parameters: dict[str, Any]) -> dict[str, Any]:
    """name -> value for the simple parameters, name -> [parts] for repeated ones."""
    found: dict[str, Any] = {}
    for parameter in parameters["parameter"]:
        if "part" in parameter:
            found.setdefault(parameter["name"], []).append(
                {part["name"]: _value(part) for part in parameter["part"]}
            )
        else:
            found[parameter["name"]] = _value(parameter)
    return found


def _value(parameter: dict[str, Any]):
    return next(v for k, v in parameter.items() if k.startswith("value"))


def _two_releases() -> None:
    load(
        code_system([{"code": "r", "display": "Red"}], version="1"),
        code_system([{"code": "r", "display": "Scarlet"}, {"code": "g"}], version="2"),
    )


# $lookup


def test_lookup_names_the_release_and_gives_glossary_and_hierarchy():
    answer = _values(operations.lookup(SNOMED_CT, "44054006"))
    assert answer["name"] == "SNOMEDCTWholecareSubset"
    assert answer["version"] == "wholecare-subset-1"
    assert answer["display"] == "Type 2 diabetes mellitus"
    (glossary,) = answer["designation"]
    assert glossary["use"]["code"] == "plain-english"
    assert glossary["value"] == (
        "Diabetes in which the body does not use insulin well; the commonest type."
    )
    properties = {(p["code"], p["value"]) for p in answer["property"]}
    assert ("parent", "73211009") in properties
    assert any(code == "evidence" and "DM_COD" in value for code, value in properties)


def test_lookup_lists_children_and_uk_core_codes():
    children = _values(operations.lookup(SNOMED_CT, "73211009"))["property"]
    assert [p["value"] for p in children if p["code"] == "child"] == ["46635009", "44054006"]
    answer = _values(operations.lookup(ETHNIC, "99"))
    assert (answer["display"], answer["version"]) == ("Not known", "1.1.1")


def test_lookup_without_version_uses_the_newest_release_and_with_one_that_release():
    _two_releases()
    assert _values(operations.lookup(COLOUR, "r"))["display"] == "Scarlet"
    old = _values(operations.lookup(COLOUR, "r", version="1"))
    assert (old["display"], old["version"]) == ("Red", "1")


@pytest.mark.parametrize(
    ("system", "code", "version", "error", "message"),
    [
        (
            "https://example.org/nowhere",
            "x",
            None,
            errors.UnknownCodeSystem,
            "Code system https://example.org/nowhere is not held by this server",
        ),
        (
            ETHNIC,
            "A",
            "0.9",
            errors.UnknownVersion,
            f"Code system {ETHNIC} has no version 0.9 (versions held: 1.1.1)",
        ),
        (
            ETHNIC,
            "Q",
            None,
            errors.UnknownCode,
            "Code 'Q' is not in UK Core Ethnic Category England version 1.1.1",
        ),
    ],
)
def test_lookup_of_unknowns_is_a_404_with_an_operation_outcome(
    system, code, version, error, message
):
    with pytest.raises(error) as raised:
        operations.lookup(system, code, version)
    assert raised.value.http_status == 404
    outcome = raised.value.operation_outcome()
    assert outcome["issue"][0]["code"] == "not-found"
    assert outcome["issue"][0]["diagnostics"] == message


def test_lookup_honours_case_sensitivity():
    load(code_system([{"code": "Red", "display": "Red"}], caseSensitive=False))
    assert _values(operations.lookup(COLOUR, "RED"))["display"] == "Red"
    with pytest.raises(errors.UnknownCode):
        operations.lookup(ETHNIC, "a")


def test_lookup_without_a_code_is_a_400():
    with pytest.raises(errors.InvalidRequest) as raised:
        operations.lookup(SNOMED_CT, "")
    assert raised.value.http_status == 400
    assert raised.value.operation_outcome()["issue"][0]["expression"] == ["code"]


# $validate-code


def test_validate_code_in_a_value_set_answers_with_the_release():
    answer = _values(operations.validate_code(url=LTC, code="44054006", system=SNOMED_CT))
    assert answer == {
        "result": True,
        "display": "Type 2 diabetes mellitus",
        "code": "44054006",
        "system": SNOMED_CT,
        "version": "wholecare-subset-1",
    }


def test_validate_code_of_a_code_outside_the_value_set_is_false():
    answer = _values(operations.validate_code(url=LTC, code="35489007", system=SNOMED_CT))
    assert answer == {
        "result": False,
        "message": f"Code {SNOMED_CT}|35489007 is not in value set {LTC}|1",
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"url": "https://example.org/vs/none", "code": "A"},
            "Value set https://example.org/vs/none is not held by this server",
        ),
        ({"url": LTC, "value_set_version": "9", "code": "A"}, f"Value set {LTC} has no version 9"),
        (
            {"system": "https://example.org/nowhere", "code": "A"},
            "Code system https://example.org/nowhere is not held",
        ),
        ({"system": ETHNIC, "version": "2", "code": "A"}, f"Code system {ETHNIC} has no version 2"),
        ({"system": ETHNIC, "code": "Q"}, f"Code {ETHNIC}|Q is not in UK Core Ethnic Category"),
    ],
)
def test_validate_code_of_unknowns_is_false_with_a_message(arguments, message):
    answer = _values(operations.validate_code(**arguments))
    assert answer["result"] is False
    assert message in answer["message"]


def test_validate_code_checks_the_display():
    good = _values(operations.validate_code(system=ETHNIC, code="A", display="White - British"))
    assert good["result"] is True
    bad = _values(operations.validate_code(system=ETHNIC, code="A", display="White"))
    assert bad["result"] is False
    assert bad["message"] == (
        "Display 'White' is not a display of code 'A' in UK Core Ethnic Category England version"
        " 1.1.1: expected 'White - British'"
    )


def test_validate_code_against_an_old_release():
    _two_releases()
    assert _values(operations.validate_code(system=COLOUR, code="g"))["result"] is True
    old = _values(operations.validate_code(system=COLOUR, code="g", version="1"))
    assert old["result"] is False


def test_validate_code_needs_a_code_and_without_a_value_set_a_system():
    with pytest.raises(errors.InvalidRequest):
        operations.validate_code(url=LTC, code="")
    with pytest.raises(errors.InvalidRequest):
        operations.validate_code(code="A")


def test_validate_code_without_a_system_when_two_systems_share_the_code():
    load(
        code_system([{"code": "A", "display": "Amber"}]),
        value_set(
            "https://example.org/vs/mixed",
            [{"system": COLOUR}, {"system": ETHNIC, "concept": [{"code": "A"}]}],
        ),
    )
    answer = _values(operations.validate_code(url="https://example.org/vs/mixed", code="A"))
    assert answer["result"] is False
    assert "more than one code system" in answer["message"]
    ethnic = operations.validate_code(url="https://example.org/vs/mixed", code="A", system=ETHNIC)
    assert _values(ethnic)["display"] == "White - British"


# $expand


def test_expand_lists_members_in_order_with_the_code_system_releases_used():
    expansion = operations.expand("https://wholecare.example.org/ValueSet/condition-diabetes")
    assert expansion["version"] == "1"
    assert expansion["expansion"]["total"] == 3
    assert [c["code"] for c in expansion["expansion"]["contains"]] == [
        "73211009",
        "46635009",
        "44054006",
    ]
    assert {"name": "used-codesystem", "valueUri": f"{SNOMED_CT}|wholecare-subset-1"} in (
        expansion["expansion"]["parameter"]
    )


def test_expand_filter_matches_every_word_ignoring_case():
    contains = operations.expand(LTC, filter="KIDNEY stage 5")["expansion"]["contains"]
    assert [c["display"] for c in contains] == ["Chronic kidney disease stage 5"]
    assert operations.expand(LTC, filter="depress")["expansion"]["total"] == 0


def test_expand_filter_matches_the_starts_of_words_and_codes():
    def displays(text: str) -> list[str]:
        contains = operations.expand(LTC, filter=text)["expansion"]["contains"]
        return [c["display"] for c in contains]

    assert displays("diab") == [
        "Diabetes mellitus",
        "Type 1 diabetes mellitus",
        "Type 2 diabetes mellitus",
    ]
    assert displays("abetes") == []
    assert displays("4405") == ["Type 2 diabetes mellitus"]
    assert displays("fatigue, chronic!") == ["Chronic fatigue syndrome"]


def test_expand_pages_with_offset_and_count():
    page = operations.expand(LTC, offset=2, count=3)["expansion"]
    everything = operations.expand(LTC)["expansion"]["contains"]
    assert page["total"] == len(everything) == 23
    assert page["offset"] == 2
    assert page["contains"] == everything[2:5]


def test_expand_of_unknowns_is_a_404_and_bad_paging_a_400():
    with pytest.raises(errors.UnknownValueSet):
        operations.expand("https://example.org/vs/none")
    with pytest.raises(errors.UnknownVersion):
        operations.expand(LTC, version="2")
    with pytest.raises(errors.InvalidRequest):
        operations.expand(LTC, count=-1)


# $translate


def test_translate_gives_the_mapping_its_source_and_whether_verified():
    answer = _values(operations.translate(system=SNOMED_CT, code="10743008", target_system=ICD10))
    assert answer["result"] is True
    (match,) = answer["match"]
    assert match["equivalence"] == "narrower"
    assert match["concept"] == {
        "system": ICD10,
        "version": "wholecare-subset-1",
        "code": "K58.9",
        "display": "Irritable bowel syndrome without diarrhoea",
    }
    assert match["source"] == f"{SNOMED_TO_ICD10}|1"
    parameter = next(
        p
        for p in operations.translate(system=SNOMED_CT, code="10743008")["parameter"]
        if p["name"] == "match"
    )
    extensions = {e["url"].rsplit("/", 1)[1]: e for e in parameter["extension"]}
    assert extensions["mapping-verified"]["valueBoolean"] is False
    assert "table 6b" in extensions["mapping-source"]["valueString"]


def test_translate_in_reverse_inverts_the_equivalence():
    answer = _values(
        operations.translate(url=SNOMED_TO_ICD10, system=ICD10, code="F32.9", reverse=True)
    )
    (match,) = answer["match"]
    assert (match["concept"]["code"], match["equivalence"]) == ("35489007", "wider")


def test_translate_of_an_unmatched_need_is_false_and_says_so():
    answer = _values(operations.translate(system=SOCIAL, code="housing"))
    assert answer["result"] is False
    assert answer["message"] == (
        f"No mapping for {SOCIAL}|housing in any concept map held (only unmatched mappings)"
    )
    assert [m["equivalence"] for m in answer["match"]] == ["unmatched"]


def test_translate_of_an_unmapped_code_is_false():
    answer = _values(operations.translate(url=SNOMED_TO_ICD10, system=SNOMED_CT, code="999"))
    assert answer == {
        "result": False,
        "message": f"No mapping for {SNOMED_CT}|999 in concept map {SNOMED_TO_ICD10}|1",
    }


def test_translate_with_an_unknown_map_or_version_is_a_404():
    with pytest.raises(errors.UnknownConceptMap):
        operations.translate(url="https://example.org/cm/none", system=SNOMED_CT, code="1")
    with pytest.raises(errors.UnknownVersion):
        operations.translate(
            url=SNOMED_TO_ICD10, concept_map_version="0", system=SNOMED_CT, code="1"
        )


def test_translate_uses_the_current_release_of_each_map():
    load(code_system([{"code": "r"}, {"code": "g"}]))
    url = "https://example.org/cm/colour"

    def group(target: str) -> list[dict[str, Any]]:
        element = {"code": "r", "target": [{"code": target, "equivalence": "equivalent"}]}
        return [{"source": COLOUR, "target": COLOUR, "element": [element]}]

    load(concept_map(url, group("r"), version="1"), concept_map(url, group("g"), version="2"))
    newest = _values(operations.translate(system=COLOUR, code="r"))
    assert [(m["concept"]["code"], m["source"]) for m in newest["match"]] == [("g", f"{url}|2")]
    old = _values(operations.translate(url=url, concept_map_version="1", system=COLOUR, code="r"))
    assert old["match"][0]["concept"]["code"] == "r"


def test_translate_of_a_code_from_another_release_of_its_code_system():
    def codes(version: str) -> list[str]:
        answer = operations.translate(system=SNOMED_CT, code="24700007", system_version=version)
        return [m["concept"]["code"] for m in _values(answer).get("match", [])]

    assert codes("wholecare-subset-1") == ["G35"]
    assert codes("http://snomed.info/sct/83821000000107/version/20250101") == []


# Glossary


def test_glossary_entry_gives_plain_english_and_equivalents_both_ways():
    entry = operations.glossary_entries(ICD10, ["F32.9"])["F32.9"]
    assert entry.text == "Depression: low mood and loss of interest lasting weeks or more."
    assert entry.release == "ICD-10 (Wholecare subset) version wholecare-subset-1"
    assert [(e.system_name, e.code, e.equivalence, e.verified) for e in entry.equivalents] == [
        ("SNOMED CT", "35489007", "wider", False)
    ]


def test_glossary_entry_of_unknowns_is_none_and_falls_back_to_the_display():
    assert operations.glossary_entries(SNOMED_CT, ["999"]) == {}
    assert operations.glossary_entries("https://example.org/nowhere", ["1"]) == {}
    entry = operations.glossary_entries(ETHNIC, ["N"])["N"]
    assert entry.text == "Black or Black British - African"
    assert entry.equivalents == ()


def test_a_page_s_glossary_entries_are_read_at_once_each_with_its_own_equivalents(
    django_assert_max_num_queries,
):
    """Three codes (one not held) in the queries one code takes, each with what maps to it; a
    code system matched in any case is keyed by the code as given, one in its case only not."""
    one = operations.glossary_entries(SNOMED_CT, ["35489007"])
    with django_assert_max_num_queries(7):
        several = operations.glossary_entries(SNOMED_CT, ["35489007", "999", "24700007"])
    assert set(several) == {"35489007", "24700007"}
    assert several["35489007"] == one["35489007"]
    assert [e.code for e in several["24700007"].equivalents] == ["G35"]
    assert [e.code for e in several["35489007"].equivalents] == ["F32.9"]
    assert operations.glossary_entries(ETHNIC, ["n"]) == {}
    load(code_system([{"code": "Red", "display": "Red"}], caseSensitive=False))
    assert operations.glossary_entries(COLOUR, ["RED", "blue"])["RED"].display == "Red"
