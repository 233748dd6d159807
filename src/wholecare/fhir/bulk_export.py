"""Bulk export (`$export`, FHIR Bulk Data Access IG, decision 0009).

A kick-off (`GET /fhir/$export`, `GET /fhir/Patient/$export`, with `Prefer: respond-async`) records
an `ExportJob` and answers 202 with its status URL. A worker thread, started by the kick-off (and
by any status poll that finds work queued, so jobs survive a restart), runs queued jobs one at a
time: each resource type is read page by page through the type's own `search`, with the
requester's grant, so the export holds exactly what the requester could search for (legitimate
relationships, sensitivity and consent, scopes), and written as NDJSON under
`VAR_DIR/fhir-export/<job id>/`. Withheld sensitive resources are counted in an OperationOutcome
file. Every person whose data is exported gets one audit event (action EXPORT) naming the job and
what was exported, and the kick-off and each file download are audited too.
"""

import datetime as dt
import json
import shutil
import threading
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wholecare.access.audit import audit, audit_many
from wholecare.access.models import AuditEvent
from wholecare.fhir.auth import Grant
from wholecare.fhir.base import Ctx, ResourceType, with_meta
from wholecare.fhir.errors import FhirError, Issue, bad_request, operation_outcome
from wholecare.fhir.models import ExportJob
from wholecare.fhir.registry import registered
from wholecare.fhir.scopes import Context, Permission, parse_scopes
from wholecare.fhir.search import SearchRequest, parse_date
from wholecare.record.models import Person

PAGE = 1_000
KEEP_FOR = dt.timedelta(hours=24)
STALE = dt.timedelta(minutes=5)
"""A running job whose process has not moved it on for this long was stopped: it is run again."""
COMPARTMENT = (
    "Patient",
    "CareTeam",
    "Condition",
    "ServiceRequest",
    "EpisodeOfCare",
    "Encounter",
    "Appointment",
    "CarePlan",
    "Consent",
    "Flag",
    "QuestionnaireResponse",
    "Observation",
)
"""What a patient-level export holds: the types about a person."""
DIRECTORY = ("Organization", "Practitioner", "PractitionerRole", "HealthcareService")
FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})


class Cancelled(Exception):
    pass


def folder(job_id: uuid.UUID | str) -> Path:
    return Path(settings.VAR_DIR) / "fhir-export" / str(job_id)


def kick_off(
    grant: Grant, *, level: str, query: dict[str, list[str]], prefer: str, url: str, base: str
) -> ExportJob:
    """Check an $export request and queue its job (400/403 for what cannot be exported)."""
    if "respond-async" not in prefer:
        raise bad_request("$export is asynchronous: send the header Prefer: respond-async")
    for name in query:
        if name not in {"_type", "_since", "_outputFormat", "_format"}:
            raise bad_request(
                f"$export has no parameter {name!r} here (it takes _type, _since, _outputFormat)",
                name,
            )
    output_format = _single(query, "_outputFormat")
    if output_format is not None and output_format not in FORMATS:
        raise bad_request(
            f"_outputFormat {output_format!r} is not supported: only application/fhir+ndjson",
            "_outputFormat",
        )
    if level == "system" and not any(s.context is Context.SYSTEM for s in grant.scopes):
        raise FhirError(
            403,
            [
                Issue(
                    "forbidden", "System-level $export is for back-end clients with system/ scopes"
                )
            ],
        )
    exportable = COMPARTMENT + (DIRECTORY if level == "system" else ())
    asked = [t for value in query.get("_type", []) for t in value.split(",") if t.strip()]
    for name in asked:
        if name not in exportable:
            raise bad_request(
                f"_type {name!r} cannot be exported at this level; choose from"
                f" {', '.join(exportable)}",
                "_type",
            )
        if not _may_read(grant, name):
            raise FhirError(
                403, [Issue("forbidden", f"The access token's scopes do not allow reading {name}")]
            )
    types = (
        [t for t in exportable if t in asked]
        if asked
        else [t for t in exportable if _may_read(grant, t)]
    )
    since_text = _single(query, "_since")
    since = None
    if since_text is not None:
        since = parse_date(since_text).start
        if since > timezone.now():
            raise bad_request("_since is in the future", "_since")
    now = timezone.now()
    with transaction.atomic():
        job = ExportJob.objects.create(
            id=uuid.uuid4(),
            client=grant.client,
            scope=" ".join(str(s) for s in grant.scopes),
            patient=grant.patient,
            level=level,
            types=",".join(types),
            since=since,
            request_url=url[:2000],
            base=base,
            created_at=now,
            updated_at=now,
        )
        _audit_job(grant, job, f"FHIR $export requested ({', '.join(types) or 'nothing'})")
    return job


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name, [])
    if len(values) > 1:
        raise bad_request(f"{name} is given {len(values)} times", name)
    return values[0] if values else None


