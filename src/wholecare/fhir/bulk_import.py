"""Bulk import of FHIR resources (`wholecare fhir import PATH...`, decision 0009).

Resources are read (`bulk_read`), checked against the FHIR R4 model and then by the same mapper
checks as the API (valid NHS numbers, SNOMED CT concept ids, statuses) and the record's own rules
(`record.services.person_new` and `condition_new`, which the API and the web use too), and written
in batches: one transaction per chunk of a file, with the file's progress committed in it, so a
rerun carries on after the last chunk committed. A resource that fails a check is rejected with its
place and reason and everything else loads; should the database still refuse a batch, it is
written again one resource at a time (a savepoint each) to find the one it refuses.

The import acts as one member of staff, as an API client does: it may register people, and it may
add to the records of people that member of staff may open (their care team, an open referral),
exactly as through the API. References between imported resources are resolved through
`ImportedId` (the source id, or the Bundle `fullUrl`); a patient that does not resolve rejects the
resource; any other reference that does not resolve is kept as written and reported.
"""

import datetime as dt
import multiprocessing
import os
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any, Protocol, cast

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from wholecare.access.audit import audit_many
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied, people_openable_q
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir import bulk_read, store
from wholecare.fhir.auth import Grant
from wholecare.fhir.base import (
    Ctx,
    Receiving,
    RecordType,
    StoredType,
    references_in,
    strip_meta,
)
from wholecare.fhir.bulk_read import Unit
from wholecare.fhir.errors import FhirError
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import condition as condition_mapper
from wholecare.fhir.mappers import patient as patient_mapper
from wholecare.fhir.mappers.organization import ODS
from wholecare.fhir.mappers.questionnaire import instrument_for, questionnaire_id
from wholecare.fhir.mappers.questionnaire_response import QuestionnaireResponseType
from wholecare.fhir.models import ImportedId, ImportFile, Resource, ResourceVersion, SearchToken
from wholecare.fhir.registry import registered
from wholecare.fhir.scopes import parse_scopes
from wholecare.record import services
from wholecare.record.models import CareTeamMembership, Condition, Person

CHUNK = 2_000
READ_ONLY = {
    "AuditEvent": "the audit trail is written only by Wholecare itself",
    "CodeSystem": "terminology is imported with `wholecare terminology import`",
    "ValueSet": "terminology is imported with `wholecare terminology import`",
    "ConceptMap": "terminology is imported with `wholecare terminology import`",
    "DocumentReference": "a DocumentReference is an entry on a person's timeline, written on"
    " Wholecare's pages",
    "Task": "a Task is a request to the prescriber, made on Wholecare's pages by a medicines"
    " reconciliation or review",
}
SERVER_META = frozenset({"versionId", "lastUpdated", "security"})


@dataclass
class Outcome:
    """What became of one resource read."""

    where: str
    resource_type: str
    source_id: str
    loaded_as: str = ""
    """`Type/id` on this server, when loaded (or mapped onto the directory)."""
    rejected: str = ""
    not_kept: list[tuple[str, str]] = field(default_factory=list)
    """(FHIRPath, what) of each element not kept, or reference kept unresolved."""
    mapped: bool = False
    """Matched to something Wholecare already holds (the directory, an instrument)."""
    person_id: int | None = None
    """Whose record the resource was added to (for the audit trail)."""


@dataclass
class Totals:
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    skipped_files: int = 0
    not_kept: Counter[str] = field(default_factory=Counter)


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(
    problem: FhirError | Rejected | ValidationError | AccessDenied, paths: dict[str, str]
) -> str:
    """Why a resource is rejected, each reason at its place: a mapper's FhirError, the import's
    own Rejected, a record rule's ValidationError (its fields named by their FHIR `paths`), or
    the record's refusal of what the importing member of staff may not do."""
    if isinstance(problem, Rejected):
        return problem.reason
    if isinstance(problem, AccessDenied):
        return str(problem)
    if isinstance(problem, FhirError):
        return "; ".join(
            f"{', '.join(issue.expression)}: {issue.diagnostics}"
            if issue.expression
            else issue.diagnostics
            for issue in problem.issues
        )
    if hasattr(problem, "error_dict"):
        return "; ".join(
            f"{paths.get(name, name)}: {' '.join(messages)}"
            for name, messages in problem.message_dict.items()
        )
    return "; ".join(problem.messages)


def import_grant(staff: Staff, source: str = "") -> Grant:
    """What the import may do: what this member of staff may, through every resource type. The
    client is named for the file imported (`source`), which is what an alert from it says it came
    from."""
    from wholecare.fhir.models import ApiClient

    name = f"FHIR bulk import of {source}" if source else "FHIR bulk import"
    client = ApiClient(name=name, staff=staff, allowed_scopes="system/*.cruds")
    return Grant(staff=staff, client=client, scopes=parse_scopes("system/*.cruds"), patient=None)


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass


def available_cores() -> int:
    return len(os.sched_getaffinity(0))


