"""Reads of the shared care record. Every read of a person's data checks access through the
permission
module, filters in the query (so paging and counts never leak) and is audited in the same
transaction.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import Truncator

from wholecare.access.audit import audit, audit_many
from wholecare.access.models import AuditEvent, ProxyAccess
from wholecare.access.permissions import (
    AccessDenied,
    Relationship,
    check_can_open_record,
    entries_person_reads_q,
    notes_read_online_since,
    online_access_since,
    people_openable_q,
    proxy_access,
    sensitive_access,
    staff_of,
)
from wholecare.access.rules import person_reads_entry
from wholecare.directory.disciplines import NO_DIRECT_CARE, SOCIAL_CARE_ASSESSORS
from wholecare.directory.models import Service, Staff
from wholecare.record import nhs_number, services
from wholecare.record.models import (
    Alert,
    CarePlan,
    CareTeamMembership,
    Condition,
    Person,
    RecordEntry,
    Referral,
    SocialCareNeed,
)
from wholecare.record.vocabulary import ConditionGroup, Sensitivity

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

TIMELINE_PAGE = 50

#: The last entry a page of the timeline showed, its time and then its id (the timeline's order),
#: from which the next page goes on: entries dated to the same minute are never skipped.
EntryMark = tuple[dt.datetime, int]


def openable_person(staff: Staff, public_id: uuid.UUID) -> tuple[Person, Relationship]:
    """The person, if this member of staff may open their record; AccessDenied whether or not they
    exist."""
    person = (
        Person.objects.filter(public_id=public_id)
        .select_related("registered_practice", "user")
        .first()
    )
    if person is None:
        raise AccessDenied("You do not have a care relationship with this person")
    return person, check_can_open_record(staff, person)


@dataclass(frozen=True)
class CaseloadRow:
    person: Person
    roles: list[str]
    services: list[str]
    urgent_since: dt.date | None = None
    """When the most pressing of the person's referrals to my services was received, if it was
    sent as more than routine."""
    urgency: int = 0
    """How pressing that referral is (`URGENCY`); 0 for routine."""
    alerts: list[Alert] = field(default_factory=list)
    """The person's alerts in force, to know before a visit (decision 0023)."""


#: How many members of staff a search for a care team colleague shows.
CANDIDATES_SHOWN = 20

#: The summary lists the needs awaiting assessment first (the longest waiting at the top), then
#: those with support in place, then those met.
_NEED_ORDER = {
    SocialCareNeed.Status.AWAITING: 0,
    SocialCareNeed.Status.ASSESSED: 1,
    SocialCareNeed.Status.MET: 2,
}

#: How pressing each referral priority is, most pressing highest (FHIR request-priority order).
URGENCY = {
    Referral.Priority.ROUTINE: 0,
    Referral.Priority.URGENT: 1,
    Referral.Priority.ASAP: 2,
    Referral.Priority.STAT: 3,
}


_Row = TypeVar("_Row")


def first_and_total(ordered: QuerySet[Any, _Row], limit: int) -> tuple[list[_Row], int]:
    """The first `limit` of `ordered`, and how many there are in all: counted only when the list
    is full, so a short list costs one query."""
    shown = list(ordered[:limit])
    return shown, len(shown) if len(shown) < limit else ordered.count()


def _urgency() -> Case:
    """A referral's `URGENCY`, in the query."""
    return Case(
        *(When(priority=priority, then=Value(rank)) for priority, rank in URGENCY.items()),
        default=Value(0),
    )


def _most_pressing_first(referrals: QuerySet[Referral], *before: str) -> QuerySet[Referral]:
    """Referrals asking for more than routine first, the most pressing at the top, then the
    longest waiting; after ordering by `before`, if given."""
    return referrals.order_by(*before, _urgency().desc(), "received_date", "pk")


class _Pressing(TypedDict):
    urgency: int
    urgent_since: dt.date | None


def _caseload_row(
    person: "WithAnnotations[Person, _Pressing]",
    memberships: list[CareTeamMembership],
    referrals: list[Referral],
    alerts: list[Alert],
) -> CaseloadRow:
    return CaseloadRow(
        person=person,
        roles=[m.role for m in memberships],
        services=[_referred_to(r) for r in referrals],
        urgent_since=person.urgent_since,
        urgency=person.urgency,
        alerts=alerts,
    )


def _my_memberships(staff: Staff) -> QuerySet[CareTeamMembership]:
    """The care teams the member of staff is on today; none for staff who give no direct care,
    who open no record whatever the directory says (`people_openable_q`)."""
    if staff.discipline_enum in NO_DIRECT_CARE:
        return CareTeamMembership.objects.none()
    today = timezone.localdate()
    return CareTeamMembership.objects.filter(staff=staff, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )


def _my_referrals(staff: Staff) -> QuerySet[Referral]:
    """The open referrals to the member of staff's services; none for staff who give no direct
    care (as `_my_memberships`)."""
    if staff.discipline_enum in NO_DIRECT_CARE:
        return Referral.objects.none()
    return Referral.objects.filter(service__in=staff.services.all(), status=Referral.Status.OPEN)


def _on_caseload(staff: Staff) -> Q:
    """People on the care teams the member of staff is on, or referred to their services."""
    return Q(pk__in=_my_memberships(staff).values("person_id")) | Q(
        pk__in=_my_referrals(staff).values("person_id")
    )


def on_caseload(staff: Staff, person: str = "person") -> Q:
    """Rows whose `person` is on the member of staff's caseload (`_on_caseload`), tested row by
    row: cheaper than `caseload_people` for a few rows against a caseload of thousands, whose
    list the database would otherwise build in full."""
    return Q(Exists(_my_memberships(staff).filter(person=OuterRef(person)))) | Q(
        Exists(_my_referrals(staff).filter(person=OuterRef(person)))
    )


def caseload_people(staff: Staff) -> QuerySet[Person]:
    """Everyone on the member of staff's caseload (`_on_caseload`), unaudited: for a caller that
    narrows them further and audits whom it shows."""
    return Person.objects.filter(_on_caseload(staff))


