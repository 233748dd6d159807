"""Writes for access control: break-glass, its review, sharing consent and proxy access. Atomic
and audited."""

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from wholecare.access import rules
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent, BreakGlassAccess, ProxyAccess, SharingConsent
from wholecare.access.permissions import (
    AccessDenied,
    check_can_break_glass,
    check_can_open_record,
    check_can_review_break_glass,
    staff_of,
)
from wholecare.directory.disciplines import NO_DIRECT_CARE, Discipline
from wholecare.directory.models import Staff
from wholecare.record import services as record_services
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity

MIN_REASON_LENGTH = 10
ALREADY_ACTS = "They can already act for the person"


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


def _check_caring(staff: Staff, person: Person, what: str) -> None:
    if not record_services.caring_for(check_can_open_record(staff, person)):
        raise AccessDenied(f"Access by breaking glass cannot {what}: ask a member of the care team")


@transaction.atomic
def proxy_access_grant(
    *,
    by: AbstractBaseUser,
    person: Person,
    email: str,
    relationship: str,
    reads_notes: bool,
    basis: str,
    identity_checked: bool,
) -> ProxyAccess:
    """Let the holder of the account signing in with `email` read the person's record online on
    their behalf (decision 0041), by staff caring for the person who checked who the proxy is
    and why they may. Audited. ValidationError keyed by field, or AccessDenied."""
    staff = staff_of(by)
    _check_caring(staff, person, "let anyone act for the person")
    errors: dict[str, str] = {}
    relationship = relationship.strip()
    if not relationship:
        errors["relationship"] = "Say who they are to the person, like Daughter or Paid carer"
    elif len(relationship) > 100:
        errors["relationship"] = "Who they are to the person must be 100 characters or fewer"
    if basis not in ProxyAccess.Basis.values:
        errors["basis"] = "Choose why they may act for the person"
    if not identity_checked:
        errors["identity_checked"] = "Check who they are before they can act for the person"
    found, problem = _proxy_account(email.strip(), person)
    if problem:
        errors["email"] = problem
    if errors:
        raise ValidationError(errors)
    assert found is not None
    try:
        # A savepoint: two colleagues giving the same access at once meet the database's
        # constraint, and the second is told, as the check above would have told them.
        with transaction.atomic():
            access = ProxyAccess.objects.create(
                person=person,
                proxy_id=found.pk,
                relationship=relationship,
                reads_notes=reads_notes,
                basis=basis,
                granted_by=staff,
                granted_at=timezone.now(),
            )
    except IntegrityError:
        raise ValidationError({"email": ALREADY_ACTS}) from None
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"proxy access given to {access.proxy_name} ({relationship})"
        + (", with notes and letters" if reads_notes else ""),
        why=ProxyAccess.Basis(basis).label,
    )
    return access


def _proxy_account(email: str, person: Person) -> tuple[AbstractBaseUser | None, str]:
    """The account signing in with `email` that may become the person's proxy, or what is
    wrong."""
    if not email:
        return None, "Enter the email address they sign in to Wholecare with"
    accounts = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
    if not accounts:
        return None, "No Wholecare account signs in with that email address: they need one first"
    if len(accounts) > 1:
        return None, "More than one account signs in with that email address: ask the service desk"
    account = accounts[0]
    if hasattr(account, "staff"):
        return None, "That is a member of staff's work account: a proxy signs in with their own"
    if account.pk == person.user_id:
        return None, "That is the person's own account"
    if ProxyAccess.objects.filter(person=person, proxy=account, ended_at__isnull=True).exists():
        return None, ALREADY_ACTS
    return account, ""


@transaction.atomic
def proxy_access_end(*, by: AbstractBaseUser, access: ProxyAccess, reason: str = "") -> ProxyAccess:
    """End a proxy's access at once: the person or the proxy may, as may staff caring for the
    person, who say why (decision 0041). Audited. ValidationError keyed by field, or
    AccessDenied."""
    current = (
        ProxyAccess.objects.select_for_update().select_related("person", "proxy").get(pk=access.pk)
    )
    reason = reason.strip()
    if by.pk not in {current.proxy_id, current.person.user_id}:
        _check_caring(staff_of(by), current.person, "end a proxy's access")
        if not reason:
            raise ValidationError({"reason": "Say why their access ends"})
    if current.ended_at is not None:
        raise ValidationError({"reason": "Their access has already ended"})
    current.ended_at = timezone.now()
    current.ended_by_id = by.pk
    current.end_reason = reason[:1000]
    current.save(update_fields=["ended_at", "ended_by", "end_reason"])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"proxy access of {current.proxy_name} ({current.relationship}) ended",
        why=current.end_reason,
    )
    return current
