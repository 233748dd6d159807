"""Bulk export (`$export`, FHIR Bulk Data Access IG v2, decisions 0009 and 0011).

A kick-off (`GET` or `POST` with a Parameters body, at `/fhir/$export`, `/fhir/Patient/$export` or
`/fhir/Group/<id>/$export`, with `Prefer: respond-async`) records an `ExportJob` and answers 202
with its status URL. A worker thread, started by the kick-off (and by any status poll that finds
work queued, so jobs survive a restart), runs queued jobs one at a time: each resource type is read
page by page through the type's own `search`, with the requester's grant, so the export holds
exactly what the requester could search for (legitimate relationships, sensitivity and consent,
scopes), narrowed to a Group's members or the patients named and by `_typeFilter`, and written as
NDJSON under `VAR_DIR/fhir-export/<job id>/`. Withheld sensitive resources are counted in an
OperationOutcome file. Every person whose data is exported gets one audit event (action EXPORT)
naming the job and what was exported, and the kick-off and each file download are audited too.
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
from django.http import QueryDict
from django.utils import timezone

from wholecare.access.audit import audit, audit_many
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import people_openable_q
from wholecare.access.services import refusal_record
from wholecare.fhir.access import openable_people
from wholecare.fhir.auth import Grant
from wholecare.fhir.base import Ctx, ResourceType, with_meta
from wholecare.fhir.errors import FhirError, Issue, bad_request, not_found, operation_outcome
from wholecare.fhir.mappers import group
from wholecare.fhir.models import ExportJob
from wholecare.fhir.registry import registered
from wholecare.fhir.scopes import Context, Permission, parse_scopes
from wholecare.fhir.search import Criterion, SearchRequest, parse, parse_date
from wholecare.record.models import Person

PAGE = 1_000
PEOPLE_AT_ONCE = 200
"""A Group or `patient` export searches each type for this many of its people at a time: each is
a term of an OR, and SQLite refuses an expression deeper than 1,000."""
KEEP_FOR = dt.timedelta(hours=24)
STALE = dt.timedelta(minutes=5)
"""A running job whose process has not moved it on for this long was stopped: it is run again."""
COMPARTMENT = (
    "Patient",
    "CareTeam",
    "Condition",
    "AllergyIntolerance",
    "ServiceRequest",
    "EpisodeOfCare",
    "Encounter",
    "Appointment",
    "MedicationStatement",
    "MedicationRequest",
    "CarePlan",
    "Task",
    "DocumentReference",
    "Consent",
    "Flag",
    "QuestionnaireResponse",
    "Observation",
)
"""What a patient-level export holds: the types about a person."""
DIRECTORY = (
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "HealthcareService",
    "Group",
    "Questionnaire",
)
"""What a system-level export adds: the directory and the caseloads defined on it, and the
questionnaires (Wholecare's instruments, and those received from other systems); Practitioner,
PractitionerRole and Questionnaire include those received (decision 0014)."""
FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
VALUE_TYPES = {
    "_outputFormat": ("valueString",),
    "_since": ("valueInstant", "valueDateTime"),
    "_type": ("valueString",),
    "_typeFilter": ("valueString",),
}
"""What a kick-off takes, with the value types of a POST body's parameters (and `patient`, at
Patient and Group level, in a POST body only, as a valueReference)."""
PATHS = {"system": "$export", "patient": "Patient/$export", "group": "Group/{}/$export"}


class Cancelled(Exception):
    pass


def folder(job_id: uuid.UUID | str) -> Path:
    return Path(settings.VAR_DIR) / "fhir-export" / str(job_id)


def parameters(body: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """A POST kick-off's Parameters resource as the GET form's query, and the references its
    `patient` parameters name (400 for anything else, saying where)."""
    query: dict[str, list[str]] = defaultdict(list)
    patients: list[str] = []
    for index, parameter in enumerate(body.get("parameter", [])):
        where = f"Parameters.parameter[{index}]"
        name = parameter.get("name")
        given = {key: value for key, value in parameter.items() if key.startswith("value")}
        if name == "patient":
            reference = given.get("valueReference", {}).get("reference")
            if len(given) != 1 or not isinstance(reference, str):
                raise bad_request("patient takes a valueReference to a Patient", where)
            patients.append(reference)
        elif name in VALUE_TYPES:
            expected = VALUE_TYPES[name]
            if len(given) != 1 or next(iter(given)) not in expected:
                raise bad_request(f"{name} takes a {' or '.join(expected)}", where)
            query[name].append(str(next(iter(given.values()))))
        else:
            raise _unsupported(str(name), where)
    return dict(query), patients


def _unsupported(name: str, where: str) -> FhirError:
    return bad_request(
        f"$export has no parameter {name!r} here (it takes _type, _since, _outputFormat,"
        " _typeFilter, and patient at Patient and Group level)",
        where,
    )


def kick_off(
    grant: Grant,
    *,
    level: str,
    query: dict[str, list[str]],
    prefer: str,
    url: str,
    base: str,
    group_id: str = "",
    patients: list[str] | None = None,
) -> ExportJob:
    """Check an $export request and queue its job (400/403/404 for what cannot be exported).

    `patients` holds the `patient` references of a POST kick-off (None for a GET, where the
    parameter is refused)."""
    if "respond-async" not in prefer:
        raise bad_request("$export is asynchronous: send the header Prefer: respond-async")
    for name in query:
        if name == "patient" and patients is None:
            raise bad_request(
                "patient is given in the Parameters body of a POST kick-off, not in the URL", name
            )
        if name not in {*VALUE_TYPES, "_format"}:
            raise _unsupported(name, name)
    output_format = _single(query, "_outputFormat")
    if output_format is not None and output_format not in FORMATS:
        raise bad_request(
            f"_outputFormat {output_format!r} is not supported: only application/fhir+ndjson"
            " (or application/ndjson, ndjson)",
            "_outputFormat",
        )
    ctx = Ctx(grant=grant, base=base)
    if level == "system" and not any(s.context is Context.SYSTEM for s in grant.scopes):
        raise FhirError(
            403,
            [
                Issue(
                    "forbidden", "System-level $export is for back-end clients with system/ scopes"
                )
            ],
        )
    if level == "group":
        grant.check("Group", Permission.READ)
        if registered()["Group"].find(ctx, group_id) is None:
            raise not_found("Group", group_id)
    if patients and level == "system":
        raise bad_request("patient is for Patient- and Group-level $export", "patient")
    people = _named(grant, patients or [], group_id if level == "group" else None)
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
    type_filters = _type_filters(ctx, query.get("_typeFilter", []), types)
    since_text = _single(query, "_since")
    since = None
    if since_text is not None:
        since = parse_date(since_text).start
        if since > timezone.now():
            raise bad_request("_since is in the future", "_since")
    now = timezone.now()
    path = PATHS[level].format(group_id)
    with transaction.atomic():
        job = ExportJob.objects.create(
            id=uuid.uuid4(),
            client=grant.client,
            staff=grant.staff,
            scope=" ".join(str(s) for s in grant.scopes),
            patient=grant.patient,
            level=level,
            group=group_id if level == "group" else "",
            patients=people,
            type_filters=type_filters,
            types=",".join(types),
            since=since,
            request_url=url[:2000],
            base=base,
            created_at=now,
            updated_at=now,
        )
        named = f"; {len(people)} patient(s) named" if people else ""
        _audit_job(grant, job, f"FHIR {path} requested ({', '.join(types) or 'nothing'}{named})")
    return job


def _named(grant: Grant, references: list[str], group_id: str | None) -> list[int]:
    """The people `patient` parameters name, each one the client may open (and, for a Group,
    one of its members); 400 alike for someone who does not exist and someone it may not open."""
    may_open = openable_people(grant, "Patient", Permission.READ)
    openable = may_open
    if group_id is not None:
        openable = openable.filter(pk__in=group.caseload(group_id).values("pk"))
    found: list[int] = []
    for index, reference in enumerate(references):
        fhir_id = reference.removeprefix("Patient/")
        try:
            public_id = uuid.UUID(fhir_id) if reference.startswith("Patient/") else None
        except ValueError:
            public_id = None
        person = None if public_id is None else openable.filter(public_id=public_id).first()
        if person is None:
            if public_id is not None and not may_open.filter(public_id=public_id).exists():
                refusal_record(by=grant.user, public_id=public_id)
            member = f" in Group/{group_id}" if group_id is not None else ""
            raise bad_request(
                f"patient {reference!r} is not a Patient{member} whose record you may open",
                f"Parameters.parameter.where(name='patient')[{index}]",
            )
        if person.pk not in found:
            found.append(person.pk)
    return found


def _type_filters(ctx: Ctx, values: list[str], types: list[str]) -> dict[str, list[str]]:
    """`_typeFilter` queries by type, each checked by compiling it (400 for one that cannot be
    run). Queries are separated by commas; a comma inside a query's values is written %2C."""
    filters: dict[str, list[str]] = defaultdict(list)
    for value in (q for text in values for q in text.split(",")):
        name, mark, query = value.partition("?")
        if not mark or not query:
            raise bad_request(
                f"_typeFilter {value!r} is not a search such as Condition?code=...", "_typeFilter"
            )
        if name not in types:
            raise bad_request(
                f"_typeFilter {value!r} is for {name}, which this export does not hold (it"
                f" holds {', '.join(types)})",
                "_typeFilter",
            )
        kind = registered()[name]
        try:
            with transaction.atomic():
                kind.search(ctx, SearchRequest(criteria=_filter_criteria(kind, query), count=0))
        except FhirError as problem:
            raise bad_request(f"_typeFilter {value!r}: {problem}", "_typeFilter") from None
        filters[name].append(query)
    return dict(filters)


