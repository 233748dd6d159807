"""Transaction and batch Bundles (POST /fhir/).

A transaction lands whole or not at all: its entries run in one database transaction, and the
first entry refused rolls everything back and is reported with its index. `urn:uuid:` full URLs
are resolved to the ids the server gives, in the order references need (an entry that refers to
another is created after it). A batch runs each entry on its own (a savepoint each) and reports
each one's outcome.
"""

import json
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.http import QueryDict

from wholecare.fhir import interactions
from wholecare.fhir.base import Ctx
from wholecare.fhir.errors import FhirError, Issue, bad_request
from wholecare.fhir.http import validated
from wholecare.fhir.store import Item

METHODS = ("POST", "PUT", "GET")


def process(ctx: Ctx, bundle: dict[str, Any]) -> dict[str, Any]:
    kind = bundle.get("type")
    if bundle.get("resourceType") != "Bundle" or kind not in {"transaction", "batch"}:
        raise bad_request("POST to the base URL takes a Bundle of type transaction or batch")
    entries = bundle.get("entry", [])
    for index, entry in enumerate(entries):
        method = entry.get("request", {}).get("method")
        if method not in METHODS:
            raise bad_request(
                f"Bundle.entry[{index}].request.method must be one of {', '.join(METHODS)}",
                f"Bundle.entry[{index}].request.method",
            )
    if kind == "transaction":
        return _transaction(ctx, entries)
    return _batch(ctx, entries)


def _order(entries: list[dict[str, Any]]) -> list[int]:
    """POSTs first, each after the POSTs it refers to by urn:uuid; then PUTs, then GETs."""
    posts = [i for i, e in enumerate(entries) if e["request"]["method"] == "POST"]
    urns = {entries[i].get("fullUrl"): i for i in posts if entries[i].get("fullUrl")}
    ordered: list[int] = []
    visiting: set[int] = set()

    def visit(index: int) -> None:
        if index in ordered:
            return
        if index in visiting:
            raise bad_request(
                f"Bundle.entry[{index}] is part of a cycle of urn:uuid references",
                f"Bundle.entry[{index}]",
            )
        visiting.add(index)
        text = json.dumps(entries[index].get("resource", {}))
        for urn, other in urns.items():
            if other != index and f'"{urn}"' in text:
                visit(other)
        visiting.discard(index)
        ordered.append(index)

    for index in posts:
        visit(index)
    for method in ("PUT", "GET"):
        ordered += [i for i, e in enumerate(entries) if e["request"]["method"] == method]
    return ordered


def _resolve(value: Any, known: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: known.get(v, v) if k == "reference" and isinstance(v, str) else _resolve(v, known)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(v, known) for v in value]
    return value


def _run(ctx: Ctx, entry: dict[str, Any], known: dict[str, str]) -> dict[str, Any]:
    request = entry["request"]
    method = request["method"]
    url = urlsplit(str(request.get("url", "")))
    parts = [p for p in url.path.strip("/").split("/") if p]
    if method == "GET":
        if len(parts) == 1:
            found = interactions.search(
                ctx, parts[0], QueryDict(url.query), ctx.base, lenient=False
            )
            return {"resource": found, "response": {"status": "200 OK"}}
        if len(parts) == 2:
            kind, item = interactions.read(ctx, parts[0], parts[1])
            return _entry(ctx, kind, item, "200 OK")
        raise bad_request(f"Cannot GET {request.get('url')!r} in a Bundle")
    if "resource" not in entry:
        raise bad_request(f"A {method} entry needs a resource")
    content = validated(_resolve(entry["resource"], known))
    if method == "POST":
        if len(parts) != 1:
            raise bad_request(f"POST url must be a resource type, not {request.get('url')!r}")
        kind, item, created = interactions.create(
            ctx, parts[0], content, if_none_exist=request.get("ifNoneExist", "")
        )
        if entry.get("fullUrl", "").startswith("urn:uuid:"):
            known[entry["fullUrl"]] = f"{item.resource_type}/{item.fhir_id}"
        return _entry(ctx, kind, item, "201 Created" if created else "200 OK")
    if len(parts) != 2:
        raise bad_request(f"PUT url must be Type/id, not {request.get('url')!r}")
    kind, item = interactions.update(
        ctx, parts[0], parts[1], content, if_match=request.get("ifMatch", "")
    )
    return _entry(ctx, kind, item, "200 OK")


def _entry(ctx: Ctx, kind: Any, item: Item, status: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{ctx.base}/{item.resource_type}/{item.fhir_id}",
        "resource": interactions.entry_resource(kind, item),
        "response": {
            "status": status,
            "location": f"{item.resource_type}/{item.fhir_id}/_history/{item.version}",
            "etag": f'W/"{item.version}"',
            "lastModified": item.last_updated.isoformat(),
        },
    }


def _located(problem: FhirError, index: int) -> FhirError:
    where = f"Bundle.entry[{index}]"
    return FhirError(
        problem.status,
        [
            Issue(
                issue.code,
                f"{where}: {issue.diagnostics}",
                issue.severity,
                tuple(f"{where}.resource.{e}" for e in issue.expression) or (where,),
            )
            for issue in problem.issues
        ],
    )


@transaction.atomic
def _transaction(ctx: Ctx, entries: list[dict[str, Any]]) -> dict[str, Any]:
    known: dict[str, str] = {}
    results: dict[int, dict[str, Any]] = {}
    for index in _order(entries):
        try:
            results[index] = _run(ctx, entries[index], known)
        except FhirError as problem:
            raise _located(problem, index) from None
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [results[i] for i in range(len(entries))],
    }


def _batch(ctx: Ctx, entries: list[dict[str, Any]]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        try:
            with transaction.atomic():
                results.append(_run(ctx, entry, {}))
        except FhirError as problem:
            located = _located(problem, index)
            results.append(
                {"response": {"status": str(problem.status), "outcome": located.outcome}}
            )
    return {"resourceType": "Bundle", "type": "batch-response", "entry": results}
