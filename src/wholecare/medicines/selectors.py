"""Reads for the medicines other systems send: the lists set side by side under the sharing rule
for a reconciliation (decision 0042), whom to consider for a structured medication review
(decision 0043), and the reviews recorded (decision 0045)."""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, FilteredRelation, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from wholecare.access.audit import audit_many
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.access.permissions import (
    Relationship,
    decisions_of,
    entries_person_reads_q,
    online_access_since,
    staff_caring_for_q,
    staff_of,
)
from wholecare.access.rules import readable_sensitivities
from wholecare.directory.disciplines import MEDICINES_RECONCILERS, Discipline
from wholecare.directory.models import Organisation, Staff
from wholecare.fhir import medicines, received
from wholecare.fhir.access import readable_q
from wholecare.fhir.mappers.medication import REVIEW_GROUP
from wholecare.fhir.models import Resource
from wholecare.medicines import review
from wholecare.medicines.models import (
    MedicationReview,
    MedicinesReconciliation,
    PrescriberRequest,
)
from wholecare.medicines.reconciliation import Compared, Comparison, Decision, Listed, compare
from wholecare.record.models import Person, RecordEntry
from wholecare.record.selectors import (
    caseload_people,
    first_and_total,
    on_caseload,
    person_header_and_relationship,
)
from wholecare.record.services import caring_for


def may_reconcile(staff: Staff, relationship: Relationship | None) -> bool:
    """Pharmacists, prescribers and nurses (`MEDICINES_RECONCILERS`) caring for the person;
    access by breaking glass reads, and changes nothing that lasts."""
    return caring_for(relationship) and staff.discipline_enum in MEDICINES_RECONCILERS


def comparison(staff: Staff, person: Person, today: dt.date) -> Comparison:
    """The medicines lists `staff` may read, side by side: the GP practice's first, as the
    record the person's prescribing answers to, then the others by who sent them; with how
    many statements the sharing rule keeps from `staff`."""
    rows = received.medicine_statements(staff, person, today)
    rows.sort(key=lambda r: (*_list_order(r.author), r.pk))
    return compare(
        (
            Listed(
                received.sent_from(r.author) or "Another system",
                f"MedicationStatement/{r.fhir_id}/_history/{r.version}",
                medicines.summarise(r.content, today),
                r.sensitivity,
            )
            for r in rows
        ),
        withheld=received.withheld_medicine_statements(staff, person, today),
    )


def _list_order(author: Staff | None) -> tuple[int, str]:
    """GP practices' lists first, then other organisations', then what no member of staff sent."""
    if author is None:
        return 2, ""
    gp = author.organisation.kind == Organisation.Kind.GP_PRACTICE
    return (0 if gp else 1), author.organisation.name


@dataclass(frozen=True)
class LastReconciled:
    """The person's latest medicines reconciliation not entered in error, for the summary."""

    reconciliation: MedicinesReconciliation
    differing: int
    to_follow_up: int
    changed_since: bool
    """A list the user reads has changed since: the reconciliation no longer covers it."""


def last_reconciled(staff: Staff | None, person: Person) -> LastReconciled | None:
    """`staff` None: the person reading their own record, who reads every list; otherwise the
    latest whose note `staff` reads under the sharing rule (decision 0047). Two queries: the
    reconciliation with its counts, and when the lists last changed."""
    found = MedicinesReconciliation.objects.filter(person=person, entry__entered_in_error_at=None)
    if staff is not None:
        found = found.filter(readable_q(staff, "entry__"))
    latest = (
        found.select_related("reconciled_by__user")
        .annotate(
            differing=Count("medicines", filter=~Q(medicines__differences=[])),
            following_up=Count(
                "medicines", filter=Q(medicines__decision=Decision.TO_FOLLOW_UP.value)
            ),
        )
        .order_by("-reconciled_at", "-pk")
        .first()
    )
    if latest is None:
        return None
    statements = Resource.objects.filter(resource_type="MedicationStatement", person=person)
    if staff is not None:
        statements = statements.filter(readable_q(staff))
    changed = statements.aggregate(latest=Max("last_updated"))["latest"]
    return LastReconciled(
        latest,
        differing=latest.differing,
        to_follow_up=latest.following_up,
        changed_since=changed is not None and changed > latest.reconciled_at,
    )


