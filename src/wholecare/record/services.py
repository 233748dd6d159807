"""Writes to the shared care record. Each is atomic and audits itself in the same transaction.

Bad input raises django.core.exceptions.ValidationError keyed by field, with a message that says
what is
wrong; nothing is written.
"""

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import check_can_open_record
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.record import nhs_number, vocabulary
from wholecare.record.models import (
    CareTeamMembership,
    Condition,
    Person,
    RecordEntry,
    Referral,
    SocialCareNeed,
)


def _full_clean(instance: Any, *, exclude: list[str] | None = None) -> None:
    """Model validation (lengths, choices, constraints), with messages keyed by field."""
    instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)


def _staff(by: AbstractBaseUser) -> Staff:
    staff: Staff | None = getattr(by, "staff", None)
    if staff is None:
        raise ValidationError("Only members of staff can change the record")
    return staff


@transaction.atomic
def person_create(
    *,
    by: AbstractBaseUser,
    nhs_number_text: str,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    sex: str,
    registered_practice: Organisation | None = None,
    **details: Any,
) -> Person:
    errors: dict[str, str] = {}
    try:
        number = nhs_number.normalise(nhs_number_text)
    except nhs_number.InvalidNHSNumber as error:
        errors["nhs_number"] = str(error)
    else:
        if Person.objects.filter(nhs_number=number).exists():
            errors["nhs_number"] = "A person with this NHS number is already on the record"
    if date_of_birth > timezone.localdate():
        errors["date_of_birth"] = "Date of birth must be today or in the past"
    if errors:
        raise ValidationError(errors)
    person = Person(
        nhs_number=number,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        registered_practice=registered_practice,
        **details,
    )
    _full_clean(person, exclude=["user"])
    person.save()
    audit(by=by, action=AuditEvent.Action.CREATE, person=person, what="person record created")
    return person


CONTACT_FIELDS = (
    "address",
    "postcode",
    "phone",
    "email",
    "contact_method",
    "preferred_written_format",
    "main_language",
    "interpreter_needed",
    "accessibility_needs",
)


@transaction.atomic
def person_update_contact(*, by: AbstractBaseUser, person: Person, **changes: Any) -> Person:
    staff = _staff(by)
    check_can_open_record(staff, person)
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(f"These details cannot be changed here: {', '.join(sorted(unknown))}")
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = sorted(name for name, value in changes.items() if getattr(person, name) != value)
    for name in changed:
        setattr(person, name, changes[name])
    _full_clean(person, exclude=["user"])
    person.save()
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=person,
        what=f"contact details updated: {', '.join(changed) or 'no change'}",
    )
    return person


@transaction.atomic
def condition_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    snomed_code: str,
    onset_date: dt.date | None = None,
    clinical_status: str = Condition.ClinicalStatus.ACTIVE,
) -> Condition:
    staff = _staff(by)
    check_can_open_record(staff, person)
    try:
        concept = vocabulary.condition(snomed_code)
    except vocabulary.UnknownCode as error:
        raise ValidationError({"snomed_code": str(error)}) from None
    if onset_date is not None and onset_date > timezone.localdate():
        raise ValidationError({"onset_date": "Onset date must be today or in the past"})
    if onset_date is not None and onset_date < person.date_of_birth:
        raise ValidationError({"onset_date": "Onset date is before the person's date of birth"})
    condition = Condition(
        person=person,
        snomed_code=snomed_code,
        onset_date=onset_date,
        clinical_status=clinical_status,
        recorded_by=staff,
        recorded_by_discipline=staff.discipline,
        recorded_at=timezone.now(),
    )
    _full_clean(condition)
    condition.save()
    audit(
        by=by, action=AuditEvent.Action.CREATE, person=person, what=f"condition: {concept.display}"
    )
    return condition


@transaction.atomic
def social_care_need_record(
    *, by: AbstractBaseUser, person: Person, need_code: str, status: str
) -> SocialCareNeed:
    staff = _staff(by)
    check_can_open_record(staff, person)
    if need_code not in vocabulary.SOCIAL_CARE_NEEDS_BY_CODE:
        raise ValidationError({"need_code": f"{need_code!r} is not a known social care need"})
    need = SocialCareNeed(
        person=person,
        need_code=need_code,
        status=status,
        recorded_by=staff,
        recorded_at=timezone.now(),
    )
    _full_clean(need)
    need.save()
    audit(
        by=by, action=AuditEvent.Action.CREATE, person=person, what=f"social care need: {need_code}"
    )
    return need


@transaction.atomic
def entry_create(
    *,
    by: AbstractBaseUser,
    person: Person,
    kind: str,
    title: str,
    text: str,
    sensitivity: str = vocabulary.Sensitivity.NORMAL,
    occurred_at: dt.datetime | None = None,
    service: Service | None = None,
) -> RecordEntry:
    staff = _staff(by)
    check_can_open_record(staff, person)
    when = occurred_at or timezone.now()
    if when > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": "An entry cannot be dated in the future"})
    entry = RecordEntry(
        person=person,
        kind=kind,
        title=title.strip(),
        text=text,
        sensitivity=sensitivity,
        occurred_at=when,
        author=staff,
        discipline=staff.discipline,
        service=service,
    )
    _full_clean(entry)
    entry.save()
    audit(
        by=by, action=AuditEvent.Action.CREATE, person=person, what=f"{entry.kind}: {entry.title}"
    )
    return entry


@transaction.atomic
def care_team_add(
    *, by: AbstractBaseUser, person: Person, staff: Staff, role: str, start_date: dt.date
) -> CareTeamMembership:
    check_can_open_record(_staff(by), person)
    membership = CareTeamMembership(person=person, staff=staff, role=role, start_date=start_date)
    _full_clean(membership)
    membership.save()
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=person,
        what=f"care team: {staff.display_name} added as {role}",
    )
    return membership


@transaction.atomic
def referral_create(
    *,
    by: AbstractBaseUser,
    person: Person,
    service: Service,
    received_date: dt.date,
    reason: str = "",
) -> Referral:
    staff = _staff(by)
    check_can_open_record(staff, person)
    if received_date > timezone.localdate():
        raise ValidationError({"received_date": "A referral cannot be received in the future"})
    if person.referrals.filter(service=service, status=Referral.Status.OPEN).exists():
        raise ValidationError({"service": f"{person} already has an open referral to {service}"})
    referral = Referral(
        person=person,
        service=service,
        referred_by=staff,
        received_date=received_date,
        reason=reason,
    )
    _full_clean(referral)
    referral.save()
    audit(by=by, action=AuditEvent.Action.CREATE, person=person, what=f"referral to {service}")
    return referral