#: How many people a page of the caseload lists.
CASELOAD_PAGE = 50


@dataclass(frozen=True)
class Caseload:
    rows: list[CaseloadRow]
    """People referred to the user's services as more than routine first, the most pressing and
    the longest waiting at the top; then everyone else by name."""
    page: int
    pages: int
    total: int
    urgent: int
    """How many of them (on every page, not only this one) are referred as more than routine."""
    name: str
    """What the list is narrowed to, if anything: people whose names hold every word of it."""


#: The longest text the caseload's name filter takes.
CASELOAD_NAME_LENGTH = 100


@transaction.atomic
def caseload(*, by: AbstractBaseUser, page: int = 1, name: str = "") -> Caseload:
    """One page of the people on the user's caseload (`CASELOAD_PAGE`), ordered in the query so
    that only that page is read and audited, however many people a GP's list or a Home First
    team's referrals hold. A page past the last is the last. `name` narrows the list to people
    whose given or family name holds each of its words, in any case ("sam coo" finds Sam
    Coombe): within their own caseload staff may browse, which the person search, an exact
    trace over everyone, does not allow."""
    staff = staff_of(by)
    name = " ".join(name.split())[:CASELOAD_NAME_LENGTH]
    memberships = _my_memberships(staff)
    referrals = _my_referrals(staff)
    pressing = _most_pressing_first(
        referrals.filter(person=OuterRef("pk")).exclude(priority=Referral.Priority.ROUTINE)
    )
    people = caseload_people(staff).annotate(
        urgency=Coalesce(Subquery(pressing.values_list(_urgency())[:1]), 0),
        urgent_since=Subquery(pressing.values("received_date")[:1]),
    )
    for word in name.split():
        people = people.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    counts = people.aggregate(total=Count("pk"), urgent=Count("pk", filter=Q(urgency__gt=0)))
    pages = max(1, -(-counts["total"] // CASELOAD_PAGE))
    page = min(max(page, 1), pages)
    shown = people.prefetch_related(
        Prefetch("care_team", queryset=memberships, to_attr="my_memberships"),
        Prefetch("referrals", queryset=referrals.select_related("service"), to_attr="my_referrals"),
        Prefetch(
            "alerts",
            queryset=Alert.objects.filter(_alerts_in_force()).order_by("raised_at", "pk"),
            to_attr="alerts_in_force",
        ),
    ).order_by(
        "-urgency",
        F("urgent_since").asc(nulls_last=True),
        "family_name",
        "given_name",
        "pk",
    )[(page - 1) * CASELOAD_PAGE : page * CASELOAD_PAGE]
    rows = [_caseload_row(p, p.my_memberships, p.my_referrals, p.alerts_in_force) for p in shown]
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people=[row.person for row in rows],
        what="caseload list",
    )
    return Caseload(
        rows=rows,
        page=page,
        pages=pages,
        total=counts["total"],
        urgent=counts["urgent"],
        name=name,
    )


@dataclass(frozen=True)
class ReceivedReferral:
    referral: Referral
    waiting_days: int
    """Days since it was received."""
    closable: bool
    """Whether the user may close it here (not one on the Talking Therapies pathway, say)."""
    acceptable: bool
    """Whether it awaits the service's acceptance (`services.may_accept_referral`)."""
    startable: bool
    """Whether it awaits a start on the Talking Therapies pathway
    (`services.may_start_on_pathway`)."""


@dataclass(frozen=True)
class ReferralsReceived:
    services: list[Service]
    """The services the user works in, which they may narrow the list to."""
    service: Service | None
    """The one service the list is narrowed to, if it is."""
    referrals: list[ReceivedReferral]
    """The open referrals, those awaiting acceptance first (the most pressing, then the longest
    waiting), then those accepted (the longest open first), at most `REFERRALS_SHOWN`."""
    total: int


#: How many open referrals the list of referrals received shows at most.
REFERRALS_SHOWN = 200


@transaction.atomic
def referrals_received(*, by: AbstractBaseUser, service_id: int | None = None) -> ReferralsReceived:
    """The open referrals to the services the user works in (or to one of them), for them to
    triage, accept and close: those awaiting acceptance first, the most pressing and then the
    longest waiting at the top. A `service_id` that is not one of theirs raises LookupError.
    Audited like the caseload."""
    staff = staff_of(by)
    mine = sorted(staff.services.all(), key=lambda service: service.name)
    service = None
    if service_id is not None:
        service = next((s for s in mine if s.pk == service_id), None)
        if service is None:
            raise LookupError(f"Service {service_id} is not one you work in")
    open_referrals = _my_referrals(staff)
    if service is not None:
        open_referrals = open_referrals.filter(service=service)
    awaiting_first = open_referrals.select_related(
        "person", "service", "referred_by__user"
    ).annotate(accepted=Q(accepted_at__isnull=False))
    shown, total = first_and_total(
        _most_pressing_first(awaiting_first, "accepted"), REFERRALS_SHOWN
    )
    today = timezone.localdate()
    pks = frozenset(s.pk for s in mine)
    referrals = [
        ReceivedReferral(
            referral=r,
            waiting_days=(today - r.received_date).days,
            closable=bool(services.referral_closings(staff, r, Relationship.REFERRAL, pks)),
            acceptable=services.may_accept_referral(r, pks),
            startable=services.may_start_on_pathway(r, pks),
        )
        for r in shown
    ]
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={r.person for r in shown},
        what="referrals to my services",
    )
    return ReferralsReceived(services=mine, service=service, referrals=referrals, total=total)


#: How many needs awaiting assessment the caseload lists at most.
NEEDS_AWAITING_SHOWN = 100


@transaction.atomic
def needs_awaiting_assessment(*, by: AbstractBaseUser) -> list[SocialCareNeed]:
    """For staff who assess social care needs: the needs on their caseload that are awaiting
    assessment, the longest waiting first (decision 0018); nothing for anyone else."""
    staff = staff_of(by)
    if not services.may_assess_social_care_needs(staff):
        return []
    needs = list(
        SocialCareNeed.objects.filter(
            status=SocialCareNeed.Status.AWAITING,
            person__in=caseload_people(staff),
        )
        .select_related("person", "status_changed_by")
        .order_by("status_changed_at", "pk")[:NEEDS_AWAITING_SHOWN]
    )
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={need.person for need in needs},
        what="social care needs awaiting assessment",
    )
    return needs


