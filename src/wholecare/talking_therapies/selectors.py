"""Reads for the Talking Therapies pathway. Each checks access, filters in the query and audits
in the same transaction, like the record's own selectors.

What a member of staff sees of someone's therapy follows the sharing rule for psychological
therapy entries: the disciplines that provide that care (and the service's own staff) see the
scores, contacts and chart; others with a relationship see that a referral exists and where it
is, so the diabetes nurse knows therapy is under way.
"""

import datetime as dt
import hashlib
import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from wholecare import measures
from wholecare.access import rules
from wholecare.access.audit import audit, audit_many
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import (
    AccessDenied,
    Relationship,
    check_can_view_aggregates,
    decisions_of,
    people_openable_q,
    sensitive_access,
    staff_of,
)
from wholecare.directory.disciplines import NO_DIRECT_CARE, Discipline
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir import received
from wholecare.fhir.access import shared_q
from wholecare.outcomes import spec
from wholecare.record import selectors as record_selectors
from wholecare.record import vocabulary
from wholecare.record.models import Condition, Person, Referral
from wholecare.record.selectors import openable_person
from wholecare.talking_therapies import chart, codes, dataset, engine, markers, stepping, waits
from wholecare.talking_therapies.models import (
    CareContact,
    MeasureScore,
    RiskTask,
    SelfReferral,
    TTReferral,
)
from wholecare.talking_therapies.workday import escalation_due

SCREENING_MEASURES = ("PHQ9", "GAD7")
SCREEN_VALID_DAYS = 365
CASE_FINDING_LIMIT = 200
WAITING_PAGE = 100
CAPACITY_WEEKS = 8


def tt_services(staff: Staff) -> QuerySet[Service]:
    return staff.services.filter(kind=Service.Kind.TALKING_THERAPIES)


def is_tt_staff(staff: Staff) -> bool:
    return tt_services(staff).exists()


def _check_service_staff(staff: Staff, service: Service) -> None:
    if not staff.services.filter(pk=service.pk).exists():
        raise AccessDenied(f"Only staff of {service} can see this")


def _sees_therapy(staff: Staff, person: Person, referral: TTReferral | None = None) -> bool:
    if referral is not None and staff.services.filter(pk=referral.service_id).exists():
        return True
    return (
        vocabulary.Sensitivity.PSYCHOLOGICAL_THERAPY
        in sensitive_access(staff, person).sensitivities
    )


def scores_readable_q(staff: Staff) -> Q:
    """The scores `staff` may read, for a query over one person or several: those they entered
    or sent the link for, all scores of people referred to one of their services, and otherwise
    as the psychological therapy entries the sharing rule shares with them."""
    return (
        Q(entered_by=staff)
        | Q(requested_by=staff)
        | Q(person__in=TTReferral.objects.filter(service__in=staff.services.all()).values("person"))
        | shared_q(staff, vocabulary.Sensitivity.PSYCHOLOGICAL_THERAPY)
    )


# Risk tasks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskRow:
    task: RiskTask
    due: dt.datetime
    overdue: bool

    @property
    def description(self) -> str:
        if self.task.flag == measures.RiskFlag.ITEM9_POSITIVE:
            return f"PHQ-9 item 9 answered {self.task.item9_answer}: thoughts of self-harm"
        if self.task.flag == measures.RiskFlag.ITEM9_NOT_ANSWERED:
            return "PHQ-9 item 9 not answered: risk unknown, not 'no risk'"
        return "PHQ-9 item 9 answer could not be read: risk unknown"


def _risk_rows(tasks: QuerySet[RiskTask], now: dt.datetime) -> list[RiskRow]:
    rows = []
    for task in tasks.select_related("person", "referral", "assigned_to__user", "score"):
        due = escalation_due(task.raised_at)
        rows.append(RiskRow(task, due, now >= due))
    return rows


# Caseload --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadRow:
    referral: TTReferral
    treatment_contacts: int
    last_contact: dt.datetime | None
    last_phq9: float | None


@dataclass(frozen=True)
class Caseload:
    staff: Staff
    risks: list[RiskRow]
    rows: list[CaseloadRow]
    awaiting_allocation: list[TTReferral]
    conditions_to_check: frozenset[int]
    """Referrals (primary keys) of either list to tag "Check long-term conditions"."""


