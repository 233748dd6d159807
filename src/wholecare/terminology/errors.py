"""Errors of the terminology operations, each carrying the HTTP status and FHIR issue code that the
FHIR layer returns with it (see docs/terminology.md)."""

from typing import Any, ClassVar


class TerminologyError(Exception):
    """A request the terminology service cannot answer. `operation_outcome()` is the FHIR body."""

    http_status: ClassVar[int] = 400
    issue_code: ClassVar[str] = "invalid"

    def __init__(self, message: str, *, expression: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression

    def operation_outcome(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": self.issue_code,
            "diagnostics": self.message,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return {"resourceType": "OperationOutcome", "issue": [issue]}


class InvalidRequest(TerminologyError):
    """A parameter is missing or malformed: 400, issue code `invalid`."""


class NotFound(TerminologyError):
    """The code system, value set, concept map, version or code is not held: 404, `not-found`."""

    http_status = 404
    issue_code = "not-found"


class UnknownCodeSystem(NotFound):
    pass


class UnknownValueSet(NotFound):
    pass


class UnknownConceptMap(NotFound):
    pass


class UnknownVersion(NotFound):
    pass


class UnknownCode(NotFound):
    pass
