"""Thin views: parse the HTTP request, call one interaction, send the resource or the
OperationOutcome."""

import uuid
from collections.abc import Callable
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from wholecare.access.services import refusal_record
from wholecare.fhir import bulk_export, bundles, interactions, terminology_views
from wholecare.fhir.auth import Grant, public
from wholecare.fhir.base import Ctx
from wholecare.fhir.capability import capability_statement
from wholecare.fhir.errors import FhirError, Issue, operation_outcome
from wholecare.fhir.http import fhir_response, outcome_response, parse_body, response_format
from wholecare.fhir.models import ExportJob
from wholecare.fhir.store import Item
from wholecare.record.models import Person

View = Callable[..., HttpResponseBase]


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


def _ctx(request: HttpRequest) -> Ctx:
    grant: Grant = request.fhir_grant  # type: ignore[attr-defined]
    return Ctx(grant=grant, base=_base(request))


def _headers(found: Item, base: str) -> dict[str, str]:
    return {
        "ETag": f'W/"{found.version}"',
        "Last-Modified": found.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Location": f"{base}/{found.resource_type}/{found.fhir_id}/_history/{found.version}",
    }


def _with_notes(ctx: Ctx, resource: dict[str, Any], request: HttpRequest) -> dict[str, Any]:
    """`Prefer: return=OperationOutcome` sends what was not kept instead of the resource."""
    if "return=OperationOutcome" in request.headers.get("Prefer", ""):
        return {
            "resourceType": "OperationOutcome",
            "issue": [n.as_fhir() for n in ctx.notes]
            or [Issue("informational", "All elements kept", severity="information").as_fhir()],
        }
    return resource