@transaction.atomic
def caseload(*, by: AbstractBaseUser) -> Caseload:
    """My Talking Therapies caseload: risk tasks first (mine and my services' unassigned ones),
    then the people I am treating, then referrals waiting for a step and clinician."""
    staff = staff_of(by)
    services = tt_services(staff)
    now = timezone.now()
    tasks = RiskTask.objects.filter(reviewed_at__isnull=True).filter(
        Q(assigned_to=staff) | Q(assigned_to__isnull=True, service__in=services)
    )
    risks = _risk_rows(tasks, now)
    mine = (
        TTReferral.objects.filter(clinician=staff)
        .exclude(status=TTReferral.Status.DISCHARGED)
        .select_related("person", "service")
        .annotate(
            treatments=Count(
                "contacts",
                filter=Q(contacts__kind="treatment", contacts__attendance=codes.ATTENDED),
            ),
            last_contact=Max("contacts__starts_at"),
        )
        .order_by("person__family_name", "person__given_name")
    )
    last_phq = {
        s.referral_id: s.total
        for s in MeasureScore.objects.filter(referral__in=mine, measure="PHQ9").order_by(
            "measured_on", "pk"
        )
    }
    rows = [CaseloadRow(r, r.treatments, r.last_contact, last_phq.get(r.pk)) for r in mine]
    waiting = list(
        TTReferral.objects.filter(service__in=services, clinician__isnull=True)
        .exclude(status=TTReferral.Status.DISCHARGED)
        .select_related("person", "service")
        .order_by("received_date")[:50]
    )
    people = (
        {r.task.person for r in risks}
        | {r.referral.person for r in rows}
        | {r.person for r in waiting}
    )
    audit_many(
        by=by, action=AuditEvent.Action.VIEW, people=people, what="Talking Therapies caseload"
    )
    return Caseload(
        staff, risks, rows, waiting, _conditions_to_check([r.referral for r in rows] + waiting)
    )


def _conditions_to_check(referrals: Sequence[TTReferral]) -> frozenset[int]:
    """Those of `referrals` about a long-term condition marked entered in error since: the
    service's figures now count them without it, and the service should check which conditions
    they are about (recording them again clears this)."""
    return frozenset(
        TTReferral.conditions.through.objects.filter(
            ttreferral__in=referrals, condition__entered_in_error_at__isnull=False
        ).values_list("ttreferral_id", flat=True)
    )


@dataclass(frozen=True)
class ServiceOverview:
    service: Service
    overdue: list[RiskRow]
    open_risks: list[RiskRow]
    self_referrals: list[SelfReferral]
    """Self-referrals not yet matched to a record, the longest waiting first (at most
    `OVERVIEW_LIST_SHOWN`)."""
    self_referrals_total: int
    to_start: list[Referral]
    """Referrals other systems sent, awaiting a start on the pathway, the longest waiting
    first (at most `OVERVIEW_LIST_SHOWN`)."""
    to_start_total: int
    caseloads: list[tuple[str, int]]
    """Open referrals per clinician: the caseloads the manager balances."""


OVERVIEW_LIST_SHOWN = 50
"""How many of each waiting list the manager's overview shows, the longest waiting first."""


@transaction.atomic
def manager_overview(*, by: AbstractBaseUser) -> list[ServiceOverview]:
    """For the service manager: every unreviewed risk task, the overdue ones (escalated at the end
    of the working day, whether or not the scheduler has run) first."""
    staff = staff_of(by)
    if staff.discipline != Discipline.SERVICE_MANAGER:
        raise AccessDenied("This page is for service managers")
    now = timezone.now()
    overviews = []
    people: set[Person] = set()
    for service in tt_services(staff):
        rows = _risk_rows(RiskTask.objects.filter(reviewed_at__isnull=True, service=service), now)
        waiting_start = service.referrals.filter(
            status=Referral.Status.OPEN, pathway=Referral.Pathway.NONE
        )
        to_start, to_start_total = record_selectors.first_and_total(
            waiting_start.select_related("person", "referred_by__user").order_by(
                "received_date", "pk"
            ),
            OVERVIEW_LIST_SHOWN,
        )
        self_referrals, self_referrals_total = record_selectors.first_and_total(
            SelfReferral.objects.filter(service=service, closed_at__isnull=True).order_by(
                "submitted_at", "pk"
            ),
            OVERVIEW_LIST_SHOWN,
        )
        people |= {r.task.person for r in rows} | {r.person for r in to_start}
        overviews.append(
            ServiceOverview(
                service=service,
                overdue=[r for r in rows if r.overdue],
                open_risks=[r for r in rows if not r.overdue],
                self_referrals=self_referrals,
                self_referrals_total=self_referrals_total,
                to_start=to_start,
                to_start_total=to_start_total,
                caseloads=[
                    (f"{first} {last}".strip() or username, n)
                    for first, last, username, n in TTReferral.objects.filter(
                        service=service, clinician__isnull=False
                    )
                    .exclude(status=TTReferral.Status.DISCHARGED)
                    .values_list(
                        "clinician__user__first_name",
                        "clinician__user__last_name",
                        "clinician__user__username",
                    )
                    .annotate(n=Count("pk"))
                    .order_by("clinician__user__last_name", "clinician__user__first_name")
                ],
            )
        )
    audit_many(
        by=by, action=AuditEvent.Action.VIEW, people=people, what="Talking Therapies risk overview"
    )
    return overviews


