"""Errors at the FHIR edge, each carried to the client as an OperationOutcome with its HTTP status.

Issue codes are from http://hl7.org/fhir/issue-type: `structure` and `invalid` for malformed input
(400), `not-found` (404), `conflict` (409/412), `code-invalid`, `business-rule`, `value` and
`processing` for content the record refuses (422), `security`/`forbidden`/`login`/`suppressed` for
access decisions.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    code: str
    diagnostics: str
    severity: str = "error"
    expression: tuple[str, ...] = ()

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_fhir() for issue in issues]}


@dataclass
class FhirError(Exception):
    status: int
    issues: list[Issue] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)

    @property
    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def error(status: int, code: str, diagnostics: str, *expression: str) -> FhirError:
    return FhirError(status, [Issue(code, diagnostics, expression=expression)])


def bad_request(diagnostics: str, *expression: str) -> FhirError:
    return error(400, "invalid", diagnostics, *expression)


def not_found(resource_type: str, fhir_id: str) -> FhirError:
    """The same answer for a resource that does not exist and one the client may not see."""
    return error(404, "not-found", f"{resource_type}/{fhir_id} is not known to this server")


def unprocessable(code: str, diagnostics: str, *expression: str) -> FhirError:
    return error(422, code, diagnostics, *expression)
