"""Writes to the shared care record. Each is atomic and audits itself in the same transaction.

Bad input raises django.core.exceptions.ValidationError keyed by field, with a message that says
what is
wrong; nothing is written.
"""

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import (
    AccessDenied,
    Relationship,
    check_can_open_record,
    relationship,
)
from wholecare.directory.disciplines import (
    DIAGNOSING,
    NO_DIRECT_CARE,
    SOCIAL_CARE_ASSESSORS,
    Discipline,
)
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.record import nhs_number, vocabulary
from wholecare.record.models import (
    Alert,
    CarePlan,
    CarePlanAction,
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


def person_new(
    *,
    nhs_number_text: str | None,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None,
    sex: str,
    registered_practice: Organisation | None = None,
    taken: Callable[[str], bool],
    **details: Any,
) -> Person:
    """A new person, checked against the record's rules but not saved (ValidationError keyed by
    field). The one place these rules live: `person_create` and bulk import (which writes in
    batches) both build people here. `nhs_number_text` None says the NHS number is not known
    (decision 0013: only a caller that was told so passes None, as FHIR does for a Patient without
    one); any text, empty included, must be a valid NHS number. `taken` says whether an NHS number
    is already on the record. Database constraints are checked by the caller (a query each)."""
    errors: dict[str, str] = {}
    number = None
    if nhs_number_text is not None:
        try:
            number = nhs_number.normalise(nhs_number_text)
        except nhs_number.InvalidNHSNumber as error:
            errors["nhs_number"] = str(error)
        else:
            if taken(number):
                errors["nhs_number"] = "A person with this NHS number is already on the record"
    if date_of_birth is not None and date_of_birth > timezone.localdate():
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
    person.full_clean(
        exclude=["user", "registered_practice"], validate_unique=False, validate_constraints=False
    )
    return person


@transaction.atomic
def person_create(
    *,
    by: AbstractBaseUser,
    nhs_number_text: str | None,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None,
    sex: str,
    registered_practice: Organisation | None = None,
    **details: Any,
) -> Person:
    person = person_new(
        nhs_number_text=nhs_number_text,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        sex=sex,
        registered_practice=registered_practice,
        taken=lambda number: Person.objects.filter(nhs_number=number).exists(),
        **details,
    )
    person.validate_constraints()
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


OWN_CONTACT_FIELDS = tuple(name for name in CONTACT_FIELDS if name not in {"address", "postcode"})
"""What the person changes themselves: how they are contacted, and what they need in order to
communicate (the Accessible Information Standard). Their address is the national record's (PDS),
which their GP practice changes."""


@transaction.atomic
def person_update_contact(*, by: AbstractBaseUser, person: Person, **changes: Any) -> Person:
    staff = _staff(by)
    check_can_open_record(staff, person)
    _check_changeable(changes, CONTACT_FIELDS)
    person = Person.objects.select_for_update().get(pk=person.pk)
    return _person_save(by, person, changes, "contact details updated", "no change")


@transaction.atomic
def own_contact_update(*, by: AbstractBaseUser, **changes: Any) -> Person:
    """The signed-in person changes their own contact details and communication needs
    (`OWN_CONTACT_FIELDS`), which everyone caring for them then reads. AccessDenied for anyone
    without a record; ValidationError keyed by field, nothing written."""
    own: Person | None = getattr(by, "person", None)
    if own is None:
        raise AccessDenied("This page is for people with a Wholecare record")
    _check_changeable(changes, OWN_CONTACT_FIELDS)
    person = Person.objects.select_for_update().get(pk=own.pk)
    return _person_save(by, person, changes, "contact details updated by the person", "no change")


def _check_changeable(changes: dict[str, Any], fields: Sequence[str]) -> None:
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationError(f"These details cannot be changed here: {', '.join(sorted(unknown))}")


def _person_save(
    by: AbstractBaseUser, person: Person, changes: dict[str, Any], what: str, nothing: str
) -> Person:
    """Apply the changes that differ, check, save and audit them by name."""
    changed = sorted(name for name, value in changes.items() if getattr(person, name) != value)
    for name in changed:
        setattr(person, name, changes[name])
    _full_clean(person, exclude=["user"])
    person.save()
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=person,
        what=f"{what}: {', '.join(changed) or nothing}",
    )
    return person


IDENTITY_FIELDS = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex")


def not_known(person: Person, field: str) -> bool:
    """Whether an identity detail is not known (decision 0013): no NHS number, name or birth
    date, or gender `unknown`."""
    value = getattr(person, field)
    return value is None or value == "" or (field == "sex" and value == Person.Sex.UNKNOWN)


@transaction.atomic
def person_record_identity(*, by: AbstractBaseUser, person: Person, **known: Any) -> Person:
    """Record identity details that were not known: an NHS number allocated to a newborn, a name
    or birth date learned later. A detail already known is never changed here: correcting identity
    is a trace against the national record (PDS), and an edit could file one person's care under
    another's identity. ValidationError keyed by field, nothing written."""
    staff = _staff(by)
    check_can_open_record(staff, person)
    unknown = set(known) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValidationError(
            f"These details cannot be recorded here: {', '.join(sorted(unknown))}"
        )
    person = Person.objects.select_for_update().get(pk=person.pk)
    errors: dict[str, str] = {}
    for field, value in known.items():
        if not not_known(person, field) and getattr(person, field) != value:
            errors[field] = (
                "Already known: a known identity detail is corrected by a trace, not here"
            )
    if known.get("nhs_number") is not None and "nhs_number" not in errors:
        try:
            known["nhs_number"] = nhs_number.normalise(known["nhs_number"])
        except nhs_number.InvalidNHSNumber as error:
            errors["nhs_number"] = str(error)
        else:
            taken = Person.objects.filter(nhs_number=known["nhs_number"]).exclude(pk=person.pk)
            if taken.exists():
                errors["nhs_number"] = "A person with this NHS number is already on the record"
    born = known.get("date_of_birth")
    if born is not None and "date_of_birth" not in errors:
        if born > timezone.localdate():
            errors["date_of_birth"] = "Date of birth must be today or in the past"
        elif person.conditions.filter(onset_date__lt=born).exists():
            errors["date_of_birth"] = "A condition on the record began before this date of birth"
    if errors:
        raise ValidationError(errors)
    return _person_save(by, person, known, "identity details that were not known recorded", "none")


def check_onset(onset_date: dt.date | None, person: Person) -> None:
    """A condition's onset is between the person's birth (when known) and today."""
    if onset_date is not None and onset_date > timezone.localdate():
        raise ValidationError({"onset_date": "Onset date must be today or in the past"})
    if (
        onset_date is not None
        and person.date_of_birth is not None
        and onset_date < person.date_of_birth
    ):
        raise ValidationError({"onset_date": "Onset date is before the person's date of birth"})


def may_record_condition(staff: Staff) -> bool:
    """Diagnoses are made by clinicians: only staff of a diagnosing discipline (GPs, nurses,
    therapists, psychiatrists, pharmacists, ...) record a condition, through the web, the API or
    a bulk import alike (decision 0017)."""
    return staff.discipline in DIAGNOSING