def last_checked_for_person(person: Person) -> MedicinesReconciliation | None:
    """The person's latest medicines reconciliation whose note they read in their own record
    (decision 0040), for their Medicines card: none while their notes are not shown online."""
    readable = _entries_person_reads(person)
    if readable is None:
        return None
    found = MedicinesReconciliation.objects.filter(person=person, entry__in=readable)
    return found.select_related("reconciled_by__user").order_by("-reconciled_at", "-pk").first()


def last_reviewed_for_person(person: Person) -> MedicationReview | None:
    """The person's latest structured medication review whose note they read, as
    `last_checked_for_person`."""
    readable = _entries_person_reads(person)
    if readable is None:
        return None
    found = MedicationReview.objects.filter(person=person, entry__in=readable)
    return found.select_related("reviewed_by__user").order_by("-reviewed_at", "-pk").first()


def _entries_person_reads(person: Person) -> QuerySet[RecordEntry] | None:
    since = online_access_since(person)
    if since is None or person.notes_online_paused_at is not None:
        return None
    return RecordEntry.objects.filter(entries_person_reads_q(since), person=person)


@dataclass(frozen=True)
class Prescriber:
    """An organisation a reconciliation may ask to correct its list, or a review to make a change
    agreed (decision 0046)."""

    organisation: Organisation
    reads: frozenset[str]
    """The kinds of entry (`Sensitivity` values) that at least one of its pharmacists,
    prescribers and nurses caring for the person, who answer in Wholecare, reads: none when
    nobody there cares for the person."""

    def label(self, restricted: frozenset[str] = frozenset()) -> str:
        """Its name as offered for a medicine whose statements are `restricted`
        (`Compared.restricted`), saying when nobody there could read the request in Wholecare
        (decision 0048), so that the asker contacts them directly as well."""
        name = self.organisation.name
        if not self.reads:
            return (
                f"{name} (nobody there cares for the person in Wholecare: ask them directly as"
                " well)"
            )
        if not restricted <= self.reads:
            return (
                f"{name} (nobody there who answers in Wholecare may read this medicine's record:"
                " ask them directly as well)"
            )
        return name


def prescribers_to_ask(person: Person, sources: tuple[str, ...]) -> list[Prescriber]:
    """The organisations whose lists were compared (`sources`, by name), in that order, and the
    person's registered GP practice first if it sent none: the practice answers for most of the
    person's prescribing. Three queries."""
    sent = {
        organisation.name: organisation
        for organisation in Organisation.objects.filter(
            name__in=sources,
            staff__fhir_resources__person=person,
            staff__fhir_resources__resource_type="MedicationStatement",
        ).distinct()
    }
    organisations = [sent[name] for name in sources if name in sent]
    practice = person.registered_practice
    if practice is not None and practice not in organisations:
        organisations.insert(0, practice)
    answering: dict[int, set[Discipline]] = {}
    for organisation, discipline in (
        Staff.objects.filter(
            staff_caring_for_q(person),
            organisation__in=organisations,
            discipline__in=MEDICINES_RECONCILERS,
        )
        .values_list("organisation", "discipline")
        .distinct()
    ):
        answering.setdefault(organisation, set()).add(Discipline(discipline))
    decisions = decisions_of(SharingConsent.objects.filter(person=person))
    return [
        Prescriber(
            o,
            frozenset[str]().union(
                *(readable_sensitivities(d, decisions) for d in answering.get(o.pk, ()))
            ),
        )
        for o in organisations
    ]


