"""The FHIR terminology operations at the API: `CodeSystem/$lookup`, `CodeSystem/$validate-code`,
`ValueSet/$validate-code`, `ValueSet/$expand` and `ConceptMap/$translate`, by GET with query
parameters or POST with a `Parameters` body, answered by `wholecare.terminology.operations`
(docs/terminology.md gives how each FHIR parameter maps onto its arguments).

Terminology is not about any person: a token whose scopes allow reading the type may ask, and
every operation is audited like any other interaction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.fhir.base import Ctx
from wholecare.fhir.errors import FhirError, Issue, bad_request
from wholecare.fhir.http import fhir_response, parse_body
from wholecare.fhir.registry import resource_type
from wholecare.fhir.scopes import Permission
from wholecare.terminology import operations
from wholecare.terminology.errors import TerminologyError

Values = dict[str, Any]
COMPLEX = frozenset({"Coding", "CodeableConcept"})
"""Parameter types that only a POSTed Parameters body can carry."""


@dataclass(frozen=True)
class Operation:
    """One operation: its FHIR parameters (name -> value type) and the call it makes."""

    parameters: dict[str, str]
    call: Callable[[Values], dict[str, Any]]


def _coding(values: Values, into: dict[str, str]) -> Values:
    """A `coding` parameter spread into the simple parameters (coding field -> parameter)."""
    coding = values.pop("coding", None)
    if coding is not None:
        for field, name in into.items():
            if field in coding and name not in values:
                values[name] = coding[field]
    return values


def _lookup(values: Values) -> dict[str, Any]:
    values = _coding(values, {"system": "system", "code": "code", "version": "version"})
    return operations.lookup(
        system=values.get("system", ""), code=values.get("code", ""), version=values.get("version")
    )


def _validate(values: Values, codings: list[dict[str, Any]], call: Callable[..., Any]) -> Any:
    """$validate-code of a `codeableConcept`: true when any of its codings is valid."""
    answer = None
    for coding in codings:
        answer = call(
            code=coding.get("code", ""),
            system=coding.get("system"),
            version=coding.get("version"),
            display=coding.get("display"),
        )
        if answer["parameter"][0]["valueBoolean"]:
            return answer
    if answer is None:
        raise bad_request("codeableConcept has no coding to validate", "codeableConcept")
    return answer


def _code_system_validate(values: Values) -> dict[str, Any]:
    concept = values.pop("codeableConcept", None)
    values = _coding(
        values, {"system": "url", "code": "code", "version": "version", "display": "display"}
    )
    if concept is not None:
        return _validate(values, concept.get("coding", []), operations.validate_code)  # type: ignore[no-any-return]
    return operations.validate_code(
        code=values.get("code", ""),
        system=values.get("url"),
        version=values.get("version"),
        display=values.get("display"),
    )


def _value_set_validate(values: Values) -> dict[str, Any]:
    if "url" not in values:
        raise bad_request("ValueSet/$validate-code needs url, the value set", "url")
    concept = values.pop("codeableConcept", None)
    values = _coding(
        values,
        {"system": "system", "code": "code", "version": "systemVersion", "display": "display"},
    )

    def within(**coding: Any) -> dict[str, Any]:
        return operations.validate_code(
            url=values["url"], value_set_version=values.get("valueSetVersion"), **coding
        )

    if concept is not None:
        return _validate(values, concept.get("coding", []), within)  # type: ignore[no-any-return]
    return within(
        code=values.get("code", ""),
        system=values.get("system"),
        version=values.get("systemVersion"),
        display=values.get("display"),
    )


def _expand(values: Values) -> dict[str, Any]:
    return operations.expand(
        values.get("url", ""),
        version=values.get("valueSetVersion"),
        filter=values.get("filter"),
        offset=values.get("offset", 0),
        count=values.get("count"),
    )


def _translate(values: Values) -> dict[str, Any]:
    values = _coding(values, {"system": "system", "code": "code", "version": "version"})
    return operations.translate(
        code=values.get("code", ""),
        system=values.get("system", ""),
        system_version=values.get("version"),
        url=values.get("url"),
        concept_map_version=values.get("conceptMapVersion"),
        target_system=values.get("targetsystem"),
        reverse=values.get("reverse", False),
    )


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("CodeSystem", "lookup"): Operation(
        {"system": "uri", "code": "code", "version": "string", "coding": "Coding"}, _lookup
    ),
    ("CodeSystem", "validate-code"): Operation(
        {
            "url": "uri",
            "version": "string",
            "code": "code",
            "display": "string",
            "coding": "Coding",
            "codeableConcept": "CodeableConcept",
        },
        _code_system_validate,
    ),
    ("ValueSet", "validate-code"): Operation(
        {
            "url": "uri",
            "valueSetVersion": "string",
            "system": "uri",
            "systemVersion": "string",
            "code": "code",
            "display": "string",
            "coding": "Coding",
            "codeableConcept": "CodeableConcept",
        },
        _value_set_validate,
    ),
    ("ValueSet", "expand"): Operation(
        {
            "url": "uri",
            "valueSetVersion": "string",
            "filter": "string",
            "offset": "integer",
            "count": "integer",
        },
        _expand,
    ),
    ("ConceptMap", "translate"): Operation(
        {
            "url": "uri",
            "conceptMapVersion": "string",
            "system": "uri",
            "version": "string",
            "code": "code",
            "coding": "Coding",
            "targetsystem": "uri",
            "reverse": "boolean",
        },
        _translate,
    ),
}


def _from_query(query: QueryDict, expected: dict[str, str], where: str) -> Values:
    values: Values = {}
    for name in query:
        if name == "_format":
            continue
        kind = expected.get(name)
        if kind is None or kind in COMPLEX:
            simple = [n for n, k in expected.items() if k not in COMPLEX]
            raise bad_request(
                f"{where} has no query parameter {name!r}; it takes {', '.join(simple)}", name
            )
        given = query.getlist(name)
        if len(given) > 1:
            raise bad_request(f"{where}: parameter {name} is given {len(given)} times", name)
        values[name] = _simple(given[0], kind, name, where)
    return values


def _simple(text: str, kind: str, name: str, where: str) -> Any:
    if kind == "integer":
        if not text.lstrip("-").isdigit():
            raise bad_request(f"{where}: {name} must be a whole number, not {text!r}", name)
        return int(text)
    if kind == "boolean":
        if text not in {"true", "false"}:
            raise bad_request(f"{where}: {name} must be true or false, not {text!r}", name)
        return text == "true"
    return text


def _from_parameters(body: dict[str, Any], expected: dict[str, str], where: str) -> Values:
    values: Values = {}
    for index, parameter in enumerate(body.get("parameter", [])):
        name = parameter.get("name", "")
        at = f"Parameters.parameter[{index}]"
        kind = expected.get(name)
        if kind is None:
            raise bad_request(
                f"{where} has no parameter {name!r}; it takes {', '.join(expected)}", at
            )
        if name in values:
            raise bad_request(f"{where}: parameter {name} is given more than once", at)
        field = f"value{kind[0].upper()}{kind[1:]}"
        if field not in parameter:
            raise bad_request(f"{where}: parameter {name} must be given as {field}", at)
        values[name] = parameter[field]
    return values


@transaction.atomic
def operate(
    ctx: Ctx, type_name: str, operation: str, query: QueryDict, body: dict[str, Any] | None
) -> dict[str, Any]:
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.READ)
    found = OPERATIONS.get((kind.name, operation))
    if found is None:
        raise FhirError(
            404, [Issue("not-supported", f"{kind.name} has no operation ${operation} here")]
        )
    where = f"{kind.name}/${operation}"
    values = (
        _from_query(query, found.parameters, where)
        if body is None
        else _from_parameters(body, found.parameters, where)
    )
    try:
        answer = found.call(values)
    except TerminologyError as problem:
        raise FhirError(
            problem.http_status,
            [
                Issue(
                    problem.issue_code,
                    problem.message,
                    expression=(problem.expression,) if problem.expression else (),
                )
            ],
        ) from None
    audit(
        by=ctx.grant.user,
        action=AuditEvent.Action.VIEW,
        person=None,
        what=f"FHIR operation {where}",
        why=f"API client: {ctx.grant.client.name}",
    )
    return answer


def respond(request: HttpRequest, ctx: Ctx, type_name: str, operation: str) -> HttpResponse:
    if request.method == "GET":
        body = None
    elif request.method == "POST":
        body = parse_body(request, "Parameters")
    else:
        raise FhirError(405, [Issue("not-supported", f"${operation} takes GET or POST")])
    return fhir_response(request, operate(ctx, type_name, operation, request.GET, body))
