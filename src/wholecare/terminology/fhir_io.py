"""Reading FHIR CodeSystem, ValueSet and ConceptMap resources (and Bundles of them) from JSON or
XML files, validated against the FHIR R4 model, with problems named by file and element.

No Django here. XML is parsed without DTDs, entities or network access (FHIR XML has no DTD).
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.conceptmap import ConceptMap
from fhir.resources.R4B.valueset import ValueSet
from lxml import etree  # type: ignore[import-untyped]

FHIR_NS = "http://hl7.org/fhir"

# How Wholecare's own additions travel in standard FHIR: the plain-English glossary text of a
# concept is a designation with this use; a mapping's source and whether it is verified are
# extensions on ConceptMap.group.element.target (and on each $translate match).
DESIGNATION_USE_SYSTEM = "https://wholecare.example.org/CodeSystem/designation-use"
PLAIN_ENGLISH = "plain-english"
MAPPING_SOURCE_EXTENSION = "https://wholecare.example.org/fhir/StructureDefinition/mapping-source"
MAPPING_VERIFIED_EXTENSION = (
    "https://wholecare.example.org/fhir/StructureDefinition/mapping-verified"
)
TERMINOLOGY_TYPES = ("CodeSystem", "ValueSet", "ConceptMap")
_MODELS: dict[str, Any] = {
    "CodeSystem": CodeSystem,
    "ValueSet": ValueSet,
    "ConceptMap": ConceptMap,
    "Bundle": Bundle,
}


@dataclass(frozen=True)
class Problem:
    source: str
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.element}" if self.element else self.source
        return f"{where}: {self.message}"


class ImportFailed(Exception):
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class SourcedResource:
    """One terminology resource and where it came from: `path` is its element path in the file
    (`CodeSystem`, or `Bundle.entry[2].resource`), so problems can name elements exactly."""

    source: str
    path: str
    resource: dict[str, Any]

    @property
    def resource_type(self) -> str:
        return str(self.resource["resourceType"])

    def problem(self, element: str, message: str) -> ImportFailed:
        return ImportFailed([Problem(self.source, f"{self.path}{element}", message)])


def files_in(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the .json and .xml files under any folder named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                found for found in path.rglob("*") if found.suffix.lower() in {".json", ".xml"}
            )
        else:
            yield path


def read_file(path: Path) -> list[SourcedResource]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFailed([Problem(str(path), "", f"cannot be read: {error.strerror}")]) from None
    return parse(data, str(path))


def parse(data: bytes, source: str) -> list[SourcedResource]:
    start = data.lstrip()[:1]
    if start == b"{":
        resource = _parse_json(data, source)
    elif start == b"<":
        resource = _parse_xml(data, source)
    else:
        raise ImportFailed([Problem(source, "", "is neither FHIR JSON nor FHIR XML")])
    resource_type = resource["resourceType"]
    if resource_type == "Bundle":
        return _bundle_entries(resource, source)
    return [SourcedResource(source, resource_type, resource)]


def checksum(resource: dict[str, Any]) -> str:
    """A digest of what a release says, ignoring the resource id, meta and narrative, so the same
    release read from XML or JSON, or from another server, has the same checksum."""
    content = {k: v for k, v in resource.items() if k not in {"id", "meta", "text"}}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_json(data: bytes, source: str) -> dict[str, Any]:
    try:
        raw = json.loads(data)
    except UnicodeDecodeError:
        raise ImportFailed([Problem(source, "", "is not UTF-8 text")]) from None
    except json.JSONDecodeError as error:
        raise ImportFailed(
            [
                Problem(
                    source,
                    "",
                    f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}",
                )
            ]
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("resourceType"), str):
        raise ImportFailed([Problem(source, "resourceType", "is missing: not a FHIR resource")])
    model = _model_for(raw["resourceType"], source)
    try:
        return _dump(model.model_validate(raw))
    except pydantic.ValidationError as error:
        raise ImportFailed(_validation_problems(error, raw["resourceType"], source)) from None


def _parse_xml(data: bytes, source: str) -> dict[str, Any]:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise ImportFailed(
            [Problem(source, "", f"malformed XML at line {line} column {column}: {error.msg}")]
        ) from None
    if root.getroottree().docinfo.doctype:
        raise ImportFailed([Problem(source, "", "has a DOCTYPE, which FHIR XML may not have")])
    tag = etree.QName(root)
    if tag.namespace != FHIR_NS:
        raise ImportFailed(
            [Problem(source, tag.localname, f"is not in the FHIR namespace {FHIR_NS}")]
        )
    model = _model_for(tag.localname, source)
    try:
        return _dump(model.model_validate_xml(data))
    except pydantic.ValidationError as error:
        raise ImportFailed(_validation_problems(error, tag.localname, source)) from None
    except KeyError as error:
        # fhir.resources raises KeyError(name) for an element the resource type does not have.
        name = str(error.args[0]) if error.args else "?"
        raise ImportFailed(
            [Problem(source, _xml_path(root, name), f"is not an element of {tag.localname}")]
        ) from None


def _model_for(resource_type: str, source: str) -> Any:
    if resource_type not in _MODELS:
        raise ImportFailed(
            [
                Problem(
                    source,
                    "resourceType",
                    f"is {resource_type}; expected CodeSystem, ValueSet, ConceptMap or a Bundle"
                    " of them",
                )
            ]
        )
    return _MODELS[resource_type]


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = json.loads(model.model_dump_json())
    return dumped


def _bundle_entries(bundle: dict[str, Any], source: str) -> list[SourcedResource]:
    found = []
    problems = []
    for index, entry in enumerate(bundle.get("entry", [])):
        path = f"Bundle.entry[{index}].resource"
        resource = entry.get("resource")
        if resource is None:
            problems.append(Problem(source, path, "is missing"))
        elif resource["resourceType"] not in TERMINOLOGY_TYPES:
            problems.append(
                Problem(source, path, f"is a {resource['resourceType']}, not a terminology type")
            )
        else:
            found.append(SourcedResource(source, path, resource))
    if problems:
        raise ImportFailed(problems)
    return found


def _validation_problems(
    error: pydantic.ValidationError, resource_type: str, source: str
) -> list[Problem]:
    problems = []
    for detail in error.errors():
        element = resource_type
        for part in detail["loc"]:
            element += f"[{part}]" if isinstance(part, int) else f".{part}"
        problems.append(Problem(source, element, detail["msg"]))
    return problems


def _xml_path(root: Any, name: str) -> str:
    """The element path and line of the first element called `name`, for an error message."""
    found = next(iter(root.iter(f"{{{FHIR_NS}}}{name}")), None)
    if found is None:
        return name
    parts = []
    node = found
    while node is not None:
        local = etree.QName(node).localname
        parent = node.getparent()
        if parent is None:
            parts.append(local)
        else:
            same = [sibling for sibling in parent if etree.QName(sibling).localname == local]
            parts.append(f"{local}[{same.index(node)}]" if len(same) > 1 else local)
        node = parent
    return ".".join(reversed(parts)) + f" (line {found.sourceline})"