# One referral ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralPage:
    referral: TTReferral
    relationship: Relationship | None
    contacts: list[CareContact]
    scores: list[MeasureScore]
    step_changes: list[object]
    risks: list[RiskRow]
    recommendation: stepping.Recommendation | None
    anxiety_measures: tuple[str, ...]
    outcome: spec.Outcome
    clinicians: dict[str, list[Staff]]
    long_term_conditions: list[Condition]
    """The person's active long-term conditions, which the referral may be about."""
    conditions: list[Condition]
    """The long-term conditions the referral is about now."""
    conditions_entered_in_error: list[Condition]
    """Conditions the open referral was about that have been marked entered in error since, for
    the service to check which it is about."""
    therapy_notes_readers: list[rules.Reader]
    """Whether the GP and the practice nurse who care for the long-term condition may read the
    person's therapy notes, and whether the person has decided (asked at assessment: decision
    0029); none once discharged, when the service no longer opens the record."""


@transaction.atomic
def referral_page(*, by: AbstractBaseUser, public_id: uuid.UUID) -> ReferralPage:
    staff = staff_of(by)
    referral = (
        TTReferral.objects.filter(public_id=public_id, service__in=staff.services.all())
        .select_related("person", "service", "clinician__user", "referred_by__user")
        .first()
    )
    if referral is None:
        raise AccessDenied("You do not work in this referral's service")
    # The service keeps its own record of a discharged episode; an open one needs the record open.
    relationship = (
        None
        if referral.status == TTReferral.Status.DISCHARGED
        else openable_person(staff, referral.person.public_id)[1]
    )
    scores = list(referral.scores.order_by("measured_on", "pk"))
    recommendation = (
        stepping.recommend(_presentation(referral, scores))
        if any(s.measure == "PHQ9" for s in scores)
        else None
    )
    service_staff = referral.service.staff.select_related("user")
    page = ReferralPage(
        referral=referral,
        relationship=relationship,
        contacts=list(referral.contacts.select_related("clinician__user")),
        scores=scores,
        step_changes=list(referral.step_changes.select_related("changed_by__user")),
        risks=_risk_rows(referral.risk_tasks.filter(reviewed_at__isnull=True), timezone.now()),
        recommendation=recommendation,
        anxiety_measures=engine_anxiety_measures(referral.problem_descriptor),
        outcome=engine.referral_outcome(referral),
        clinicians={
            step.value: list(
                service_staff.filter(discipline=THERAPIST[step]).order_by("user__last_name")
            )
            for step in stepping.Step
        },
        long_term_conditions=_long_term_conditions(referral.person),
        conditions=list(referral.conditions.all()),
        conditions_entered_in_error=[]
        if referral.status == TTReferral.Status.DISCHARGED
        else list(
            Condition.objects.including_entered_in_error()
            .filter(tt_referrals=referral, entered_in_error_at__isnull=False)
            .select_related("entered_in_error_by__user")
            .order_by("entered_in_error_at")
        ),
        therapy_notes_readers=[]
        if relationship is None
        else _therapy_notes_readers(referral.person),
    )
    audit(
        by=by,
        action=AuditEvent.Action.VIEW,
        person=referral.person,
        what="Talking Therapies referral",
        flagged_for_review=relationship is Relationship.BREAK_GLASS,
    )
    return page


#: Who cares for the long-term condition in general practice: whether they read the therapy
#: notes is what the integrated pathway asks the person at assessment.
LTC_TEAM = [Discipline.GP, Discipline.PRACTICE_NURSE]


def _therapy_notes_readers(person: Person) -> list[rules.Reader]:
    therapy = vocabulary.Sensitivity.PSYCHOLOGICAL_THERAPY
    decisions = decisions_of(
        person.sharing_consents.filter(sensitivity=therapy, discipline__in=LTC_TEAM)
    )
    return rules.readers(therapy, LTC_TEAM, decisions)


