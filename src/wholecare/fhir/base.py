"""What every resource type offers the interactions, and the two kinds of type behind it: those
rendered from the record's own rows, and those kept whole by the FHIR edge."""

import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cmp_to_key, partial
from typing import Any, ClassVar, Generic, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.fhir import store
from wholecare.fhir.access import openable_people, readable_q
from wholecare.fhir.auth import Grant
from wholecare.fhir.errors import FhirError, Issue, bad_request, unprocessable
from wholecare.fhir.models import Resource, SearchToken
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import (
    Criterion,
    Param,
    SearchRequest,
    SortKey,
    any_of,
    date_q,
    every_date,
    ordering,
    parse_token,
)
from wholecare.fhir.store import Item
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity

M = TypeVar("M", bound=models.Model)
R = TypeVar("R")


def unique_row(rows: QuerySet[Any, R]) -> R | None:
    """The row of a lookup by a unique key, or None: `first()` without its ORDER BY, which on
    the API's hot paths costs an ordering to compile and run for at most one row."""
    found = list(rows[:1])
    return found[0] if found else None


CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SENSITIVITY_SYSTEM = "https://wholecare.example.org/CodeSystem/sensitivity"
_ACT_CODES: dict[Sensitivity, tuple[str, ...]] = {
    Sensitivity.PSYCHOLOGICAL_THERAPY: ("PSY", "MH"),
    Sensitivity.SEXUAL_HEALTH: ("SEX",),
    Sensitivity.SAFEGUARDING: (),
}


@dataclass
class Ctx:
    """One request's grant, the server's base URL, and notes to return to the client."""

    grant: Grant
    base: str
    notes: list[Issue] = field(default_factory=list)

    @property
    def staff(self) -> Staff:
        return self.grant.staff

    def unsupported(self, where: str, what: str) -> None:
        """Report an element Wholecare does not keep, rather than drop it silently."""
        self.notes.append(
            Issue("informational", f"Not kept: {what}", severity="warning", expression=(where,))
        )