#: How long before its review date a care plan is listed on the caseload of whoever wrote or
#: last changed it.
CARE_PLAN_REVIEW_NOTICE = dt.timedelta(days=14)
#: How many care plans to review the caseload lists at most.
CARE_PLANS_TO_REVIEW_SHOWN = 50


@transaction.atomic
def care_plans_to_review(*, by: AbstractBaseUser) -> tuple[list[CarePlan], int]:
    """The care plans in force that the user coordinates, for people still on their caseload,
    whose review is due within `CARE_PLAN_REVIEW_NOTICE` or past, the most overdue first; and
    how many there are (decision 0031)."""
    staff = staff_of(by)
    due = (
        CarePlan.objects.filter(
            lead=staff,
            status=CarePlan.Status.ACTIVE,
            review_date__lte=timezone.localdate() + CARE_PLAN_REVIEW_NOTICE,
            person__in=caseload_people(staff),
        )
        .select_related("person")
        .order_by("review_date", "pk")
    )
    plans, total = first_and_total(due, CARE_PLANS_TO_REVIEW_SHOWN)
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={plan.person for plan in plans},
        what="care plans to review",
    )
    return plans, total


def _referred_to(referral: Referral) -> str:
    """The service, and how soon it was asked to act unless routine: "Home First (urgent)"."""
    if referral.priority == Referral.Priority.ROUTINE:
        return referral.service.name
    return f"{referral.service.name} ({referral.get_priority_display().lower()})"


@dataclass(frozen=True)
class SearchResult:
    person: Person
    may_open: bool


@transaction.atomic
def find_people(
    *,
    by: AbstractBaseUser,
    nhs_number_text: str = "",
    family_name: str = "",
    date_of_birth: dt.date | None = None,
) -> list[SearchResult]:
    """An exact trace, as on the NHS Spine: an NHS number, or a family name with a date of birth.

    No partial matching, so the search cannot be used to browse the population.
    """
    staff = staff_of(by)
    if nhs_number_text:
        number = nhs_number.normalise(nhs_number_text)
        found = Person.objects.filter(nhs_number=number)
        criteria = "NHS number"
    elif family_name.strip() and date_of_birth is not None:
        found = Person.objects.filter(
            family_name__iexact=family_name.strip(), date_of_birth=date_of_birth
        )
        criteria = "family name and date of birth"
    else:
        raise ValueError("Search by NHS number, or by family name and date of birth")
    openable = set(
        Person.objects.filter(people_openable_q(staff), pk__in=found.values("pk")).values_list(
            "pk", flat=True
        )
    )
    results = [
        SearchResult(person=p, may_open=p.pk in openable) for p in found.order_by("given_name")[:20]
    ]
    audit_many(
        by=by,
        action=AuditEvent.Action.SEARCH,
        people=[r.person for r in results],
        what=f"found by {criteria}",
    )
    return results


@dataclass(frozen=True)
class Timeline:
    entries: list[RecordEntry]
    withheld: int
    """How many entries the viewer may not read (the sharing rule)."""
    has_more: bool
    disciplines: list[str]
    has_online_access: bool
    """Whether anyone reads the person's notes online: the person, or a proxy (decision
    0041)."""
    online_since: dt.datetime | None
    """Since when the person reads entries online, or None without online access or while
    their notes are paused (decision 0040)."""
    may_pause_notes: bool
    """Whether the viewer may keep all the person's notes from them online (not by breaking
    glass)."""
    person_reads: frozenset[int]
    """The pks of the entries shown that the person reads in their own record."""
    withholdable: frozenset[int]
    """The pks of the entries shown that the person reads, or will once their notes are no
    longer paused, and the viewer may withhold from them (not by breaking glass)."""
    may_show_again: frozenset[int]
    """The pks of the entries shown, withheld from the person, that the viewer may let them
    read again."""
    written_by_viewer: frozenset[int]
    """The pks of the entries shown that the viewer wrote, and so may mark entered in error."""
    with_actions: frozenset[int]
    """The pks of the entries shown that the viewer may act on in one of those ways: the
    timeline asks once per entry."""


def _timeline(
    staff: Staff,
    person: Person,
    relationship: Relationship,
    *,
    discipline: str = "",
    before: EntryMark | None = None,
) -> Timeline:
    access = sensitive_access(staff, person)
    all_entries = RecordEntry.objects.filter(person=person)
    readable = all_entries.filter(access.entries_q())
    if discipline:
        readable = readable.filter(discipline=discipline)
    counts = all_entries.aggregate(
        withheld=Count("pk", filter=~access.entries_q()),
    )
    page = readable
    if before is not None:
        when, pk = before
        page = page.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    # Who withheld an entry from the person is fetched apart, and only when a page shows one:
    # few are, and the joins would otherwise run on every page.
    entries = list(
        page.select_related("author__user", "service")
        .prefetch_related("withheld_from_person_by__user")
        .order_by("-occurred_at", "-pk")[: TIMELINE_PAGE + 1]
    )
    disciplines = sorted(
        set(all_entries.filter(access.entries_q()).values_list("discipline", flat=True).distinct())
    )
    shown = entries[:TIMELINE_PAGE]
    read_since = notes_read_online_since(person)
    online_since = None if person.notes_online_paused_at is not None else read_since
    may_withhold = services.may_withhold_from_person(relationship)
    # What the person reads once their notes are shown (now, or when no longer paused): the
    # entries that may still be withheld from them.
    would_read = frozenset(
        e.pk
        for e in shown
        if person_reads_entry(
            sensitivity=Sensitivity(e.sensitivity),
            written_at=e.created_at,
            withheld=bool(e.withheld_from_person),
            online_since=read_since,
        )
    )
    withholdable = would_read if may_withhold else frozenset()
    may_show_again = frozenset(
        e.pk
        for e in shown
        if e.withheld_from_person and may_withhold and services.may_show_to_person(staff, e)
    )
    written_by_viewer = frozenset(e.pk for e in shown if e.author_id == staff.pk)
    return Timeline(
        entries=shown,
        withheld=counts["withheld"],
        has_more=len(entries) > TIMELINE_PAGE,
        disciplines=disciplines,
        has_online_access=read_since is not None,
        online_since=online_since,
        may_pause_notes=may_withhold,
        person_reads=would_read if online_since is not None else frozenset(),
        withholdable=withholdable,
        may_show_again=may_show_again,
        written_by_viewer=written_by_viewer,
        with_actions=withholdable | may_show_again | written_by_viewer,
    )


