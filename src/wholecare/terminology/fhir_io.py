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
from fhir.resources import R4B
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.conceptmap import ConceptMap
from fhir.resources.R4B.valueset import ValueSet
from fhir_core.utils import (
    determine_version_prefix,
    get_fhir_type_name,
    is_list_type,
    is_primitive_type,
)
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
    raw = {"resourceType": tag.localname, **_xml_object(root, model, tag.localname, source)}
    try:
        return _dump(model.model_validate(raw))
    except pydantic.ValidationError as error:
        raise ImportFailed(_validation_problems(error, tag.localname, source, root)) from None


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
    error: pydantic.ValidationError, resource_type: str, source: str, root: Any = None
) -> list[Problem]:
    problems = []
    for detail in error.errors():
        element = resource_type
        for part in detail["loc"]:
            element += f"[{part}]" if isinstance(part, int) else f".{part}"
        if root is not None:
            element += f" (line {_xml_line(root, detail['loc'])})"
        problems.append(Problem(source, element, detail["msg"]))
    return problems


# FHIR XML to FHIR JSON, guided by the R4 model: each element is looked up in its type, so an
# unknown element is reported where it is, and the JSON is then validated exactly as a JSON file
# is (with element paths such as CodeSystem.concept[3].code).

_PREFIX = determine_version_prefix(R4B.__name__)


def _xml_object(element: Any, model: Any, path: str, source: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    aliases = model.get_alias_mapping()
    for name in ("id", "url"):
        if element.get(name) is not None and name in aliases and element.getparent() is not None:
            found[name] = element.get(name)
    counts: dict[str, int] = {}
    for child in element:
        name = etree.QName(child).localname
        index = counts.get(name, 0)
        counts[name] = index + 1
        if name not in aliases:
            raise ImportFailed(
                [
                    Problem(
                        source,
                        f"{path}.{name} (line {child.sourceline})",
                        f"is not an element of {model.get_resource_type()}",
                    )
                ]
            )
        field = model.model_fields[aliases[name]]
        many = is_list_type(field)
        where = f"{path}.{name}" + (f"[{index}]" if many else "")
        if is_primitive_type(field):
            value: Any = child.get("value")
            if len(child):
                extensions = _xml_object(child, R4B.get_fhir_model_class("Element"), where, source)
                _place(found, f"_{name}", extensions, many, index)
        else:
            value = _xml_complex(child, field, where, source)
        _place(found, name, value, many, index)
    return found


def _xml_complex(element: Any, field: Any, path: str, source: str) -> dict[str, Any]:
    type_name = get_fhir_type_name(field, prefix=_PREFIX)
    if type_name == "Resource":
        (inner,) = list(element) or [None]
        if inner is None:
            raise ImportFailed([Problem(source, path, "is empty")])
        resource_type = etree.QName(inner).localname
        model = R4B.get_fhir_model_class(resource_type)
        return {"resourceType": resource_type, **_xml_object(inner, model, path, source)}
    return _xml_object(element, R4B.get_fhir_model_class(type_name), path, source)


def _place(found: dict[str, Any], name: str, value: Any, many: bool, index: int) -> None:
    if many:
        values = found.setdefault(name, [])
        values.extend([None] * (index - len(values)))
        values.append(value)
    else:
        found[name] = value


def _xml_line(root: Any, loc: tuple[Any, ...]) -> int:
    """The line of the element a validation error names, or of its nearest ancestor."""
    node = root
    for position, part in enumerate(loc):
        if isinstance(part, int):
            continue
        same = [child for child in node if etree.QName(child).localname == part]
        following = loc[position + 1] if position + 1 < len(loc) else 0
        index = following if isinstance(following, int) else 0
        if index >= len(same):
            break
        node = same[index]
    return int(node.sourceline)