def may_answer(staff: Staff, relationship: Relationship | None, request: PrescriberRequest) -> bool:
    """Pharmacists, prescribers and nurses of the organisation asked, caring for the person."""
    return (
        caring_for(relationship)
        and staff.discipline_enum in MEDICINES_RECONCILERS
        and staff.organisation_id == request.asked_of_id
    )


def request_readable_q(staff: Staff) -> Q:
    """The requests to the prescriber the sharing rule lets `staff` read: those whose medicine
    is shared with them, and their own (decision 0048)."""
    return readable_q(staff, author="asked_by")


def may_withdraw(
    staff: Staff, relationship: Relationship | None, request: PrescriberRequest
) -> bool:
    """Whoever asked, or a pharmacist, prescriber or nurse of their organisation covering for
    them, while caring for the person: resolved another way, or asked in error."""
    return caring_for(relationship) and (
        request.asked_by_id == staff.pk
        or (
            staff.discipline_enum in MEDICINES_RECONCILERS
            and staff.organisation_id == request.asked_by.organisation_id
        )
    )


def _ended_by(note: str) -> Q:
    """Requests the note at `note` (their answer or withdrawal) ended: one there, not entered
    in error."""
    return Q(**{f"{note}__isnull": False, f"{note}__entered_in_error_at": None})


#: Requests asked by a note not entered in error.
ASKED_Q = Q(asked_in__entered_in_error_at=None)
#: Requests answered (by a note not entered in error).
ANSWERED_Q = ASKED_Q & _ended_by("answer_entry")
#: Requests withdrawn unanswered by whoever asked or a colleague.
WITHDRAWN_Q = ASKED_Q & _ended_by("withdrawal_entry")
#: Requests neither answered nor withdrawn, which wait on the organisation asked.
WAITING_Q = ASKED_Q & ~_ended_by("answer_entry") & ~_ended_by("withdrawal_entry")


def waiting() -> QuerySet[PrescriberRequest]:
    """Requests to the prescriber still waiting (`WAITING_Q`); the longest waiting first."""
    return (
        PrescriberRequest.objects.filter(WAITING_Q)
        .select_related("asked_of", "asked_by__user")
        .order_by("asked_at", "pk")
    )


@dataclass(frozen=True)
class Waiting:
    request: PrescriberRequest
    may_answer: bool
    may_withdraw: bool


def requests_waiting(
    staff: Staff, person: Person, relationship: Relationship | None
) -> list[Waiting]:
    """The requests about the person's medicines still waiting on a prescriber that `staff`
    reads: the summary and the reconciliation page show them."""
    return [
        Waiting(
            request,
            may_answer(staff, relationship, request),
            may_withdraw(staff, relationship, request),
        )
        for request in waiting().filter(request_readable_q(staff), person=person)
    ]


def requests_for_person(person: Person) -> list[PrescriberRequest]:
    """The requests about the person's medicines still waiting on a prescriber, of notes they
    read in their own record (decision 0040), for their Medicines card: they can chase them
    too. None while their notes are not shown online."""
    readable = _entries_person_reads(person)
    if readable is None:
        return []
    return list(waiting().filter(person=person, asked_in__in=readable))


#: How many of the requests they made, waiting or answered lately, the caseload lists of each.
MY_REQUESTS_SHOWN = 20
#: How long an answer stays on the caseload of whoever asked.
ANSWERS_SHOWN_FOR = dt.timedelta(days=30)


@dataclass(frozen=True)
class MyRequest:
    request: PrescriberRequest
    waiting_days: int


@dataclass(frozen=True)
class MyRequests:
    """The requests to prescribers the user and their colleagues made (`_ours`): those still
    waiting, the longest first, so they can chase them; and those answered lately, the latest
    first, so they learn what was done."""

    waiting: list[MyRequest]
    waiting_total: int
    answered: list[PrescriberRequest]
    answered_total: int