def _needs_without_assessor(person: Person) -> bool:
    awaiting = person.social_care_needs.filter(status=SocialCareNeed.Status.AWAITING)
    if not awaiting.exists():
        return False
    on_team = services.current_memberships(person).filter(
        staff__discipline__in=SOCIAL_CARE_ASSESSORS
    )
    referred = person.referrals.filter(
        status=Referral.Status.OPEN, service__staff__discipline__in=SOCIAL_CARE_ASSESSORS
    )
    return not (on_team.exists() or referred.exists())


@dataclass(frozen=True)
class PersonSummary:
    person: Person
    relationship: Relationship
    long_term_conditions: list[Condition]
    mental_health_conditions: list[Condition]
    other_conditions: list[Condition]
    """Conditions outside the long-term and mental health value sets, as the sender described
    them."""
    correctable: frozenset[int]
    """The pks of the conditions the viewer may change or mark entered in error."""
    may_record_conditions: bool
    """Whether the viewer makes diagnoses, and so may record a condition (decision 0017)."""
    may_assess_needs: bool
    """Whether the viewer assesses social care needs, and so may change one's status (decision
    0018); anyone who opens the record may record a need as awaiting assessment."""
    needs_without_assessor: bool
    """Some need awaits assessment, yet no social worker or occupational therapist cares for the
    person (care team or open referral to their service): nobody would see it (decision 0018)."""
    may_change_care_team: bool
    """Whether the viewer may add colleagues to the care team or take them off it (not by
    breaking glass; decision 0019)."""
    social_care_needs: list[SocialCareNeed]
    care_team: list[CareTeamMembership]
    open_referrals: list[Referral]
    closable_referrals: frozenset[int]
    """The pks of the open referrals the viewer may close (`services.referral_closings`)."""
    acceptable_referrals: frozenset[int]
    """The pks of the open referrals the viewer's service may accept."""
    startable_referrals: frozenset[int]
    """The pks of the open referrals the viewer's service may start on the Talking Therapies
    pathway."""
    closed_referrals: list[Referral]
    """The most recently closed referrals (`CLOSED_REFERRALS_SHOWN`), with how they ended."""
    alerts: list[Alert]
    """Active alerts that have not ended, from Wholecare and from other systems."""
    endable_alerts: frozenset[int]
    """The pks of the alerts the viewer may end (`services.alert_endable`)."""
    ended_alerts: list[Alert]
    """The most recently ended alerts (`ENDED_ALERTS_SHOWN`), with who ended them and why."""
    care_plans: list[CarePlan]
    """The care plans written in Wholecare that are in force, with their actions."""
    ended_care_plans: list[CarePlan]
    """The most recently ended of them (`ENDED_CARE_PLANS_SHOWN`), with why."""
    may_write_care_plans: bool
    """Whether the viewer may write and change care plans (not by breaking glass; decision
    0031)."""
    timeline: Timeline

    @property
    def allergy_alerts(self) -> list[Alert]:
        """The alerts in force that are about an allergy, which the allergies card lists beside
        those other systems sent: whoever checks allergies before giving a medicine reads them
        all in one place."""
        return [a for a in self.alerts if a.category == Alert.Category.ALLERGY]

    @property
    def identity_not_known(self) -> bool:
        """Whether an identity detail is not known yet, and so may be recorded."""
        return any(services.not_known(self.person, name) for name in services.IDENTITY_FIELDS)

    @property
    def condition_codes(self) -> list[str]:
        """The SNOMED CT codes of every condition shown, for their glossary entries."""
        return [
            c.snomed_code
            for c in (
                *self.long_term_conditions,
                *self.mental_health_conditions,
                *self.other_conditions,
            )
        ]


#: How many closed referrals the person summary shows, the most recently closed first.
CLOSED_REFERRALS_SHOWN = 5
#: How many ended alerts the person summary shows, the most recently ended first.
ENDED_ALERTS_SHOWN = 5
#: How many ended care plans the person summary and the person's own page list, the most
#: recently ended first.
ENDED_CARE_PLANS_SHOWN = 5


def _alerts_in_force() -> Q:
    return Q(active=True) & (Q(ended_at__isnull=True) | Q(ended_at__gt=timezone.now()))