def _may_read(grant: Grant, name: str) -> bool:
    return grant.allows(name, Permission.READ) and grant.allows(name, Permission.SEARCH)


def _audit_job(grant: Grant, job: ExportJob, what: str) -> None:
    audit(
        by=grant.user,
        action=AuditEvent.Action.EXPORT,
        person=None,
        what=f"{what}; job {job.id}",
        why=f"API client: {grant.client.name}",
    )


def job_for(grant: Grant, job_id: str) -> ExportJob:
    """The job, if this client asked for it (404 otherwise, as for one that does not exist)."""
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        key = None
    job = ExportJob.objects.filter(pk=key, client=grant.client).first() if key is not None else None
    if job is None:
        raise FhirError(404, [Issue("not-found", f"There is no export job {job_id} of yours")])
    return job


def manifest(job: ExportJob) -> dict[str, Any]:
    """The completed job's manifest (Bulk Data IG, "Response - Complete Status")."""
    files: dict[str, list[dict[str, Any]]] = {"output": [], "error": []}
    for written in job.output:
        entry = {
            "type": written["type"],
            "url": f"{job.base}/$export-file/{job.id}/{written['type']}.ndjson",
            "count": written["count"],
        }
        files["error" if written["type"] == "OperationOutcome" else "output"].append(entry)
    assert job.finished_at is not None
    return {
        "transactionTime": job.finished_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        **files,
    }


def cancel(grant: Grant, job: ExportJob) -> None:
    """Stop a job (a running one stops at its next page) and delete what it wrote."""
    with transaction.atomic():
        _audit_job(grant, job, "FHIR $export cancelled or deleted")
        ExportJob.objects.filter(pk=job.pk).delete()
    shutil.rmtree(folder(job.pk), ignore_errors=True)


def file_path(grant: Grant, job_id: str, name: str) -> Path:
    job = job_for(grant, job_id)
    if job.status != ExportJob.Status.COMPLETE or name not in {w["type"] for w in job.output}:
        raise FhirError(404, [Issue("not-found", f"Job {job_id} has no file {name}.ndjson")])
    with transaction.atomic():
        _audit_job(grant, job, f"FHIR $export file {name}.ndjson downloaded")
    return folder(job.pk) / f"{name}.ndjson"


# The worker ----------------------------------------------------------------------------------

_worker_lock = threading.Lock()
_worker: threading.Thread | None = None


def start_worker() -> None:
    """Run queued jobs in a background thread, unless this process already has one running."""
    global _worker
    with _worker_lock:
        if _worker is not None and _worker.is_alive():
            return
        _worker = threading.Thread(target=_work, name="fhir-export", daemon=True)
        _worker.start()


def _work() -> None:
    try:
        run_pending()
    finally:
        close_old_connections()
        connection.close()


def run_pending() -> int:
    """Run every job queued (and any left running by a process that stopped); how many ran."""
    expire_old()
    ran = 0
    while (job := _claim()) is not None:
        run(job)
        ran += 1
    return ran


def has_work() -> bool:
    return _claimable().exists()


def _claimable() -> QuerySet[ExportJob]:
    stale = timezone.now() - STALE
    return ExportJob.objects.filter(status=ExportJob.Status.QUEUED) | ExportJob.objects.filter(
        status=ExportJob.Status.RUNNING, updated_at__lt=stale
    )


def _claim() -> ExportJob | None:
    """Take the oldest runnable job, so that two workers never run the same one."""
    for job in _claimable().order_by("created_at")[:5]:
        taken = ExportJob.objects.filter(
            pk=job.pk, status=job.status, updated_at=job.updated_at
        ).update(status=ExportJob.Status.RUNNING, updated_at=timezone.now(), progress="started")
        if taken:
            return ExportJob.objects.select_related("client__staff__user", "patient").get(pk=job.pk)
    return None