def _ours(staff: Staff) -> Q:
    """Requests the user made and, for a pharmacist, prescriber or nurse, those colleagues of
    their organisation made about people on their caseload, that the sharing rule lets them
    read: a colleague away, theirs to chase or withdraw (decision 0048)."""
    mine = Q(asked_by=staff)
    if staff.discipline_enum not in MEDICINES_RECONCILERS:
        return mine
    colleagues = Q(asked_by__organisation=staff.organisation_id) & request_readable_q(staff)
    return mine | (colleagues & on_caseload(staff))


@transaction.atomic
def my_requests(*, by: AbstractBaseUser) -> MyRequests:
    """As `MyRequests`; audited like the caseload."""
    staff = staff_of(by)
    today = timezone.localdate()
    ours = _ours(staff)
    still, still_total = first_and_total(
        waiting().filter(ours).select_related("person"), MY_REQUESTS_SHOWN
    )
    answered, answered_total = first_and_total(
        PrescriberRequest.objects.filter(
            ANSWERED_Q,
            ours,
            answer_entry__occurred_at__gte=timezone.now() - ANSWERS_SHOWN_FOR,
        )
        .select_related("person", "asked_of", "asked_by__user", "answer_entry")
        .order_by("-answer_entry__occurred_at", "-pk"),
        MY_REQUESTS_SHOWN,
    )
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={request.person for request in still + answered},
        what="requests to the prescriber my colleagues and I made",
    )
    return MyRequests(
        [MyRequest(r, (today - timezone.localdate(r.asked_at)).days) for r in still],
        still_total,
        answered,
        answered_total,
    )


#: How many requests to the user's organisation the caseload lists at most.
REQUESTS_SHOWN = 20


@transaction.atomic
def requests_to_answer(*, by: AbstractBaseUser) -> tuple[list[PrescriberRequest], int]:
    """The requests waiting on the user's organisation about people on their caseload, the
    longest waiting first, and how many there are; nothing for anyone who does not reconcile.
    Audited."""
    staff = staff_of(by)
    if staff.discipline_enum not in MEDICINES_RECONCILERS:
        return [], 0
    asked = waiting().filter(
        request_readable_q(staff), on_caseload(staff), asked_of=staff.organisation_id
    )
    found, total = first_and_total(asked.select_related("person"), REQUESTS_SHOWN)
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={request.person for request in found},
        what="requests to the prescriber",
    )
    return found, total


@dataclass(frozen=True)
class WaitingRequest:
    person: Person
    request: PrescriberRequest
    may_answer: bool
    may_withdraw: bool


def waiting_request(
    *, by: AbstractBaseUser, public_id: uuid.UUID, request: uuid.UUID
) -> WaitingRequest | None:
    """The page answering (or withdrawing) a request to the prescriber: None unless the person's
    request `request`, which the user reads, is still waiting. Audited as a view;
    AccessDenied as for the record."""
    staff = staff_of(by)
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="request to the prescriber"
    )
    found = waiting().filter(request_readable_q(staff), person=person, public_id=request).first()
    if found is None:
        return None
    return WaitingRequest(
        person,
        found,
        may_answer(staff, relationship, found),
        may_withdraw(staff, relationship, found),
    )


@dataclass(frozen=True)
class ToReconcile:
    person: Person
    comparison: Comparison
    may_reconcile: bool
    last: LastReconciled | None
    prescribers: list[Prescriber]
    waiting: list[Waiting]
    """Requests to prescribers not yet answered."""


def to_reconcile(*, by: AbstractBaseUser, public_id: uuid.UUID) -> ToReconcile:
    """The page reconciling the person's medicines: the lists side by side, whether the user may
    record a reconciliation, whom they may ask to correct a list, the last reconciliation and
    the requests to prescribers still waiting. Audited as a view; AccessDenied as for the
    record."""
    staff = staff_of(by)
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="medicines reconciliation"
    )
    compared = comparison(staff, person, timezone.localdate())
    return ToReconcile(
        person,
        compared,
        may_reconcile(staff, relationship),
        last_reconciled(staff, person),
        prescribers_to_ask(person, compared.sources),
        requests_waiting(staff, person, relationship),
    )