@transaction.atomic
def person_summary(
    *, by: AbstractBaseUser, public_id: uuid.UUID, discipline: str = ""
) -> PersonSummary:
    staff = staff_of(by)
    person, relationship = openable_person(staff, public_id)
    conditions = list(person.conditions.select_related("recorded_by__user"))
    open_referrals = list(
        person.referrals.filter(status=Referral.Status.OPEN)
        .select_related("service", "referred_by__user")
        .order_by("received_date", "pk")
    )
    my_services = services.my_service_pks(staff) if open_referrals else frozenset()
    in_force = _alerts_in_force()
    alerts = list(
        person.alerts.filter(in_force).select_related("raised_by__user").order_by("raised_at", "pk")
    )
    summary = PersonSummary(
        person=person,
        relationship=relationship,
        long_term_conditions=[c for c in conditions if c.concept.group is ConditionGroup.LONG_TERM],
        mental_health_conditions=[
            c for c in conditions if c.concept.group is ConditionGroup.MENTAL_HEALTH
        ],
        other_conditions=[c for c in conditions if c.concept.group is ConditionGroup.UNCLASSIFIED],
        correctable=frozenset(c.pk for c in conditions if services.may_correct_condition(staff, c)),
        may_record_conditions=services.may_record_condition(staff),
        may_assess_needs=services.may_assess_social_care_needs(staff),
        needs_without_assessor=_needs_without_assessor(person),
        may_change_care_team=services.may_change_care_team(relationship),
        social_care_needs=sorted(
            person.social_care_needs.select_related("status_changed_by"),
            key=lambda need: (
                _NEED_ORDER[SocialCareNeed.Status(need.status)],
                need.status_changed_at,
            ),
        ),
        care_team=list(
            services.current_memberships(person)
            .select_related("staff__user", "staff__organisation")
            .order_by("role")
        ),
        open_referrals=open_referrals,
        closable_referrals=frozenset(
            r.pk
            for r in open_referrals
            if services.referral_closings(staff, r, relationship, my_services)
        ),
        acceptable_referrals=frozenset(
            r.pk for r in open_referrals if services.may_accept_referral(r, my_services)
        ),
        startable_referrals=frozenset(
            r.pk for r in open_referrals if services.may_start_on_pathway(r, my_services)
        ),
        closed_referrals=list(
            person.referrals.filter(status=Referral.Status.CLOSED)
            .select_related("service", "closed_by__user")
            .order_by("-closed_date", "-pk")[:CLOSED_REFERRALS_SHOWN]
        ),
        alerts=alerts,
        endable_alerts=frozenset(
            a.pk for a in alerts if services.alert_endable(staff, a, relationship)
        ),
        ended_alerts=list(
            person.alerts.exclude(in_force)
            .select_related("raised_by__user", "ended_by__user")
            .order_by(F("ended_at").desc(nulls_last=True), "-pk")[:ENDED_ALERTS_SHOWN]
        ),
        care_plans=list(care_plans_of(person).filter(status=CarePlan.Status.ACTIVE)),
        ended_care_plans=list(
            care_plans_of(person).exclude(status=CarePlan.Status.ACTIVE)[:ENDED_CARE_PLANS_SHOWN]
        ),
        may_write_care_plans=services.may_write_care_plan(relationship),
        timeline=_timeline(staff, person, relationship, discipline=discipline),
    )
    audit(
        by=by,
        action=AuditEvent.Action.VIEW,
        person=person,
        what="person summary",
        why="break-glass" if relationship is Relationship.BREAK_GLASS else "",
        flagged_for_review=relationship is Relationship.BREAK_GLASS,
    )
    return summary


@transaction.atomic
def timeline(
    *,
    by: AbstractBaseUser,
    public_id: uuid.UUID,
    discipline: str = "",
    before: EntryMark | None = None,
) -> tuple[Person, Timeline]:
    staff = staff_of(by)
    person, relationship = openable_person(staff, public_id)
    page = _timeline(staff, person, relationship, discipline=discipline, before=before)
    audit(
        by=by,
        action=AuditEvent.Action.VIEW,
        person=person,
        what=f"timeline{' (' + discipline + ')' if discipline else ''}",
        flagged_for_review=relationship is Relationship.BREAK_GLASS,
    )
    return person, page


@transaction.atomic
def condition_for_correction(
    *, by: AbstractBaseUser, public_id: uuid.UUID, condition_id: int
) -> Condition | None:
    """A condition on the person's record, for the forms changing its status or marking it
    entered in error; None when the record holds no such condition (or no longer does). Audited
    like any view."""
    person = person_header(by=by, public_id=public_id, what="condition correction form")
    return person.conditions.select_related("person").filter(pk=condition_id).first()


@transaction.atomic
def entry_for_correction(
    *, by: AbstractBaseUser, public_id: uuid.UUID, entry_id: int
) -> RecordEntry | None:
    """A timeline entry the user may read on the person's record, for the form marking it
    entered in error; None when the record holds no such entry for them (or no longer does).
    Audited like any view."""
    person = person_header(by=by, public_id=public_id, what="timeline entry correction form")
    access = sensitive_access(staff_of(by), person)
    return (
        person.entries.filter(access.entries_q(), pk=entry_id)
        .select_related("person", "author__user", "service")
        .first()
    )


@transaction.atomic
def entry_for_person_access(
    *, by: AbstractBaseUser, public_id: uuid.UUID, entry_id: int
) -> tuple[RecordEntry, bool] | None:
    """A timeline entry the user may read on the person's record, for the page withholding it
    from the person or letting them read it again, with whether the user may do either
    (`services.may_withhold_from_person`); None when the record holds no such entry for them
    (or no longer does). Audited like any view."""
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="timeline entry: the person's access"
    )
    access = sensitive_access(staff_of(by), person)
    entry = (
        person.entries.filter(access.entries_q(), pk=entry_id)
        .select_related("person__user", "author__user", "service", "withheld_from_person_by__user")
        .first()
    )
    if entry is None:
        return None
    return entry, services.may_withhold_from_person(relationship)


@transaction.atomic
def person_for_new_condition(
    *, by: AbstractBaseUser, public_id: uuid.UUID
) -> tuple[Person, set[str]]:
    """The person, for the form recording a condition, with the SNOMED CT codes of the conditions
    they already have (each is recorded once). Audited like any view."""
    person = person_header(by=by, public_id=public_id, what="new condition form")
    return person, set(person.conditions.values_list("snomed_code", flat=True))


@transaction.atomic
def person_for_new_need(*, by: AbstractBaseUser, public_id: uuid.UUID) -> tuple[Person, set[str]]:
    """The person, for the form recording a social care need, with the needs they already have
    (each is recorded once). Audited like any view."""
    person = person_header(by=by, public_id=public_id, what="new social care need form")
    return person, set(person.social_care_needs.values_list("need_code", flat=True))


@transaction.atomic
def need_for_change(
    *, by: AbstractBaseUser, public_id: uuid.UUID, need_id: int
) -> SocialCareNeed | None:
    """A social care need on the person's record, for the form changing its status; None when
    the record holds no such need. Audited like any view."""
    person = person_header(by=by, public_id=public_id, what="social care need status form")
    return person.social_care_needs.select_related("person").filter(pk=need_id).first()