def expire_old() -> None:
    """Delete jobs finished more than a day ago, with their files."""
    for job_id in ExportJob.objects.filter(finished_at__lt=timezone.now() - KEEP_FOR).values_list(
        "pk", flat=True
    ):
        shutil.rmtree(folder(job_id), ignore_errors=True)
        ExportJob.objects.filter(pk=job_id).delete()


def run(job: ExportJob) -> None:
    """Write the job's files; the job ends complete, or failed (its files removed), or is gone
    (cancelled)."""
    out = folder(job.pk)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    grant = Grant(
        staff=job.client.staff,
        client=job.client,
        scopes=parse_scopes(job.scope),
        patient=job.patient,
    )
    ctx = Ctx(grant=grant, base=job.base)
    types = [t for t in job.types.split(",") if t]
    written: list[dict[str, Any]] = []
    withheld: list[Issue] = []
    exported: dict[int, Counter[str]] = defaultdict(Counter)
    try:
        if not job.client.active:
            raise PermissionError("the client that asked for this export has been deactivated")
        for index, name in enumerate(types):
            count, hidden = _write_type(job, ctx, registered()[name], out, exported)
            if count:
                written.append({"type": name, "count": count})
            if hidden:
                withheld.append(
                    Issue(
                        "suppressed",
                        f"{hidden} {name} resource(s) withheld: sensitive entries the person's"
                        " consent does not share with your discipline",
                        severity="information",
                    )
                )
            _move_on(job, f"{index + 1} of {len(types)} resource types done")
        if withheld:
            (out / "OperationOutcome.ndjson").write_text(
                json.dumps(operation_outcome(withheld)) + "\n", encoding="utf-8"
            )
            written.append({"type": "OperationOutcome", "count": 1})
        with transaction.atomic():
            _audit_people(grant, job, exported)
            complete = ExportJob.objects.filter(pk=job.pk).update(
                status=ExportJob.Status.COMPLETE,
                output=written,
                finished_at=timezone.now(),
                updated_at=timezone.now(),
                progress="complete",
            )
    except Cancelled:
        complete = 0
    except Exception as problem:  # any failure ends the job as failed, said on its status URL
        complete = 0
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=f"{type(problem).__name__}: {problem}"[:2000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    if not complete:
        shutil.rmtree(out, ignore_errors=True)


def _move_on(job: ExportJob, progress: str) -> None:
    """Record progress; a job cancelled meanwhile (its row deleted) stops here."""
    if not ExportJob.objects.filter(pk=job.pk).update(
        progress=progress[:200], updated_at=timezone.now()
    ):
        raise Cancelled


def _write_type(
    job: ExportJob, ctx: Ctx, kind: ResourceType, out: Path, exported: dict[int, Counter[str]]
) -> tuple[int, int]:
    """Write one type's file, page by page; (resources written, resources withheld)."""
    count = 0
    hidden = 0
    offset = 0
    with (out / f"{kind.name}.ndjson").open("w", encoding="utf-8") as ndjson:
        while True:
            with transaction.atomic():
                page = kind.search(ctx, SearchRequest(count=PAGE, offset=offset))
            if offset == 0:
                hidden = page.withheld
            for found in page.items:
                if job.since is not None and found.last_updated < job.since:
                    continue
                ndjson.write(json.dumps(with_meta(found, kind.profile), ensure_ascii=False))
                ndjson.write("\n")
                count += 1
                person_id = kind.person_id(found)
                if person_id is not None:
                    exported[person_id][kind.name] += 1
            offset += PAGE
            _move_on(job, f"{kind.name}: {count} written")
            if offset >= page.total:
                break
    if not count:
        (out / f"{kind.name}.ndjson").unlink()
    return count, hidden


def _audit_people(grant: Grant, job: ExportJob, exported: dict[int, Counter[str]]) -> None:
    """One EXPORT event per person exported, saying what, grouped for bulk insertion."""
    by_what: dict[str, list[Person]] = defaultdict(list)
    for person_id, counts in exported.items():
        what = f"FHIR $export job {job.id}: " + ", ".join(
            f"{n} {name}" for name, n in sorted(counts.items())
        )
        by_what[what].append(Person(pk=person_id))
    for what, people in by_what.items():
        audit_many(
            by=grant.user,
            action=AuditEvent.Action.EXPORT,
            people=people,
            what=what,
            why=f"API client: {grant.client.name}",
        )
    _audit_job(grant, job, f"FHIR $export complete: {len(exported)} people")