THERAPIST = {
    stepping.Step.LOW_INTENSITY: Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
    stepping.Step.HIGH_INTENSITY: Discipline.HIGH_INTENSITY_THERAPIST,
}


def engine_anxiety_measures(descriptor: str) -> tuple[str, ...]:
    """The anxiety-disorder-specific measure(s) the descriptor calls for, as the outcomes engine
    pairs them; GAD-7 when there is none."""
    from wholecare.outcomes import rules

    return rules.paired_measures(descriptor) or (rules.GAD7,)


def _presentation(referral: TTReferral, scores: list[MeasureScore]) -> stepping.Presentation:
    first: dict[str, float] = {}
    for score in scores:
        first.setdefault(score.measure, score.total)
    return stepping.Presentation(
        referral.problem_descriptor, first.get("PHQ9"), first.get("GAD7"), first.get("WSAS")
    )


@transaction.atomic
def risk_task_for_review(*, by: AbstractBaseUser, pk: int) -> RiskTask:
    staff = staff_of(by)
    task = (
        RiskTask.objects.filter(pk=pk, reviewed_at__isnull=True)
        .filter(Q(service__in=staff.services.all()) | Q(service__isnull=True, assigned_to=staff))
        .select_related("person", "referral", "score")
        .first()
    )
    if task is None:
        raise AccessDenied("No such risk task for you to review")
    audit(by=by, action=AuditEvent.Action.VIEW, person=task.person, what="risk task")
    return task


@transaction.atomic
def contact_for_change(*, by: AbstractBaseUser, pk: int) -> CareContact:
    staff = staff_of(by)
    contact = (
        CareContact.objects.filter(pk=pk, referral__service__in=staff.services.all())
        .select_related("referral__person", "referral__service")
        .first()
    )
    if contact is None:
        raise AccessDenied("No such care contact in your service")
    audit(by=by, action=AuditEvent.Action.VIEW, person=contact.referral.person, what="care contact")
    return contact


# The person's Talking Therapies page -----------------------------------------------------------


@dataclass(frozen=True)
class PersonReferral:
    referral: TTReferral
    detail: bool
    """Whether this member of staff sees scores and contacts (therapy disciplines, consent)."""


@dataclass(frozen=True)
class PersonPage:
    person: Person
    relationship: Relationship
    long_term_conditions: list[Condition]
    referrals: list[PersonReferral]
    sees_therapy: bool
    scores: list[MeasureScore]
    markers_not_charted: list[markers.NotCharted]
    """Markers other systems sent that cannot be charted, with why: listed, never dropped."""
    marker_choices: list[markers.Marker]
    chart: chart.Chart | None
    tt_services: list[Service]
    may_refer: bool
    withheld_scores: int
    screens: list[MeasureScore] = field(default_factory=list)


def _mood_series(scores: list[MeasureScore], measure: str) -> chart.Series | None:
    points = tuple((s.measured_on, s.total) for s in scores if s.measure == measure)
    if not points:
        return None
    inst = measures.instrument(measure)
    return chart.Series(
        title=f"{inst.name} ({measure})",
        unit="score",
        low=inst.total_min,
        high=inst.total_max,
        points=points,
        caseness=inst.caseness.value if inst.caseness else None,
        reliable_change=inst.reliable_change.value if inst.reliable_change else None,
    )


def person_chart(
    scores: list[MeasureScore], readings: list[tuple[markers.Reading, str]], anxiety: str
) -> chart.Chart | None:
    """Mood measures, then each physical marker: `readings` pairs each value with where it came
    from (empty when recorded here)."""
    series = [s for s in (_mood_series(scores, "PHQ9"), _mood_series(scores, anxiety)) if s]
    for marker in markers.MARKERS:
        mine = [(r, note) for r, note in readings if r.code == marker.code]
        if mine:
            series.append(
                chart.Series(
                    marker.label,
                    marker.unit,
                    marker.low,
                    marker.high,
                    points=tuple((r.observed_on, r.value) for r, _ in mine),
                    notes=tuple(note for _, note in mine),
                )
            )
    return chart.build(series)


