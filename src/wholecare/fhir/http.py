"""HTTP at the FHIR edge: formats (JSON, and XML through fhir.resources), request bodies, and
responses with FHIR headers. No rules live here."""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticError

from wholecare.fhir.errors import FhirError, Issue, bad_request

JSON = "application/fhir+json"
XML = "application/fhir+xml"
_JSON_NAMES = {"json", JSON, "application/json", "text/json"}
_XML_NAMES = {"xml", XML, "application/xml", "text/xml"}


def response_format(request: HttpRequest) -> str:
    """`_format` wins over Accept; JSON unless XML is asked for."""
    asked = request.GET.get("_format", "")
    if asked:
        if asked in _XML_NAMES:
            return XML
        if asked in _JSON_NAMES:
            return JSON
        raise FhirError(406, [Issue("not-supported", f"_format={asked} is not supported")])
    accept = request.headers.get("Accept", "")
    if any(name in accept for name in ("fhir+xml", "application/xml", "text/xml")) and not any(
        name in accept for name in ("fhir+json", "application/json")
    ):
        return XML
    return JSON


def render(resource: dict[str, Any], fmt: str) -> bytes:
    if fmt == XML:
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        xml: bytes | str = model.model_dump_xml()
        return xml if isinstance(xml, bytes) else xml.encode()
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()


def fhir_response(
    request: HttpRequest,
    resource: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    try:
        fmt = response_format(request)
    except FhirError:
        fmt = JSON
    response = HttpResponse(
        render(resource, fmt), status=status, content_type=f"{fmt}; charset=utf-8"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome_response(request: HttpRequest, problem: FhirError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="fhir"'} if problem.status == 401 else {}
    return fhir_response(request, problem.outcome, problem.status, headers)


def parse_body(request: HttpRequest, expected: str | None = None) -> dict[str, Any]:
    """The request body as a FHIR resource dict, checked against the R4 model of its type (and
    first that it is of the `expected` type)."""
    content_type = request.content_type or ""
    raw = request.body
    if not raw.strip():
        raise bad_request("The request has no body; send a FHIR resource")
    if content_type in _XML_NAMES:
        return _from_xml(raw, expected)
    if content_type and content_type not in _JSON_NAMES:
        raise FhirError(415, [Issue("not-supported", f"Send {JSON} or {XML}, not {content_type}")])
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise error_structure(f"The body is not valid JSON: {problem}") from None
    return validated(data, expected)


def error_structure(diagnostics: str, *expression: str) -> FhirError:
    return FhirError(400, [Issue("structure", diagnostics, expression=expression)])


def _from_xml(raw: bytes, expected: str | None) -> dict[str, Any]:
    from lxml import etree  # type: ignore[import-untyped]

    try:
        root = etree.fromstring(
            raw, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as problem:
        raise error_structure(f"The body is not well-formed XML: {problem}") from None
    name = etree.QName(root).localname
    _expect(name, expected)
    try:
        model_class = get_fhir_model_class(name)
    except KeyError:
        raise error_structure(f"{name} is not a FHIR R4 resource type") from None
    try:
        model = model_class.model_validate_xml(raw)
    except (PydanticError, ValueError, TypeError) as problem:
        raise error_structure(f"The {name} does not match the FHIR R4 model: {problem}") from None
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return dumped


def _expect(resource_type: object, expected: str | None) -> None:
    if expected is not None and resource_type != expected:
        raise bad_request(
            f"This endpoint takes a {expected}, not a {resource_type}", "resourceType"
        )


def validated(data: object, expected: str | None = None) -> dict[str, Any]:
    """Check a JSON value against the FHIR R4 model of its resourceType; 400 saying where not."""
    if not isinstance(data, dict):
        raise error_structure("A FHIR resource is a JSON object")
    resource_type = data.get("resourceType")
    _expect(resource_type, expected)
    if not isinstance(resource_type, str):
        raise error_structure("The resource has no resourceType", "resourceType")
    try:
        model_class = get_fhir_model_class(resource_type)
    except KeyError:
        raise error_structure(
            f"{resource_type!r} is not a FHIR R4 resource type", "resourceType"
        ) from None
    try:
        model = model_class.model_validate(data)
    except PydanticError as problem:
        issues = [
            Issue(
                "structure",
                f"{error['msg']}",
                expression=(".".join([resource_type, *(str(part) for part in error["loc"])]),),
            )
            for error in problem.errors()[:20]
        ]
        raise FhirError(400, issues) from None
    except (ValueError, TypeError) as problem:
        raise error_structure(
            f"The {resource_type} does not match the FHIR R4 model: {problem}"
        ) from None
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return dumped