def security_labels(sensitivity: str) -> list[dict[str, str]]:
    if sensitivity == Sensitivity.NORMAL:
        return []
    kind = Sensitivity(sensitivity)
    return [
        {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
        *({"system": ACT_CODE, "code": code} for code in _ACT_CODES[kind]),
        {"system": SENSITIVITY_SYSTEM, "code": kind.value, "display": kind.label},
    ]


def sensitivity_of(content: dict[str, Any]) -> Sensitivity:
    """The kind of sensitive entry that `meta.security` labels a resource as, or NORMAL."""
    labels = content.get("meta", {}).get("security", [])
    codes = {(label.get("system"), label.get("code")) for label in labels}
    for kind in Sensitivity:
        if (SENSITIVITY_SYSTEM, kind.value) in codes:
            return kind
    for kind, act_codes in _ACT_CODES.items():
        if any((ACT_CODE, code) in codes for code in act_codes):
            return kind
    if (CONFIDENTIALITY, "R") in codes:
        raise unprocessable(
            "code-invalid",
            "A restricted resource must say what kind of sensitive entry it is (ActCode PSY, MH"
            f" or SEX, or {SENSITIVITY_SYSTEM})",
            "meta.security",
        )
    return Sensitivity.NORMAL


def with_meta(found: Item, profile: str | None) -> dict[str, Any]:
    """The resource as served: its version, profile and the sharing rule's labels, with any
    label its record's rendering carries (a timeline entry withheld from the person: NOPAT)."""
    resource = dict(found.content)
    meta: dict[str, Any] = {
        "versionId": str(found.version),
        "lastUpdated": found.last_updated.isoformat(),
    }
    if profile:
        meta["profile"] = [profile]
    labels = security_labels(found.sensitivity) + found.content.get("meta", {}).get("security", [])
    if labels:
        meta["security"] = labels
    resource["meta"] = meta
    return resource


def strip_meta(content: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a resource: everything but its meta, which the server writes."""
    return {k: v for k, v in content.items() if k not in {"meta", "id"}}


def reference_id(reference: dict[str, Any] | None, resource_type: str, where: str) -> str:
    if not reference or "reference" not in reference:
        raise unprocessable("required", f"{where} must reference a {resource_type}", where)
    text = str(reference["reference"])
    prefix = f"{resource_type}/"
    if not text.startswith(prefix) or "/" in text[len(prefix) :]:
        raise unprocessable(
            "invalid", f"{where} must be a reference to a {resource_type}, not {text!r}", where
        )
    return text[len(prefix) :]


def referenced_person(ctx: Ctx, reference: dict[str, Any] | None, where: str, kind: str) -> Person:
    """The person a write refers to, if the client may write to their record; 422 alike for a
    person who does not exist and one the client has no relationship with."""
    fhir_id = reference_id(reference, "Patient", where)
    public_id = _uuid_or_none(fhir_id)
    people = openable_people(ctx.grant, kind, Permission.CREATE)
    person = None if public_id is None else unique_row(people.filter(public_id=public_id))
    if person is None:
        raise unprocessable(
            "not-found",
            f"Patient/{fhir_id} does not exist, or you have no care relationship with them",
            where,
        )
    return person


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def person_q(value: str, field: str = "person__public_id") -> Q:
    """A `patient` or `subject` search value as a filter on a row's person."""
    public_id = _uuid_or_none(value.removeprefix("Patient/"))
    return Q(pk__in=[]) if public_id is None else Q(**{field: public_id})


def record_pks(resource_type: str, ids: Sequence[str]) -> QuerySet[Resource, int | None]:
    """The record rows behind these FHIR ids (for `_id` on record-backed types)."""
    return Resource.objects.filter(resource_type=resource_type, fhir_id__in=ids).values_list(
        "record_pk", flat=True
    )


def element_dates(value: Any) -> tuple[Any, Any]:
    """(start, end) of a dateTime, instant or Period element, as aware datetimes."""
    from wholecare.fhir.search import parse_date

    if isinstance(value, str):
        parsed = parse_date(value)
        return parsed.start, parsed.end
    if isinstance(value, dict):
        start = parse_date(value["start"]).start if value.get("start") else None
        end = parse_date(value["end"]).end if value.get("end") else None
        return start, end
    return None, None


def check_references(ctx: Ctx, content: dict[str, Any], where: str, *, skip: str) -> None:
    """Every relative reference to a type this server serves must be to a resource the client
    can read (422 otherwise), but those under the `skip` element (none if empty); references to
    types it does not serve are reported, not checked."""
    from wholecare.fhir.registry import registered

    types = registered()
    for path, text in references_in(content, where):
        if (
            (skip and path.startswith(f"{where}.{skip}"))
            or "/" not in text
            or text.startswith(("#", "urn:", "http:", "https:"))
        ):
            continue
        target, _, fhir_id = text.partition("/")
        if target not in types:
            ctx.unsupported(path, f"reference to {target}, which this server does not serve")
        elif types[target].find(ctx, fhir_id) is None:
            raise unprocessable("not-found", f"{text} does not exist on this server", path)


def references_in(value: Any, path: str) -> list[tuple[str, str]]:
    """(FHIRPath, reference text) of every literal reference in a resource."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            found.append((path, value["reference"]))
        for key, inner in value.items():
            if key != "reference":
                found += references_in(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += references_in(inner, f"{path}[{index}]")
    return found


@dataclass(frozen=True)
class Include:
    """`_include=Source:param`: which resources of which type the results point to."""

    target: str
    ids: Callable[[Item], list[str]]


def reference_ids(
    path: Callable[[dict[str, Any]], Any], resource_type: str
) -> Callable[[Item], list[str]]:
    def ids(found: Item) -> list[str]:
        value = path(found.content)
        references = value if isinstance(value, list) else [value]
        prefix = f"{resource_type}/"
        return [
            r["reference"][len(prefix) :]
            for r in references
            if isinstance(r, dict) and str(r.get("reference", "")).startswith(prefix)
        ]

    return ids


@dataclass
class Page:
    items: list[Item]
    total: int
    withheld: int = 0


@dataclass(frozen=True)
class Matching(Generic[R]):
    """A search's matches the client may read, and, for a type under the sharing rule, all its
    matches in the records the client may open (so that it can say how many are withheld)."""

    readable: QuerySet[Any, R]
    before_sharing_rule: QuerySet[Any, R] | None = None

    def withheld(self, readable: int) -> int:
        if self.before_sharing_rule is None:
            return 0
        return self.before_sharing_rule.count() - readable


READS = frozenset({"read", "vread", "history-instance", "history-type", "search-type"})
ENTERED_IN_ERROR = "entered-in-error"
"""The status that a delete sets: the resource leaves current views, its versions are kept."""


class ResourceType(ABC):
    name: ClassVar[str]
    profile: ClassVar[str | None] = None
    interactions: ClassVar[frozenset[str]] = READS
    params: ClassVar[dict[str, Param]] = {}
    includes: ClassVar[dict[str, Include]] = {}
    writable: ClassVar[frozenset[str]] = frozenset()
    """Which of create and update this type supports."""
    documentation: ClassVar[str] = ""
    operations: ClassVar[dict[str, str]] = {}
    """Type-level operations (without the `$`) and their OperationDefinition canonical URLs."""
    sorts: ClassVar[dict[str, str]] = {}
    """Search parameters `_sort` takes, and the column of the searched rows each sorts by."""
    undeletable: ClassVar[str] = (
        "is read-only here: it cannot be deleted through the API, as it cannot be changed"
    )
    """Why a DELETE is refused (after the type's name), for types that refuse it."""

    @abstractmethod
    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        """The current version, if it exists and the client may read it."""

    def find_kept(self, ctx: Ctx, fhir_id: str) -> Item | None:
        """The current version, deleted or not, if the client may read it (for vread and
        history, which outlive a delete)."""
        return self.find(ctx, fhir_id)

    @abstractmethod
    def search(self, ctx: Ctx, request: SearchRequest) -> Page: ...

    def person_id(self, found: Item) -> int | None:
        return found.person_id

    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        raise FhirError(
            405, [Issue("not-supported", f"{self.name} cannot be created through the API")]
        )

    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        raise FhirError(
            405, [Issue("not-supported", f"{self.name} cannot be updated through the API")]
        )

    def delete(self, ctx: Ctx, current: Item) -> Item:
        """Take a resource out of current views, keeping every version (decision 0010)."""
        raise FhirError(405, [Issue("not-supported", f"{self.name} {self.undeletable}")])

    def sortable(self) -> dict[str, str]:
        return dict(self.sorts)

    def withheld(self, ctx: Ctx, fhir_id: str) -> bool:
        """Whether this resource exists for a person the client may open but is withheld as
        sensitive (answered 403 `suppressed`, as the web UI shows that something is withheld)."""
        return False

    def gone(self, ctx: Ctx, fhir_id: str) -> bool:
        """Whether this resource was deleted (marked entered in error) and the client could read
        it, so that a read answers 410 Gone rather than 404."""
        return False

    def history_resource(self, ctx: Ctx, fhir_id: str) -> Resource | None:
        """The kept versions' owner, once `find` has allowed the client to read it."""
        return unique_row(Resource.objects.filter(resource_type=self.name, fhir_id=fhir_id))

    def history_type(self, ctx: Ctx) -> QuerySet[Resource]:
        """Kept resources of this type the client may read now, for type history."""
        return Resource.objects.none()


class RecordType(ResourceType, Generic[M]):
    """A resource rendered from a row of the record (or the directory)."""

    model: ClassVar[type[models.Model]]
    undeletable = (
        "is rendered from the record's (or the directory's) own rows, which keep their entries:"
        " it cannot be deleted through the API; where the type can be updated, correct it that way"
    )

    @abstractmethod
    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[M]:
        """The rows the client may read, with access compiled into the query."""

    @abstractmethod
    def render(self, row: M, fhir_id: str) -> dict[str, Any]: ...

    def fixed_id(self, row: M) -> str | None:
        """An id that follows from the row itself (Patient: the person's public id)."""
        return None

    def row_person_id(self, row: M) -> int | None:
        person_id: int | None = getattr(row, "person_id", None)
        return person_id

    def row_sensitivity(self, row: M) -> str:
        """The kind of sensitive entry the row is (`meta.security`), for types that hold them."""
        return Sensitivity.NORMAL

    def filter(self, criterion: Criterion) -> Q:
        raise bad_request(f"{self.name} cannot be searched by {criterion.name}")

    def row_for_id(self, rows: QuerySet[M], fhir_id: str) -> M | None:
        record_pk = unique_row(
            Resource.objects.filter(resource_type=self.name, fhir_id=fhir_id).values_list(
                "record_pk", flat=True
            )
        )
        return None if record_pk is None else unique_row(rows.filter(pk=record_pk))

    def rendering(self, rows: Sequence[M]) -> Callable[[M, str], dict[str, Any]]:
        """How `rows` are rendered: `render`, unless a type first reads what all of them
        reference (the ids of other resources), in one query rather than one a row."""
        return self.render

    def items(self, rows: Sequence[M]) -> list[Item]:
        synced = store.sync(
            self.name,
            rows,
            render=self.rendering(rows),
            fhir_id=self.fixed_id,
            person_id=self.row_person_id,
            sensitivity=self.row_sensitivity,
        )
        return [store.item(resource) for resource in synced]

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        row = self.row_for_id(self.rows(ctx, Permission.READ), fhir_id)
        return None if row is None else self.items([row])[0]

    def matching(self, ctx: Ctx, request: SearchRequest) -> Matching[M]:
        rows = self.rows(ctx, Permission.SEARCH)
        for criterion in request.criteria:
            rows = rows.filter(self.filter(criterion))
        return Matching(rows)

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        matching = self.matching(ctx, request)
        ordered = matching.readable.order_by(*ordering(request.sort, self.sortable()))
        page = list(ordered[request.offset : request.offset + request.count])
        total = _total(matching.readable, request, len(page))
        return Page(self.items(page), total, matching.withheld(total))

    def history_type(self, ctx: Ctx) -> QuerySet[Resource]:
        return Resource.objects.filter(
            resource_type=self.name,
            record_pk__in=self.rows(ctx, Permission.READ).values("pk"),
        )


class UnderSharingRule(RecordType[M]):
    """A type from the record whose rows are sensitive entries: in a record the client may open,
    the sharing rule (with the person's decisions) may still withhold one. A read of one withheld
    answers 403 `suppressed`, and a search counts those it withholds, as the pages say that
    something is withheld."""

    @abstractmethod
    def within(self, ctx: Ctx, permission: Permission) -> QuerySet[M]:
        """The rows of the people the client may open, before the sharing rule."""

    @abstractmethod
    def shared_q(self, ctx: Ctx) -> Q:
        """The rows the sharing rule lets the client read."""

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[M]:
        return self.within(ctx, permission).filter(self.shared_q(ctx))

    def matching(self, ctx: Ctx, request: SearchRequest) -> Matching[M]:
        matching = self.within(ctx, Permission.SEARCH)
        for criterion in request.criteria:
            matching = matching.filter(self.filter(criterion))
        return Matching(matching.filter(self.shared_q(ctx)), matching)

    def withheld(self, ctx: Ctx, fhir_id: str) -> bool:
        hidden = self.within(ctx, Permission.READ).exclude(self.shared_q(ctx))
        return self.row_for_id(hidden, fhir_id) is not None


class KeepsEnteredInError(RecordType[M]):
    """A type from the record whose rows marked entered in error are kept (decision 0024):
    searches and reads leave them out, a read answers 410 Gone, history keeps their versions."""

    @abstractmethod
    def kept_rows(self, ctx: Ctx) -> QuerySet[M]:
        """The rows the client may read, with those marked entered in error."""

    def find_kept(self, ctx: Ctx, fhir_id: str) -> Item | None:
        row = self.row_for_id(self.kept_rows(ctx), fhir_id)
        return None if row is None else self.items([row])[0]

    def gone(self, ctx: Ctx, fhir_id: str) -> bool:
        withdrawn = self.kept_rows(ctx).filter(entered_in_error_at__isnull=False)
        return self.row_for_id(withdrawn, fhir_id) is not None

    def history_type(self, ctx: Ctx) -> QuerySet[Resource]:
        return Resource.objects.filter(
            resource_type=self.name, record_pk__in=self.kept_rows(ctx).values("pk")
        )


def _total(rows: QuerySet[Any], request: SearchRequest, on_page: int) -> int:
    """The number of matches: known from the page itself when it is the last one (short, and
    not past the end), so that most searches, which fit on one page, need no count query."""
    if on_page < request.count and (on_page or request.offset == 0):
        return request.offset + on_page
    return rows.count()


@dataclass(frozen=True)
class Prepared:
    """A resource to keep whole, with what it is indexed by."""

    content: dict[str, Any]
    person: Person | None
    status: str = ""
    dates: tuple[Any, Any] = (None, None)
    tokens: tuple[tuple[str, str, str], ...] = ()
    sensitivity: Sensitivity = Sensitivity.NORMAL


class StoredType(ResourceType):
    """A resource the record has no model for yet, kept whole here and tied to the person."""

    person_param = "patient"
    writable = frozenset({"create", "update"})
    interactions = READS | {"delete"}

    statuses: ClassVar[frozenset[str]]
    subject_element: ClassVar[str] = "subject"
    date_element: ClassVar[str | None] = None
    token_elements: ClassVar[dict[str, str]] = {}
    """Search parameter -> the CodeableConcept element (or list of them) it indexes."""
    known_elements: ClassVar[frozenset[str]] = frozenset()
    """Elements kept that the generic checks do not look at (for reporting nothing else)."""
    held_unfiled: ClassVar[bool] = False
    """Whether one that names no subject at all is held unfiled rather than refused: on nobody's
    record, readable only by the member of staff whose client sent it, until an update naming the
    Patient files it (decision 0013). A clinical finding whose subject went missing may still be
    about someone, so it is neither shown to anyone else nor dropped."""

    def subject(self, content: dict[str, Any]) -> dict[str, Any] | None:
        subject: dict[str, Any] | None = content.get(self.subject_element)
        return subject

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        """Checks particular to the type (codes in value sets), raising FhirError."""

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = []
        for param, element in self.token_elements.items():
            value = content.get(element)
            for concept in value if isinstance(value, list) else [value]:
                for coding in (concept or {}).get("coding", []):
                    if coding.get("code"):
                        found.append((param, coding.get("system", ""), str(coding["code"])))
        return found

    def prepare(self, ctx: Ctx, content: dict[str, Any]) -> Prepared:
        self.check_status(content)
        person = (
            None
            if self.unfiled(content)
            else referenced_person(
                ctx, self.subject(content), f"{self.name}.{self.subject_element}", self.name
            )
        )
        self.check(ctx, content)
        check_references(ctx, content, self.name, skip=self.subject_element)
        return self.prepared(content, person)

    def unfiled(self, content: dict[str, Any]) -> bool:
        """Whether this content is held unfiled (`held_unfiled`): it names no subject at all."""
        return self.held_unfiled and self.subject_element not in content

    def check_status(self, content: dict[str, Any]) -> None:
        status = content.get("status")
        if status not in self.statuses:
            raise unprocessable(
                "code-invalid",
                f"{self.name}.status {status!r} is not one of {', '.join(sorted(self.statuses))}",
                f"{self.name}.status",
            )

    def prepared(self, content: dict[str, Any], person: Person | None) -> Prepared:
        """What a checked resource is kept and indexed by (bulk import checks it the same way:
        `check_status`, the subject, `check`, then this)."""
        return Prepared(
            content=content,
            person=person,
            status=self.status_of(content),
            dates=element_dates(self.date_value(content)),
            tokens=tuple(self.tokens(content)),
            sensitivity=sensitivity_of(content),
        )

    def date_value(self, content: dict[str, Any]) -> Any:
        """The dateTime or Period its date parameters search (`date_element`)."""
        return content.get(self.date_element) if self.date_element else None

    def readable(self, ctx: Ctx, permission: Permission) -> QuerySet[Resource]:
        return self.within_people(ctx, permission).filter(readable_q(ctx.staff))

    def status_of(self, content: dict[str, Any]) -> str:
        """What the resource's row holds as its status, which reads and searches test for
        entered in error: its `status` element."""
        return str(content.get("status", ""))

    def marked_entered_in_error(self, content: dict[str, Any]) -> dict[str, Any]:
        """The content of the last version a DELETE keeps."""
        return {**content, "status": ENTERED_IN_ERROR}

    def within_people(self, ctx: Ctx, permission: Permission) -> QuerySet[Resource]:
        about = Q(person__in=openable_people(ctx.grant, self.name, permission))
        if self.held_unfiled:
            about |= Q(person__isnull=True, author=ctx.staff)
        return Resource.objects.filter(about, resource_type=self.name)

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        found = self.find_kept(ctx, fhir_id)
        if found is None or self.status_of(found.content) == ENTERED_IN_ERROR:
            return None
        return found

    def find_kept(self, ctx: Ctx, fhir_id: str) -> Item | None:
        found = unique_row(self.readable(ctx, Permission.READ).filter(fhir_id=fhir_id))
        return None if found is None else store.item(found)

    def withheld(self, ctx: Ctx, fhir_id: str) -> bool:
        return self.within_people(ctx, Permission.READ).filter(fhir_id=fhir_id).exists()

    def gone(self, ctx: Ctx, fhir_id: str) -> bool:
        found = self.find_kept(ctx, fhir_id)
        return found is not None and self.status_of(found.content) == ENTERED_IN_ERROR

    def sortable(self) -> dict[str, str]:
        """`_lastUpdated`, and every date parameter by the date it indexes."""
        return {
            name: "last_updated" if name == "_lastUpdated" else "date_start"
            for name, param in self.params.items()
            if param.kind == "date"
        }

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name in {"patient", "subject"}:
            return any_of(
                criterion,
                lambda v: (
                    Q(person__public_id=_uuid_or_none(v.removeprefix("Patient/")))
                    if _uuid_or_none(v.removeprefix("Patient/"))
                    else Q(pk__in=[])
                ),
            )
        if name == "_id":
            return Q(fhir_id__in=criterion.values)
        if name == "_lastUpdated":
            return every_date(criterion, "last_updated")
        if self.params[name].kind == "date":
            return any_of(criterion, lambda v: date_q("date_start", v))
        if name == "status":
            return Q(status__in=criterion.values)
        if self.params[name].kind == "token":
            return any_of(criterion, lambda v: self._token_q(name, v))
        raise bad_request(f"{self.name} cannot be searched by {name}")

    @staticmethod
    def _token_q(param: str, value: str) -> Q:
        system, code = parse_token(value)
        tokens = SearchToken.objects.filter(param=param)
        if code:
            tokens = tokens.filter(value=code)
        if system is not None:
            tokens = tokens.filter(system=system)
        return Q(pk__in=tokens.values("resource_id"))

    def matching(self, ctx: Ctx, request: SearchRequest) -> Matching[Resource]:
        matching = self.within_people(ctx, Permission.SEARCH).exclude(status=ENTERED_IN_ERROR)
        for criterion in request.criteria:
            matching = matching.filter(self.filter(criterion))
        return Matching(matching.filter(readable_q(ctx.staff)), matching)

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        matching = self.matching(ctx, request)
        ordered = matching.readable.order_by(*ordering(request.sort, self.sortable()))
        page = list(ordered[request.offset : request.offset + request.count])
        total = _total(matching.readable, request, len(page))
        return Page([store.item(r) for r in page], total, matching.withheld(total))

    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        return self.keep(ctx, content, fhir_id=store.new_id())

    def keep(self, ctx: Ctx, content: dict[str, Any], *, fhir_id: str) -> Item:
        prepared = self.prepare(ctx, content)
        kept = {"resourceType": self.name, "id": fhir_id, **strip_meta(prepared.content)}
        resource = store.store_new(
            self.name,
            kept,
            fhir_id=fhir_id,
            tokens=prepared.tokens,
            person=prepared.person,
            status=prepared.status,
            date_start=prepared.dates[0],
            date_end=prepared.dates[1],
            sensitivity=prepared.sensitivity,
            author=ctx.staff,
        )
        return store.item(resource)

    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        prepared = self.prepare(ctx, content)
        resource = Resource.objects.select_for_update().get(
            resource_type=self.name, fhir_id=current.fhir_id
        )
        if resource.person_id is not None and prepared.person is None:
            raise unprocessable(
                "business-rule",
                f"A {self.name} on a patient's record cannot be taken off it",
                f"{self.name}.{self.subject_element}",
            )
        if (
            resource.person_id is not None
            and prepared.person is not None
            and resource.person_id != prepared.person.pk
        ):
            raise unprocessable(
                "business-rule", f"A {self.name} cannot be moved to another patient", "subject"
            )
        kept = {"resourceType": self.name, "id": current.fhir_id, **strip_meta(prepared.content)}
        store.store_update(
            resource,
            kept,
            tokens=prepared.tokens,
            person=prepared.person,
            status=prepared.status,
            date_start=prepared.dates[0],
            date_end=prepared.dates[1],
            sensitivity=prepared.sensitivity,
        )
        return store.item(resource)

    def delete(self, ctx: Ctx, current: Item) -> Item:
        """Mark the resource entered in error: a last version is kept (method DELETE) with that
        status, so it leaves reads and searches but not history. The client must be able to
        delete in the person's record, as it must to update."""
        resource = Resource.objects.select_for_update().get(
            resource_type=self.name, fhir_id=current.fhir_id
        )
        people = openable_people(ctx.grant, self.name, Permission.DELETE)
        if resource.person_id is None:
            allowed = self.held_unfiled and resource.author_id == ctx.staff.pk
        else:
            allowed = people.filter(pk=resource.person_id).exists()
        if not allowed:
            raise FhirError(
                403,
                [
                    Issue(
                        "forbidden",
                        f"Your access does not allow deleting {self.name}/{current.fhir_id}",
                    )
                ],
            )
        content = self.marked_entered_in_error(resource.content)
        resource.status = ENTERED_IN_ERROR
        resource.save(update_fields=["status"])
        store.record_version(resource, content, method="DELETE")
        return store.item(resource)

    def history_type(self, ctx: Ctx) -> QuerySet[Resource]:
        return self.readable(ctx, Permission.READ)


class Received(StoredType):
    """Resources of a type Wholecare serves that another system sent and Wholecare's own model
    cannot hold (decision 0014): kept as received, whole, with their own ids and versions, tied to
    their person where the type is about one (`subject_element`; empty for directory-like types,
    which any client that may read the type reads), so that the same access, sensitivity and audit
    rules apply as to every entry about that person. Nothing in Wholecare reads them to decide
    anything: a received Consent is never applied, a received CareTeam opens no record, a received
    Questionnaire scores nothing, a received Practitioner is not staff."""

    writable = frozenset({"create"})
    interactions = READS
    statuses: ClassVar[frozenset[str]] = frozenset()
    """The statuses the type's `status` element takes; empty for types without one."""

    def check_status(self, content: dict[str, Any]) -> None:
        if self.statuses and "status" in content:
            super().check_status(content)

    def prepare(self, ctx: Ctx, content: dict[str, Any]) -> Prepared:
        if self.subject_element:
            return super().prepare(ctx, content)
        self.check_status(content)
        self.check(ctx, content)
        check_references(ctx, content, self.name, skip="")
        return self.prepared(content, None)

    def any_kept(self) -> bool:
        """Whether any resource of this type has been kept as received (most searches of a type
        that receives none need not build the received half's access-checked queries)."""
        return Resource.objects.filter(resource_type=self.name, record_pk__isnull=True).exists()

    def within_people(self, ctx: Ctx, permission: Permission) -> QuerySet[Resource]:
        if not self.subject_element:
            return Resource.objects.filter(resource_type=self.name, record_pk__isnull=True)
        return super().within_people(ctx, permission).filter(record_pk__isnull=True)

    def filter(self, criterion: Criterion) -> Q:
        """Besides the kept-whole searches: references other than the person's (`Type/id` or
        `id`) and strings (starts with, any case), by the tokens the type indexes."""
        name = criterion.name
        kind = self.params[name].kind
        tokens = SearchToken.objects.filter(param=name)
        if kind == "reference" and name not in {"patient", "subject"}:
            return any_of(
                criterion,
                lambda v: Q(
                    pk__in=tokens.filter(
                        Q(value=v) if "/" in v else Q(value__endswith=f"/{v}")
                    ).values("resource_id")
                ),
            )
        if kind == "string":
            return any_of(
                criterion,
                lambda v: Q(pk__in=tokens.filter(value__istartswith=v).values("resource_id")),
            )
        return super().filter(criterion)


class Receiving(ResourceType):
    """A type whose resources come from two sources: Wholecare's own (rendered from its model, or
    generated) and those received from other systems that its model cannot hold (`received`,
    decision 0014). Content goes to Wholecare's own model whenever `holds` says it is what that
    model holds (and is refused there if it is not valid), and is kept as received only otherwise.
    Reads find either; a search pages through Wholecare's own first, then those received (a
    `_sort` is offered only by `ReceivingRecord`, which merges the two). Wholecare's own half is
    the next class in the method order (a RecordType, or the generated instruments), which mypy
    sees only as the abstract ResourceType: hence the `safe-super` ignores."""

    received: ClassVar[Received]
    writable = frozenset({"create"})

    @abstractmethod
    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        """Whether this content is what Wholecare's own model holds (so it goes there)."""

    def create_own(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        return super().create(ctx, content)

    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        if self.holds(ctx, content):
            return self.create_own(ctx, content)
        return self.received.create(ctx, content)

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        return super().find(ctx, fhir_id) or self.received.find(ctx, fhir_id)  # type: ignore[safe-super]

    def find_kept(self, ctx: Ctx, fhir_id: str) -> Item | None:
        return super().find_kept(ctx, fhir_id) or self.received.find_kept(ctx, fhir_id)

    def withheld(self, ctx: Ctx, fhir_id: str) -> bool:
        return super().withheld(ctx, fhir_id) or self.received.withheld(ctx, fhir_id)

    def gone(self, ctx: Ctx, fhir_id: str) -> bool:
        return super().gone(ctx, fhir_id) or self.received.gone(ctx, fhir_id)

    def delete(self, ctx: Ctx, current: Item) -> Item:
        if self.received.find_kept(ctx, current.fhir_id) is None:
            return super().delete(ctx, current)
        return self.received.delete(ctx, current)

    def history_type(self, ctx: Ctx) -> QuerySet[Resource]:
        return super().history_type(ctx) | self.received.history_type(ctx)

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        """Wholecare's own matches, then those received: the page takes what is left of it
        from the received ones, from where Wholecare's own end."""
        own = super().search(ctx, request)  # type: ignore[safe-super]
        if not self.received.any_kept():
            return own
        left = request.count - len(own.items)
        received = self.received.search(
            ctx,
            SearchRequest(
                criteria=request.criteria,
                count=left,
                offset=max(0, request.offset - own.total),
            ),
        )
        return Page(
            own.items + received.items,
            own.total + received.total,
            own.withheld + received.withheld,
        )


class ReceivingRecord(Receiving, RecordType[M]):
    """A type of two sources whose own half is rendered from a model of the record. It offers the
    `_sort` parameters both halves sort by, and pages through the two in one order: each half's
    first matches up to the page's end, merged by their sort values (empty ones last either way),
    then Wholecare's own before those received, then each row's key, so paging is stable."""

    changed_where: ClassVar[str] = "is Wholecare's own: it cannot be changed through the API"
    """Why an update of one of Wholecare's own is refused (after its type and id)."""

    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        if self.received.find_kept(ctx, current.fhir_id) is not None:
            return self.received.update(ctx, current, content)
        raise FhirError(
            405, [Issue("not-supported", f"{self.name}/{current.fhir_id} {self.changed_where}")]
        )

    def sortable(self) -> dict[str, str]:
        received = self.received.sortable()
        return {name: column for name, column in self.sorts.items() if name in received}

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        if not request.sort or not self.received.any_kept():
            return super().search(ctx, request)
        end = request.offset + request.count
        own = self.matching(ctx, request)
        received = self.received.matching(ctx, request)
        keyed = sorted(
            _sort_values(own.readable, request.sort, self.sortable(), end, 0)
            + _sort_values(received.readable, request.sort, self.received.sortable(), end, 1),
            key=cmp_to_key(partial(_compare_sort_values, request.sort)),
        )[request.offset : end]
        own_rows = own.readable.in_bulk([pk for _, half, pk in keyed if half == 0])
        own_items = dict(zip(own_rows, self.items(list(own_rows.values())), strict=True))
        received_items = {
            r.pk: store.item(r)
            for r in received.readable.filter(pk__in=[pk for _, half, pk in keyed if half == 1])
        }
        own_total, received_total = own.readable.count(), received.readable.count()
        return Page(
            [own_items[pk] if half == 0 else received_items[pk] for _, half, pk in keyed],
            own_total + received_total,
            own.withheld(own_total) + received.withheld(received_total),
        )


SortValues = tuple[tuple[Any, ...], int, int]
"""A match's sort values, which half it is from (0: Wholecare's own, 1: received), its key."""


def _sort_values(
    rows: QuerySet[Any], sort: list[SortKey], columns: dict[str, str], end: int, half: int
) -> list[SortValues]:
    columns_sorted = [columns[key.name] for key in sort]
    first = rows.order_by(*ordering(sort, columns)).values_list(*columns_sorted, "pk")[:end]
    return [(tuple(map(_comparable, values[:-1])), half, values[-1]) for values in first]


def _comparable(value: Any) -> Any:
    """A date as the instant its day begins (in the server's time zone), as a date is indexed
    when kept whole, so that Wholecare's dates and received instants sort together."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), tzinfo=timezone.get_current_timezone())
    return value


def _compare_sort_values(sort: list[SortKey], a: SortValues, b: SortValues) -> int:
    for key, x, y in zip(sort, a[0], b[0], strict=True):
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        return (1 if x > y else -1) * (-1 if key.descending else 1)
    return (a[1] > b[1]) - (a[1] < b[1]) or (a[2] > b[2]) - (a[2] < b[2])
