"""Importing releases: the UK Core files load, bad files write nothing, releases never change."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.app.terminology.helpers import COLOUR, code_system, concept_map, load, value_set
from wholecare.terminology.fhir_io import ImportFailed
from wholecare.terminology.importer import import_paths
from wholecare.terminology.models import (
    CodeSystemRelease,
    Concept,
    ConceptMapRelease,
    ReleaseIsImmutable,
    ValueSetRelease,
)

pytestmark = pytest.mark.django_db

UK_CORE = Path(__file__).parents[2] / "fixtures" / "uk-core-codesystems"
SIZES = {
    "UKCore-ConditionCategory": ("1.1.0", 2),
    "UKCore-EthnicCategoryEngland": ("1.1.1", 18),
    "UKCore-HumanLanguage": ("2.1.0", 190),
    "UKCore-PersonMaritalStatusEngland": ("1.1.1", 8),
    "UKCore-PreferredContactMethod": ("2.2.0", 9),
    "UKCore-PreferredWrittenCommunicationFormat": ("2.1.0", 3),
    "UKCore-SDSJobRoleName": ("2.0.0", 392),
}
RED_GREEN = [{"code": "r", "display": "Red"}, {"code": "g", "display": "Green"}]


def _counts() -> tuple[int, int, int, int]:
    return (
        CodeSystemRelease.objects.count(),
        Concept.objects.count(),
        ValueSetRelease.objects.count(),
        ConceptMapRelease.objects.count(),
    )


def _renamed(tmp_path: Path, version: str) -> Path:
    """The UK Core files as a new release (another version), so that they import afresh."""
    folder = tmp_path / f"uk-core-{version}"
    folder.mkdir()
    for path in UK_CORE.glob("*.xml"):
        text = path.read_text(encoding="utf-8")
        old = text.split('<version value="', 1)[1].split('"', 1)[0]
        (folder / path.name).write_text(
            text.replace(f'<version value="{old}"', f'<version value="{version}"', 1),
            encoding="utf-8",
        )
    return folder


def test_uk_core_code_systems_are_built_in_and_reimport_unchanged():
    before = _counts()
    results = import_paths([UK_CORE])
    assert {(r.url.rsplit("/", 1)[1], r.version, r.size) for r in results} == {
        (name, version, size) for name, (version, size) in SIZES.items()
    }
    assert not any(result.created for result in results)
    assert _counts() == before


def test_uk_core_files_import_as_new_releases_with_every_concept(tmp_path):
    results = import_paths([_renamed(tmp_path, "9.0.0-test")])
    assert all(result.created for result in results)
    for name, (old_version, size) in SIZES.items():
        url = f"https://fhir.hl7.org.uk/CodeSystem/{name}"
        new = CodeSystemRelease.objects.get(code_system__url=url, version="9.0.0-test")
        assert new.concepts.count() == size
        assert new.source.endswith(f"CodeSystem-{name}.xml")
        assert new.resource["url"] == url
        # the old release is still there, unchanged
        assert CodeSystemRelease.objects.get(code_system__url=url, version=old_version)
    sds = CodeSystemRelease.objects.get(
        code_system__url="https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName",
        version="9.0.0-test",
    )
    assert sds.concepts.get(code="R0260").display == "General Medical Practitioner"
    assert sds.status == "retired"


def test_one_bad_file_among_good_ones_writes_nothing(tmp_path):
    folder = _renamed(tmp_path, "9.1.0-test")
    (folder / "zz-broken.json").write_text('{"resourceType": "CodeSystem", "url": ', "utf-8")
    (folder / "zz-patient.json").write_text('{"resourceType": "Patient"}', "utf-8")
    before = _counts()
    with pytest.raises(ImportFailed) as failed:
        import_paths([folder])
    assert [str(p) for p in failed.value.problems] == [
        f"{folder / 'zz-broken.json'}: malformed JSON at line 1 column 39: Expecting value",
        f"{folder / 'zz-patient.json'}: resourceType: is Patient; expected CodeSystem, ValueSet,"
        " ConceptMap or a Bundle of them",
    ]
    assert _counts() == before


def test_a_problem_found_while_writing_rolls_back_everything_written_before_it(tmp_path):
    good = tmp_path / "a-good.json"
    good.write_text(json.dumps(code_system(RED_GREEN)), "utf-8")
    bad = tmp_path / "b-bad.json"
    bad.write_text(
        json.dumps(
            value_set(
                "https://example.org/vs",
                [{"system": COLOUR, "concept": [{"code": "r"}, {"code": "blue"}]}],
            )
        ),
        "utf-8",
    )
    before = _counts()
    with pytest.raises(ImportFailed) as failed:
        import_paths([good, bad])
    assert str(failed.value) == (
        f"{bad}: ValueSet.compose.include[0].concept[1].code: code 'blue' is not in {COLOUR}|1"
    )
    assert _counts() == before


def test_duplicate_codes_are_refused_naming_both_places():
    concepts: list[dict[str, Any]] = [
        {"code": "r", "display": "Red", "concept": [{"code": "g"}]},
        {"code": "g"},
    ]
    with pytest.raises(ImportFailed) as failed:
        load(code_system(concepts))
    assert str(failed.value) == (
        "test-0.json: CodeSystem.concept[1].code: code 'g' appears twice"
        " (first at CodeSystem.concept[0].concept[0].code)"
    )


def test_a_release_held_with_different_content_is_refused():
    load(code_system(RED_GREEN))
    assert not load(code_system(RED_GREEN))[0].created
    with pytest.raises(ImportFailed) as failed:
        load(code_system([{"code": "r", "display": "Scarlet"}]))
    assert str(failed.value) == (
        f"test-0.json: CodeSystem.version: CodeSystem {COLOUR} version 1 is already held"
        " (imported from test-0.json) with different content: a changed release needs a new"
        " version"
    )
    assert CodeSystemRelease.objects.get(code_system__url=COLOUR).concepts.count() == 2


def test_url_and_version_are_required():
    resource = code_system(RED_GREEN)
    del resource["version"]
    with pytest.raises(ImportFailed) as failed:
        load(resource)
    assert "CodeSystem.version: is missing" in str(failed.value)


def test_nested_concepts_keep_their_hierarchy_and_glossary():
    glossary = {
        "use": {
            "system": "https://wholecare.example.org/CodeSystem/designation-use",
            "code": "plain-english",
        },
        "value": "Any warm colour.",
    }
    concepts = [
        {
            "code": "warm",
            "display": "Warm",
            "designation": [glossary, {"language": "fr", "value": "Chaud"}],
            "concept": [{"code": "r", "display": "Red"}],
        }
    ]
    load(code_system(concepts))
    warm = Concept.objects.get(release__code_system__url=COLOUR, code="warm")
    assert warm.glossary == "Any warm colour."
    assert warm.designations == [{"language": "fr", "value": "Chaud"}]
    assert [child.code for child in warm.children.all()] == ["r"]
    assert warm.search_text == " warm warm chaud"


def test_value_set_compose_filters_and_excludes():
    concepts: list[dict[str, Any]] = [
        {"code": "warm", "concept": [{"code": "r"}, {"code": "o", "concept": [{"code": "o2"}]}]},
        {"code": "cold", "concept": [{"code": "b"}]},
    ]
    load(
        code_system(concepts),
        value_set(
            "https://example.org/vs/warm",
            [
                {
                    "system": COLOUR,
                    "filter": [{"property": "concept", "op": "is-a", "value": "warm"}],
                }
            ],
            exclude=[{"system": COLOUR, "concept": [{"code": "o"}]}],
        ),
        value_set(
            "https://example.org/vs/below-warm",
            [
                {
                    "system": COLOUR,
                    "filter": [{"property": "concept", "op": "descendent-of", "value": "warm"}],
                }
            ],
        ),
        value_set("https://example.org/vs/all", [{"system": COLOUR}]),
    )

    def codes(url: str) -> list[str]:
        release = ValueSetRelease.objects.get(value_set__url=url)
        return [m.concept.code for m in release.members.order_by("position")]

    assert codes("https://example.org/vs/warm") == ["warm", "r", "o2"]
    assert codes("https://example.org/vs/below-warm") == ["r", "o", "o2"]
    assert codes("https://example.org/vs/all") == ["warm", "r", "o", "o2", "cold", "b"]


def test_value_set_including_another_value_set():
    load(
        code_system(RED_GREEN),
        value_set("https://example.org/vs/red", [{"system": COLOUR, "concept": [{"code": "r"}]}]),
        value_set(
            "https://example.org/vs/red-again", [{"valueSet": ["https://example.org/vs/red"]}]
        ),
    )
    release = ValueSetRelease.objects.get(value_set__url="https://example.org/vs/red-again")
    assert [m.concept.code for m in release.members.all()] == ["r"]


@pytest.mark.parametrize(
    ("include", "message"),
    [
        (
            {"system": "https://example.org/nowhere"},
            "ValueSet.compose.include[0].system: Code system https://example.org/nowhere is not"
            " held by this server",
        ),
        (
            {"system": COLOUR, "version": "7"},
            f"ValueSet.compose.include[0].version: Code system {COLOUR} has no version 7"
            " (versions held: 1)",
        ),
        (
            {"system": COLOUR, "filter": [{"property": "concept", "op": "regex", "value": "r"}]},
            "ValueSet.compose.include[0].filter[0]: filter concept regex is not supported",
        ),
        (
            {"valueSet": ["https://example.org/vs/none"]},
            "ValueSet.compose.include[0].valueSet[0]: Value set https://example.org/vs/none is"
            " not held",
        ),
    ],
)
def test_value_set_problems_name_the_element(include, message):
    load(code_system(RED_GREEN))
    with pytest.raises(ImportFailed) as failed:
        load(value_set("https://example.org/vs/bad", [include]))
    assert message in str(failed.value)


def test_concept_map_codes_are_checked_against_held_code_systems():
    load(code_system(RED_GREEN))
    group = {
        "source": COLOUR,
        "target": "https://example.org/CodeSystem/not-held",
        "element": [
            {"code": "r", "target": [{"code": "anything", "equivalence": "equivalent"}]},
            {"code": "blue", "target": [{"code": "x", "equivalence": "equivalent"}]},
        ],
    }
    with pytest.raises(ImportFailed) as failed:
        load(concept_map("https://example.org/cm", [group]))
    assert str(failed.value) == (
        f"test-0.json: ConceptMap.group[0].element[1].code: code 'blue' is not in {COLOUR}|1"
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"code": "g", "equivalence": "same"}, "equivalence: 'same' is not a FHIR R4 equivalence"),
        ({"equivalence": "wider"}, "target[0].code: is missing for a wider mapping"),
    ],
)
def test_concept_map_targets_need_an_equivalence_and_a_code(target, message):
    load(code_system(RED_GREEN))
    group = {"source": COLOUR, "target": COLOUR, "element": [{"code": "r", "target": [target]}]}
    with pytest.raises(ImportFailed) as failed:
        load(concept_map("https://example.org/cm", [group]))
    assert message in str(failed.value)


def test_releases_cannot_be_changed_or_deleted():
    load(code_system(RED_GREEN))
    release = CodeSystemRelease.objects.get(code_system__url=COLOUR)
    concept = release.concepts.get(code="r")
    concept.display = "Scarlet"
    with pytest.raises(ReleaseIsImmutable):
        concept.save()
    with pytest.raises(ReleaseIsImmutable):
        release.concepts.update(display="Scarlet")
    with pytest.raises(ReleaseIsImmutable):
        release.delete()
    with pytest.raises(ReleaseIsImmutable):
        CodeSystemRelease.objects.filter(pk=release.pk).delete()
    assert release.concepts.get(code="r").display == "Red"


def test_import_command_reports_each_release(tmp_path, capsys):
    path = tmp_path / "colour.json"
    path.write_text(json.dumps(code_system(RED_GREEN)), "utf-8")
    call_command("terminology", "import", str(path))
    call_command("terminology", "import", str(path))
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"imported CodeSystem {COLOUR}|1 (2 concepts) from {path}",
        "1 new releases, 0 already held",
        f"already held, unchanged: CodeSystem {COLOUR}|1 (2 concepts) from {path}",
        "0 new releases, 1 already held",
    ]


def test_import_command_fails_naming_the_file_and_writes_nothing(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text('<CodeSystem xmlns="http://hl7.org/fhir"><url value="x">', "utf-8")
    before = _counts()
    with pytest.raises(CommandError) as failed:
        call_command("terminology", "import", str(path))
    assert str(failed.value).startswith(f"nothing was imported:\n{path}: malformed XML at line 1")
    assert _counts() == before


def test_builtin_and_releases_commands(capsys):
    call_command("terminology", "builtin")
    assert capsys.readouterr().out.splitlines()[-1] == "0 new releases, 43 already held"
    call_command("terminology", "releases")
    listing = capsys.readouterr().out
    assert "CodeSystem\thttp://snomed.info/sct|wholecare-subset-1\t" in listing
    assert "ConceptMap\thttps://wholecare.example.org/ConceptMap/snomed-ct-to-icd-10|1\t" in listing


def test_bench_command_times_expand_and_leaves_nothing_behind(capsys):
    before = _counts()
    call_command("terminology", "bench", "--concepts", "40", "--repeat", "3")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("$expand 40 concepts, ") for line in lines)
    assert all(" ms, p95 " in line for line in lines)
    assert _counts() == before


def test_a_folder_without_fhir_files_is_an_error(tmp_path):
    shutil.copy(UK_CORE / "README.md", tmp_path / "README.md")
    with pytest.raises(ImportFailed) as failed:
        import_paths([tmp_path])
    assert str(failed.value) == f"{tmp_path}: holds no .json or .xml file"