def condition_new(
    *,
    person: Person,
    snomed_code: str,
    display: str = "",
    onset_date: dt.date | None = None,
    clinical_status: str = Condition.ClinicalStatus.ACTIVE,
    staff: Staff,
    recorded_at: dt.datetime,
    held: Callable[[str], bool],
) -> Condition:
    """A new condition, checked against the record's rules but not saved (ValidationError keyed
    by field); shared by `condition_record` and bulk import. Any SNOMED CT concept is held: the
    condition value sets only classify (an unclassified one keeps the sender's `display`).
    `held` says whether the person already has this code. AccessDenied when `staff` may not
    record a condition at all (`may_record_condition`)."""
    if not may_record_condition(staff):
        raise AccessDenied(
            "Only clinicians who make diagnoses can record a condition, and"
            f" {Discipline(staff.discipline).label.lower()}s do not: add what you know to the"
            " timeline instead"
        )
    try:
        vocabulary.check_concept_id(snomed_code)
    except vocabulary.InvalidSnomedId as error:
        raise ValidationError({"snomed_code": str(error)}) from None
    if held(snomed_code):
        raise ValidationError({"snomed_code": "This person already has this condition"})
    check_onset(onset_date, person)
    condition = Condition(
        person=person,
        snomed_code=snomed_code,
        display=display.strip()[:300],
        onset_date=onset_date,
        clinical_status=clinical_status,
        recorded_by=staff,
        recorded_by_discipline=staff.discipline,
        recorded_at=recorded_at,
    )
    condition.full_clean(
        exclude=["person", "recorded_by"], validate_unique=False, validate_constraints=False
    )
    return condition


@transaction.atomic
def condition_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    snomed_code: str,
    display: str = "",
    onset_date: dt.date | None = None,
    clinical_status: str = Condition.ClinicalStatus.ACTIVE,
) -> Condition:
    staff = _staff(by)
    check_can_open_record(staff, person)
    condition = condition_new(
        person=person,
        snomed_code=snomed_code,
        display=display,
        onset_date=onset_date,
        clinical_status=clinical_status,
        staff=staff,
        recorded_at=timezone.now(),
        held=lambda code: person.conditions.filter(snomed_code=code).exists(),
    )
    condition.save()
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"condition: {condition.concept.display}",
    )
    return condition


def may_correct_condition(staff: Staff, condition: Condition) -> bool:
    """Each discipline keeps its own diagnoses: the member of staff who recorded a condition, or
    another of the discipline it was recorded by, may change its status or mark it entered in
    error (a social worker cannot end or withdraw a psychiatrist's diagnosis, nor can a GP)."""
    return (
        condition.recorded_by_id == staff.pk or condition.recorded_by_discipline == staff.discipline
    )


def _check_may_correct(by: AbstractBaseUser, condition: Condition, what: str) -> Staff:
    staff = _staff(by)
    check_can_open_record(staff, condition.person)
    if not may_correct_condition(staff, condition):
        recorded_by = Discipline(condition.recorded_by_discipline).label
        raise AccessDenied(
            f"Only whoever recorded this condition, or another {recorded_by}, can {what}"
        )
    return staff


@transaction.atomic
def condition_update(
    *,
    by: AbstractBaseUser,
    condition: Condition,
    clinical_status: str,
    onset_date: dt.date | None,
) -> Condition:
    """Change a condition's clinical status (one that has ended is resolved) or onset, audited;
    raises ValidationError keyed by field, or AccessDenied (`may_correct_condition`)."""
    _check_may_correct(by, condition, "change it")
    current = Condition.objects.select_for_update().filter(pk=condition.pk).first()
    if current is None:
        raise ValidationError(
            {"clinical_status": "This condition has been marked entered in error"}
        )
    current.clinical_status = clinical_status
    current.onset_date = onset_date
    current.full_clean(exclude=["person", "recorded_by", "entered_in_error_by"])
    check_onset(onset_date, current.person)
    current.save(update_fields=["clinical_status", "onset_date"])
    status = current.get_clinical_status_display().lower()
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"condition: {current.concept.display} now {status}",
    )
    return current


@transaction.atomic
def condition_enter_in_error(
    *, by: AbstractBaseUser, condition: Condition, reason: str
) -> Condition:
    """Mark a condition entered in error: it leaves every view, export and count at once, and is
    kept, with who marked it, when and why, for the audit trail. It cannot be brought back: a
    condition recorded in error and then found to be right is recorded again."""
    staff = _check_may_correct(by, condition, "mark it entered in error")
    return _enter_in_error(
        by=by,
        staff=staff,
        row=condition,
        reason=reason,
        noun="condition",
        describe=lambda c: f"condition: {c.concept.display}",
    )


_InError = TypeVar("_InError", Condition, RecordEntry)


