"""Reads of the audit trail, break-glass accesses, sharing decisions and proxy access."""

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet

from wholecare.access import rules
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent, BreakGlassAccess, ProxyAccess, SharingConsent
from wholecare.access.permissions import (
    AccessDenied,
    check_can_review_break_glass,
    check_can_view_person_audit,
    staff_of,
)
from wholecare.directory.disciplines import NO_DIRECT_CARE, Discipline
from wholecare.record import selectors as record_selectors
from wholecare.record import services as record_services
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity

PAGE = 100


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    person: Person | None


def _with_people(events: QuerySet[AuditEvent], *, name_refused: bool = True) -> list[AuditRow]:
    page = list(events[:PAGE])
    named = [
        e
        for e in page
        if e.person_id is not None and (name_refused or e.action != AuditEvent.Action.DENIED)
    ]
    people = Person.objects.in_bulk({e.person_id for e in named})
    return [AuditRow(e, people.get(e.person_id) if e in named else None) for e in page]


def my_audit(*, by: AbstractBaseUser) -> list[AuditRow]:
    """What this member of staff has done with people's records: their own trail.

    A refused attempt is listed without the person's name: being refused must not tell anyone whose
    record an identifier belongs to.
    """
    staff_of(by)
    return _with_people(AuditEvent.objects.filter(actor_user_id=by.pk), name_refused=False)


@transaction.atomic
def person_audit(*, by: AbstractBaseUser, public_id: uuid.UUID) -> tuple[Person, list[AuditRow]]:
    check_can_view_person_audit(staff_of(by))
    person = Person.objects.filter(public_id=public_id).first()
    if person is None:
        raise AccessDenied("No such record")
    rows = _with_people(AuditEvent.objects.filter(person_id=person.pk))
    audit(by=by, action=AuditEvent.Action.VIEW, person=person, what="access history")
    return person, rows


def who_looked_at_my_record(*, by: AbstractBaseUser) -> list[AuditEvent]:
    """For a person signed in to see their own record's access history (their own actions left
    out)."""
    person: Person | None = getattr(by, "person", None)
    if person is None:
        raise AccessDenied("This page is for people with a Wholecare record")
    return list(AuditEvent.objects.filter(person_id=person.pk).exclude(actor_user_id=by.pk)[:PAGE])


def review_queue(*, by: AbstractBaseUser) -> list[BreakGlassAccess]:
    check_can_review_break_glass(staff_of(by))
    return list(
        BreakGlassAccess.objects.filter(review=BreakGlassAccess.Review.PENDING)
        .select_related("staff__user", "staff__organisation", "person")
        .order_by("started_at")
    )


def break_glass_for_review(*, by: AbstractBaseUser, pk: int) -> BreakGlassAccess:
    check_can_review_break_glass(staff_of(by))
    access = (
        BreakGlassAccess.objects.select_related("staff__user", "person", "reviewed_by__user")
        .filter(pk=pk)
        .first()
    )
    if access is None:
        raise AccessDenied("No such break-glass access")
    return access


#: The disciplines a sharing decision is about: those who give direct care, in the directory's
#: order; the others read no one's record whatever is decided.
DECIDED_FOR = [d for d in Discipline if d not in NO_DIRECT_CARE]


@dataclass(frozen=True)
class SharingRow:
    reader: rules.Reader
    consent: SharingConsent | None
    """The person's recorded decision, for who recorded it and when; None for the default."""


@dataclass(frozen=True)
class SharingOfKind:
    """Who reads one kind of sensitive entry on the person's record, and why."""

    sensitivity: Sensitivity
    rows: list[SharingRow]
    person_decides: bool
    """Whether the person may change it from their own sign-in (`rules.PERSON_DECIDES`)."""


@dataclass(frozen=True)
class Sharing:
    person: Person
    kinds: list[SharingOfKind]


@transaction.atomic
def sharing(*, by: AbstractBaseUser, public_id: uuid.UUID | None = None) -> Sharing:
    """Who reads each kind of sensitive entry on a record: the person's own (`public_id` None,
    for someone signed in to their record) or, for staff who may open it, the person's with
    `public_id`. Audited."""
    if public_id is None:
        person: Person | None = getattr(by, "person", None)
        if person is None:
            raise AccessDenied("This page is for people with a Wholecare record")
        audit(by=by, action=AuditEvent.Action.VIEW, person=person, what="my sharing decisions")
    else:
        person = record_selectors.person_header(
            by=by, public_id=public_id, what="sharing decisions"
        )
    recorded = {
        (c.sensitivity, c.discipline): c
        for c in person.sharing_consents.select_related("recorded_by__user")
    }
    decisions = {key: consent.decision for key, consent in recorded.items()}
    return Sharing(
        person=person,
        kinds=[
            SharingOfKind(
                sensitivity=kind,
                rows=[
                    SharingRow(reader, recorded.get((kind.value, reader.discipline.value)))
                    for reader in rules.readers(kind, DECIDED_FOR, decisions)
                ],
                person_decides=kind in rules.PERSON_DECIDES,
            )
            for kind in Sensitivity
            if kind is not Sensitivity.NORMAL
        ],
    )


#: How many ended proxy accesses the person's proxies page lists for staff, the latest first.
ENDED_PROXIES_SHOWN = 5


@dataclass(frozen=True)
class Proxies:
    """Who can act for the person (decision 0041), as staff read it."""

    person: Person
    in_force: list[ProxyAccess]
    ended: list[ProxyAccess]
    may_change: bool
    """Whether the viewer may let someone act for the person, or end it (not by breaking
    glass)."""


def _proxies_of(person: Person) -> QuerySet[ProxyAccess]:
    return person.proxies.select_related("proxy", "granted_by__user", "ended_by")


@transaction.atomic
def proxies(*, by: AbstractBaseUser, public_id: uuid.UUID) -> Proxies:
    """Who can act for the person, and who could lately, for staff who may open the record.
    Audited."""
    person, relationship = record_selectors.person_header_and_relationship(
        by=by, public_id=public_id, what="proxy access"
    )
    return Proxies(
        person=person,
        in_force=list(_proxies_of(person).filter(ended_at__isnull=True).order_by("granted_at")),
        ended=list(
            _proxies_of(person)
            .filter(ended_at__isnull=False)
            .order_by("-ended_at")[:ENDED_PROXIES_SHOWN]
        ),
        may_change=record_services.caring_for(relationship),
    )


@transaction.atomic
def my_proxies(*, by: AbstractBaseUser) -> list[ProxyAccess]:
    """Who can act for the signed-in person, to see and end. Audited."""
    person: Person | None = getattr(by, "person", None)
    if person is None:
        raise AccessDenied("This page is for people with a Wholecare record")
    audit(by=by, action=AuditEvent.Action.VIEW, person=person, what="who can act for me")
    return list(_proxies_of(person).filter(ended_at__isnull=True).order_by("granted_at"))


def people_i_help(*, by: AbstractBaseUser) -> list[ProxyAccess]:
    """The people whose record the signed-in user reads on their behalf, by name: opening one
    is audited."""
    return list(
        ProxyAccess.objects.filter(proxy_id=by.pk, ended_at__isnull=True)
        .select_related("person")
        .order_by("person__given_name", "person__family_name")
    )
