"""One mapper module per FHIR resource type: FHIR JSON to and from Wholecare's models.

Each module has a pure `to_fhir(...)` (row to resource) and, where the type can be written,
`from_fhir(resource) -> Mapped[...]`, which says what it found and lists every element Wholecare
does not keep (never dropped silently), and a resource type class (see `wholecare.fhir.base`) that
the registry serves. Mapping raises FhirError (422) for content the record refuses.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError

from wholecare.fhir.errors import FhirError, Issue

T = TypeVar("T")

WHOLECARE = "https://wholecare.example.org"


@dataclass
class Mapped(Generic[T]):
    value: T
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    """(FHIRPath of the element, what it is) for every element Wholecare does not keep."""


def unknown_elements(
    content: dict[str, Any], known: Iterable[str], path: str
) -> list[tuple[str, str]]:
    """Elements of `content` that a mapper does not read."""
    ignored = {"resourceType", "id", "meta", *known}
    return [(f"{path}.{key}", f"{path}.{key}") for key in content if key not in ignored]


def coding_in(concept: dict[str, Any] | None, system: str) -> str | None:
    """The first code from `system` in a CodeableConcept."""
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    return None


def validation_outcome(error: ValidationError, paths: dict[str, str], where: str) -> FhirError:
    """A record service's refusal as a 422 OperationOutcome, each message at its FHIR element."""
    issues: list[Issue] = []
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            for message in errors:
                issues.append(Issue("invalid", message, expression=(paths.get(name, where),)))
    else:
        issues = [
            Issue("business-rule", message, expression=(where,)) for message in error.messages
        ]
    return FhirError(422, issues)