def _physical_markers(
    staff: Staff, person: Person
) -> tuple[list[tuple[markers.Reading, str]], list[markers.NotCharted]]:
    """The markers recorded here and those other systems sent as FHIR Observations (that this
    member of staff may read), charted or listed with why they cannot be."""
    readings = [
        (markers.Reading(m.code, m.value, m.observed_on), "")
        for m in person.tt_markers.order_by("observed_on", "pk")
    ]
    not_charted = []
    for sent in received.observations(staff, person, markers.codings(), markers.READ_STATUSES):
        for found in markers.from_observation(sent.content):
            if isinstance(found, markers.Reading):
                conversion = f", as {found.sent_as}" if found.sent_as else ""
                readings.append((found, f"Sent by {sent.sent_by}{conversion}"))
            else:
                not_charted.append(found)
    return readings, not_charted


def _long_term_conditions(person: Person) -> list[Condition]:
    return [
        c
        for c in person.conditions.filter(clinical_status=Condition.ClinicalStatus.ACTIVE)
        if c.concept.group is vocabulary.ConditionGroup.LONG_TERM
    ]


@transaction.atomic
def person_page(*, by: AbstractBaseUser, public_id: uuid.UUID) -> PersonPage:
    staff = staff_of(by)
    person, relationship = openable_person(staff, public_id)
    conditions = _long_term_conditions(person)
    referrals = list(
        person.tt_referrals.select_related("service", "clinician__user")
        .prefetch_related("conditions")
        .order_by("-received_date")
    )
    sees = _sees_therapy(staff, person) or any(
        staff.services.filter(pk=r.service_id).exists() for r in referrals
    )
    visible = list(person.tt_scores.filter(scores_readable_q(staff)).order_by("measured_on", "pk"))
    readings, not_charted = _physical_markers(staff, person)
    latest = next((r for r in referrals if r.problem_descriptor), None)
    anxiety = engine_anxiety_measures(latest.problem_descriptor if latest else "")[0]
    value_sets = {c.concept.value_set for c in conditions}
    services = list(
        Service.objects.filter(kind=Service.Kind.TALKING_THERAPIES).select_related("organisation")
    )
    page = PersonPage(
        person=person,
        relationship=relationship,
        long_term_conditions=conditions,
        referrals=[PersonReferral(r, sees) for r in referrals],
        sees_therapy=sees,
        scores=[s for s in visible if s.referral_id is not None],
        screens=[s for s in visible if s.referral_id is None],
        markers_not_charted=not_charted,
        marker_choices=list(markers.for_value_sets(value_sets)) or list(markers.MARKERS),
        chart=person_chart(visible, readings, anxiety),
        tt_services=services,
        may_refer=staff.discipline_enum not in NO_DIRECT_CARE,
        withheld_scores=person.tt_scores.count() - len(visible),
    )
    audit(
        by=by,
        action=AuditEvent.Action.VIEW,
        person=person,
        what="Talking Therapies and long-term conditions",
        flagged_for_review=relationship is Relationship.BREAK_GLASS,
    )
    return page


# A referral from another system, to start on the pathway --------------------------------------


@dataclass(frozen=True)
class ReferralToStart:
    referral: Referral
    startable: bool
    """Whether the user may start it on the pathway (`record.services.may_start_on_pathway`)."""
    long_term_conditions: list[Condition]


@transaction.atomic
def referral_to_start(
    *, by: AbstractBaseUser, public_id: uuid.UUID, referral_id: int
) -> ReferralToStart | None:
    """An open referral of the person's, for the page starting it on the pathway, with their
    long-term conditions to choose from; None when the record holds no such open referral (any
    more). AccessDenied when the user cannot open the record. Audited like any view."""
    found = record_selectors.open_referral(
        by=by, public_id=public_id, referral_id=referral_id, what="Talking Therapies start form"
    )
    if found is None:
        return None
    conditions = _long_term_conditions(found.referral.person) if found.startable else []
    return ReferralToStart(found.referral, found.startable, conditions)


# Case-finding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFindingRow:
    person: Person
    conditions: list[str]
    last_screen: dt.date | None
    last_phq9: float | None
    last_gad7: float | None


@dataclass(frozen=True)
class CaseFinding:
    practices: list[Organisation]
    practice: Organisation | None
    register: str
    registers: list[tuple[str, str]]
    unscreened: list[CaseFindingRow]
    not_referred: list[CaseFindingRow]
    truncated: bool
    risks: list[RiskRow]
    """Risk tasks from screens this member of staff recorded or invited, until reviewed."""


LTC_REGISTERS = [
    (name, label)
    for name, label in vocabulary.VALUE_SET_LABELS.items()
    if vocabulary.value_set(name)[0].group is vocabulary.ConditionGroup.LONG_TERM
]