class Importer:
    """One run of bulk import, acting as `staff`. `report` is told the outcome of every resource;
    `care_team_role`, when given, puts `staff` on the care team of each person registered.

    With `jobs` (processes) above 1, `jobs - 1` worker processes check the resources of the next
    chunks against the FHIR R4 model (the costliest check, and one that needs no database) while
    this process writes the chunk before: every write stays here, in file order, one transaction a
    chunk, so what is loaded, what is reported and where a rerun resumes do not depend on `jobs`.
    """

    def __init__(
        self,
        staff: Staff,
        *,
        report: Callable[[Outcome], None],
        care_team_role: str = "",
        progress: Progress | None = None,
        jobs: int = 1,
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs: {jobs}; at least 1")
        self.staff = staff
        self.user: AbstractBaseUser = staff.user
        self.ctx = Ctx(grant=import_grant(staff), base="")
        self.report = report
        self.care_team_role = care_team_role
        self.progress = progress or NoProgress()
        self.totals = Totals()
        self.types = registered()
        self.jobs = jobs
        self._pending: list[Outcome] = []
        self._source = ""
        self._written = 0
        self._analysed_at = CHUNK // 2
        self._references: dict[int, list[tuple[str, str]]] = {}
        """(FHIRPath, reference as rewritten) of each unit of the group loading, by position."""

    # Files ---------------------------------------------------------------------------------

    def run(self, paths: Iterable[Path]) -> Totals:
        """Import these files (and folders' files), in dependency order of what they hold."""
        now = timezone.now()
        plan = []
        for path in bulk_read.files_in(paths):
            record, _ = ImportFile.objects.get_or_create(
                digest=bulk_read.digest(path),
                defaults={"path": str(path)[-1000:], "started_at": now, "updated_at": now},
            )
            if record.finished:
                self.totals.skipped_files += 1
            else:
                plan.append((path, record))
        self.progress.start(sum(max(0, bulk_read.count(p) - r.done) for p, r in plan))
        if not plan:
            return self.totals
        # Spawned, not forked: a worker never holds (nor closes) this process's connection.
        workers = self.jobs - 1
        pool = multiprocessing.get_context("spawn").Pool(workers) if workers else None
        try:
            for path, record in plan:
                self._file(path, record, pool)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        return self.totals

    def _file(self, path: Path, record: ImportFile, pool: Pool | None) -> None:
        self._source = path.name
        self.ctx = Ctx(grant=import_grant(self.staff, path.name), base="")
        stream = bulk_read.units(path, after=record.done)
        chunks = iter(lambda: list(islice(stream, CHUNK)), [])
        for chunk, problems in self._checked_chunks(chunks, pool):
            with transaction.atomic():
                loaded, rejected = self._chunk(chunk, problems)
                advanced = chunk[-1].position - record.done
                record.done = chunk[-1].position
                record.loaded += loaded
                record.rejected += rejected
                record.updated_at = timezone.now()
                record.save(update_fields=["done", "loaded", "rejected", "updated_at"])
            self.progress.advance(advanced)
            self._analyse_when_grown(loaded)
        record.finished = True
        record.updated_at = timezone.now()
        record.save(update_fields=["finished", "updated_at"])

    def _analyse_when_grown(self, loaded: int) -> None:
        """On PostgreSQL, refresh the statistics of the tables the import looks up by long IN
        lists each time the rows it wrote have doubled: without them (a fresh table, or one
        growing faster than autovacuum looks) PostgreSQL plans those lookups as scans of the
        whole table, and each batch was slower than the last."""
        self._written += loaded
        if connection.vendor != "postgresql" or self._written < 2 * self._analysed_at:
            return
        self._analysed_at = self._written
        tables = ", ".join(
            connection.ops.quote_name(model._meta.db_table)
            for model in (ImportedId, Resource, Person, Condition)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")

    def _checked_chunks(
        self, chunks: Iterator[list[Unit]], pool: Pool | None
    ) -> Iterator[tuple[list[Unit], dict[int, str | None]]]:
        """Each chunk with the FHIR R4 model check of its servable units (by position): checked
        here, or by the `pool` as many chunks ahead of the one yielded as it has workers."""
        ahead: deque[tuple[list[Unit], list[int], AsyncResult[list[str | None]]]] = deque()
        for chunk in chunks:
            servable = [unit for unit in chunk if self._servable(unit)]
            positions = [unit.position for unit in servable]
            resources = [cast("dict[str, Any]", unit.resource) for unit in servable]
            if pool is None:
                yield chunk, dict(zip(positions, bulk_read.model_problems(resources), strict=True))
                continue
            checking = pool.apply_async(bulk_read.model_problems, (resources,))
            ahead.append((chunk, positions, checking))
            if len(ahead) >= self.jobs:
                done, places, problems = ahead.popleft()
                yield done, dict(zip(places, problems.get(), strict=True))
        while ahead:
            done, places, problems = ahead.popleft()
            yield done, dict(zip(places, problems.get(), strict=True))

    def _chunk(self, chunk: list[Unit], problems: dict[int, str | None]) -> tuple[int, int]:
        """Load one chunk (inside its transaction), given the FHIR R4 model check of its
        servable units (by position); returns (loaded, rejected)."""
        self._pending = []
        groups: dict[str, list[tuple[Unit, dict[str, Any]]]] = defaultdict(list)
        for unit in chunk:
            content = self._checked(unit, problems.get(unit.position))
            if content is not None:
                groups[content["resourceType"]].append((unit, content))
        for name in sorted(groups, key=bulk_read.rank):
            self._group(name, groups[name])
        self._write_audits()
        outcomes, self._pending = self._pending, []
        for outcome in outcomes:
            self._tally(outcome)
        return (
            sum(1 for o in outcomes if o.loaded_as),
            sum(1 for o in outcomes if o.rejected),
        )

    def _tally(self, outcome: Outcome) -> None:
        self.totals.read += 1
        if outcome.rejected:
            self.totals.rejected += 1
        else:
            self.totals.loaded += 1
        for path, _ in outcome.not_kept:
            self.totals.not_kept[path] += 1
        self.report(outcome)

    # Checks before loading -----------------------------------------------------------------

    def _outcome(self, unit: Unit, **what: Any) -> Outcome:
        resource = unit.resource or {}
        outcome = Outcome(unit.where, unit.resource_type, str(resource.get("id", "")), **what)
        self._pending.append(outcome)
        return outcome

    def _servable(self, unit: Unit) -> bool:
        """Whether the unit holds a resource of a type that can be imported (then to be checked
        against the FHIR R4 model)."""
        return (
            unit.problem is None
            and unit.resource is not None
            and unit.resource_type not in READ_ONLY
            and unit.resource_type in self.types
        )

    def _checked(self, unit: Unit, problem: str | None) -> dict[str, Any] | None:
        """The unit's resource if it is a FHIR R4 resource of a type that can be imported;
        `problem` is its FHIR R4 model check (`bulk_read.model_problem`)."""
        if unit.problem is not None or unit.resource is None:
            self._outcome(unit, rejected=unit.problem or "no resource")
            return None
        name = unit.resource_type
        if name in READ_ONLY:
            self._outcome(unit, rejected=f"{name} is not imported: {READ_ONLY[name]}")
            return None
        if name not in self.types:
            self._outcome(unit, rejected=f"Wholecare does not serve {name or 'this'} resources")
            return None
        if problem is not None:
            self._outcome(unit, rejected=problem)
            return None
        return unit.resource

    # Loading a group of one type -----------------------------------------------------------

    def _group(self, name: str, group: list[tuple[Unit, dict[str, Any]]]) -> None:
        load = self._loader(name)
        found = {unit.position: references_in(content, name) for unit, content in group}
        resolved = resolve({text for references in found.values() for _, text in references})
        self._references = {
            position: [(path, resolved.get(text, text)) for path, text in references]
            for position, references in found.items()
        }
        rewritten = [(unit, _rewrite(content, resolved)) for unit, content in group]
        targets = frozenset(resolved.values())
        mark = len(self._pending)
        try:
            with transaction.atomic():
                load(rewritten, targets)
        except DatabaseError:
            # Find the resource the database refuses: one at a time, a savepoint each.
            del self._pending[mark:]
            for one in rewritten:
                before = len(self._pending)
                try:
                    with transaction.atomic():
                        load([one], targets)
                except DatabaseError as problem:
                    del self._pending[before:]
                    self._outcome(one[0], rejected=f"the database refused it: {problem}")

    def _loader(
        self, name: str
    ) -> Callable[[list[tuple[Unit, dict[str, Any]]], frozenset[str]], None]:
        """What loads a group of one type. For a type that may also keep what other systems
        send as received (decision 0014), what Wholecare's own model holds goes there as
        before, and only the rest is kept as received."""
        own = self._own_loader(name)
        kind = self.types[name]
        if not isinstance(kind, Receiving):
            return own

        def load(group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]) -> None:
            held = [kind.holds(self.ctx, content) for _, content in group]
            own([one for one, mine in zip(group, held, strict=True) if mine], targets)
            others = [one for one, mine in zip(group, held, strict=True) if not mine]
            self._stored(kind.received, others, targets)

        return load

    def _own_loader(
        self, name: str
    ) -> Callable[[list[tuple[Unit, dict[str, Any]]], frozenset[str]], None]:
        special: dict[str, Callable[..., None]] = {
            "Patient": self._patients,
            "Condition": self._conditions,
            "Organization": self._organizations,
            "Practitioner": self._practitioners,
            "PractitionerRole": self._practitioner_roles,
            "HealthcareService": self._healthcare_services,
            "Questionnaire": self._questionnaires,
        }
        if name in special:
            return special[name]
        kind = self.types[name]
        if isinstance(kind, StoredType):
            return lambda group, targets: self._stored(kind, group, targets)
        return lambda group, targets: self._one_by_one(kind, group)

    def _unresolved(
        self, unit: Unit, targets: frozenset[str], skip: str = ""
    ) -> list[tuple[str, str]]:
        """Notes on the unit's references (as rewritten) that do not resolve, but the `skip` one."""
        notes = []
        for path, text in self._references[unit.position]:
            if text in targets or text.startswith("#") or (skip and path == skip):
                continue
            target = text.partition("/")[0]
            if target in self.types:
                notes.append((path, f"reference {text} does not resolve here; kept as written"))
            else:
                notes.append((path, f"reference {text}: a type this server does not serve"))
        return notes

    def _map_id(self, unit: Unit, content: dict[str, Any], target: str) -> list[Sequence[str]]:
        """`ImportedId` rows: (resource type or "" for a fullUrl, source id, target)."""
        rows: list[Sequence[str]] = []
        if content.get("id"):
            rows.append((content["resourceType"], str(content["id"]), target))
        if unit.full_url:
            rows.append(("", unit.full_url, target))
        return rows

    def _claim(self, group: list[tuple[Unit, dict[str, Any]]]) -> list[tuple[Unit, dict[str, Any]]]:
        """Those not imported before (by source id or fullUrl); the import never updates."""
        keys = {(content["resourceType"], str(content.get("id", ""))) for _, content in group} | {
            ("", unit.full_url) for unit, _ in group if unit.full_url
        }
        done = imported_ids(keys)
        fresh = []
        seen: set[tuple[str, str]] = set()
        for unit, content in group:
            mine = (
                [(content["resourceType"], str(content.get("id", "")))] if content.get("id") else []
            )
            mine += [("", unit.full_url)] if unit.full_url else []
            earlier = next((done[key] for key in mine if key in done), None)
            if earlier is not None:
                self._outcome(
                    unit,
                    rejected=f"already imported as {earlier}; the import never updates a resource",
                )
            elif any(key in seen for key in mine):
                self._outcome(unit, rejected="the same id (or fullUrl) twice in one import")
            else:
                seen.update(mine)
                fresh.append((unit, content))
        return fresh

    def _people(self, references: Iterable[str]) -> dict[str, Person]:
        """The people these `Patient/<id>` references name, if the importer may open them."""
        ids = {text.removeprefix("Patient/") for text in references if text.startswith("Patient/")}
        found = Person.objects.filter(
            people_openable_q(self.staff), public_id__in=[i for i in ids if _is_uuid(i)]
        )
        return {f"Patient/{person.public_id}": person for person in found}

    def _person(
        self, people: dict[str, Person], reference: dict[str, Any] | None, where: str
    ) -> Person:
        text = str((reference or {}).get("reference", ""))
        if not text:
            raise Rejected(f"{where}: needs a reference to the Patient")
        person = people.get(text)
        if person is None:
            raise Rejected(
                f"{where}: {text} is not on the record, or you have no care relationship with"
                " them (import the Patient first, or add yourself to their care team)"
            )
        return person

    def _write_audits(self) -> None:
        """One audit event for each person whose record this chunk added to, saying what."""
        added: dict[int, Counter[str]] = defaultdict(Counter)
        for outcome in self._pending:
            if outcome.loaded_as and outcome.person_id is not None:
                added[outcome.person_id][outcome.resource_type] += 1
        by_what: dict[str, list[Person]] = defaultdict(list)
        for person_id, counts in added.items():
            what = f"FHIR bulk import from {self._source}: " + ", ".join(
                f"{n} {name}" for name, n in sorted(counts.items())
            )
            by_what[what].append(Person(pk=person_id))
        for what, people in by_what.items():
            audit_many(
                by=self.user,
                action=AuditEvent.Action.CREATE,
                people=people,
                what=what,
                why="FHIR bulk import",
            )

    def _keep(
        self,
        rows: list[tuple[Unit, dict[str, Any], Outcome, Resource]],
        tokens: dict[int, tuple[tuple[str, str, str], ...]] | None = None,
    ) -> None:
        """Write Resource rows (version 1), their versions, tokens and id mappings."""
        created = [resource for _, _, _, resource in rows]
        insert_resources(created)
        insert_many(
            ResourceVersion,
            ("resource", "version", "last_updated", "method", "content"),
            [(r.pk, 1, r.last_updated, "POST", r.content) for r in created],
        )
        if tokens:
            insert_many(
                SearchToken,
                ("resource", "param", "system", "value"),
                [
                    (resource.pk, p, s[:200], v[:200])
                    for index, resource in enumerate(created)
                    for p, s, v in tokens.get(index, ())
                ],
            )
        mappings = []
        for unit, content, outcome, resource in rows:
            outcome.loaded_as = f"{resource.resource_type}/{resource.fhir_id}"
            mappings += self._map_id(unit, content, outcome.loaded_as)
        _map_ids(mappings)

    # Patients ------------------------------------------------------------------------------

    def _patients(self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]) -> None:
        group = self._claim(group)
        numbers = set()
        for _, content in group:
            for identifier in content.get("identifier", []):
                if identifier.get("system") == patient_mapper.NHS_NUMBER:
                    numbers.add(str(identifier.get("value", "")).replace(" ", ""))
        taken: set[str | None] = set(
            Person.objects.filter(nhs_number__in=numbers).values_list("nhs_number", flat=True)
        )
        practices: dict[str, Organisation] = {}
        today = timezone.localdate()
        people: list[tuple[Unit, dict[str, Any], Outcome, Person, list[str]]] = []
        for unit, content in group:
            try:
                mapped = patient_mapper.from_fhir(content)
                fields = mapped.value
                practice = None
                if fields.practice_ods is not None:
                    practice = practices.get(fields.practice_ods) or (
                        Organisation.objects.filter(ods_code=fields.practice_ods).first()
                    )
                    if practice is None:
                        raise Rejected(
                            f"Patient.generalPractitioner: Organization/{fields.practice_ods}"
                            " does not exist"
                        )
                    practices[fields.practice_ods] = practice
                person = services.person_new(
                    nhs_number_text=fields.nhs_number,
                    given_name=fields.given_name,
                    family_name=fields.family_name,
                    date_of_birth=fields.date_of_birth,
                    sex=fields.sex,
                    registered_practice=practice,
                    taken=taken.__contains__,
                    **fields.details,
                )
            except (FhirError, Rejected, ValidationError) as problem:
                self._outcome(unit, rejected=refusal(problem, patient_mapper.FIELD_PATHS))
                continue
            taken.add(person.nhs_number)
            notes = list(mapped.unsupported)
            roles = []
            for practitioner in fields.general_practitioners:
                if practitioner == str(self.staff.pk):
                    roles.append(patient_mapper.REGISTERED_GP_ROLE)
                    notes.append(
                        (
                            "Patient.generalPractitioner",
                            f"Practitioner/{practitioner}: kept as the person's care team"
                            f" ({patient_mapper.REGISTERED_GP_ROLE}), not on the Patient",
                        )
                    )
                else:
                    notes.append(
                        (
                            "Patient.generalPractitioner",
                            f"Practitioner/{practitioner}: only the importing practitioner is"
                            " put on the care team",
                        )
                    )
            if self.care_team_role and self.care_team_role not in roles:
                roles.append(self.care_team_role)
            outcome = self._outcome(unit, not_kept=notes)
            people.append((unit, content, outcome, person, roles))
        Person.objects.bulk_create([person for *_, person, _ in people])
        CareTeamMembership.objects.bulk_create(
            CareTeamMembership(person=person, staff=self.staff, role=role, start_date=today)
            for *_, person, roles in people
            for role in roles
        )
        now = timezone.now()
        rows = []
        for unit, content, outcome, person, _ in people:
            fhir_id = str(person.public_id)
            rendered = patient_mapper.to_fhir(person, fhir_id)
            outcome.not_kept += not_kept_elements(content, rendered, outcome.not_kept)
            resource = Resource(
                resource_type="Patient",
                fhir_id=fhir_id,
                version=1,
                last_updated=now,
                person=person,
                record_pk=person.pk,
                content=rendered,
            )
            outcome.person_id = person.pk
            rows.append((unit, content, outcome, resource))
        self._keep(rows)

    # Conditions ----------------------------------------------------------------------------

    def _conditions(
        self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        group = self._claim(group)
        people = self._people(
            str(content.get("subject", {}).get("reference", "")) for _, content in group
        )
        held = set(
            Condition.objects.filter(person__in=list(people.values())).values_list(
                "person_id", "snomed_code"
            )
        )
        now = timezone.now()
        made: list[tuple[Unit, dict[str, Any], Outcome, Condition]] = []
        for unit, content in group:
            try:
                mapped = condition_mapper.from_fhir(content)
                fields = mapped.value
                person = self._person(people, content.get("subject"), "Condition.subject")
                recorded = content.get("recordedDate")
                condition = services.condition_new(
                    person=person,
                    snomed_code=fields.snomed_code,
                    display=fields.display,
                    onset_date=fields.onset_date,
                    clinical_status=fields.clinical_status,
                    staff=self.staff,
                    recorded_at=_instant(recorded) if recorded else now,
                    held=_has_condition(held, person.pk),
                )
            except (FhirError, Rejected, ValidationError, AccessDenied) as problem:
                self._outcome(unit, rejected=refusal(problem, condition_mapper.PATHS))
                continue
            held.add((person.pk, fields.snomed_code))
            notes = list(mapped.unsupported) + self._unresolved(
                unit, targets, skip="Condition.subject"
            )
            made.append((unit, content, self._outcome(unit, not_kept=notes), condition))
        Condition.objects.bulk_create([condition for *_, condition in made])
        rows = []
        for unit, content, outcome, condition in made:
            fhir_id = store.new_id()
            rendered = condition_mapper.to_fhir(condition, fhir_id)
            outcome.not_kept += not_kept_elements(content, rendered, outcome.not_kept)
            resource = Resource(
                resource_type="Condition",
                fhir_id=fhir_id,
                version=1,
                last_updated=now,
                person=condition.person,
                record_pk=condition.pk,
                content=rendered,
            )
            outcome.person_id = condition.person.pk
            rows.append((unit, content, outcome, resource))
        self._keep(rows)

    # Resources kept whole ------------------------------------------------------------------

    def _stored(
        self, kind: StoredType, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        group = self._claim(group)
        subjects = []
        for _, content in group:
            try:
                subjects.append(str((kind.subject(content) or {}).get("reference", "")))
            except FhirError:
                continue
        people = self._people(subjects)
        now = timezone.now()
        rows: list[tuple[Unit, dict[str, Any], Outcome, Resource]] = []
        tokens: dict[int, tuple[tuple[str, str, str], ...]] = {}
        for unit, content in group:
            where = f"{kind.name}.{kind.subject_element}" if kind.subject_element else ""
            try:
                kind.check_status(content)
                person = (
                    self._person(people, kind.subject(content), where)
                    if where and not kind.unfiled(content)
                    else None
                )
                kind.check(self.ctx, content)
                prepared = kind.prepared(content, person)
            except (FhirError, Rejected) as problem:
                self._outcome(unit, rejected=refusal(problem, {}))
                continue
            fhir_id = store.new_id()
            notes = meta_not_kept(kind.name, content, kind.profile) + self._unresolved(
                unit, targets, skip=where
            )
            outcome = self._outcome(unit, not_kept=notes, person_id=person.pk if person else None)
            tokens[len(rows)] = prepared.tokens
            resource = Resource(
                resource_type=kind.name,
                fhir_id=fhir_id,
                version=1,
                last_updated=now,
                person=person,
                status=prepared.status,
                date_start=prepared.dates[0],
                date_end=prepared.dates[1],
                sensitivity=prepared.sensitivity,
                author=self.staff,
                content={"resourceType": kind.name, "id": fhir_id, **strip_meta(content)},
            )
            rows.append((unit, content, outcome, resource))
        self._keep(rows, tokens)
        if isinstance(kind, QuestionnaireResponseType):
            for *_, resource in rows:
                kind.consequences(self.ctx, store.item(resource))

    # Other record-backed types: through the API's own create -------------------------------

    def _one_by_one(self, kind: Any, group: list[tuple[Unit, dict[str, Any]]]) -> None:
        if not isinstance(kind, RecordType) or "create" not in kind.writable:
            for unit, _ in group:
                self._outcome(unit, rejected=f"{kind.name} cannot be imported")
            return
        for unit, content in self._claim(group):
            self.ctx.notes.clear()
            try:
                with transaction.atomic():
                    found = kind.create(self.ctx, content)
            except FhirError as problem:
                self._outcome(unit, rejected=refusal(problem, {}))
                continue
            notes = [
                (issue.expression[0] if issue.expression else kind.name, issue.diagnostics)
                for issue in self.ctx.notes
            ]
            rendered = found.content
            notes += not_kept_elements(content, rendered, notes)
            target = f"{kind.name}/{found.fhir_id}"
            self._outcome(unit, loaded_as=target, not_kept=notes)
            _map_ids(self._map_id(unit, content, target))

    # Matched onto what Wholecare holds: the directory, the instruments ---------------------

    def _match(
        self,
        group: list[tuple[Unit, dict[str, Any]]],
        find: Callable[[dict[str, Any]], tuple[str, dict[str, Any]] | str],
    ) -> None:
        """`find` gives (target, its rendering) or the reason there is no match."""
        mappings = []
        for unit, content in self._claim(group):
            found = find(content)
            if isinstance(found, str):
                self._outcome(unit, rejected=found)
                continue
            target, rendered = found
            notes = not_kept_elements(content, rendered, [])
            self._outcome(unit, loaded_as=target, not_kept=notes, mapped=True)
            mappings += self._map_id(unit, content, target)
        _map_ids(mappings)

    def _organizations(
        self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        from wholecare.fhir.mappers.organization import to_fhir

        def find(content: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
            codes = [
                str(i.get("value")) for i in content.get("identifier", []) if i.get("system") == ODS
            ]
            found = Organisation.objects.filter(ods_code__in=codes).first()
            if found is None:
                return (
                    f"Organization.identifier: no organisation with ODS code"
                    f" {', '.join(codes) or '(none given)'} in the directory; the directory is"
                    " kept by its owners, so add it there first"
                )
            return f"Organization/{found.ods_code}", to_fhir(found, found.ods_code)

        self._match(group, find)

    def _practitioners(
        self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        from wholecare.fhir.mappers.practitioner import directory_match, to_fhir

        def find(content: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
            numbers = [str(i.get("value")) for i in content.get("identifier", []) if i.get("value")]
            found = directory_match(content)
            if found is None:
                return (
                    "Practitioner.identifier: no member of staff with professional registration"
                    f" {', '.join(numbers) or '(none given)'} in the directory"
                )
            return f"Practitioner/{found.pk}", to_fhir(found, str(found.pk))

        self._match(group, find)

    def _practitioner_roles(
        self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        from wholecare.fhir.mappers.practitioner_role import role_staff, to_fhir

        def find(content: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
            text = str(content.get("practitioner", {}).get("reference", ""))
            found = role_staff(content)
            if found is None:
                return (
                    f"PractitionerRole.practitioner: {text or '(none)'} is not a member of staff"
                    " in the directory"
                )
            return f"PractitionerRole/{found.pk}", to_fhir(found, str(found.pk))

        self._match(group, find)

    def _healthcare_services(
        self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        from wholecare.fhir.mappers.healthcare_service import to_fhir

        def find(content: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
            provider = str(content.get("providedBy", {}).get("reference", ""))
            found = (
                Service.objects.select_related("organisation")
                .filter(
                    organisation__ods_code=provider.removeprefix("Organization/"),
                    name=content.get("name", ""),
                )
                .first()
            )
            if found is None:
                return (
                    f"HealthcareService: no service named {content.get('name')!r} of"
                    f" {provider or '(no providedBy)'} in the directory"
                )
            return f"HealthcareService/{found.pk}", to_fhir(found, str(found.pk))

        self._match(group, find)

    def _questionnaires(
        self, group: list[tuple[Unit, dict[str, Any]]], targets: frozenset[str]
    ) -> None:
        from wholecare.fhir.mappers.questionnaire import differs, to_fhir

        def find(content: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
            instrument = instrument_for(str(content.get("url", "")))
            if instrument is None:
                return (
                    f"Questionnaire.url: {content.get('url')!r} is not one of Wholecare's"
                    " instruments (Questionnaires are Wholecare's own, from wholecare.measures)"
                )
            why = differs(content, instrument)
            if why is not None:
                return why
            fhir_id = questionnaire_id(instrument.code)
            return f"Questionnaire/{fhir_id}", to_fhir(instrument)

        self._match(group, find)


def imported_ids(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The targets of these (resource type or "", source id) keys already imported: one indexed
    query per resource type."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for name, source_id in keys:
        by_type[name].append(source_id)
    found: dict[tuple[str, str], str] = {}
    for name, source_ids in by_type.items():
        for source_id, target in ImportedId.objects.filter(
            resource_type=name, source_id__in=source_ids
        ).values_list("source_id", "target"):
            found[(name, source_id)] = target
    return found


def _map_ids(rows: list[Sequence[str]]) -> None:
    insert_many(ImportedId, ("resource_type", "source_id", "target"), rows)


def insert_many(
    model: type[models.Model], columns: Sequence[str], rows: list[Sequence[Any]]
) -> None:
    """INSERT many rows at once, without a model instance per row (for the rows bulk import
    writes most): PostgreSQL's COPY, or one `executemany` on SQLite. Each value is adapted by its
    column's field as Django's own insert would; equal (hashable) values once, and a str or int
    of a text or integer column (which Django passes as it is) not at all."""
    if not rows:
        return
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(str(f.column)) for f in fields)
    seen: list[dict[Any, Any]] = [{} for _ in fields]
    plain = [_target_type(f) in PLAIN_COLUMNS for f in fields]

    def adapt(index: int, value: Any) -> Any:
        kind = type(value)
        if plain[index] and (kind is str or kind is int):
            return value
        field = fields[index]
        if isinstance(value, dict | list):
            return field.get_db_prep_save(value, connection)
        if value not in seen[index]:
            seen[index][value] = field.get_db_prep_save(value, connection)
        return seen[index][value]

    adapted = [tuple(adapt(i, value) for i, value in enumerate(row)) for row in rows]
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in adapted:
                copy.write_row(row)
        return
    places = ", ".join(["%s"] * len(fields))
    # Table and column names come from the model, quoted; values are parameters.
    sql = f"INSERT INTO {table} ({names}) VALUES ({places})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, adapted)


PLAIN_COLUMNS = frozenset(
    {
        "CharField",
        "TextField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "AutoField",
        "BigAutoField",
    }
)
"""Column types whose field saves a str or int value as it is."""


def _target_type(field: "models.Field[Any, Any]") -> str:
    """The internal type of the column: a foreign key's is its target's."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return str(target.get_internal_type())


RESOURCE_COLUMNS = (
    "resource_type",
    "fhir_id",
    "version",
    "last_updated",
    "person",
    "record_pk",
    "sensitivity",
    "author",
    "status",
    "date_start",
    "date_end",
    "content",
)


def insert_resources(resources: list[Resource]) -> None:
    """Insert new Resource rows with `insert_many`, then give each its primary key (one indexed
    query per resource type)."""
    attributes = [
        cast("models.Field[Any, Any]", Resource._meta.get_field(c)).attname
        for c in RESOURCE_COLUMNS
    ]
    insert_many(
        Resource,
        RESOURCE_COLUMNS,
        [tuple(getattr(r, name) for name in attributes) for r in resources],
    )
    by_type: dict[str, dict[str, Resource]] = defaultdict(dict)
    for resource in resources:
        by_type[resource.resource_type][resource.fhir_id] = resource
    for name, ids in by_type.items():
        for pk, fhir_id in Resource.objects.filter(
            resource_type=name, fhir_id__in=list(ids)
        ).values_list("pk", "fhir_id"):
            ids[fhir_id].pk = pk


# References ----------------------------------------------------------------------------------


def resolve(references: set[str]) -> dict[str, str]:
    """Each reference that names something on this server, to the `Type/id` it is here: an
    imported resource (by source id or Bundle fullUrl), or one already here by its own id."""
    keys: dict[str, tuple[str, str]] = {}
    for text in references:
        if text.startswith(("urn:", "http:", "https:")):
            keys[text] = ("", text)
        elif "/" in text and not text.startswith("#"):
            name, _, fhir_id = text.partition("/")
            keys[text] = (name, fhir_id)
    found: dict[str, str] = {}
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for text, key in keys.items():
        texts[key].append(text)
    for key, target in imported_ids(set(texts)).items():
        for text in texts[key]:
            found[text] = target
    native: dict[str, set[str]] = defaultdict(set)
    for text, (name, fhir_id) in keys.items():
        if text not in found and name:
            native[name].add(fhir_id)
    for name, ids in native.items():
        for fhir_id in _existing(name, ids):
            found[f"{name}/{fhir_id}"] = f"{name}/{fhir_id}"
    return found


def _existing(name: str, ids: set[str]) -> Iterator[str]:
    """Those of `ids` that are resources of type `name` on this server."""
    numbers = [k for k in map(record_key, ids) if k is not None]
    if name == "Patient":
        uuids = [i for i in ids if _is_uuid(i)]
        yield from (
            str(u)
            for u in Person.objects.filter(public_id__in=uuids).values_list("public_id", flat=True)
        )
    elif name in {"Practitioner", "PractitionerRole"}:
        yield from (
            str(pk) for pk in Staff.objects.filter(pk__in=numbers).values_list("pk", flat=True)
        )
        yield from _received(name, ids)
    elif name == "Organization":
        yield from Organisation.objects.filter(ods_code__in=ids).values_list("ods_code", flat=True)
    elif name == "HealthcareService":
        yield from (
            str(pk) for pk in Service.objects.filter(pk__in=numbers).values_list("pk", flat=True)
        )
    elif name == "Questionnaire":
        yield from (i for i in ids if instrument_for(i) is not None)
        yield from _received(name, ids)
    else:
        yield from Resource.objects.filter(resource_type=name, fhir_id__in=ids).values_list(
            "fhir_id", flat=True
        )


def _received(name: str, ids: set[str]) -> Iterator[str]:
    """Those of `ids` that are resources of type `name` kept as received (decision 0014)."""
    yield from Resource.objects.filter(
        resource_type=name, fhir_id__in=ids, record_pk__isnull=True
    ).values_list("fhir_id", flat=True)


def _rewrite(value: Any, resolved: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: resolved.get(inner, inner)
            if key == "reference" and isinstance(inner, str)
            else _rewrite(inner, resolved)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(inner, resolved) for inner in value]
    return value


# What was not kept ---------------------------------------------------------------------------


def meta_not_kept(name: str, content: dict[str, Any], profile: str | None) -> list[tuple[str, str]]:
    """`meta` elements the server does not keep (it writes versionId, lastUpdated and profile;
    security labels are kept as the resource's sensitivity)."""
    notes = []
    for key, value in (content.get("meta") or {}).items():
        if key in SERVER_META:
            continue
        if key == "profile" and value == [profile]:
            continue
        notes.append((f"{name}.meta.{key}", f"meta.{key}: the server writes its own"))
    return notes


def _leaves(value: Any, path: str, plain: str) -> Iterator[tuple[str, str, Any]]:
    """(indexed path, path without indices, value) of every primitive in a resource."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{path}.{key}", f"{plain}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{path}[{index}]", plain)
    else:
        yield path, plain, value


def not_kept_elements(
    source: dict[str, Any], rendered: dict[str, Any], reported: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Elements of `source` whose value the server's rendering does not carry, besides those
    already `reported` (so nothing is dropped silently): one note per element path."""
    name = str(source["resourceType"])
    body = {k: v for k, v in source.items() if k not in {"id", "meta", "resourceType"}}
    kept = {(plain, value) for _, plain, value in _leaves(rendered, name, name)}
    already = [where for where, _ in reported]
    notes: dict[str, str] = {}
    for path, plain, value in _leaves(body, name, name):
        if (plain, value) in kept or plain in notes:
            continue
        if any(
            where in {path, plain} or path.startswith((f"{where}.", f"{where}["))
            for where in already
        ):
            continue
        notes[plain] = f"{plain} ({value!r}) is not kept"
    profile = ((rendered.get("meta") or {}).get("profile") or [None])[0]
    return [*meta_not_kept(name, source, profile), *notes.items()]


def _has_condition(held: set[tuple[int, str]], person_pk: int) -> Callable[[str], bool]:
    """Whether the person already has a code, among the conditions of this batch and before."""
    return lambda code: (person_pk, code) in held


def _instant(text: str) -> dt.datetime:
    from wholecare.fhir.search import parse_date

    return parse_date(text).start


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