def _enter_in_error(
    *,
    by: AbstractBaseUser,
    staff: Staff,
    row: _InError,
    reason: str,
    noun: str,
    describe: Callable[[_InError], str],
) -> _InError:
    """Mark `row` (a `noun`: a condition, a timeline entry) entered in error, once, saying why:
    its model's default manager leaves it out of every view from then on (decision 0010)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": f"Say why this {noun} was entered in error"})
    current = type(row).objects.select_for_update().filter(pk=row.pk).first()
    if current is None:
        raise ValidationError({"reason": f"This {noun} has already been marked entered in error"})
    current.entered_in_error_at = timezone.now()
    current.entered_in_error_by = staff
    current.entered_in_error_reason = reason[:1000]
    current.save(
        update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"]
    )
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"{describe(current)} marked entered in error",
        why=current.entered_in_error_reason,
    )
    return current


def _check_alert(alert: Alert) -> None:
    """An alert says what it is, in words any reader understands; a code is a SNOMED CT concept;
    it does not end before it starts (ValidationError keyed by field)."""
    if not alert.text.strip():
        raise ValidationError({"text": "An alert needs text saying what it is"})
    if bool(alert.code) != bool(alert.code_system):
        raise ValidationError({"code": "A coded alert needs both its code system and its code"})
    if alert.code_system and alert.code_system != vocabulary.SNOMED_CT:
        raise ValidationError(
            {
                "code_system": f"{alert.code_system!r} is not a code system Wholecare holds"
                f" alerts in ({vocabulary.SNOMED_CT})"
            }
        )
    if alert.code:
        try:
            vocabulary.check_concept_id(alert.code)
        except vocabulary.InvalidSnomedId as error:
            raise ValidationError({"code": str(error)}) from None
    if alert.ended_at is not None and alert.ended_at < alert.raised_at:
        raise ValidationError({"ended_at": "An alert cannot end before it starts"})
    _full_clean(alert, exclude=["person", "raised_by", "ended_by"])


@transaction.atomic
def alert_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    category: str,
    text: str,
    raised_at: dt.datetime | None = None,
    raised_by: Staff | None = None,
    author_display: str = "",
    code_system: str = "",
    code: str = "",
    code_display: str = "",
    active: bool = True,
    ended_at: dt.datetime | None = None,
    source: str = "",
) -> Alert:
    """Record an alert. One from another system (`source`) keeps what that system said: its
    words, code, category, author and period, so the people reading Wholecare see what the sender
    raised (decision 0013)."""
    staff = _staff(by)
    check_can_open_record(staff, person)
    alert = Alert(
        person=person,
        category=category,
        text=text.strip(),
        code_system=code_system,
        code=code,
        code_display=code_display.strip(),
        active=active,
        raised_by=raised_by,
        author_display=author_display.strip(),
        raised_at=raised_at or timezone.now(),
        ended_at=ended_at,
        source=source,
    )
    _check_alert(alert)
    alert.save()
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"alert ({alert.category}): {alert.text}" + (f" (from {source})" if source else ""),
    )
    return alert


#: The kinds of alert staff raise on Wholecare's pages (decision 0023); the rest of HL7's flag
#: categories arrive from other systems.
RAISED_ON_WHOLECARE_PAGES = (
    Alert.Category.RISK,
    Alert.Category.SAFETY,
    Alert.Category.SAFEGUARDING,
    Alert.Category.COMMUNICATION,
    Alert.Category.CONTACT,
    Alert.Category.CLINICAL,
)


def _in_force(alert: Alert, now: dt.datetime) -> bool:
    return alert.active and (alert.ended_at is None or alert.ended_at > now)


@transaction.atomic
def alert_raise(
    *,
    by: AbstractBaseUser,
    person: Person,
    category: str,
    text: str,
    until: dt.date | None = None,
) -> Alert:
    """A member of staff raises an alert that everyone caring for the person sees first, on the
    person summary (decision 0023): shown through the day `until` when given, or until someone
    ends it. ValidationError keyed by field."""
    staff = _staff(by)
    if category not in RAISED_ON_WHOLECARE_PAGES:
        raise ValidationError({"category": "Choose what kind of alert it is"})
    if not text.strip():
        raise ValidationError({"text": "Enter what everyone caring for the person must know"})
    ended_at = None
    if until is not None:
        if until <= timezone.localdate():
            raise ValidationError({"until": "The day it applies until must be after today"})
        ended_at = dt.datetime.combine(
            until + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
        )
    return alert_record(
        by=by, person=person, category=category, text=text, raised_by=staff, ended_at=ended_at
    )


def alert_endable(staff: Staff, alert: Alert, relationship: Relationship | None) -> bool:
    """Whether `staff` may end the alert (decision 0023): one raised in Wholecare that is in
    force, by anyone caring for the person (breaking glass ends nothing); a safeguarding alert
    only by a social worker, who leads safeguarding enquiries, or by whoever raised it. An alert
    from another system is ended by that system."""
    if (
        alert.source
        or not _in_force(alert, timezone.now())
        or relationship in {None, Relationship.BREAK_GLASS}
    ):
        return False
    return (
        alert.category != Alert.Category.SAFEGUARDING
        or staff.discipline == Discipline.SOCIAL_WORKER
        or alert.raised_by_id == staff.pk
    )


def _who_ends(alert: Alert) -> str:
    if alert.source:
        return f"This alert came from {alert.source}: that system ends it"
    if alert.category == Alert.Category.SAFEGUARDING:
        return (
            "Only a social worker, who leads safeguarding enquiries, or whoever raised it can end"
            " a safeguarding alert"
        )
    return "Only someone caring for the person can end an alert; breaking glass ends none"


@transaction.atomic
def alert_end(*, by: AbstractBaseUser, alert: Alert, reason: str) -> Alert:
    """End an alert in force, saying why it no longer applies: it leaves the top of the summary
    for the list of ended alerts, with who ended it and why (`alert_endable` says who may).
    ValidationError keyed by field, or AccessDenied."""
    staff = _staff(by)
    relationship = check_can_open_record(staff, alert.person)
    current = (
        Alert.objects.select_for_update(of=("self",)).select_related("person").get(pk=alert.pk)
    )
    if not _in_force(current, timezone.now()):
        raise ValidationError("This alert has already ended")
    if not alert_endable(staff, current, relationship):
        raise AccessDenied(_who_ends(current))
    if not reason.strip():
        raise ValidationError({"reason": "Say why the alert no longer applies"})
    current.active = False
    current.ended_at = timezone.now()
    current.ended_by = staff
    current.end_reason = reason.strip()
    _check_alert(current)
    current.save(update_fields=["active", "ended_at", "ended_by", "end_reason"])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"alert ({current.category}) ended: {current.text}",
        why=current.end_reason,
    )
    return current


@transaction.atomic
def alert_update(
    *, by: AbstractBaseUser, alert: Alert, active: bool, ended_at: dt.datetime | None
) -> Alert:
    """Make an alert active or inactive, or set when it ends; nothing else about it changes.
    Ending one raised in Wholecare follows `alert_endable`, as on Wholecare's pages."""
    staff = _staff(by)
    relationship = check_can_open_record(staff, alert.person)
    now = timezone.now()
    ends = _in_force(alert, now) and not (active and (ended_at is None or ended_at > now))
    if ends and not alert.source and not alert_endable(staff, alert, relationship):
        raise AccessDenied(_who_ends(alert))
    alert.active = active
    alert.ended_at = ended_at
    if ends:
        alert.ended_by = staff
    elif _in_force(alert, now):
        alert.ended_by, alert.end_reason = None, ""
    _check_alert(alert)
    alert.save(update_fields=["active", "ended_at", "ended_by", "end_reason"])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=alert.person,
        what=f"alert ({alert.category}): {alert.text} now {'active' if active else 'inactive'}"
        + (f", ends {ended_at.isoformat()}" if ended_at else ""),
    )
    return alert


def may_assess_social_care_needs(staff: Staff) -> bool:
    """Social workers and occupational therapists carry out Care Act needs assessments: they
    decide that a need is assessed (support in place) or met; anyone caring for the person may
    record a need they notice, as awaiting assessment (decision 0018)."""
    return staff.discipline in SOCIAL_CARE_ASSESSORS


def _check_need_status(staff: Staff, status: str) -> None:
    if status not in SocialCareNeed.Status.values:
        raise ValidationError({"status": "Choose awaiting assessment, assessed or met"})
    if status != SocialCareNeed.Status.AWAITING and not may_assess_social_care_needs(staff):
        raise AccessDenied(
            "Only a social worker or an occupational therapist, who assess social care needs,"
            " can record a need as assessed or met"
        )


def _need_audit(by: AbstractBaseUser, need: SocialCareNeed, action: AuditEvent.Action) -> None:
    audit(
        by=by,
        action=action,
        person=need.person,
        what=f"social care need: {need.need.display} ({need.get_status_display().lower()})",
    )