#: How many reconciliations with something to follow up the caseload lists at most.
TO_FOLLOW_UP_SHOWN = 20


@dataclass(frozen=True)
class FollowUp:
    person: Person
    reconciled_at: dt.datetime
    to_follow_up: int
    """How many medicines the reconciliation left to follow up."""


@transaction.atomic
def to_follow_up(*, by: AbstractBaseUser) -> tuple[list[FollowUp], int]:
    """The people on the user's caseload whose latest medicines reconciliation the user made and
    left with something to follow up, the longest waiting first, and how many there are: the
    loop stays open on their caseload until they reconcile again. Nothing for anyone who does
    not reconcile. Audited."""
    staff = staff_of(by)
    if staff.discipline_enum not in MEDICINES_RECONCILERS:
        return [], 0
    open_decision = Decision.TO_FOLLOW_UP.value
    in_force = MedicinesReconciliation.objects.filter(entry__entered_in_error_at=None)
    latest = in_force.filter(person=OuterRef("person")).order_by("-reconciled_at", "-pk")
    following = (
        in_force.filter(
            reconciled_by=staff,
            person__in=caseload_people(staff),
            pk=Subquery(latest.values("pk")[:1]),
        )
        .annotate(medicines_open=Count("medicines", filter=Q(medicines__decision=open_decision)))
        .filter(medicines_open__gt=0)
        .order_by("reconciled_at", "pk")
    )
    rows, total = first_and_total(
        following.values_list("person", "reconciled_at", "medicines_open"), TO_FOLLOW_UP_SHOWN
    )
    people = Person.objects.in_bulk([row[0] for row in rows])
    found = [FollowUp(people[person], when, count) for person, when, count in rows]
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={f.person for f in found},
        what="medicines to follow up",
    )
    return found, total


#: How many people a page of those to consider for a medication review lists.
MEDICATION_REVIEWS_PAGE = 50
#: Who carries out structured medication reviews, and so is shown whom to consider for one.
MEDICATION_REVIEWERS = frozenset({Discipline.PHARMACIST, Discipline.GP})


@dataclass(frozen=True)
class ReviewToConsider:
    person: Person
    medicines: int
    """In force in the longest list a system sends: a hospital clinic's copy of the GP
    practice's list is not more medicines."""
    cohorts: tuple[review.Cohort, ...]
    groups: tuple[review.Group, ...]
    """The groups of potentially addictive or error-prone medicines they take."""

    @property
    def reasons(self) -> list[str]:
        """Each cohort in words, with the groups that put them in it: "Potentially addictive:
        an opioid, a gabapentinoid"."""
        found = []
        for cohort in self.cohorts:
            named = [group.label for group in self.groups if group.cohort is cohort]
            found.append(cohort.label + (": " + ", ".join(named) if named else ""))
        return found


@dataclass(frozen=True)
class ReviewsToConsider:
    rows: list[ReviewToConsider]
    page: int
    pages: int
    total: int