def _filter_criteria(kind: ResourceType, query: str) -> list[Criterion]:
    """One `_typeFilter` query's criteria: search parameters only (no _count, _sort, _include)."""
    parsed = QueryDict(query)
    for key in parsed:
        if key.partition(":")[0] not in kind.params:
            raise bad_request(
                f"{kind.name} has no search parameter {key!r} for _typeFilter (it has"
                f" {', '.join(sorted(kind.params))})"
            )
    return parse(parsed, kind.params, set(), lenient=False).criteria


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
    """The job, if this client asked for it acting as this member of staff (404 otherwise, as for
    one that does not exist)."""
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        key = None
    mine = ExportJob.objects.filter(client=grant.client, staff=grant.staff)
    job = mine.filter(pk=key).first() if key is not None else None
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
    return {
        # Data is read as the job runs, so everything changed up to the kick-off is in it; an
        # export `_since` this time misses nothing (it may repeat what changed while this ran).
        "transactionTime": job.created_at.isoformat(),
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
            return ExportJob.objects.select_related(
                "client__staff__user", "staff__user", "patient"
            ).get(pk=job.pk)
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
        staff=job.staff,
        client=job.client,
        scopes=parse_scopes(job.scope),
        patient=job.patient,
    )
    ctx = Ctx(grant=grant, base=job.base)
    types = [t for t in job.types.split(",") if t]
    people = _held_to(job, grant)
    joined = _joined_since(job)
    written: list[dict[str, Any]] = []
    withheld: list[Issue] = []
    exported: dict[int, Counter[str]] = defaultdict(Counter)
    try:
        if not job.client.active:
            raise PermissionError("the client that asked for this export has been deactivated")
        for index, name in enumerate(types):
            count, hidden = _write_type(job, ctx, registered()[name], out, exported, people, joined)
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