@transaction.atomic
def care_team_candidates(
    *, by: AbstractBaseUser, public_id: uuid.UUID, name: str
) -> tuple[Person, list[Staff], bool]:
    """The person, for the form adding to their care team; the members of staff whose names hold
    every word of `name` (at most `CANDIDATES_SHOWN`), less those already on the team and those
    who give no direct care; and whether the user may change the team
    (`services.may_change_care_team`). Audited like any view."""
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="care team form"
    )
    may_change = services.may_change_care_team(relationship)
    words = name.split()
    if not words:
        return person, [], may_change
    on_team = services.current_memberships(person).values("staff_id")
    found = Staff.objects.exclude(discipline__in=NO_DIRECT_CARE).exclude(pk__in=on_team)
    for word in words:
        found = found.filter(
            Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
        )
    candidates = list(found.select_related("user", "organisation")[:CANDIDATES_SHOWN])
    return person, candidates, may_change


@transaction.atomic
def membership_for_end(
    *, by: AbstractBaseUser, public_id: uuid.UUID, membership_id: int
) -> tuple[CareTeamMembership, bool] | None:
    """A current care team membership of the person's, for the page taking someone off the team,
    and whether the user may change the team (`services.may_change_care_team`); None when there
    is no such membership. Audited like any view."""
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="care team form"
    )
    membership = (
        services.current_memberships(person)
        .select_related("person", "staff__user", "staff__organisation")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None:
        return None
    return membership, services.may_change_care_team(relationship)


@dataclass(frozen=True)
class OpenReferral:
    referral: Referral
    closings: tuple[Referral.Outcome, ...]
    """The outcomes the user may close it with (`services.referral_closings`), none for some."""
    acceptable: bool
    """Whether the user's service may accept it (`services.may_accept_referral`)."""
    startable: bool
    """Whether the user's service may start it on the Talking Therapies pathway
    (`services.may_start_on_pathway`)."""


@transaction.atomic
def open_referral(
    *, by: AbstractBaseUser, public_id: uuid.UUID, referral_id: int, what: str
) -> OpenReferral | None:
    """An open referral of the person's, for a page accepting or closing it (`what`, for the
    audit); None when the record holds no such open referral (any more). Audited like any
    view."""
    person, relationship = person_header_and_relationship(by=by, public_id=public_id, what=what)
    referral = (
        person.referrals.filter(pk=referral_id, status=Referral.Status.OPEN)
        .select_related("service__organisation", "referred_by__user")
        .first()
    )
    if referral is None:
        return None
    referral.person = person
    staff = staff_of(by)
    mine = services.my_service_pks(staff)
    return OpenReferral(
        referral=referral,
        closings=services.referral_closings(staff, referral, relationship, mine),
        acceptable=services.may_accept_referral(referral, mine),
        startable=services.may_start_on_pathway(referral, mine),
    )


@dataclass(frozen=True)
class AlertToEnd:
    alert: Alert
    endable: bool
    """Whether the user may end it (`services.alert_endable`)."""


@transaction.atomic
def alert_to_end(*, by: AbstractBaseUser, public_id: uuid.UUID, alert_id: int) -> AlertToEnd | None:
    """An alert in force on the person's record, for the page ending it; None when the record
    holds no such alert (any more). Audited like any view."""
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="alert ending form"
    )
    alert = (
        person.alerts.filter(_alerts_in_force(), pk=alert_id)
        .select_related("raised_by__user")
        .first()
    )
    if alert is None:
        return None
    alert.person = person
    return AlertToEnd(alert, services.alert_endable(staff_of(by), alert, relationship))