@transaction.atomic
def case_finding(*, by: AbstractBaseUser, practice_id: int | None, register: str) -> CaseFinding:
    """People with an LTC, among those this member of staff may open: with no PHQ-9 or GAD-7 in
    the last 12 months, or screened at caseness and not referred since."""
    staff = staff_of(by)
    if staff.discipline_enum in NO_DIRECT_CARE:
        raise AccessDenied("Case-finding is for staff who give direct care")
    registers = LTC_REGISTERS
    codes_wanted = [
        c.snomed
        for name, _ in registers
        if not register or name == register
        for c in vocabulary.value_set(name)
    ]
    openable = Person.objects.filter(people_openable_q(staff))
    with_ltc = openable.filter(
        Exists(
            Condition.objects.filter(
                person=OuterRef("pk"),
                snomed_code__in=codes_wanted,
                clinical_status=Condition.ClinicalStatus.ACTIVE,
            )
        )
    )
    practices = list(
        Organisation.objects.filter(
            pk__in=with_ltc.values("registered_practice"), kind=Organisation.Kind.GP_PRACTICE
        )
    )
    practice = next((p for p in practices if p.pk == practice_id), None)
    if practice is None and staff.organisation in practices:
        practice = staff.organisation
    if practice is not None:
        with_ltc = with_ltc.filter(registered_practice=practice)
    since = timezone.localdate() - dt.timedelta(days=SCREEN_VALID_DAYS)
    measured = MeasureScore.objects.filter(
        person=OuterRef("pk"), measure__in=SCREENING_MEASURES, measured_on__gt=since
    )
    at_caseness_screens = measured.filter(
        scores_readable_q(staff), referral__isnull=True, at_caseness=True
    )
    unscreened_q = with_ltc.exclude(Exists(measured)).exclude(
        Exists(
            TTReferral.objects.filter(person=OuterRef("pk")).exclude(
                status=TTReferral.Status.DISCHARGED
            )
        )
    )
    unscreened = list(unscreened_q.order_by("family_name", "given_name")[: CASE_FINDING_LIMIT + 1])
    at_caseness = with_ltc.filter(Exists(at_caseness_screens)).annotate(
        last_screen=Subquery(at_caseness_screens.order_by("-measured_on").values("measured_on")[:1])
    )
    not_referred = [
        p
        for p in at_caseness.order_by("family_name", "given_name")[: CASE_FINDING_LIMIT + 1]
        if not p.tt_referrals.filter(received_date__gte=p.last_screen).exists()
    ]
    rows_unscreened = _case_rows(staff, unscreened[:CASE_FINDING_LIMIT], codes_wanted)
    rows_not_referred = _case_rows(staff, not_referred[:CASE_FINDING_LIMIT], codes_wanted)
    risks = _risk_rows(
        RiskTask.objects.filter(reviewed_at__isnull=True, assigned_to=staff), timezone.now()
    )
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people=[r.person for r in rows_unscreened + rows_not_referred]
        + [r.task.person for r in risks],
        what="Talking Therapies case-finding list",
    )
    return CaseFinding(
        practices=practices,
        practice=practice,
        register=register,
        registers=registers,
        unscreened=rows_unscreened,
        not_referred=rows_not_referred,
        truncated=len(unscreened) > CASE_FINDING_LIMIT or len(not_referred) > CASE_FINDING_LIMIT,
        risks=risks,
    )


def _case_rows(
    staff: Staff, people: Sequence[Person], codes_wanted: list[str]
) -> list[CaseFindingRow]:
    """Each person's long-term conditions, and their latest screens the user may read."""
    conditions: dict[int, list[str]] = {}
    for c in Condition.objects.filter(person__in=people, snomed_code__in=codes_wanted):
        conditions.setdefault(c.person_id, []).append(c.concept.display)
    latest: dict[tuple[int, str], MeasureScore] = {}
    for s in MeasureScore.objects.filter(
        scores_readable_q(staff),
        person__in=people,
        measure__in=SCREENING_MEASURES,
        referral__isnull=True,
    ).order_by("measured_on", "pk"):
        latest[(s.person_id, s.measure)] = s
    rows = []
    for p in people:
        phq, gad = latest.get((p.pk, "PHQ9")), latest.get((p.pk, "GAD7"))
        dates = [s.measured_on for s in (phq, gad) if s is not None]
        rows.append(
            CaseFindingRow(
                person=p,
                conditions=sorted(conditions.get(p.pk, [])),
                last_screen=max(dates) if dates else None,
                last_phq9=phq.total if phq else None,
                last_gad7=gad.total if gad else None,
            )
        )
    return rows