def fhir_view(view: View) -> View:
    """Errors become OperationOutcomes; the format is checked before anything is done."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response_format(request)
            return view(request, *args, **kwargs)
        except FhirError as problem:
            if problem.status == 404 and kwargs.get("type_name") == "Patient":
                _record_refusal(request, kwargs.get("fhir_id", ""))
            return outcome_response(request, problem)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _record_refusal(request: HttpRequest, fhir_id: str) -> None:
    """A refused read of a person who exists is recorded, as in the web UI (after rollback)."""
    try:
        public_id = uuid.UUID(fhir_id)
    except ValueError:
        return
    if request.user.is_authenticated and Person.objects.filter(public_id=public_id).exists():
        refusal_record(by=request.user, public_id=public_id)


@public
@fhir_view
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, [Issue("not-supported", "metadata is read with GET")])
    return fhir_response(request, capability_statement(_base(request)))


@fhir_view
def type_level(request: HttpRequest, type_name: str) -> HttpResponse:
    ctx = _ctx(request)
    if request.method == "GET":
        lenient = "handling=lenient" in request.headers.get("Prefer", "")
        return fhir_response(
            request, interactions.search(ctx, type_name, request.GET, ctx.base, lenient=lenient)
        )
    if request.method == "POST":
        interactions.check_writable(type_name, "create")
        content = parse_body(request, type_name)
        kind, found, created = interactions.create(
            ctx, type_name, content, if_none_exist=request.headers.get("If-None-Exist", "")
        )
        resource = interactions.entry_resource(kind, found)
        return fhir_response(
            request,
            _with_notes(ctx, resource, request),
            201 if created else 200,
            _headers(found, ctx.base),
        )
    if request.method == "DELETE":
        raise FhirError(
            405,
            [
                Issue(
                    "not-supported",
                    "Conditional delete is not supported: delete one resource at a time, with"
                    f" DELETE {type_name}/[id]",
                )
            ],
        )
    raise FhirError(405, [Issue("not-supported", f"{request.method} is not supported here")])


@fhir_view
def search_post(request: HttpRequest, type_name: str) -> HttpResponse:
    """POST Type/_search with form parameters, so identifiers stay out of URLs and logs."""
    if request.method != "POST":
        raise FhirError(405, [Issue("not-supported", "_search takes POST")])
    ctx = _ctx(request)
    lenient = "handling=lenient" in request.headers.get("Prefer", "")
    query = request.GET.copy()
    for key in request.POST:
        query.setlist(key, request.POST.getlist(key))
    return fhir_response(
        request, interactions.search(ctx, type_name, query, ctx.base, lenient=lenient)
    )


@fhir_view
def instance_level(request: HttpRequest, type_name: str, fhir_id: str) -> HttpResponse:
    ctx = _ctx(request)
    if request.method == "GET":
        kind, found = interactions.read(ctx, type_name, fhir_id)
        return fhir_response(
            request, interactions.entry_resource(kind, found), headers=_headers(found, ctx.base)
        )
    if request.method == "PUT":
        interactions.check_writable(type_name, "update")
        content = parse_body(request, type_name)
        kind, found = interactions.update(
            ctx, type_name, fhir_id, content, if_match=request.headers.get("If-Match", "")
        )
        resource = interactions.entry_resource(kind, found)
        return fhir_response(
            request, _with_notes(ctx, resource, request), headers=_headers(found, ctx.base)
        )
    if request.method == "DELETE":
        found, done = interactions.delete(
            ctx, type_name, fhir_id, if_match=request.headers.get("If-Match", "")
        )
        return fhir_response(request, _information(done), headers={"ETag": f'W/"{found.version}"'})
    raise FhirError(405, [Issue("not-supported", f"{request.method} is not supported here")])


@fhir_view
def history_instance(request: HttpRequest, type_name: str, fhir_id: str) -> HttpResponse:
    _only_get(request)
    ctx = _ctx(request)
    return fhir_response(
        request, interactions.history(ctx, type_name, fhir_id, request.GET, ctx.base)
    )


@fhir_view
def history_type(request: HttpRequest, type_name: str) -> HttpResponse:
    _only_get(request)
    ctx = _ctx(request)
    return fhir_response(request, interactions.history(ctx, type_name, None, request.GET, ctx.base))


@fhir_view
def vread(request: HttpRequest, type_name: str, fhir_id: str, version: str) -> HttpResponse:
    _only_get(request)
    ctx = _ctx(request)
    kind, found = interactions.vread(ctx, type_name, fhir_id, version)
    return fhir_response(
        request, interactions.entry_resource(kind, found), headers=_headers(found, ctx.base)
    )


def _only_get(request: HttpRequest) -> None:
    if request.method != "GET":
        raise FhirError(405, [Issue("not-supported", f"{request.method} is not supported here")])


@fhir_view
def type_operation(request: HttpRequest, type_name: str, operation: str) -> HttpResponse:
    """A type-level operation: the terminology service's $lookup, $validate-code, $expand and
    $translate."""
    return terminology_views.respond(request, _ctx(request), type_name, operation)


@fhir_view
def export_system(request: HttpRequest) -> HttpResponse:
    """`$export` of everything the client may read (back-end clients with system/ scopes)."""
    return _export(request, "system")


@fhir_view
def export_patients(request: HttpRequest) -> HttpResponse:
    """`Patient/$export`: the people the client may open, and what is about them."""
    return _export(request, "patient")


@fhir_view
def export_group(request: HttpRequest, group_id: str) -> HttpResponse:
    """`Group/<id>/$export`: the members of a caseload the client may open, and what is about
    them."""
    return _export(request, "group", group_id)


def _export(request: HttpRequest, level: str, group_id: str = "") -> HttpResponse:
    """A kick-off by GET (parameters in the URL) or POST (a Parameters body)."""
    ctx = _ctx(request)
    query = {name: request.GET.getlist(name) for name in request.GET}
    patients = None
    if request.method == "POST":
        query, patients = bulk_export.parameters(parse_body(request, "Parameters"))
    elif request.method != "GET":
        raise FhirError(405, [Issue("not-supported", "$export is kicked off by GET or POST")])
    job = bulk_export.kick_off(
        ctx.grant,
        level=level,
        query=query,
        prefer=request.headers.get("Prefer", ""),
        url=request.build_absolute_uri(),
        base=ctx.base,
        group_id=group_id,
        patients=patients,
    )
    bulk_export.start_worker()
    status_url = f"{ctx.base}/$export-status/{job.id}"
    return fhir_response(
        request,
        _information(f"Export queued: poll {status_url}"),
        202,
        {"Content-Location": status_url},
    )


def _information(text: str) -> dict[str, Any]:
    return operation_outcome([Issue("informational", text, severity="information")])


@fhir_view
def export_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """Poll (202 with X-Progress, then 200 with the manifest), or DELETE to cancel."""
    ctx = _ctx(request)
    job = bulk_export.job_for(ctx.grant, job_id)
    if request.method == "DELETE":
        bulk_export.cancel(ctx.grant, job)
        return fhir_response(request, _information("Export cancelled, its files deleted"), 202)
    _only_get(request)
    if job.status == ExportJob.Status.COMPLETE:
        return JsonResponse(bulk_export.manifest(job), headers={"Cache-Control": "no-store"})
    if job.status == ExportJob.Status.FAILED:
        raise FhirError(500, [Issue("exception", f"The export failed: {job.error}")])
    if bulk_export.has_work():
        bulk_export.start_worker()
    progress = job.progress or "queued"
    return fhir_response(
        request,
        _information(f"Export in progress: {progress}"),
        202,
        {"X-Progress": progress, "Retry-After": "2"},
    )


@fhir_view
def export_file(request: HttpRequest, job_id: str, name: str) -> HttpResponseBase:
    """One NDJSON file of a completed export, for the client that asked for it."""
    _only_get(request)
    path = bulk_export.file_path(_ctx(request).grant, job_id, name)
    return FileResponse(path.open("rb"), content_type="application/fhir+ndjson")


@fhir_view
def base(request: HttpRequest) -> HttpResponse:
    """POST a transaction or batch Bundle."""
    if request.method != "POST":
        raise FhirError(405, [Issue("not-supported", "POST a transaction or batch Bundle here")])
    ctx = _ctx(request)
    return fhir_response(request, bundles.process(ctx, parse_body(request, "Bundle")))


@fhir_view
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    raise FhirError(404, [Issue("not-supported", f"/fhir/{rest} is not a FHIR endpoint here")])
