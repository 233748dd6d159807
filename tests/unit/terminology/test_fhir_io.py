"""Reading FHIR terminology files: every problem names the file and the element."""

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.codesystem import CodeSystem

from wholecare.terminology import fhir_io
from wholecare.terminology.fhir_io import ImportFailed

FIXTURES = Path(__file__).parents[2] / "fixtures" / "uk-core-codesystems"

CODE_SYSTEM = {
    "resourceType": "CodeSystem",
    "url": "https://example.org/CodeSystem/colour",
    "version": "1",
    "status": "active",
    "content": "complete",
    "concept": [{"code": "r", "display": "Red"}, {"code": "g", "display": "Green"}],
}

XML = b"""<CodeSystem xmlns="http://hl7.org/fhir">
  <url value="https://example.org/CodeSystem/colour"/>
  <version value="1"/>
  <status value="active"/>
  <content value="complete"/>
  <concept><code value="r"/><display value="Red"/></concept>
  <concept><code value="g"/><display value="Green"/></concept>
</CodeSystem>"""


def _problem(data: bytes) -> str:
    with pytest.raises(ImportFailed) as failed:
        fhir_io.parse(data, "colour.file")
    assert len(failed.value.problems) >= 1
    return str(failed.value.problems[0])


def test_json_and_xml_of_one_release_read_the_same_with_one_checksum():
    from_json = fhir_io.parse(json.dumps(CODE_SYSTEM).encode(), "colour.json")
    from_xml = fhir_io.parse(XML, "colour.xml")
    assert [r.resource for r in from_json] == [r.resource for r in from_xml]
    assert from_json[0].path == "CodeSystem"
    assert fhir_io.checksum(from_json[0].resource) == fhir_io.checksum(from_xml[0].resource)


def test_checksum_ignores_id_meta_and_narrative_but_not_content():
    base = fhir_io.checksum(CODE_SYSTEM)
    decorated = {**CODE_SYSTEM, "id": "x", "meta": {"versionId": "3"}, "text": {"status": "empty"}}
    assert fhir_io.checksum(decorated) == base
    changed = {**CODE_SYSTEM, "concept": [{"code": "r", "display": "Scarlet"}]}
    assert fhir_io.checksum(changed) != base


def test_malformed_json_names_the_file_line_and_column():
    message = _problem(b'{"resourceType": "CodeSystem",\n "url": }')
    assert message.startswith("colour.file: malformed JSON at line 2 column 9")


def test_malformed_xml_names_the_file_and_line():
    message = _problem(b'<CodeSystem xmlns="http://hl7.org/fhir">\n<url value="x">\n</CodeSystem>')
    assert message.startswith("colour.file: malformed XML at line 3")


def test_wrong_resource_type_is_refused_in_json_and_xml():
    json_message = _problem(b'{"resourceType": "Patient", "id": "p1"}')
    xml_message = _problem(b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/></Patient>')
    for message in (json_message, xml_message):
        assert "colour.file: resourceType: is Patient; expected CodeSystem" in message


def test_json_without_resource_type_is_not_a_fhir_resource():
    assert _problem(b'{"url": "x"}') == (
        "colour.file: resourceType: is missing: not a FHIR resource"
    )


def test_neither_json_nor_xml():
    assert _problem(b"code,display\nA,White") == "colour.file: is neither FHIR JSON nor FHIR XML"


def test_invalid_element_value_is_named_by_its_path():
    bad = {**CODE_SYSTEM, "concept": [{"code": "r"}, {"code": 7, "display": "Seven"}]}
    message = _problem(json.dumps(bad).encode())
    assert message.startswith("colour.file: CodeSystem.concept[1].code: ")


def test_unknown_xml_element_is_named_with_its_path_and_line():
    bad = XML.replace(b'<display value="Green"/>', b'<colour value="Green"/>')
    message = _problem(bad)
    assert message == (
        "colour.file: CodeSystem.concept[1].colour (line 7): is not an element of CodeSystemConcept"
    )


def test_invalid_xml_values_are_named_by_path_and_line():
    bad = XML.replace(b'<concept><code value="g"/>', b'<concept><display value="g"/>')
    message = _problem(bad)
    assert message == (
        "colour.file: CodeSystem.concept[1].code (line 7): Value for the field 'code' is required."
    )


def test_xml_outside_the_fhir_namespace_is_refused():
    message = _problem(b"<CodeSystem><url value='x'/></CodeSystem>")
    assert "is not in the FHIR namespace" in message


def test_xml_with_a_doctype_is_refused():
    data = (
        b'<!DOCTYPE CodeSystem [<!ENTITY name "colour">]>'
        b'<CodeSystem xmlns="http://hl7.org/fhir"><url value="x"/></CodeSystem>'
    )
    assert _problem(data) == "colour.file: has a DOCTYPE, which FHIR XML may not have"


def test_xml_external_entities_are_never_read():
    data = (
        b'<!DOCTYPE CodeSystem [<!ENTITY secret SYSTEM "file:///etc/hostname">]>'
        b'<CodeSystem xmlns="http://hl7.org/fhir"><url value="&secret;"/></CodeSystem>'
    )
    assert "external entity 'secret'" in _problem(data)


def test_bundle_entries_are_read_with_their_paths_and_other_types_refused():
    value_set = {"resourceType": "ValueSet", "url": "https://example.org/vs", "status": "active"}
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": CODE_SYSTEM}, {"resource": value_set}],
    }
    read = fhir_io.parse(json.dumps(bundle).encode(), "b.json")
    assert [(r.path, r.resource_type) for r in read] == [
        ("Bundle.entry[0].resource", "CodeSystem"),
        ("Bundle.entry[1].resource", "ValueSet"),
    ]
    bundle["entry"].append({"resource": {"resourceType": "Patient", "id": "p"}})
    message = _problem(json.dumps(bundle).encode())
    assert message == "colour.file: Bundle.entry[2].resource: is a Patient, not a terminology type"


def test_unreadable_file_is_named(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(ImportFailed) as failed:
        fhir_io.read_file(missing)
    assert str(failed.value) == f"{missing}: cannot be read: No such file or directory"


def test_folders_are_searched_for_json_and_xml_in_a_stable_order(tmp_path):
    (tmp_path / "b.xml").write_bytes(XML)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / "notes.md").write_text("not FHIR")
    found = list(fhir_io.files_in([tmp_path]))
    assert found == [tmp_path / "b.xml", tmp_path / "sub" / "a.json"]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.xml")), ids=lambda p: p.stem)
def test_every_uk_core_code_system_reads_as_fhir_resources_reads_it(path):
    (read,) = fhir_io.read_file(path)
    assert read.resource_type == "CodeSystem"
    assert read.resource["url"].startswith("https://fhir.hl7.org.uk/CodeSystem/UKCore-")
    reference = CodeSystem.model_validate_xml(path.read_bytes()).model_dump_json()
    assert read.resource == json.loads(reference)


def test_primitive_extensions_and_nested_resources_in_xml():
    data = b"""<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource>
      <CodeSystem><url value="https://example.org/cs"><extension url="https://example.org/e">
      <valueString value="note"/></extension></url><status value="active"/>
      <content value="complete"/></CodeSystem></resource></entry></Bundle>"""
    (read,) = fhir_io.parse(data, "b.xml")
    assert read.path == "Bundle.entry[0].resource"
    assert read.resource["_url"] == {
        "extension": [{"url": "https://example.org/e", "valueString": "note"}]
    }
