"""Reading files for bulk import: NDJSON (one resource a line), and JSON or XML files holding one
resource or a Bundle (transaction, batch, collection, searchset: Synthea's output is transaction
Bundles). Each resource read is a `Unit` that knows where it came from (`file:line` or
`file entry[i]`), so every problem names its place. Nothing here touches the database.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticError

NDJSON = frozenset({".ndjson", ".jsonl"})
SUFFIXES = NDJSON | {".json", ".xml"}

# Resources are loaded in this order, so that what others refer to is there first.
ORDER = (
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "HealthcareService",
    "Questionnaire",
    "Patient",
    "Bundle",
    "Condition",
    "AllergyIntolerance",
    "EpisodeOfCare",
    "Encounter",
    "ServiceRequest",
    "Appointment",
    "MedicationRequest",
    "MedicationStatement",
    "CarePlan",
    "Consent",
    "QuestionnaireResponse",
    "Observation",
)
RANK = {name: index for index, name in enumerate(ORDER)}


def rank(resource_type: str) -> int:
    return RANK.get(resource_type, len(ORDER))


class UnreadablePaths(Exception):
    """Paths that are missing or not files bulk import reads: nothing is imported."""


@dataclass
class Unit:
    """One resource read from a file, or the reason it could not be read."""

    where: str
    position: int
    """Line number (NDJSON) or entry number from 1 (Bundle); 1 for a file of one resource."""
    resource: dict[str, Any] | None = None
    full_url: str | None = None
    problem: str | None = None

    @property
    def resource_type(self) -> str:
        return str((self.resource or {}).get("resourceType", ""))


def model_problem(resource: dict[str, Any]) -> str | None:
    """Why a resource (of a FHIR resource type) is not the FHIR R4 model, or None when it is."""
    name = str(resource.get("resourceType", ""))
    try:
        get_fhir_model_class(name).model_validate(resource)
    except PydanticError as problem:
        errors = "; ".join(
            f"{'.'.join([name, *map(str, e['loc'])])}: {e['msg']}" for e in problem.errors()[:5]
        )
        return f"not the FHIR R4 model: {errors}"
    except (ValueError, TypeError) as problem:
        return f"not the FHIR R4 model: {problem}"
    return None


def model_problems(resources: list[dict[str, Any]]) -> list[str | None]:
    """`model_problem` of each; what worker processes run (this module needs no Django)."""
    return [model_problem(resource) for resource in resources]


def files_in(paths: Iterable[Path]) -> list[Path]:
    """The files to read, folders opened (sorted), in dependency order of what they hold."""
    found: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif not path.exists():
            problems.append(f"{path}: no such file or folder")
        elif path.suffix not in SUFFIXES:
            problems.append(f"{path}: not a .ndjson, .jsonl, .json or .xml file")
        else:
            found.append(path)
    if problems:
        raise UnreadablePaths("\n".join(problems))
    return sorted(found, key=lambda p: rank(first_type(p)))


def first_type(path: Path) -> str:
    """The resourceType of a file's first resource ("" when it cannot be told)."""
    if path.suffix in NDJSON:
        with path.open("rb") as lines:
            for line in lines:
                if line.strip():
                    try:
                        return str(json.loads(line).get("resourceType", ""))
                    except (ValueError, AttributeError):
                        return ""
        return ""
    units = read(path)
    return units[0].resource_type if len(units) == 1 else "Bundle"


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def count(path: Path) -> int:
    """How many units a file holds (lines of an NDJSON file), for the progress bar."""
    if path.suffix in NDJSON:
        with path.open("rb") as data:
            return sum(block.count(b"\n") for block in iter(lambda: data.read(1 << 20), b""))
    return len(read(path))


def units(path: Path, after: int = 0) -> Iterator[Unit]:
    """The units of a file, from position `after` + 1."""
    if path.suffix in NDJSON:
        yield from _ndjson(path, after)
    else:
        yield from (unit for unit in read(path) if unit.position > after)


def _ndjson(path: Path, after: int) -> Iterator[Unit]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if number <= after or not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                resource = json.loads(line)
            except (ValueError, UnicodeDecodeError) as problem:
                yield Unit(where, number, problem=f"not valid JSON: {problem}")
                continue
            if not isinstance(resource, dict):
                yield Unit(where, number, problem="a line must hold one JSON object")
            elif resource.get("resourceType") == "Bundle":
                yield Unit(
                    where,
                    number,
                    problem="a Bundle on an NDJSON line is not read: give it as a .json file",
                )
            else:
                yield Unit(where, number, resource=resource)


def read(path: Path) -> list[Unit]:
    """A JSON or XML file's resource, or its Bundle's entries."""
    try:
        data = path.read_bytes()
        resource = _xml(data) if path.suffix == ".xml" else json.loads(data)
    except (ValueError, UnicodeDecodeError, OSError) as problem:
        return [Unit(str(path), 1, problem=str(problem))]
    if not isinstance(resource, dict):
        return [Unit(str(path), 1, problem="the file must hold one JSON object")]
    if resource.get("resourceType") != "Bundle":
        return [Unit(str(path), 1, resource=resource)]
    if not resource.get("entry"):
        return [Unit(str(path), 1, problem="the Bundle has no entries")]
    found = []
    for index, entry in enumerate(resource["entry"]):
        where = f"{path} entry[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            found.append(Unit(where, index + 1, problem="the entry has no resource"))
            continue
        found.append(
            Unit(
                where,
                index + 1,
                resource=entry["resource"],
                full_url=entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None,
            )
        )
    return found


def _xml(data: bytes) -> dict[str, Any]:
    """FHIR XML as FHIR JSON, through the R4 model; entities and DTDs are refused."""
    from lxml import etree  # type: ignore[import-untyped]

    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        )
    except etree.XMLSyntaxError as problem:
        raise ValueError(f"not well-formed XML: {problem}") from None
    if root.getroottree().docinfo.doctype:
        raise ValueError("XML with a DOCTYPE is refused")
    name = etree.QName(root).localname
    try:
        model = get_fhir_model_class(name).model_validate_xml(data)
    except KeyError:
        raise ValueError(f"{name} is not a FHIR R4 resource type") from None
    except (PydanticError, TypeError) as problem:
        raise ValueError(f"the {name} does not match the FHIR R4 model: {problem}") from None
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return dumped