@transaction.atomic
def social_care_need_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    need_code: str,
    status: str = SocialCareNeed.Status.AWAITING,
) -> SocialCareNeed:
    """A social care need on the record, once per person; raises ValidationError keyed by field,
    or AccessDenied (no care relationship, or a status only an assessor may give)."""
    staff = _staff(by)
    check_can_open_record(staff, person)
    if need_code not in vocabulary.SOCIAL_CARE_NEEDS_BY_CODE:
        raise ValidationError({"need_code": f"{need_code!r} is not a known social care need"})
    _check_need_status(staff, status)
    if person.social_care_needs.filter(need_code=need_code).exists():
        raise ValidationError(
            {"need_code": "This need is already on the record: change its status instead"}
        )
    now = timezone.now()
    need = SocialCareNeed(
        person=person,
        need_code=need_code,
        status=status,
        recorded_by=staff,
        recorded_at=now,
        status_changed_by=staff,
        status_changed_at=now,
    )
    _full_clean(need)
    need.save()
    _need_audit(by, need, AuditEvent.Action.CREATE)
    return need


@transaction.atomic
def social_care_need_update(
    *, by: AbstractBaseUser, need: SocialCareNeed, status: str
) -> SocialCareNeed:
    """A need's new status, from an assessor (`may_assess_social_care_needs`), audited."""
    staff = _staff(by)
    check_can_open_record(staff, need.person)
    if not may_assess_social_care_needs(staff):
        raise AccessDenied(
            "Only a social worker or an occupational therapist, who assess social care needs,"
            " can change a need's status"
        )
    _check_need_status(staff, status)
    current = SocialCareNeed.objects.select_for_update().select_related("person").get(pk=need.pk)
    if current.status != status:
        current.status = status
        current.status_changed_by = staff
        current.status_changed_at = timezone.now()
        current.save(update_fields=["status", "status_changed_by", "status_changed_at"])
        _need_audit(by, current, AuditEvent.Action.UPDATE)
    return current


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
    withheld_from_person: str = "",
) -> RecordEntry:
    """A new entry on the person's timeline, which the person reads in their own record unless
    `withheld_from_person` says why not (a `vocabulary.WithheldFromPerson`; decision 0040)."""
    staff = _staff(by)
    check_can_open_record(staff, person)
    now = timezone.now()
    when = occurred_at or now
    if when > now + dt.timedelta(minutes=5):
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
        **_withholding(withheld_from_person, staff, now),
    )
    _full_clean(entry)
    entry.save()
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"{entry.kind}: {entry.title}{_withheld_words(entry)}",
    )
    return entry


def _withholding(reason: str, staff: Staff, now: dt.datetime) -> dict[str, Any]:
    """The fields recording that `staff` withheld an entry from the person for `reason` (or
    that nobody did, when `reason` is empty)."""
    return {
        "withheld_from_person": reason,
        "withheld_from_person_by": staff if reason else None,
        "withheld_from_person_at": now if reason else None,
    }


def _withhold(entry: RecordEntry, reason: str, staff: Staff) -> None:
    """Save `_withholding` on an entry already written."""
    fields = _withholding(reason, staff, timezone.now())
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.save(update_fields=list(fields))


def _withheld_words(entry: RecordEntry) -> str:
    because = entry.withheld_from_person_because
    return f" (withheld from the person: {because.short})" if because else ""


def may_withhold_from_person(relationship: Relationship | None) -> bool:
    """Staff caring for the person may keep an entry they can read out of the person's own
    record (decision 0040); access by breaking glass changes nothing that lasts."""
    return caring_for(relationship)


def may_show_to_person(staff: Staff, entry: RecordEntry) -> bool:
    """Who may let the person read a withheld entry again: whoever withheld it, who applied the
    test, or whoever wrote it, who knows what it says and about whom (decision 0040)."""
    return staff.pk in {entry.withheld_from_person_by_id, entry.author_id}


@transaction.atomic
def entry_withhold_from_person(
    *, by: AbstractBaseUser, entry: RecordEntry, reason: str
) -> RecordEntry:
    """Keep a timeline entry out of the person's own record, for `reason` (a
    `vocabulary.WithheldFromPerson`), from now on; everyone else reads it as before. Audited.
    ValidationError keyed by field, or AccessDenied."""
    staff = _staff(by)
    if not may_withhold_from_person(check_can_open_record(staff, entry.person)):
        raise AccessDenied(
            "Access by breaking glass cannot withhold an entry from the person: ask a member of"
            " the care team"
        )
    if reason not in set(vocabulary.WithheldFromPerson):
        raise ValidationError({"reason": "Choose why the person should not read this entry"})
    current = RecordEntry.objects.select_for_update().filter(pk=entry.pk).first()
    if current is None:
        raise ValidationError({"reason": "This entry has been marked entered in error"})
    if current.withheld_from_person:
        raise ValidationError({"reason": "This entry is already withheld from the person"})
    _withhold(current, reason, staff)
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"{current.kind}: {current.title} withheld from the person",
        why=vocabulary.WithheldFromPerson(reason).label,
    )
    return current


@transaction.atomic
def entry_show_to_person(*, by: AbstractBaseUser, entry: RecordEntry) -> RecordEntry:
    """Let the person read a withheld entry in their own record again (`may_show_to_person`).
    Audited. ValidationError, or AccessDenied."""
    staff = _staff(by)
    relationship = check_can_open_record(staff, entry.person)
    current = RecordEntry.objects.select_for_update().filter(pk=entry.pk).first()
    if current is None:
        raise ValidationError("This entry has been marked entered in error")
    if not current.withheld_from_person:
        raise ValidationError("The person can already read this entry")
    if not (may_withhold_from_person(relationship) and may_show_to_person(staff, current)):
        raise AccessDenied(
            "Only whoever withheld this entry from the person, or whoever wrote it, can let the"
            " person read it"
        )
    _withhold(current, "", staff)
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"{current.kind}: {current.title} shown to the person",
    )
    return current


def may_correct_entry(staff: Staff, entry: RecordEntry) -> bool:
    """Whether `staff` may mark the timeline entry entered in error: only whoever wrote it, who
    knows it was never right (decision 0024)."""
    return entry.author_id == staff.pk


@transaction.atomic
def entry_enter_in_error(*, by: AbstractBaseUser, entry: RecordEntry, reason: str) -> RecordEntry:
    """Mark a timeline entry entered in error (written on the wrong person's record, say): it
    leaves the timeline and every export at once, for everyone, and is kept, with who marked
    it, when and why, for the audit trail. It cannot be brought back: what was right is written
    again. ValidationError keyed by field, or AccessDenied."""
    staff = _staff(by)
    check_can_open_record(staff, entry.person)
    if not may_correct_entry(staff, entry):
        raise AccessDenied("Only whoever wrote an entry can mark it entered in error")
    return _enter_in_error(
        by=by,
        staff=staff,
        row=entry,
        reason=reason,
        noun="entry",
        describe=lambda e: f"{e.kind}: {e.title}",
    )


def caring_for(relationship: Relationship | None) -> bool:
    """Whether the relationship is one of care: on the care team, or an open referral to the
    user's service; not access by breaking glass, which reads the record in an emergency but
    changes nothing that lasts."""
    return relationship in {Relationship.CARE_TEAM, Relationship.REFERRAL}