def care_plans_of(person: Person) -> QuerySet[CarePlan]:
    """The person's care plans with their actions, authors and coordinator, the latest changed
    first; each with `lead_caring`, whether its coordinator still cares for the person (on the
    care team today, or in a service they are referred to), since a coordinator who has left
    hears of no review."""
    today = timezone.localdate()
    lead_on_team = CareTeamMembership.objects.filter(
        person=OuterRef("person_id"), staff=OuterRef("lead_id"), start_date__lte=today
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    lead_referred_to = Referral.objects.filter(
        person=OuterRef("person_id"),
        status=Referral.Status.OPEN,
        service__in=Staff.services.through.objects.filter(
            staff_id=OuterRef(OuterRef("lead_id"))
        ).values("service_id"),
    )
    return (
        person.care_plans.select_related(
            "written_by__user", "changed_by__user", "lead__user", "lead__organisation"
        )
        .prefetch_related("actions")
        .annotate(lead_caring=Exists(lead_on_team) | Exists(lead_referred_to))
        .order_by("-changed_at", "-pk")
    )


def care_plan_leads(
    *, by: AbstractBaseUser, person: Person, plan: CarePlan | None = None
) -> list[Staff]:
    """Who may coordinate a plan the user writes or changes: themselves, the plan's coordinator
    while they still care for the person (`care_plans_of`), then the person's care team today,
    by name."""
    first = [staff_of(by)]
    if plan is not None and getattr(plan, "lead_caring", False) and plan.lead != first[0]:
        first.append(plan.lead)
    today = timezone.localdate()
    team = (
        Staff.objects.filter(
            pk__in=person.care_team.filter(start_date__lte=today)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .values("staff_id")
        )
        .exclude(pk__in=[staff.pk for staff in first])
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    return [*first, *team]


@transaction.atomic
def person_for_care_plan(*, by: AbstractBaseUser, public_id: uuid.UUID) -> tuple[Person, bool]:
    """The person, for the form writing a care plan, and whether the user may write one
    (`services.may_write_care_plan`). Audited like any view."""
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="new care plan form"
    )
    return person, services.may_write_care_plan(relationship)


@dataclass(frozen=True)
class CarePlanToChange:
    plan: CarePlan
    may_write: bool
    """Whether the user may change or end it (`services.may_write_care_plan`)."""


@transaction.atomic
def care_plan_to_change(
    *, by: AbstractBaseUser, public_id: uuid.UUID, plan_id: uuid.UUID
) -> CarePlanToChange | None:
    """A care plan in force on the person's record, for the pages changing and ending it; None
    when the record holds no such plan in force. Audited like any view."""
    person, relationship = person_header_and_relationship(
        by=by, public_id=public_id, what="care plan form"
    )
    plan = care_plans_of(person).filter(public_id=plan_id, status=CarePlan.Status.ACTIVE).first()
    if plan is None:
        return None
    plan.person = person
    return CarePlanToChange(plan, services.may_write_care_plan(relationship))


@dataclass(frozen=True)
class MyCarePlans:
    in_force: list[CarePlan]
    ended: list[CarePlan]


def _own_person(by: AbstractBaseUser) -> Person:
    person: Person | None = getattr(by, "person", None)
    if person is None:
        raise AccessDenied("This page is for people with a Wholecare record")
    return person


@transaction.atomic
def my_care_plans(*, by: AbstractBaseUser) -> MyCarePlans:
    """The signed-in person's own care plans: those in force, and the latest ended. Audited, as
    every read of a record is."""
    person = _own_person(by)
    plans = care_plans_of(person)
    found = MyCarePlans(
        in_force=list(plans.filter(status=CarePlan.Status.ACTIVE)),
        ended=list(plans.exclude(status=CarePlan.Status.ACTIVE)[:ENDED_CARE_PLANS_SHOWN]),
    )
    audit(by=by, action=AuditEvent.Action.VIEW, person=person, what="own care plans")
    return found


@dataclass(frozen=True)
class MyRecord:
    """What the person reads of their own record on its first page (decision 0036): who cares for
    them, where they are referred, their coded conditions and their social care needs. Never
    alerts, notes or free text written for clinicians."""

    person: Person
    care_team: list[CareTeamMembership]
    open_referrals: list[Referral]
    """The services they are referred to now, in the order they were referred."""
    ended_referrals: list[Referral]
    """Referrals that ended in the last `REFERRAL_OUTCOMES_DAYS` days, the latest first."""
    conditions: list[Condition]
    """Active or in remission: long-term conditions, then mental health, then others."""
    past_conditions: list[Condition]
    """Resolved."""
    social_care_needs: list[SocialCareNeed]
    care_plans_in_force: int
    proxy: ProxyAccess | None
    """The access by which someone reads the record on the person's behalf, or None for the
    person themselves."""


_GROUP_ORDER = {
    ConditionGroup.LONG_TERM: 0,
    ConditionGroup.MENTAL_HEALTH: 1,
    ConditionGroup.UNCLASSIFIED: 2,
}


def _reader(by: AbstractBaseUser, public_id: uuid.UUID | None) -> tuple[Person, ProxyAccess | None]:
    """Whose record the signed-in user reads as its person: their own (`public_id` None), or
    that of someone they act for, with the proxy access that lets them (decision 0041)."""
    if public_id is None:
        return _own_person(by), None
    access = proxy_access(by, public_id)
    return access.person, access


def _as_read(what: str, proxy: ProxyAccess | None) -> str:
    """What the audit trail says was read: the person's own, or read by their proxy."""
    if proxy is None:
        return f"own {what}"
    return f"{what}, read by their proxy ({proxy.relationship})"


@transaction.atomic
def my_record(*, by: AbstractBaseUser, public_id: uuid.UUID | None = None) -> MyRecord:
    """The signed-in person's own record, as they read it; or, with `public_id`, the record of
    someone the user acts for, as that person reads it. Audited, as every read of a record is."""
    person, proxy = _reader(by, public_id)
    today = timezone.localdate()
    referrals = person.referrals.select_related("service__organisation", "referred_by__user")
    conditions = sorted(
        person.conditions.all(),
        key=lambda c: (_GROUP_ORDER[c.concept.group], c.concept.display.casefold()),
    )
    found = MyRecord(
        person=person,
        care_team=list(
            services.current_memberships(person)
            .filter(start_date__lte=today)
            .select_related("staff__user", "staff__organisation")
            .order_by("start_date", "pk")
        ),
        open_referrals=list(
            referrals.filter(status=Referral.Status.OPEN).order_by("received_date", "pk")
        ),
        ended_referrals=list(
            referrals.filter(
                status=Referral.Status.CLOSED,
                closed_date__gte=today - dt.timedelta(days=REFERRAL_OUTCOMES_DAYS),
            ).order_by("-closed_date", "-pk")
        ),
        conditions=[
            c for c in conditions if c.clinical_status != Condition.ClinicalStatus.RESOLVED
        ],
        past_conditions=[
            c for c in conditions if c.clinical_status == Condition.ClinicalStatus.RESOLVED
        ],
        social_care_needs=sorted(
            person.social_care_needs.all(),
            key=lambda need: (
                _NEED_ORDER[SocialCareNeed.Status(need.status)],
                need.status_changed_at,
            ),
        ),
        care_plans_in_force=person.care_plans.filter(status=CarePlan.Status.ACTIVE).count(),
        proxy=proxy,
    )
    audit(by=by, action=AuditEvent.Action.VIEW, person=person, what=_as_read("record", proxy))
    return found


@transaction.atomic
def my_contact_details(*, by: AbstractBaseUser) -> Person:
    """The signed-in person's own record, for the page of their contact details and
    communication needs. Audited, as every read of a record is."""
    person = _own_person(by)
    audit(by=by, action=AuditEvent.Action.VIEW, person=person, what="own contact details")
    return person


def my_care_plan(*, by: AbstractBaseUser, plan_id: uuid.UUID) -> CarePlan | None:
    """One of the signed-in person's own care plans in force, to record their progress on; None
    when they have no such plan in force."""
    person = _own_person(by)
    plan = care_plans_of(person).filter(public_id=plan_id, status=CarePlan.Status.ACTIVE).first()
    if plan is not None:
        plan.person = person
    return plan


#: How many days the referrer's caseload lists the referrals they made after they close.
REFERRAL_OUTCOMES_DAYS = 30

#: How many of each of the referrer's lists their caseload shows at most.
MY_REFERRALS_SHOWN = 50


@dataclass(frozen=True)
class AwaitingReferral:
    referral: Referral
    waiting_days: int
    """Days since it was sent (its received date)."""


@dataclass(frozen=True)
class MyReferrals:
    """The referrals the user made, as their caseload follows them (decision 0021)."""

    awaiting: list[AwaitingReferral]
    """Open and not yet accepted: the most pressing first, then the longest waiting (at most
    `MY_REFERRALS_SHOWN`)."""
    awaiting_total: int
    closed: list[Referral]
    """Closed in the last `REFERRAL_OUTCOMES_DAYS` days, the most recently closed first (at most
    `MY_REFERRALS_SHOWN`)."""
    closed_total: int


@transaction.atomic
def my_referrals(*, by: AbstractBaseUser) -> MyReferrals:
    """The referrals the user made that no service has accepted yet, with how long each has
    waited, so they can chase one that should have been (an urgent one above all), and those that
    closed lately, so they learn how each ended. Audited like the caseload."""
    staff = staff_of(by)
    today = timezone.localdate()
    made = Referral.objects.filter(referred_by=staff).select_related("person", "service")
    awaiting, awaiting_total = first_and_total(
        _most_pressing_first(
            made.filter(
                status=Referral.Status.OPEN,
                accepted_at__isnull=True,
                pathway=Referral.Pathway.NONE,
            )
        ),
        MY_REFERRALS_SHOWN,
    )
    closed, closed_total = first_and_total(
        made.filter(
            status=Referral.Status.CLOSED,
            closed_date__gte=today - dt.timedelta(days=REFERRAL_OUTCOMES_DAYS),
        ).order_by("-closed_date", "-pk"),
        MY_REFERRALS_SHOWN,
    )
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people={referral.person for referral in awaiting + closed},
        what="referrals I made",
    )
    return MyReferrals(
        awaiting=[AwaitingReferral(r, (today - r.received_date).days) for r in awaiting],
        awaiting_total=awaiting_total,
        closed=closed,
        closed_total=closed_total,
    )


