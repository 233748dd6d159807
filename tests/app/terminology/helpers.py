"""Small FHIR terminology resources for tests, imported through the real reader."""

import json
from typing import Any

from wholecare.terminology import fhir_io
from wholecare.terminology.importer import ImportResult, import_resources

COLOUR = "https://example.org/CodeSystem/colour"


def code_system(
    concepts: list[dict[str, Any]], *, url: str = COLOUR, version: str = "1", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "url": url,
        "version": version,
        "name": "Colour",
        "title": "Colours",
        "status": "active",
        "content": "complete",
        "concept": concepts,
        **extra,
    }


def value_set(
    url: str,
    include: list[dict[str, Any]],
    *,
    exclude: list[dict[str, Any]] | None = None,
    version: str = "1",
) -> dict[str, Any]:
    compose: dict[str, Any] = {"include": include}
    if exclude:
        compose["exclude"] = exclude
    return {
        "resourceType": "ValueSet",
        "url": url,
        "version": version,
        "status": "active",
        "compose": compose,
    }


def concept_map(url: str, groups: list[dict[str, Any]], *, version: str = "1") -> dict[str, Any]:
    return {
        "resourceType": "ConceptMap",
        "url": url,
        "version": version,
        "status": "active",
        "group": groups,
    }


def load(*resources: dict[str, Any]) -> list[ImportResult]:
    read = []
    for index, resource in enumerate(resources):
        read += fhir_io.parse(json.dumps(resource).encode(), f"test-{index}.json")
    return import_resources(read)