def may_resume_notes_online(staff: Staff, person: Person) -> bool:
    """Who lets the person read their notes online again once paused: whoever paused them, or a
    GP, whose practice answers for the person's online access to their record (decision 0040)."""
    return staff.pk == person.notes_online_paused_by_id or staff.discipline_enum is Discipline.GP


@transaction.atomic
def notes_online_pause(*, by: AbstractBaseUser, person: Person, reason: str) -> Person:
    """Keep all the person's notes and letters from their online record, from now until someone
    lets them read them again (a concern that someone else reads their account, say), saying why.
    Everything else on "My record" stays. Audited. ValidationError keyed by field, or
    AccessDenied."""
    staff = _staff(by)
    if not may_withhold_from_person(check_can_open_record(staff, person)):
        raise AccessDenied(
            "Access by breaking glass cannot change what the person reads online: ask a member"
            " of the care team"
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why their notes should not be shown online"})
    current = Person.objects.select_for_update().get(pk=person.pk)
    if current.notes_online_paused_at is not None:
        raise ValidationError({"reason": "Their notes are already not shown online"})
    _pause_notes(current, staff, reason[:1000])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current,
        what="notes and letters no longer shown to the person online",
        why=current.notes_online_paused_reason,
    )
    return current


def _pause_notes(person: Person, staff: Staff | None, reason: str) -> None:
    """Record that `staff` stopped showing the person's notes online, and why; or, with no
    staff, that they are shown again."""
    person.notes_online_paused_at = timezone.now() if staff is not None else None
    person.notes_online_paused_by = staff
    person.notes_online_paused_reason = reason
    person.save(
        update_fields=[
            "notes_online_paused_at",
            "notes_online_paused_by",
            "notes_online_paused_reason",
        ]
    )


@transaction.atomic
def notes_online_resume(*, by: AbstractBaseUser, person: Person) -> Person:
    """Let the person read their notes and letters online again (`may_resume_notes_online`),
    including those written meanwhile that nobody withheld. Audited. ValidationError, or
    AccessDenied."""
    staff = _staff(by)
    relationship = check_can_open_record(staff, person)
    current = Person.objects.select_for_update().get(pk=person.pk)
    if current.notes_online_paused_at is None:
        raise ValidationError("Their notes are already shown online")
    if not (may_withhold_from_person(relationship) and may_resume_notes_online(staff, current)):
        raise AccessDenied(
            "Only whoever stopped showing their notes online, or a GP caring for them, can show"
            " them again"
        )
    _pause_notes(current, None, "")
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current,
        what="notes and letters shown to the person online again",
    )
    return current


def may_change_care_team(relationship: Relationship | None) -> bool:
    """Staff caring for the person add colleagues to the care team and take them off it; access
    by breaking glass never extends itself that way (decision 0019)."""
    return caring_for(relationship)


def _check_may_change_care_team(by: AbstractBaseUser, person: Person) -> Staff:
    staff = _staff(by)
    if not may_change_care_team(check_can_open_record(staff, person)):
        raise AccessDenied(
            "Access by breaking glass cannot change the care team: ask a member of the care team"
        )
    return staff


def current_memberships(person: Person) -> QuerySet[CareTeamMembership]:
    """The person's care team memberships that have not ended (some may start later)."""
    today = timezone.localdate()
    return person.care_team.filter(Q(end_date__isnull=True) | Q(end_date__gte=today))


@transaction.atomic
def care_team_add(
    *, by: AbstractBaseUser, person: Person, staff: Staff, role: str
) -> CareTeamMembership:
    """Put a member of staff on the person's care team from today, which lets them open the
    record; raises ValidationError keyed by field, or AccessDenied (`may_change_care_team`)."""
    _check_may_change_care_team(by, person)
    if staff.discipline_enum in NO_DIRECT_CARE:
        raise ValidationError(
            {
                "staff": f"{staff.discipline_enum.label}s do not give direct care, so do not join"
                " a care team"
            }
        )
    if current_memberships(person).filter(staff=staff).exists():
        raise ValidationError({"staff": f"{staff.display_name} is already on the care team"})
    membership = CareTeamMembership(
        person=person, staff=staff, role=role.strip(), start_date=timezone.localdate()
    )
    _full_clean(membership)
    membership.save()
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=person,
        what=f"care team: {staff.display_name} added as {membership.role}",
    )
    return membership


@transaction.atomic
def care_team_end(*, by: AbstractBaseUser, membership: CareTeamMembership) -> None:
    """Take a member of staff off the care team at once, and with it their access through it:
    the membership ends yesterday, or, begun today or later, is withdrawn. Audited."""
    _check_may_change_care_team(by, membership.person)
    current = (
        current_memberships(membership.person)
        .select_for_update()
        .select_related("staff__user")
        .filter(pk=membership.pk)
        .first()
    )
    if current is None:
        raise ValidationError("They are no longer on the care team")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    if current.start_date > yesterday:
        current.delete()
    else:
        current.end_date = yesterday
        current.save(update_fields=["end_date"])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=membership.person,
        what=f"care team: {current.staff.display_name} ({current.role}) taken off the team",
    )


def receiving_service(
    *, clinician: Staff | None = None, organisation: Organisation | None = None
) -> Service:
    """The service a referral addressed to a clinician or an organisation goes to: the one
    service the clinician works in, or the one the organisation runs. The record refers people to
    services, and only a service's staff open the record on a referral, so a referral the record
    cannot place in one service is refused (ValidationError on `service`) rather than guessed."""
    if clinician is not None:
        services = list(clinician.services.all()[:2])
        named = f"{clinician.display_name} works in"
    elif organisation is not None:
        services = list(organisation.services.all()[:2])
        named = f"{organisation.name} runs"
    else:
        raise ValidationError(
            {"service": "A referral needs a service, a clinician or an organisation"}
        )
    if len(services) != 1:
        raise ValidationError(
            {
                "service": f"{named} {'no' if not services else 'more than one'} service in the"
                " directory: name the service (HealthcareService) the referral is to"
            }
        )
    return services[0]


