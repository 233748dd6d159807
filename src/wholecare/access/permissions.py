"""Every access decision in one place: `check_*` raises AccessDenied, `can_*` answers.

The same rules are also compiled into query filters (`*_q`) so that lists, counts and paging never
include what a user may not see: the query layer, not the template, enforces them.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Expression, Q, QuerySet
from django.utils import timezone

from wholecare.access import rules
from wholecare.access.models import BreakGlassAccess, ProxyAccess, SharingConsent
from wholecare.directory.disciplines import AGGREGATE_VIEWERS, NO_DIRECT_CARE, Discipline
from wholecare.directory.models import Staff
from wholecare.record.models import CareTeamMembership, Person, RecordEntry, Referral
from wholecare.record.vocabulary import NEVER_SHOWN_TO_PERSON, Sensitivity


class AccessDenied(PermissionDenied):
    """Raised for forbidden and for missing records alike, so a refusal says nothing of
    existence."""


def staff_of(user: object) -> Staff:
    """The user's staff identity; AccessDenied for anyone else (a patient, an anonymous user)."""
    staff: Staff | None = getattr(user, "staff", None)
    if staff is None:
        raise AccessDenied("Only members of staff can do this")
    return staff


class Relationship(StrEnum):
    CARE_TEAM = "care-team"
    REFERRAL = "referral"
    BREAK_GLASS = "break-glass"


def people_openable_q(staff: Staff) -> Q:
    """People whose record this member of staff may open now, as a filter on Person."""
    if staff.discipline_enum in NO_DIRECT_CARE:
        return Q(pk__in=[])
    return direct_care_openable_q(staff.pk, timezone.localdate(), timezone.now())