def _held_to(job: ExportJob, grant: Grant) -> list[str] | None:
    """The public ids of the people a Group or `patient` export is held to (the Group's members
    today, and those named, that the client may open), or None for an export not held to some."""
    if job.level != "group" and not job.patients:
        return None
    people = Person.objects.filter(people_openable_q(grant.staff))
    if job.level == "group":
        people = people.filter(pk__in=group.caseload(job.group).values("pk"))
    if job.patients:
        people = people.filter(pk__in=job.patients)
    return [str(p) for p in people.order_by("pk").values_list("public_id", flat=True)]


def _joined_since(job: ExportJob) -> set[int]:
    """People whose referral put them on a Group export's caseload on or after `_since`: all of
    their data is exported, whenever it last changed (Bulk Data IG: a client asking `_since` its
    last export has not had it)."""
    if job.level != "group" or job.since is None:
        return set()
    joined = group.caseload(job.group, referred_from=timezone.localtime(job.since).date())
    return set(joined.values_list("pk", flat=True))


def _searches(
    job: ExportJob, kind: ResourceType, people: list[str] | None
) -> list[list[Criterion]]:
    """The searches that together make one type's file: each `_typeFilter` query (alternatives),
    for each batch of the people the export is held to."""
    filters = [_filter_criteria(kind, query) for query in job.type_filters.get(kind.name, [])]
    alternatives = filters or [[]]
    if people is None:
        return alternatives
    param = "_id" if kind.name == "Patient" else "patient"
    batches = [people[i : i + PEOPLE_AT_ONCE] for i in range(0, len(people), PEOPLE_AT_ONCE)]
    return [[Criterion(param, "", tuple(batch)), *one] for batch in batches for one in alternatives]


def _write_type(
    job: ExportJob,
    ctx: Ctx,
    kind: ResourceType,
    out: Path,
    exported: dict[int, Counter[str]],
    people: list[str] | None,
    joined: set[int],
) -> tuple[int, int]:
    """Write one type's file, search by search and page by page; (resources written, resources
    withheld). A resource matching several `_typeFilter` queries is written once."""
    count = 0
    hidden = 0
    seen: set[str] = set()
    overlapping = len(job.type_filters.get(kind.name, [])) > 1
    with (out / f"{kind.name}.ndjson").open("w", encoding="utf-8") as ndjson:
        for criteria in _searches(job, kind, people):
            offset = 0
            while True:
                with transaction.atomic():
                    page = kind.search(
                        ctx, SearchRequest(criteria=criteria, count=PAGE, offset=offset)
                    )
                if offset == 0:
                    hidden += page.withheld
                for found in page.items:
                    person_id = kind.person_id(found)
                    if (
                        job.since is not None
                        and found.last_updated < job.since
                        and person_id not in joined
                    ):
                        continue
                    if overlapping:
                        if found.fhir_id in seen:
                            continue
                        seen.add(found.fhir_id)
                    ndjson.write(json.dumps(with_meta(found, kind.profile), ensure_ascii=False))
                    ndjson.write("\n")
                    count += 1
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