@transaction.atomic
def referral_create(
    *,
    by: AbstractBaseUser,
    person: Person,
    received_date: dt.date,
    service: Service | None = None,
    clinician: Staff | None = None,
    organisation: Organisation | None = None,
    reason: str = "",
    request: tuple[str, str, str] = ("", "", ""),
    priority: str = Referral.Priority.ROUTINE,
) -> Referral:
    """A referral to `service`, or addressed to a `clinician` or an `organisation` (held as a
    referral to their one service, see `receiving_service`): name exactly one. `request` is what
    is asked for, coded (system, code, display): a person may have several open referrals to one
    service for different requests, never two for the same. `priority` is how soon the referrer
    asks for it to be acted on."""
    staff = _staff(by)
    check_can_open_record(staff, person)
    if sum(x is not None for x in (service, clinician, organisation)) != 1:
        raise ValidationError(
            {"service": "Name exactly one of a service, a clinician or an organisation"}
        )
    addressed_to = Referral.AddressedTo.SERVICE
    if clinician is not None:
        addressed_to = Referral.AddressedTo.PRACTITIONER
    elif organisation is not None:
        addressed_to = Referral.AddressedTo.ORGANISATION
    if service is None:
        service = receiving_service(clinician=clinician, organisation=organisation)
    if received_date > timezone.localdate():
        raise ValidationError({"received_date": "A referral cannot be received in the future"})
    if priority not in Referral.Priority.values:
        known = ", ".join(Referral.Priority.values)
        raise ValidationError({"priority": f"Priority {priority!r} is not one of {known}"})
    system, code, display = request
    if person.referrals.filter(
        service=service, status=Referral.Status.OPEN, request_system=system, request_code=code
    ).exists():
        asked = f" for {display or code}" if code else ""
        raise ValidationError(
            {"service": f"{person} already has an open referral to {service}{asked}"}
        )
    referral = Referral(
        request_system=system,
        request_code=code,
        request_display=display,
        person=person,
        service=service,
        addressed_to=addressed_to,
        recipient=clinician,
        referred_by=staff,
        received_date=received_date,
        reason=reason,
        priority=priority,
    )
    _full_clean(referral)
    referral.save()
    to = f" for {clinician.display_name}" if clinician is not None else ""
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"referral to {service}{to}{referral.how_soon}",
    )
    return referral


#: How the receiving service's staff close a referral (decision 0021).
CLOSED_BY_THE_SERVICE = (
    Referral.Outcome.DISCHARGED,
    Referral.Outcome.DECLINED,
    Referral.Outcome.NOT_ACCEPTED,
)

#: Outcomes the referrer must be told the reason for, with what to ask.
REASON_NEEDED = {
    Referral.Outcome.NOT_ACCEPTED: "Say why the service cannot accept the referral, and where"
    " else the referrer could turn",
    Referral.Outcome.WITHDRAWN: "Say why the referral is withdrawn",
}


def referral_closings(
    staff: Staff,
    referral: Referral,
    relationship: Relationship | None,
    my_services: Collection[int],
) -> tuple[Referral.Outcome, ...]:
    """The outcomes `staff` may close an open `referral` with (decision 0021): the receiving
    service's staff (`my_services`, the pks of their services) discharge the person, record that
    they declined, or do not accept it; the referrer, or anyone on the person's care team,
    withdraws it. A referral the service has accepted can no longer end as not accepted. A
    referral on the NHS Talking Therapies pathway is closed by discharge on its own pages, which
    record the ending reason its national data set needs; breaking glass closes nothing."""
    if (
        referral.status != Referral.Status.OPEN
        or referral.pathway == Referral.Pathway.TALKING_THERAPIES
        or relationship in {None, Relationship.BREAK_GLASS}
    ):
        return ()
    closings: tuple[Referral.Outcome, ...] = ()
    if referral.service_id in my_services:
        closings = CLOSED_BY_THE_SERVICE
        if referral.accepted_at is not None:
            closings = tuple(c for c in closings if c != Referral.Outcome.NOT_ACCEPTED)
    if relationship is Relationship.CARE_TEAM or referral.referred_by_id == staff.pk:
        closings += (Referral.Outcome.WITHDRAWN,)
    return closings


def my_service_pks(staff: Staff) -> frozenset[int]:
    return frozenset(staff.services.values_list("pk", flat=True))


def may_accept_referral(referral: Referral, my_services: Collection[int]) -> bool:
    """Whether staff of `my_services` may accept the referral, having triaged it: an open one
    to their service, not yet accepted, and not one for a pathway that keeps its own states
    (a Talking Therapies service starts it on its pathway instead: `may_start_on_pathway`)."""
    return (
        referral.status == Referral.Status.OPEN
        and referral.accepted_at is None
        and referral.pathway == Referral.Pathway.NONE
        and referral.service.kind != Service.Kind.TALKING_THERAPIES
        and referral.service_id in my_services
    )


def may_start_on_pathway(referral: Referral, my_services: Collection[int]) -> bool:
    """Whether staff of `my_services` may start the referral on the NHS Talking Therapies
    pathway: an open one to their Talking Therapies service that another system sent through
    the API, so it has no pathway record yet (decision 0022)."""
    return (
        referral.status == Referral.Status.OPEN
        and referral.pathway == Referral.Pathway.NONE
        and referral.service.kind == Service.Kind.TALKING_THERAPIES
        and referral.service_id in my_services
    )


@transaction.atomic
def referral_accept(*, by: AbstractBaseUser, referral: Referral) -> Referral:
    """The service accepts an open referral, having triaged it: the referrer sees that it was,
    and when, and it can no longer close as not accepted (decision 0021). ValidationError when
    it is closed or already accepted; AccessDenied for anyone but the service's staff."""
    staff = _staff(by)
    check_can_open_record(staff, referral.person)
    current = Referral.objects.select_for_update().select_related("service").get(pk=referral.pk)
    if current.status != Referral.Status.OPEN:
        raise ValidationError(f"This referral to {current.service} has been closed")
    if current.accepted_at is not None:
        raise ValidationError(
            f"This referral to {current.service} was accepted on"
            f" {timezone.localtime(current.accepted_at):%-d %B %Y}"
        )
    mine = my_service_pks(staff)
    if may_start_on_pathway(current, mine):
        raise ValidationError(
            f"A referral to {current.service} is accepted by starting it on the NHS Talking"
            " Therapies pathway"
        )
    if not may_accept_referral(current, mine):
        raise AccessDenied(f"Only the staff of {current.service} can accept a referral to it")
    current.accepted_at = timezone.now()
    current.accepted_by = staff
    current.save(update_fields=["accepted_at", "accepted_by"])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=referral.person,
        what=f"referral to {current.service} accepted",
    )
    return current


def _who_closes(referral: Referral, outcome: Referral.Outcome) -> str:
    if referral.pathway == Referral.Pathway.TALKING_THERAPIES:
        return (
            "A referral to NHS Talking Therapies is closed by discharging the person on the"
            " Talking Therapies pages"
        )
    if outcome in CLOSED_BY_THE_SERVICE:
        return (
            f"Only the staff of {referral.service} can record that a referral to it was"
            f" {outcome.label.lower()}"
        )
    return (
        "Only the referrer, or a member of the care team, can withdraw a referral; access by"
        " breaking glass cannot"
    )