def direct_care_openable_q(
    staff_id: int | Expression, today: date | Expression, now: datetime | Expression
) -> Q:
    """`people_openable_q` for a member of staff who gives direct care, from the values it
    depends on: the FHIR API prepares its Patient read with stand-ins for them
    (`wholecare.fhir.prepared`).

    Subqueries rather than joins, so that a person on several routes appears once and counts stay
    right.
    """
    on_care_team = CareTeamMembership.objects.filter(
        staff_id=staff_id, start_date__lte=today
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    # The staff's services straight from the many-to-many table: the same ids as
    # `staff.services.all()` without its join to the service table, which the FHIR API would
    # otherwise compile (and the database run) on every request.
    their_services = Staff.services.through.objects.filter(staff_id=staff_id).values("service_id")
    open_referral = Referral.objects.filter(service__in=their_services, status=Referral.Status.OPEN)
    broken_glass = BreakGlassAccess.objects.filter(staff_id=staff_id, expires_at__gt=now)
    return (
        Q(pk__in=on_care_team.values("person_id"))
        | Q(pk__in=open_referral.values("person_id"))
        | Q(pk__in=broken_glass.values("person_id"))
    )


def staff_caring_for_q(person: Person) -> Q:
    """Staff caring for the person now (`record.services.caring_for`), as a filter on Staff: on
    their care team, or in a service with an open referral for them. Not break glass."""
    today = timezone.localdate()
    on_team = person.care_team.filter(start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )
    referred_to = person.referrals.filter(status=Referral.Status.OPEN).values("service_id")
    return Q(pk__in=on_team.values("staff_id")) | Q(
        pk__in=Staff.services.through.objects.filter(service__in=referred_to).values("staff_id")
    )


def relationship(staff: Staff, person: Person) -> Relationship | None:
    if staff.discipline_enum in NO_DIRECT_CARE:
        return None
    today = timezone.localdate()
    on_team = person.care_team.filter(staff=staff, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )
    if on_team.exists():
        return Relationship.CARE_TEAM
    if person.referrals.filter(
        service__in=staff.services.all(), status=Referral.Status.OPEN
    ).exists():
        return Relationship.REFERRAL
    if active_break_glass(staff, person) is not None:
        return Relationship.BREAK_GLASS
    return None


def active_break_glass(staff: Staff, person: Person) -> BreakGlassAccess | None:
    return (
        BreakGlassAccess.objects.filter(staff=staff, person=person, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def can_open_record(staff: Staff, person: Person) -> bool:
    return relationship(staff, person) is not None


def check_can_open_record(staff: Staff, person: Person) -> Relationship:
    found = relationship(staff, person)
    if found is None:
        raise AccessDenied("You do not have a care relationship with this person")
    return found


def can_break_glass(staff: Staff) -> bool:
    return staff.discipline_enum not in NO_DIRECT_CARE


def check_can_break_glass(staff: Staff) -> None:
    if not can_break_glass(staff):
        raise AccessDenied("Your role does not give direct care, so it cannot break glass")


def can_review_break_glass(staff: Staff) -> bool:
    return staff.discipline_enum is Discipline.PRIVACY_OFFICER


def check_can_review_break_glass(staff: Staff) -> None:
    if not can_review_break_glass(staff):
        raise AccessDenied("Only a privacy officer reviews break-glass access")


def can_view_aggregates(staff: Staff) -> bool:
    return staff.discipline_enum in AGGREGATE_VIEWERS


def check_can_view_aggregates(staff: Staff) -> None:
    if not can_view_aggregates(staff):
        raise AccessDenied("De-identified figures are for analysts, managers and privacy officers")


def can_view_person_audit(staff: Staff) -> bool:
    """Any person's access history is for the privacy officer; people see their own elsewhere."""
    return can_review_break_glass(staff)


def check_can_view_person_audit(staff: Staff) -> None:
    if not can_view_person_audit(staff):
        raise AccessDenied("Only a privacy officer sees another person's access history")


@dataclass(frozen=True)
class SensitiveAccess:
    """What one member of staff may read of one person's sensitive entries."""

    sensitivities: frozenset[Sensitivity]
    author: Staff

    def entries_q(self) -> Q:
        return Q(sensitivity__in=[s.value for s in self.sensitivities]) | Q(author=self.author)

    def may_read(self, entry: RecordEntry) -> bool:
        return (
            Sensitivity(entry.sensitivity) in self.sensitivities
            or entry.author_id == self.author.pk
        )


def decisions_of(consents: QuerySet[SharingConsent]) -> dict[tuple[str, str], str]:
    """The sharing decisions among `consents`, as the sharing rule reads them
    (`rules.Decisions`)."""
    return {
        (sensitivity, discipline): decision
        for sensitivity, discipline, decision in consents.values_list(
            "sensitivity", "discipline", "decision"
        )
    }


def sensitive_access(staff: Staff, person: Person) -> SensitiveAccess:
    decisions = decisions_of(
        SharingConsent.objects.filter(person=person, discipline=staff.discipline)
    )
    return SensitiveAccess(
        sensitivities=rules.readable_sensitivities(staff.discipline_enum, decisions), author=staff
    )


def online_access_since(person: Person) -> datetime | None:
    """When the person's own online access to their record began (their account was set up), or
    None while they have no account, or it is switched off."""
    user = person.user
    if user is None or not user.is_active:
        return None
    return user.date_joined


def notes_read_online_since(person: Person) -> datetime | None:
    """From when anyone reads the person's notes and letters online, pause or no pause: the
    person since their online access began, or a proxy who reads their notes since that access
    began (decisions 0040 and 0041); None when nobody does."""
    since = [*(p.granted_at for p in note_reading_proxies(person)), online_access_since(person)]
    return min((d for d in since if d is not None), default=None)


def note_reading_proxies(person: Person) -> list[ProxyAccess]:
    """The proxies in force who read the person's notes and letters on their behalf (decision
    0041), whom the writer of an entry is told of."""
    return list(
        ProxyAccess.objects.filter(person=person, reads_notes=True, ended_at__isnull=True)
        .select_related("proxy")
        .order_by("granted_at")
    )


def entries_person_reads_q(online_since: datetime) -> Q:
    """`rules.person_reads_entry` as a filter on RecordEntry, for a person whose online access
    began at `online_since`."""
    return Q(created_at__gte=online_since, withheld_from_person="") & ~Q(
        sensitivity__in=[s.value for s in NEVER_SHOWN_TO_PERSON]
    )


def proxy_access(user: object, public_id: uuid.UUID) -> ProxyAccess:
    """The proxy access in force by which `user` reads the record of the person with
    `public_id` (decision 0041); AccessDenied otherwise, the same whether or not the person
    exists."""
    found = (
        ProxyAccess.objects.select_related("person__user", "person__registered_practice")
        .filter(proxy_id=getattr(user, "pk", None), person__public_id=public_id)
        .filter(ended_at__isnull=True)
        .first()
    )
    if found is None:
        raise AccessDenied("You do not act for this person")
    return found