#: Services a person is referred to from the record: not those that give no direct care, and not
#: NHS Talking Therapies, whose referral page also links the long-term conditions (its pathway).
NOT_REFERRED_HERE = frozenset(
    {
        Service.Kind.TALKING_THERAPIES,
        Service.Kind.INFORMATION_GOVERNANCE,
        Service.Kind.ANALYTICS,
    }
)


def services_to_refer_to() -> list[Service]:
    """The directory's services a referral page offers, by kind and then name."""
    offered = Service.objects.exclude(kind__in=NOT_REFERRED_HERE).select_related("organisation")
    return sorted(offered, key=lambda service: (service.get_kind_display(), service.name))


def needs_assessment_referral(person: Person, offered: list[Service]) -> dict[str, str]:
    """What a referral to adult social care for a Care Act needs assessment starts with, from
    the person summary's warning that nobody will assess their needs (decision 0018): the
    service when `offered` has exactly one, and why, naming the needs awaiting assessment."""
    awaiting = person.social_care_needs.filter(status=SocialCareNeed.Status.AWAITING).order_by(
        "status_changed_at", "pk"
    )
    needs = "; ".join(need.need.display for need in awaiting)
    reason = "Care Act needs assessment" + (f" for: {needs}" if needs else "")
    initial = {"reason": Truncator(reason).chars(300)}
    social_care = [s for s in offered if s.kind == Service.Kind.ADULT_SOCIAL_CARE]
    if len(social_care) == 1:
        initial["service"] = str(social_care[0].pk)
    return initial


@transaction.atomic
def person_header(*, by: AbstractBaseUser, public_id: uuid.UUID, what: str) -> Person:
    """The person's identity, for a page about them (a form, say); audited like any view."""
    return person_header_and_relationship(by=by, public_id=public_id, what=what)[0]


def person_header_and_relationship(
    *, by: AbstractBaseUser, public_id: uuid.UUID, what: str
) -> tuple[Person, Relationship]:
    """`person_header`, with the relationship that lets the user open the record."""
    staff = staff_of(by)
    person, relationship = openable_person(staff, public_id)
    audit(
        by=by,
        action=AuditEvent.Action.VIEW,
        person=person,
        what=what,
        flagged_for_review=relationship is Relationship.BREAK_GLASS,
    )
    return person, relationship


@dataclass(frozen=True)
class MyNotes:
    """The notes and letters the person reads in their own record (decision 0040), newest
    first, a page at a time."""

    person: Person
    proxy: ProxyAccess | None
    """The access by which someone reads them on the person's behalf, or None for the person
    themselves."""
    online_since: dt.datetime
    paused: bool
    """The person's notes are kept from their online record for now (decision 0040): none are
    listed."""
    entries: list[RecordEntry]
    has_more: bool


@transaction.atomic
def my_notes(
    *, by: AbstractBaseUser, before: EntryMark | None = None, public_id: uuid.UUID | None = None
) -> MyNotes:
    """The signed-in person's own notes and letters (`rules.person_reads_entry`), older than
    `before` when given; or, with `public_id`, those of someone the user acts for that the
    proxy reads (written since their access began). Audited, as every read of a record is."""
    person, proxy = _reader(by, public_id)
    if proxy is None:
        online_since = online_access_since(person)
    elif proxy.reads_notes:
        online_since = proxy.granted_at
    else:
        raise AccessDenied("You do not read this person's notes and letters")
    if online_since is None:
        raise AccessDenied("Online access to this record is switched off")
    paused = person.notes_online_paused_at is not None
    page = person.entries.filter(entries_person_reads_q(online_since))
    if paused:
        page = page.none()
    if before is not None:
        when, pk = before
        page = page.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    entries = list(
        page.select_related("author__user", "service").order_by("-occurred_at", "-pk")[
            : TIMELINE_PAGE + 1
        ]
    )
    audit(
        by=by,
        action=AuditEvent.Action.VIEW,
        person=person,
        what=_as_read("notes and letters", proxy),
    )
    return MyNotes(
        person=person,
        proxy=proxy,
        online_since=online_since,
        paused=paused,
        entries=entries[:TIMELINE_PAGE],
        has_more=len(entries) > TIMELINE_PAGE,
    )