@transaction.atomic
def referral_close(
    *,
    by: AbstractBaseUser,
    referral: Referral,
    outcome: str,
    outcome_note: str = "",
    closed_date: dt.date | None = None,
    withheld_from_person: str = "",
) -> Referral:
    """Close an open referral with its outcome (`referral_closings` says who may close it how),
    on `closed_date` (today when not given), and tell the referrer and the rest of the record:
    a note on the timeline says how it ended and why, which the person reads in their own record
    unless `withheld_from_person` says why not. The service's staff then open the record only
    through another relationship. ValidationError keyed by field, or AccessDenied."""
    staff = _staff(by)
    relationship = check_can_open_record(staff, referral.person)
    current = (
        Referral.objects.select_for_update().select_related("person", "service").get(pk=referral.pk)
    )
    if current.status != Referral.Status.OPEN:
        raise ValidationError(f"This referral to {current.service} has already been closed")
    if outcome not in Referral.Outcome.values:
        known = ", ".join(Referral.Outcome.values)
        raise ValidationError({"outcome": f"Outcome {outcome!r} is not one of {known}"})
    ending = Referral.Outcome(outcome)
    if ending not in referral_closings(staff, current, relationship, my_service_pks(staff)):
        raise AccessDenied(_who_closes(current, ending))
    note = outcome_note.strip()
    if not note and ending in REASON_NEEDED:
        raise ValidationError({"outcome_note": REASON_NEEDED[ending]})
    today = timezone.localdate()
    closed_date = closed_date or today
    if closed_date > today:
        raise ValidationError({"closed_date": "A referral cannot be closed in the future"})
    if closed_date < current.received_date:
        raise ValidationError(
            {
                "closed_date": "A referral cannot be closed before it was received"
                f" ({current.received_date:%-d %B %Y})"
            }
        )
    _closed(current, ending, note, closed_date, staff, withheld_from_person)
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"referral to {current.service} closed on {closed_date:%Y-%m-%d}: {ending.label}",
    )
    return current


def pathway_referral_close(
    *,
    referral_id: int,
    staff: Staff,
    closed_date: dt.date,
    note: str,
    withheld_from_person: str = "",
) -> Referral:
    """Close, as seen and discharged, a referral that a pathway keeps its own record of
    (`Referral.pathway`): the pathway's discharge has checked who may and audits it. Like any
    closing, it writes the timeline's note of how the referral ended, which the person reads
    unless `withheld_from_person` says why not."""
    current = Referral.objects.select_for_update().get(pk=referral_id)
    _closed(current, Referral.Outcome.DISCHARGED, note, closed_date, staff, withheld_from_person)
    return current


def _closed(
    referral: Referral,
    outcome: Referral.Outcome,
    note: str,
    day: dt.date,
    staff: Staff,
    withheld_from_person: str = "",
) -> None:
    """Close the referral and write the timeline's note of how it ended, which every discipline
    reading the record sees (decision 0021)."""
    referral.status = Referral.Status.CLOSED
    referral.outcome = outcome
    referral.outcome_note = note
    referral.closed_date = day
    referral.closed_by = staff
    _full_clean(referral)
    referral.save(update_fields=["status", "outcome", "outcome_note", "closed_date", "closed_by"])
    now = timezone.now()
    entry = RecordEntry(
        person=referral.person,
        kind=RecordEntry.Kind.NOTE,
        title=_closing_title(referral.service, outcome),
        text=_closing_note(referral, staff),
        occurred_at=now,
        author=staff,
        discipline=staff.discipline,
        service=referral.service,
        **_withholding(withheld_from_person, staff, now),
    )
    _full_clean(entry)
    entry.save()


def _closing_title(service: Service, ending: Referral.Outcome) -> str:
    """ "Referral to District nursing: not accepted by the service", within a title's length
    however long the service's name."""
    end = f": {ending.label.lower()}"
    limit = RecordEntry._meta.get_field("title").max_length or 200
    return Truncator(f"Referral to {service}").chars(limit - len(end)) + end


def _closing_note(referral: Referral, staff: Staff) -> str:
    """The timeline's account of how a referral ended, for the referrer above all."""
    if referral.self_referral:
        referred = f"{referral.person} referred themselves"
    elif referral.referred_by is not None:
        referred = f"Referred by {referral.referred_by.display_name}"
    else:
        referred = "Referred by another system"
    lines = [
        f"{referred} on {referral.received_date:%-d %B %Y}{referral.how_soon}"
        + (f": {referral.reason}" if referral.reason else "."),
        f"{Referral.Outcome(referral.outcome).label} on {referral.closed_date:%-d %B %Y}, recorded"
        f" by {staff.display_name} ({staff.discipline_enum.label}).",
    ]
    if referral.outcome_note:
        lines.append(referral.outcome_note)
    return "\n\n".join(lines)


#: A care and support plan is reviewed no later than every 12 months (Care Act 2014 statutory
#: guidance, 13.32): its review date is set no further ahead than that.
CARE_PLAN_REVIEW_WITHIN = dt.timedelta(days=366)
#: The most actions one plan holds: a plan the person can follow, not a task list.
CARE_PLAN_ACTIONS = 20


@dataclass(frozen=True)
class PlannedAction:
    what: str
    who: str
    status: str = CarePlanAction.Status.NOT_STARTED


def may_write_care_plan(relationship: Relationship | None) -> bool:
    """Staff caring for the person write and change their care plan with them; access by
    breaking glass reads it only (decision 0031)."""
    return caring_for(relationship)


def _check_may_write_care_plan(by: AbstractBaseUser, person: Person) -> Staff:
    staff = _staff(by)
    if not may_write_care_plan(check_can_open_record(staff, person)):
        raise AccessDenied(
            "Access by breaking glass cannot change a care plan: ask a member of the care team"
        )
    return staff


@transaction.atomic
def care_plan_write(
    *,
    by: AbstractBaseUser,
    person: Person,
    title: str,
    what_matters: str,
    actions: Sequence[PlannedAction],
    if_things_change: str,
    review_date: dt.date,
    agreed_with_person: bool,
    lead: Staff,
    plan: CarePlan | None = None,
    version: int | None = None,
) -> CarePlan:
    """Write a new care plan for the person, or change `plan` as it stood at `version` (a change
    to an older version is refused: a colleague has changed it since). `lead` coordinates it:
    someone caring for the person. The timeline keeps the plan as written, so each change stays
    on the record. ValidationError keyed by field, or AccessDenied (`may_write_care_plan`)."""
    staff = _check_may_write_care_plan(by, person)
    now = timezone.now()
    if plan is None:
        current = CarePlan(person=person, written_by=staff, written_at=now)
    else:
        current = CarePlan.objects.select_for_update().get(pk=plan.pk, person=person)
        if current.status != CarePlan.Status.ACTIVE:
            raise ValidationError(
                "This care plan has ended, so it cannot be changed: write a new one"
            )
        if version is None:
            raise ValidationError("Open the care plan again: this form did not say which version")
        if version != current.version:
            raise ValidationError(
                f"{current.changed_by.display_name} changed this care plan since you opened it:"
                " open it again to see their changes, then make yours"
            )
        current.version += 1
    errors = _care_plan_errors(review_date, actions, timezone.localdate())
    if not caring_for(relationship(lead, person)):
        errors["lead"] = [
            f"{lead.display_name} is not caring for {person.full_name}: choose someone on their"
            " care team, or in a service they are referred to"
        ]
    current.lead = lead
    current.title = title.strip()
    current.what_matters = what_matters.strip()
    current.if_things_change = if_things_change.strip()
    current.review_date = review_date
    current.agreed_with_person = agreed_with_person
    current.changed_by = staff
    current.changed_at = now
    try:
        _full_clean(current)
    except ValidationError as invalid:
        for name, messages in invalid.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    rows = [
        CarePlanAction(position=n, what=a.what.strip(), who=a.who.strip(), status=a.status)
        for n, a in enumerate(actions, start=1)
    ]
    for row in rows:
        try:
            row.full_clean(exclude=["plan"])
        except ValidationError as invalid:
            errors.setdefault("actions", []).extend(
                f"Action {row.position}: {message}" for message in invalid.messages
            )
    if errors:
        raise ValidationError(errors)
    current.save()
    before = {a.position: a for a in current.actions.all()} if plan is not None else {}
    current.actions.all().delete()
    for row in rows:
        row.plan = current
        kept = before.get(row.position)
        if kept is not None and (kept.what, kept.who, kept.status) == (
            row.what,
            row.who,
            row.status,
        ):
            row.status_by_person_at = kept.status_by_person_at
    CarePlanAction.objects.bulk_create(rows)
    changed = "written" if plan is None else "changed"
    _care_plan_note(current, rows, staff, changed)
    audit(
        by=by,
        action=AuditEvent.Action.CREATE if plan is None else AuditEvent.Action.UPDATE,
        person=person,
        what=f"care plan: {current.title}",
    )
    return current


