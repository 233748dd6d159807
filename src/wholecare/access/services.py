"""Writes for access control: break-glass, its review, and sharing consent. Atomic and audited."""

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wholecare.access import rules
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent, BreakGlassAccess, SharingConsent
from wholecare.access.permissions import (
    AccessDenied,
    check_can_break_glass,
    check_can_open_record,
    check_can_review_break_glass,
    staff_of,
)
from wholecare.directory.disciplines import NO_DIRECT_CARE, Discipline
from wholecare.directory.models import Staff
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity

MIN_REASON_LENGTH = 10


@transaction.atomic
def break_glass_open(*, by: AbstractBaseUser, person: Person, reason: str) -> BreakGlassAccess:
    staff = staff_of(by)
    check_can_break_glass(staff)
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": "Give the reason you need this record (at least 10 characters)"}
        )
    if len(reason) > 1000:
        raise ValidationError({"reason": "The reason must be 1,000 characters or fewer"})
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        staff=staff,
        person=person,
        reason=reason,
        started_at=now,
        expires_at=now + dt.timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    audit(
        by=by,
        action=AuditEvent.Action.BREAK_GLASS,
        person=person,
        what="record opened by break-glass",
        why=reason,
        flagged_for_review=True,
    )
    return access


@transaction.atomic
def break_glass_review(
    *, by: AbstractBaseUser, access: BreakGlassAccess, outcome: str, note: str
) -> BreakGlassAccess:
    reviewer = staff_of(by)
    check_can_review_break_glass(reviewer)
    access = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    if access.review != BreakGlassAccess.Review.PENDING:
        raise ValidationError("This break-glass access has already been reviewed")
    if outcome not in {BreakGlassAccess.Review.APPROPRIATE, BreakGlassAccess.Review.INAPPROPRIATE}:
        raise ValidationError({"outcome": "Choose whether the access was appropriate"})
    if access.staff_id == reviewer.pk:
        raise ValidationError("You cannot review your own break-glass access")
    if outcome == BreakGlassAccess.Review.INAPPROPRIATE and not note.strip():
        raise ValidationError({"note": "Say why the access was inappropriate"})
    access.review = outcome
    access.review_note = note.strip()[:1000]
    access.reviewed_by = reviewer
    access.reviewed_at = timezone.now()
    access.save()
    audit(
        by=by,
        action=AuditEvent.Action.REVIEW,
        person=access.person,
        what=f"break-glass by {access.staff.display_name} reviewed: {access.get_review_display()}",
        why=access.review_note,
    )
    return access


@transaction.atomic
def sharing_consent_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    sensitivity: Sensitivity,
    discipline: Discipline,
    decision: SharingConsent.Decision,
) -> SharingConsent:
    """Record the person's decision; staff record it with the person, or the person does it
    themselves (for the kinds in `rules.PERSON_DECIDES`: decision 0029)."""
    if sensitivity is Sensitivity.NORMAL:
        raise ValidationError({"sensitivity": "Only sensitive entries need a sharing decision"})
    staff: Staff | None = getattr(by, "staff", None)
    if staff is not None:
        check_can_open_record(staff, person)
    elif getattr(by, "person", None) != person:
        raise AccessDenied("Only the person or their care team can record this decision")
    elif sensitivity not in rules.PERSON_DECIDES:
        raise ValidationError(
            {
                "sensitivity": f"Who reads {sensitivity.label.lower()} information is decided"
                " with your GP or social worker, who share it when someone may be at risk of"
                " harm"
            }
        )
    if discipline in NO_DIRECT_CARE:
        raise ValidationError(
            {"discipline": f"{discipline.label}s give no direct care and read no one's record"}
        )
    consent, _ = SharingConsent.objects.update_or_create(
        person=person,
        sensitivity=sensitivity.value,
        discipline=discipline.value,
        defaults={"decision": decision, "recorded_by": staff, "recorded_at": timezone.now()},
    )
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=person,
        what=(
            f"sharing of {sensitivity.label.lower()} with {discipline.label}:"
            f" {consent.get_decision_display()}"
        ),
    )
    return consent


@transaction.atomic
def refusal_record(*, by: AbstractBaseUser, public_id: uuid.UUID) -> None:
    """Record a refused attempt to open a record, so the person and the privacy officer can see it.

    Runs in its own transaction, after the refused read has rolled back. Nothing is recorded for an
    identifier that matches nobody.
    """
    person = Person.objects.filter(public_id=public_id).first()
    if person is not None:
        audit(
            by=by,
            action=AuditEvent.Action.DENIED,
            person=person,
            what="record not opened: no care relationship",
        )