# Waiting list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingRow:
    referral: TTReferral
    wait: waits.FirstTreatmentWait


@dataclass(frozen=True)
class SecondWaitRow:
    referral: TTReferral
    wait: waits.SecondTreatmentWait


@dataclass(frozen=True)
class StepWaits:
    step: str
    label: str
    waiting: int
    past_6_weeks: int
    past_18_weeks: int
    capacity_per_week: float
    forecast: list[waits.WeekForecast]


@dataclass(frozen=True)
class WaitingList:
    service: Service
    step: str
    steps: list[StepWaits]
    rows: list[WaitingRow]
    second: list[SecondWaitRow]
    page: int
    pages: int
    total: int


STEP_FILTERS: list[tuple[str, str]] = [
    ("", "Not yet allocated"),
    *((s.value, s.label) for s in stepping.Step),
]


@transaction.atomic
def waiting_list(
    *, by: AbstractBaseUser, service: Service, step: str | None, page: int = 1
) -> WaitingList:
    """Everyone waiting for a first treatment, longest first, with the 6- and 18-week marks; the
    people waiting for a second treatment; a four-week forecast of breaches per step."""
    staff = staff_of(by)
    _check_service_staff(staff, service)
    today = timezone.localdate()
    treated = CareContact.objects.filter(
        referral=OuterRef("pk"), kind="treatment", attendance=codes.ATTENDED
    )
    open_referrals = TTReferral.objects.filter(service=service).exclude(
        status=TTReferral.Status.DISCHARGED
    )
    waiting = open_referrals.exclude(Exists(treated))
    received_by_step: dict[str, list[dt.date]] = {value: [] for value, _ in STEP_FILTERS}
    for step_value, received_date in waiting.values_list("step", "received_date"):
        received_by_step.setdefault(step_value, []).append(received_date)
    since = today - dt.timedelta(days=7 * CAPACITY_WEEKS)
    # The start of the day after `since`, so the query compares stored times (no per-row casts).
    cutoff = dt.datetime.combine(
        since + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    recently_treated = CareContact.objects.filter(
        referral=OuterRef("pk"),
        kind="treatment",
        attendance=codes.ATTENDED,
        starts_at__gte=cutoff,
    )
    firsts = (
        TTReferral.objects.filter(Exists(recently_treated), service=service)
        .annotate(
            first=Min(
                "contacts__starts_at",
                filter=Q(contacts__kind="treatment", contacts__attendance=codes.ATTENDED),
            )
        )
        .filter(first__gte=cutoff)
        .values_list("step", "first")
    )
    first_dates: dict[str, list[dt.date]] = {}
    for step_value, first in firsts:
        first_dates.setdefault(step_value, []).append(timezone.localtime(first).date())
    steps = []
    for value, label in STEP_FILTERS:
        received = received_by_step.get(value, [])
        statuses = [waits.FirstTreatmentWait(r, today).status for r in received]
        rate = waits.rate_per_week(first_dates.get(value, []), today=today, weeks=CAPACITY_WEEKS)
        steps.append(
            StepWaits(
                step=value,
                label=label,
                waiting=len(received),
                past_6_weeks=sum(s is not waits.WaitStatus.WITHIN_6_WEEKS for s in statuses),
                past_18_weeks=sum(s is waits.WaitStatus.PAST_18_WEEKS for s in statuses),
                capacity_per_week=rate,
                forecast=waits.forecast(received, today=today, first_treatments_per_week=rate),
            )
        )
    listed = waiting if step is None else waiting.filter(step=step)
    total = listed.count()
    pages = max(1, -(-total // WAITING_PAGE))
    page = min(max(page, 1), pages)
    shown = list(
        listed.select_related("person", "clinician__user").order_by("received_date", "pk")[
            (page - 1) * WAITING_PAGE : page * WAITING_PAGE
        ]
    )
    rows = [WaitingRow(r, waits.FirstTreatmentWait(r.received_date, today)) for r in shown]
    singles = (
        CareContact.objects.filter(
            referral__service=service,
            referral__status=TTReferral.Status.IN_TREATMENT,
            kind="treatment",
            attendance=codes.ATTENDED,
        )
        .values("referral_id")
        .annotate(n=Count("pk"), first=Min("starts_at"))
        .filter(n=1)
        .order_by("first", "referral_id")
    )
    if step is not None:
        singles = singles.filter(referral__step=step)
    firsts_by_referral = {row["referral_id"]: row["first"] for row in singles[:WAITING_PAGE]}
    second = [
        SecondWaitRow(
            r,
            waits.SecondTreatmentWait(timezone.localtime(firsts_by_referral[r.pk]).date(), today),
        )
        for r in TTReferral.objects.filter(pk__in=firsts_by_referral).select_related(
            "person", "clinician__user"
        )
    ]
    second.sort(key=lambda row: (row.wait.first_treatment, row.referral.pk))
    audit_many(
        by=by,
        action=AuditEvent.Action.VIEW,
        people=[r.referral.person for r in rows] + [r.referral.person for r in second],
        what=f"Talking Therapies waiting list, {service}",
    )
    return WaitingList(service, step or "", steps, rows, second, page, pages, total)


# Dashboard and export --------------------------------------------------------------------------


def _check_manager(staff: Staff, service: Service) -> None:
    check_can_view_aggregates(staff)
    if staff.discipline == Discipline.SERVICE_MANAGER:
        _check_service_staff(staff, service)


def _fingerprint(service: Service, period: engine.Period) -> str:
    """Changes whenever anything the figures depend on changes, so a cached result is current:
    every referral change bumps its version, contacts and scores only get added (a kind change
    bumps the referral's version), and people's details carry their update time."""
    referrals = TTReferral.objects.filter(service=service).aggregate(
        n=Count("pk"), versions=Sum("version"), last=Max("pk")
    )
    contacts = CareContact.objects.filter(referral__service=service).aggregate(
        n=Count("pk"), last=Max("pk")
    )
    scores = MeasureScore.objects.filter(referral__service=service).aggregate(
        n=Count("pk"), last=Max("pk")
    )
    people = Person.objects.filter(tt_referrals__service=service).aggregate(last=Max("updated_at"))
    parts = (service.pk, period.start, period.end, referrals, contacts, scores, people)
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    return f"tt-dashboard:{digest}"


@dataclass(frozen=True)
class Dashboard:
    service: Service
    period: engine.Period
    figures: engine.Figures


@transaction.atomic
def dashboard(*, by: AbstractBaseUser, service: Service, period: engine.Period) -> Dashboard:
    """The service's figures, computed by the outcomes engine on the period's extract, with NHS
    small-number suppression on every grouped figure."""
    staff = staff_of(by)
    _check_manager(staff, service)
    key = _fingerprint(service, period)
    found: engine.Figures | None = cache.get(key)
    if found is None:
        found = engine.figures(
            engine.outcome_tables(engine.referrals_in([service.pk], period), period), period
        )
        cache.set(key, found, timeout=3600)
    audit(
        by=by,
        action=AuditEvent.Action.AGGREGATE,
        person=None,
        what=f"Talking Therapies dashboard, {service}, {period.label}",
    )
    return Dashboard(service, period, found)


@transaction.atomic
def dataset_export(*, by: AbstractBaseUser, service: Service, period: engine.Period) -> bytes:
    """The period's extract as a ZIP of CSV files: the data set's tables and the outcomes CLI's
    three input files. Only the service's manager may take it; every person in it is audited."""
    staff = staff_of(by)
    if staff.discipline != Discipline.SERVICE_MANAGER:
        raise AccessDenied("Only the service manager exports the data set")
    _check_service_staff(staff, service)
    referrals = engine.referrals_in([service.pk], period)
    found = engine.extract(referrals, period)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in engine.outcome_files(engine.outcome_tables(referrals, period)).items():
            archive.writestr(f"outcomes/{name}", content)
        for name, content in dataset.tables(found, service, period).items():
            archive.writestr(f"dataset/{name}", content)
    audit_many(
        by=by,
        action=AuditEvent.Action.EXPORT,
        people=Person.objects.filter(pk__in=[r["person_pk"] for r in found.referrals]).only("pk"),
        what=f"NHS Talking Therapies data set extract, {service}, {period.label}",
    )
    return buffer.getvalue()


@transaction.atomic
def self_referral_for_triage(*, by: AbstractBaseUser, pk: int) -> SelfReferral:
    staff = staff_of(by)
    submission = (
        SelfReferral.objects.filter(pk=pk, service__in=staff.services.all(), closed_at__isnull=True)
        .select_related("service")
        .first()
    )
    if submission is None:
        raise AccessDenied("No such self-referral for your service")
    audit(by=by, action=AuditEvent.Action.VIEW, person=None, what=f"self-referral {submission.pk}")
    return submission