def _care_plan_errors(
    review_date: dt.date, actions: Sequence[PlannedAction], today: dt.date
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if review_date < today:
        errors["review_date"] = ["The review date must be today or later"]
    elif review_date > today + CARE_PLAN_REVIEW_WITHIN:
        errors["review_date"] = [
            "The review date must be within 12 months: a care plan is reviewed at least once a year"
        ]
    if not actions:
        errors["actions"] = ["Enter at least one action: what will be done, and by whom"]
    elif len(actions) > CARE_PLAN_ACTIONS:
        errors["actions"] = [f"A care plan holds at most {CARE_PLAN_ACTIONS} actions"]
    return errors


@transaction.atomic
def care_plan_end(
    *, by: AbstractBaseUser, plan: CarePlan, status: str, end_reason: str, version: int
) -> CarePlan:
    """End a plan in force: finished (it did what it set out to) or stopped, saying why, for
    everyone caring for the person and for the person. ValidationError or AccessDenied."""
    staff = _check_may_write_care_plan(by, plan.person)
    current = CarePlan.objects.select_for_update().select_related("person").get(pk=plan.pk)
    if current.status != CarePlan.Status.ACTIVE:
        raise ValidationError("This care plan has already ended")
    if version != current.version:
        raise ValidationError(
            f"{current.changed_by.display_name} changed this care plan since you opened it:"
            " open it again before ending it"
        )
    errors = {}
    if status not in {CarePlan.Status.COMPLETED, CarePlan.Status.REVOKED}:
        errors["status"] = "Say whether the plan is finished or stopped"
    if not end_reason.strip():
        errors["end_reason"] = "Say why the plan has ended"
    if errors:
        raise ValidationError(errors)
    current.status = status
    current.end_reason = end_reason.strip()
    current.version += 1
    current.changed_by = staff
    current.changed_at = timezone.now()
    _full_clean(current)
    current.save()
    label = CarePlan.Status(current.status).label.lower()
    actions = list(current.actions.all())
    _care_plan_note(current, actions, staff, label)
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=current.person,
        what=f"care plan {label}: {current.title}",
    )
    return current


@transaction.atomic
def care_plan_progress(
    *, by: AbstractBaseUser, plan: CarePlan, statuses: Mapping[int, str], version: int
) -> list[CarePlanAction]:
    """The person records, themselves, how far the actions of their own plan in force have got
    (`statuses`, by action number; decision 0031). The plan's version rises, so a colleague's form
    opened before is refused rather than undoing it. Returns the actions changed. ValidationError,
    or AccessDenied for anyone but the person."""
    if getattr(by, "person", None) != plan.person:
        raise AccessDenied("Only the person whose plan it is records their progress here")
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if current.status != CarePlan.Status.ACTIVE:
        raise ValidationError("This care plan has ended, so there is no progress to record")
    if version != current.version:
        raise ValidationError(
            "This care plan has changed since you opened it. Here it is as it now stands: record"
            " your progress again"
        )
    actions = {a.position: a for a in current.actions.all()}
    unknown = set(statuses) - set(actions)
    if unknown:
        raise ValidationError(f"Action {min(unknown)} is not in this care plan")
    if not set(statuses.values()) <= set(CarePlanAction.Status.values):
        raise ValidationError("Choose how far each action has got from the list")
    changed = [actions[n] for n, status in sorted(statuses.items()) if actions[n].status != status]
    now = timezone.now()
    for action in changed:
        action.status = statuses[action.position]
        action.status_by_person_at = now
    CarePlanAction.objects.bulk_update(changed, ["status", "status_by_person_at"])
    if changed:
        current.version += 1
        current.save(update_fields=["version"])
        audit(
            by=by,
            action=AuditEvent.Action.UPDATE,
            person=plan.person,
            what=f"care plan progress recorded by the person: {current.title} ("
            + ", ".join(f"action {a.position} {a.get_status_display().lower()}" for a in changed)
            + ")",
        )
    return changed


def _care_plan_note(
    plan: CarePlan, actions: Sequence[CarePlanAction], staff: Staff, what: str
) -> None:
    """The plan as it now stands, on the timeline: its earlier versions stay on the record."""
    RecordEntry.objects.create(
        person=plan.person,
        kind=RecordEntry.Kind.NOTE,
        title=care_plan_note_title(plan, what),
        text=care_plan_text(plan, actions),
        occurred_at=plan.changed_at,
        author=staff,
        discipline=staff.discipline,
    )


def care_plan_note_title(plan: CarePlan, what: str) -> str:
    """ "Care plan written: Staying well at home" (`what` was done to it), within a title's
    length however long the plan's title."""
    limit = RecordEntry._meta.get_field("title").max_length or 200
    return Truncator(f"Care plan {what}: {plan.title}").chars(limit)


def care_plan_text(plan: CarePlan, actions: Sequence[CarePlanAction]) -> str:
    """The plan in plain words, as the timeline keeps it."""
    lines = [f"What matters to {plan.person}: {plan.what_matters}", "Actions:"]
    lines += [
        f"{a.position}. {a.what} (who: {a.who}; {CarePlanAction.Status(a.status).label.lower()})"
        for a in actions
    ]
    if plan.if_things_change:
        lines.append(f"If things change: {plan.if_things_change}")
    agreed = "Agreed" if plan.agreed_with_person else "Not yet agreed"
    lines.append(f"Coordinated by {plan.lead.display_name}.")
    lines.append(f"Review by {plan.review_date:%-d %B %Y}. {agreed} with the person.")
    if plan.status != CarePlan.Status.ACTIVE:
        lines.append(f"{CarePlan.Status(plan.status).label}: {plan.end_reason}")
    return "\n".join(lines)