@transaction.atomic
def medication_reviews_to_consider(
    *, by: AbstractBaseUser, page: int = 1, per_page: int = MEDICATION_REVIEWS_PAGE
) -> ReviewsToConsider:
    """For pharmacists and GPs: one page of the people on their caseload in a cohort the
    structured medication review service names (`review.Cohort`), as the medicines in force other
    systems send and the user may read show it; those in most cohorts first, then the most
    medicines. A page past the last is the last. Nothing for anyone else. Only the page is
    audited, like the caseload's other lists (decisions 0037 and 0043)."""
    staff = staff_of(by)
    if staff.discipline not in MEDICATION_REVIEWERS:
        return ReviewsToConsider([], 1, 1, 0)
    taking = Resource.objects.filter(
        readable_q(staff),
        resource_type="MedicationStatement",
        status="active",
        person__in=caseload_people(staff),
    )
    grouped: dict[int, set[str]] = {}
    lists: dict[tuple[int, int | None], set[int]] = {}
    for pk, person, organisation, group in taking.annotate(
        review_token=FilteredRelation("tokens", condition=Q(tokens__param=REVIEW_GROUP))
    ).values_list("pk", "person", "author__organisation", "review_token__value"):
        lists.setdefault((person, organisation), set()).add(pk)
        if group in review.BY_KEY:
            grouped.setdefault(person, set()).add(group)
    longest: dict[int, int] = {}
    for (person, _), statements in lists.items():
        longest[person] = max(longest.get(person, 0), len(statements))
    considered = {
        pk: count
        for pk, count in longest.items()
        if count >= review.MANY_MEDICINES or pk in grouped
    }
    for pk in reviewed_lately(list(considered), timezone.localdate()):
        del considered[pk]
    found = sorted(
        (
            (review.cohorts(count, grouped.get(pk, ())), count, pk)
            for pk, count in considered.items()
        ),
        key=lambda row: (-len(row[0]), -row[1], row[2]),
    )
    pages = max(1, -(-len(found) // per_page))
    page = min(max(page, 1), pages)
    on_page = found[(page - 1) * per_page : page * per_page]
    people = Person.objects.in_bulk([pk for _, _, pk in on_page])
    shown = [
        ReviewToConsider(
            people[pk],
            count,
            cohorts,
            tuple(g for g in review.GROUPS if g.key in grouped.get(pk, ())),
        )
        for cohorts, count, pk in on_page
    ]
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={row.person for row in shown},
        what="people to consider for a structured medication review",
    )
    return ReviewsToConsider(shown, page, pages, len(found))


def reviewed_lately(people: list[int], today: dt.date) -> set[int]:
    """Those of `people` whose latest structured medication review (not entered in error) still
    keeps them off the list to consider (`review.still_reviewed`)."""
    latest: dict[int, tuple[dt.date, dt.date | None]] = {}
    for person, when, next_review in (
        MedicationReview.objects.filter(
            person__in=people,
            entry__entered_in_error_at=None,
            reviewed_at__gte=timezone.now() - review.REVIEWED_FOR,
        )
        .order_by("reviewed_at", "pk")
        .values_list("person", "reviewed_at", "next_review")
    ):
        latest[person] = (timezone.localdate(when), next_review)
    return {
        person
        for person, (when, next_review) in latest.items()
        if review.still_reviewed(when, next_review, today)
    }


def may_review(staff: Staff, relationship: Relationship | None) -> bool:
    """Pharmacists and GPs (`MEDICATION_REVIEWERS`) caring for the person record a structured
    medication review with them (decision 0045)."""
    return caring_for(relationship) and staff.discipline_enum in MEDICATION_REVIEWERS


def last_review(person: Person) -> MedicationReview | None:
    """The person's latest structured medication review not entered in error."""
    return (
        MedicationReview.objects.filter(person=person, entry__entered_in_error_at=None)
        .select_related("reviewed_by__user")
        .order_by("-reviewed_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ToReview:
    person: Person
    comparison: Comparison
    may_review: bool
    last: MedicationReview | None
    prescribers: list[Prescriber]
    """Whom the review may ask to make a change agreed."""

    @property
    def taking(self) -> list[Compared]:
        """The medicines in force in some list, one row each however many lists have them."""
        return [m for m in self.comparison.medicines if m.in_force]


def to_review(*, by: AbstractBaseUser, public_id: uuid.UUID) -> ToReview:
    """The page recording a structured medication review: the medicines the person takes as
    the lists the user may read have them, whether the user may record one, the last, and
    whom a change agreed may be asked of. Audited as a view; AccessDenied as for the record."""
    staff = staff_of(by)
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="structured medication review"
    )
    compared = comparison(staff, person, timezone.localdate())
    return ToReview(
        person,
        compared,
        may_review(staff, relationship),
        last_review(person),
        prescribers_to_ask(person, compared.sources),
    )
