"""Reads of the audit trail and of break-glass accesses."""

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent, BreakGlassAccess
from wholecare.access.permissions import (
    AccessDenied,
    check_can_review_break_glass,
    check_can_view_person_audit,
    staff_of,
)
from wholecare.record.models import Person

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
