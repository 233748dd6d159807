"""Writes for the Talking Therapies pathway. Each is atomic, checks permission first, validates
(raising ValidationError keyed by field, with a message that says what is wrong; nothing is
written) and audits in the same transaction.

Changes to a referral's own fields take the `version` the user saw: a stale save is refused with
a message, never silently overwritten (optimistic locking).
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from wholecare import measures
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied, check_can_open_record, staff_of
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.record import nhs_number
from wholecare.record import services as record_services
from wholecare.record.models import Condition, Person, RecordEntry, Referral
from wholecare.record.vocabulary import ConditionGroup, Sensitivity
from wholecare.talking_therapies import codes, engine, markers, stepping, workday
from wholecare.talking_therapies.models import (
    CareContact,
    MeasureScore,
    PhysicalMarker,
    PublicAttempt,
    QuestionnaireInvitation,
    RiskTask,
    SelfReferral,
    StepChange,
    TTReferral,
)

STALE = (
    "This referral was changed by someone else after you opened it. Nothing has been saved:"
    " reload the page to see their change, then make yours again."
)
CODE_LIFETIME = dt.timedelta(days=7)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
PUBLIC_LIMITS: dict[str, int] = {"questionnaire": 10, "self-referral": 5}
PUBLIC_WINDOW = dt.timedelta(hours=1)
ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")
RISK_MEASURE = "PHQ9"
Answers = Sequence[int | None] | Mapping[int, int | None]
THERAPIST_FOR_STEP: dict[stepping.Step, Discipline] = {
    stepping.Step.LOW_INTENSITY: Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
    stepping.Step.HIGH_INTENSITY: Discipline.HIGH_INTENSITY_THERAPIST,
}


def _service_staff(by: AbstractBaseUser, service: Service) -> Staff:
    staff = staff_of(by)
    if not staff.services.filter(pk=service.pk).exists():
        raise AccessDenied(f"Only staff of {service} can do this")
    return staff


def _locked(referral: TTReferral, version: int) -> TTReferral:
    current = TTReferral.objects.select_for_update().get(pk=referral.pk)
    if current.version != version:
        raise ValidationError(STALE, code="stale")
    return current


def _bump(referral: TTReferral, *fields: str) -> None:
    referral.version += 1
    referral.save(update_fields=[*fields, "version"])


def _not_discharged(referral: TTReferral) -> None:
    if referral.status == TTReferral.Status.DISCHARGED:
        raise ValidationError("This referral has been discharged; nothing more can be recorded")


def _full_clean(instance: Any, *, exclude: list[str] | None = None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)


# Referrals -------------------------------------------------------------------------------------


def _ltc_conditions(person: Person, conditions: Sequence[Condition]) -> list[Condition]:
    found = list(conditions)
    for condition in found:
        if condition.person_id != person.pk:
            raise ValidationError({"conditions": "That condition is not on this person's record"})
        if condition.concept.group is not ConditionGroup.LONG_TERM:
            raise ValidationError(
                {"conditions": f"{condition.concept.display} is not a long-term condition"}
            )
    return found


def _check_service(service: Service) -> None:
    if service.kind != Service.Kind.TALKING_THERAPIES:
        raise ValidationError({"service": f"{service} is not an NHS Talking Therapies service"})


def _check_source(source: str) -> None:
    if source not in {c.code for c in codes.SOURCES_OF_REFERRAL}:
        raise ValidationError({"source": "Choose where the referral comes from"})


def usual_source(referrer: Staff | None) -> str:
    """The source of referral (data set IDS101) a referral from `referrer` usually has, to
    offer first; empty when another system sent it with no referrer."""
    if referrer is None:
        return ""
    return {
        Discipline.GP: "A1",
        Discipline.PRACTICE_NURSE: "A3",
        Discipline.DISTRICT_NURSE: "Q1",
    }.get(referrer.discipline_enum, "P1" if referrer.organisation.kind == "acute-trust" else "A3")


def _check_descriptor(code: str) -> str:
    code = code.strip().upper()
    if code and not ICD10.match(code):
        raise ValidationError(
            {"problem_descriptor": "Enter the problem descriptor as an ICD-10 code, like F41.1"}
        )
    return code


@transaction.atomic
def tt_referral_create(
    *,
    by: AbstractBaseUser,
    person: Person,
    service: Service,
    source: str,
    conditions: Sequence[Condition],
    received_date: dt.date,
    problem_descriptor: str = "",
) -> TTReferral:
    """A referral from the person's record in one step: the shared-record referral (so the
    service can open the record) and the pathway's own, together."""
    staff = staff_of(by)
    check_can_open_record(staff, person)
    _check_service(service)
    _check_source(source)
    if not conditions:
        raise ValidationError({"conditions": "Choose the long-term condition(s) it is about"})
    chosen = _ltc_conditions(person, conditions)
    descriptor = _check_descriptor(problem_descriptor)
    referral = record_services.referral_create(
        by=by,
        person=person,
        service=service,
        received_date=received_date,
        reason="NHS Talking Therapies, long-term conditions pathway",
    )
    tt = _tt_create(referral, source, staff, chosen, descriptor)
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"Talking Therapies referral ({tt.source_label}) for "
        + ", ".join(c.concept.display for c in chosen),
    )
    return tt


@transaction.atomic
def referral_start(
    *,
    by: AbstractBaseUser,
    referral: Referral,
    source: str,
    conditions: Sequence[Condition],
    problem_descriptor: str = "",
) -> TTReferral:
    """Start on the pathway a referral that another system sent to a Talking Therapies service
    through the API, with none of what the pathway needs (decision 0022): the service's staff
    give its source and the long-term conditions it is about (none when the person has none:
    it then counts as a referral without one). Starting it accepts it, so the referrer sees
    that it was. ValidationError keyed by field; AccessDenied for anyone but the service's
    staff."""
    staff = staff_of(by)
    check_can_open_record(staff, referral.person)
    current = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person", "service", "referred_by")
        .get(pk=referral.pk)
    )
    if current.status != Referral.Status.OPEN:
        raise ValidationError(f"This referral to {current.service} has been closed")
    if current.pathway != Referral.Pathway.NONE:
        raise ValidationError(f"This referral to {current.service} is already on the pathway")
    if not record_services.may_start_on_pathway(current, record_services.my_service_pks(staff)):
        raise AccessDenied(
            f"Only the staff of an NHS Talking Therapies service can start a referral to it on"
            f" the pathway, and {current.service} is not one of yours"
        )
    _check_source(source)
    chosen = _ltc_conditions(current.person, conditions)
    descriptor = _check_descriptor(problem_descriptor)
    if (
        TTReferral.objects.filter(person=current.person, service=current.service)
        .exclude(status=TTReferral.Status.DISCHARGED)
        .exists()
    ):
        raise ValidationError(
            f"{current.person} is already on the pathway at {current.service}: close this"
            " referral as not accepted, saying so, instead of starting a second one"
        )
    if current.accepted_at is None:
        current.accepted_at = timezone.now()
        current.accepted_by = staff
    current.self_referral = source == codes.SELF_REFERRAL and current.referred_by is None
    current.save(update_fields=["accepted_at", "accepted_by", "self_referral"])
    tt = _tt_create(current, source, current.referred_by, chosen, descriptor)
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=current.person,
        what=f"referral to {current.service} started on the Talking Therapies pathway"
        f" ({tt.source_label})",
    )
    return tt


def _tt_create(
    referral: Referral,
    source: str,
    staff: Staff | None,
    conditions: list[Condition],
    descriptor: str,
) -> TTReferral:
    referral.pathway = Referral.Pathway.TALKING_THERAPIES
    referral.save(update_fields=["pathway"])
    tt = TTReferral(
        referral=referral,
        person=referral.person,
        service=referral.service,
        received_date=referral.received_date,
        source=source,
        referred_by=staff,
        problem_descriptor=descriptor,
    )
    _full_clean(tt)
    tt.save()
    tt.conditions.set(conditions)
    return tt


@transaction.atomic
def _attempt(kind: str, client: str) -> None:
    """Count a try at a public form, in its own transaction so refused tries count too. An
    address's tries older than the window no longer count, and go."""
    since = timezone.now() - PUBLIC_WINDOW
    PublicAttempt.objects.filter(kind=kind, client_hash=client, at__lt=since).delete()
    recent = PublicAttempt.objects.filter(kind=kind, client_hash=client, at__gte=since).count()
    if recent >= PUBLIC_LIMITS[kind]:
        raise ValidationError(
            "Too many attempts from this device. Try again in an hour, or phone the service."
        )
    PublicAttempt.objects.create(kind=kind, client_hash=client, at=timezone.now())


def self_referral_submit(
    *,
    service: Service,
    client: str,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    postcode: str,
    nhs_number_text: str = "",
    phone: str = "",
    email: str = "",
    long_term_conditions: Sequence[str] = (),
    what_would_help: str = "",
) -> SelfReferral:
    """A member of the public refers themselves. Creates no person: the service matches it."""
    _check_service(service)
    _attempt("self-referral", client)
    with transaction.atomic():
        return _self_referral_save(
            service=service,
            given_name=given_name,
            family_name=family_name,
            date_of_birth=date_of_birth,
            postcode=postcode,
            nhs_number_text=nhs_number_text,
            phone=phone,
            email=email,
            long_term_conditions=long_term_conditions,
            what_would_help=what_would_help,
        )


def _self_referral_save(
    *,
    service: Service,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    postcode: str,
    nhs_number_text: str,
    phone: str,
    email: str,
    long_term_conditions: Sequence[str],
    what_would_help: str,
) -> SelfReferral:
    number = ""
    if nhs_number_text.strip():
        try:
            number = nhs_number.normalise(nhs_number_text)
        except nhs_number.InvalidNHSNumber as error:
            raise ValidationError({"nhs_number": str(error)}) from None
    if date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": "Date of birth must be in the past"})
    if not phone.strip() and not email.strip():
        raise ValidationError({"phone": "Give a phone number or an email address so we can reply"})
    submission = SelfReferral(
        service=service,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        nhs_number=number,
        postcode=postcode.strip().upper(),
        phone=phone.strip(),
        email=email.strip(),
        long_term_conditions=list(long_term_conditions),
        what_would_help=what_would_help.strip(),
        submitted_at=timezone.now(),
    )
    _full_clean(submission, exclude=["tt_referral"])
    submission.save()
    audit(
        by=AnonymousUser(),
        action=AuditEvent.Action.CREATE,
        person=None,
        what=f"self-referral {submission.pk} to {service}",
    )
    return submission


def matching_people(submission: SelfReferral) -> list[Person]:
    """Existing records this self-referral may be: same NHS number, or same family name and
    date of birth (the record's exact trace)."""
    found = Person.objects.filter(
        family_name__iexact=submission.family_name, date_of_birth=submission.date_of_birth
    )
    if submission.nhs_number:
        found = found | Person.objects.filter(nhs_number=submission.nhs_number)
    return list(found.distinct().order_by("pk")[:10])


@transaction.atomic
def self_referral_accept(
    *,
    by: AbstractBaseUser,
    submission: SelfReferral,
    person: Person | None = None,
    nhs_number_text: str = "",
    sex: str = Person.Sex.UNKNOWN,
) -> TTReferral:
    """Turn a self-referral into a referral: linked to `person`, an existing record it matches,
    or to a new record made from a traced NHS number when it matches nobody."""
    staff = _service_staff(by, submission.service)
    submission = SelfReferral.objects.select_for_update().get(pk=submission.pk)
    if submission.tt_referral_id is not None or submission.closed_at is not None:
        raise ValidationError("This self-referral has already been dealt with")
    candidates = matching_people(submission)
    if person is None:
        if candidates:
            raise ValidationError(
                {
                    "person": "This self-referral matches a record already held; link it to that"
                    " record instead of creating a duplicate"
                }
            )
        person = record_services.person_create(
            by=by,
            nhs_number_text=nhs_number_text or submission.nhs_number,
            given_name=submission.given_name,
            family_name=submission.family_name,
            date_of_birth=submission.date_of_birth,
            sex=sex,
            postcode=submission.postcode,
            phone=submission.phone,
            email=submission.email,
        )
    elif person not in candidates:
        raise ValidationError({"person": "That record does not match this self-referral"})
    if person.referrals.filter(service=submission.service, status=Referral.Status.OPEN).exists():
        raise ValidationError(
            {"person": f"{person} already has an open referral to {submission.service}"}
        )
    received = timezone.localtime(submission.submitted_at).date()
    # The self-referral is the legitimate basis here: the service cannot open the record before
    # the referral exists, so this creates the shared-record referral itself, audited below.
    referral = Referral(
        person=person,
        service=submission.service,
        received_date=received,
        reason="Self-referral",
        self_referral=True,
    )
    _full_clean(referral)
    referral.save()
    conditions = list(
        person.conditions.filter(
            clinical_status=Condition.ClinicalStatus.ACTIVE,
            snomed_code__in=submission.long_term_conditions,
        )
    )
    tt = _tt_create(referral, codes.SELF_REFERRAL, None, conditions, "")
    submission.tt_referral = tt
    submission.closed_at = timezone.now()
    submission.save(update_fields=["tt_referral", "closed_at"])
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"self-referral {submission.pk} accepted by {staff.display_name}: referral to"
        f" {submission.service}",
    )
    return tt


# Assessment and stepped care -------------------------------------------------------------------


@transaction.atomic
def problem_descriptor_record(
    *, by: AbstractBaseUser, referral: TTReferral, problem_descriptor: str, version: int
) -> TTReferral:
    _service_staff(by, referral.service)
    referral = _locked(referral, version)
    _not_discharged(referral)
    descriptor = _check_descriptor(problem_descriptor)
    if not descriptor:
        raise ValidationError({"problem_descriptor": "Enter the problem descriptor"})
    before = referral.problem_descriptor
    referral.problem_descriptor = descriptor
    _bump(referral, "problem_descriptor")
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=referral.person,
        what=f"Talking Therapies problem descriptor: {before or 'none'} -> {descriptor}",
    )
    return referral


@transaction.atomic
def referral_conditions_record(
    *, by: AbstractBaseUser, referral: TTReferral, conditions: Sequence[Condition], version: int
) -> TTReferral:
    """The long-term conditions an open referral is about, as the service now knows them: one
    entered in error replaced by the right one, one diagnosed since added. None leaves it a
    referral without one, as the LTC figures will count it.

    Recording them is the service's check after a condition was entered in error, so the links to
    such conditions go too (the related manager never sees them, so `set` would keep them)."""
    _service_staff(by, referral.service)
    referral = _locked(referral, version)
    _not_discharged(referral)
    chosen = _ltc_conditions(referral.person, conditions)
    before = ", ".join(c.concept.display for c in referral.conditions.all()) or "none"
    withdrawn, _ = TTReferral.conditions.through.objects.filter(
        ttreferral=referral, condition__entered_in_error_at__isnull=False
    ).delete()
    if withdrawn:
        before += f"; {withdrawn} entered in error since"
    referral.conditions.set(chosen)
    _bump(referral)
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=referral.person,
        what="Talking Therapies referral is about: "
        + (", ".join(c.concept.display for c in chosen) or "no long-term condition")
        + f" (was: {before})",
    )
    return referral


def presentation(referral: TTReferral) -> stepping.Presentation:
    """The first score of each measure on the referral, with its descriptor."""
    first: dict[str, float] = {}
    for score in referral.scores.order_by("measured_on", "pk"):
        first.setdefault(score.measure, score.total)
    return stepping.Presentation(
        problem_descriptor=referral.problem_descriptor,
        phq9=first.get("PHQ9"),
        gad7=first.get("GAD7"),
        wsas=first.get("WSAS"),
    )


@transaction.atomic
def step_allocate(
    *,
    by: AbstractBaseUser,
    referral: TTReferral,
    step: str,
    clinician: Staff,
    version: int,
    reason: str = "",
) -> TTReferral:
    """Allocate (or step up or down) to a step and a clinician of the right discipline."""
    staff = _service_staff(by, referral.service)
    referral = _locked(referral, version)
    _not_discharged(referral)
    try:
        chosen = stepping.Step(step)
    except ValueError:
        raise ValidationError({"step": "Choose step 2 or step 3"}) from None
    if not referral.scores.filter(measure="PHQ9").exists():
        raise ValidationError({"step": "Record the assessment's PHQ-9 before allocating a step"})
    needed = THERAPIST_FOR_STEP[chosen]
    if (
        clinician.discipline != needed
        or not clinician.services.filter(pk=referral.service_id).exists()
    ):
        raise ValidationError(
            {"clinician": f"{chosen.label} needs a {needed.label.lower()} of {referral.service}"}
        )
    recommended = stepping.recommend(presentation(referral))
    reason = reason.strip()
    if chosen is not recommended.step and not reason:
        raise ValidationError(
            {
                "reason": f"The assessment points to {recommended.step.label.lower()}; say why"
                " you are choosing another step"
            }
        )
    before = referral.step_enum
    StepChange.objects.create(
        referral=referral,
        from_step=before.value if before else "",
        to_step=chosen.value,
        recommended_step=recommended.step.value,
        reason=reason[:500],
        changed_by=staff,
        changed_at=timezone.now(),
    )
    referral.step = chosen.value
    referral.clinician = clinician
    _bump(referral, "step", "clinician")
    RiskTask.objects.filter(referral=referral, reviewed_at__isnull=True).update(
        assigned_to=clinician
    )
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=referral.person,
        what=f"Talking Therapies step {stepping.change_kind(before, chosen)}: {chosen.label},"
        f" clinician {clinician.display_name}",
        why=reason,
    )
    return referral


# Care contacts ---------------------------------------------------------------------------------


def _choice(value: str, allowed: tuple[codes.Code, ...], field: str, message: str) -> None:
    if value not in {c.code for c in allowed}:
        raise ValidationError({field: message})


@transaction.atomic
def contact_record(
    *,
    by: AbstractBaseUser,
    referral: TTReferral,
    starts_at: dt.datetime,
    kind: str,
    attendance: str,
    mode: str,
    intensity: str,
    integrated_ltc: bool = False,
    therapy_type: str = "",
) -> CareContact:
    staff = _service_staff(by, referral.service)
    referral = TTReferral.objects.select_for_update().get(pk=referral.pk)
    _not_discharged(referral)
    if kind not in codes.CONTACT_KIND_LABELS:
        raise ValidationError({"kind": "Choose the kind of contact"})
    _choice(attendance, codes.ATTENDANCE, "attendance", "Choose whether the person attended")
    _choice(mode, codes.MODES, "mode", "Choose how the contact took place")
    _choice(intensity, codes.INTENSITIES, "intensity", "Choose low or high intensity")
    if therapy_type:
        _choice(therapy_type, codes.THERAPY_TYPES, "therapy_type", "Choose a therapy type")
    day = timezone.localtime(starts_at).date()
    if day < referral.received_date:
        raise ValidationError(
            {
                "starts_at": f"A contact cannot be before the referral was received"
                f" ({referral.received_date:%-d %B %Y})"
            }
        )
    if starts_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"starts_at": "Record a contact once it has taken place"})
    contact = CareContact(
        referral=referral,
        starts_at=starts_at,
        kind=kind,
        attendance=attendance,
        mode=mode,
        integrated_ltc=integrated_ltc,
        therapy_type=therapy_type,
        intensity=intensity,
        clinician=staff,
        recorded_at=timezone.now(),
    )
    _full_clean(contact)
    contact.save()
    status = _status_after_contact(referral, contact)
    if status != referral.status:
        referral.status = status
        _bump(referral, "status")
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=referral.person,
        what=f"Talking Therapies care contact on {day:%Y-%m-%d}: {contact.get_kind_display()},"
        f" {contact.get_attendance_display().lower()}, {contact.get_mode_display().lower()}"
        + (", integrated LTC" if integrated_ltc else ""),
    )
    return contact


def _status_after_contact(referral: TTReferral, contact: CareContact) -> str:
    if not contact.attended:
        return referral.status
    if contact.kind == CareContact.Kind.TREATMENT:
        return TTReferral.Status.IN_TREATMENT
    if (
        contact.kind == CareContact.Kind.ASSESSMENT
        and referral.status == TTReferral.Status.AWAITING_ASSESSMENT
    ):
        return TTReferral.Status.AWAITING_TREATMENT
    return referral.status


@transaction.atomic
def contact_change_kind(
    *, by: AbstractBaseUser, contact: CareContact, kind: str, reason: str
) -> CareContact:
    """Re-label a contact (assessment vs treatment). Always audited with the reason: relabelling
    is how waits are hidden, so every change must be traceable."""
    _service_staff(by, contact.referral.service)
    contact = CareContact.objects.select_for_update().select_related("referral").get(pk=contact.pk)
    referral = TTReferral.objects.select_for_update().get(pk=contact.referral_id)
    _not_discharged(referral)
    if kind not in codes.CONTACT_KIND_LABELS:
        raise ValidationError({"kind": "Choose the kind of contact"})
    if kind == contact.kind:
        raise ValidationError({"kind": "The contact is already of that kind"})
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "Say why the kind of contact is changing"})
    before = contact.kind
    contact.kind = kind
    contact.save(update_fields=["kind"])
    status = _recomputed_status(referral)
    if status != referral.status:
        referral.status = status
    _bump(referral, "status")
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=referral.person,
        what=f"Talking Therapies contact of {timezone.localtime(contact.starts_at):%Y-%m-%d}"
        f" changed from {before} to {kind}",
        why=reason,
    )
    return contact


def _recomputed_status(referral: TTReferral) -> str:
    attended = referral.contacts.filter(attendance=codes.ATTENDED)
    if attended.filter(kind=CareContact.Kind.TREATMENT).exists():
        return TTReferral.Status.IN_TREATMENT
    if attended.filter(kind=CareContact.Kind.ASSESSMENT).exists():
        return TTReferral.Status.AWAITING_TREATMENT
    return TTReferral.Status.AWAITING_ASSESSMENT


# Measures and risk -----------------------------------------------------------------------------


def _raise_risk_tasks(
    *,
    person: Person,
    referral: TTReferral | None,
    service: Service | None,
    score: MeasureScore | None,
    flags: Sequence[measures.RiskFlag],
    item9: int | None,
    assignee: Staff | None,
) -> list[RiskTask]:
    now = timezone.now()
    return [
        RiskTask.objects.create(
            referral=referral,
            person=person,
            service=service,
            score=score,
            flag=flag.value,
            item9_answer=item9,
            raised_at=now,
            assigned_to=assignee,
        )
        for flag in flags
    ]


def _item9(answers: Answers) -> int | None:
    value = answers.get(9) if isinstance(answers, Mapping) else (answers[8:9] or [None])[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _score_or_error(measure: str, answers: Answers) -> measures.Score:
    try:
        return measures.score(measure, answers)
    except measures.UnknownMeasure:
        raise ValidationError({"measure": f"{measure} is not a measure Wholecare scores"}) from None
    except measures.ScoringError as error:
        raise ValidationError({"answers": str(error)}) from error


def _record_score(
    *,
    person: Person,
    referral: TTReferral | None,
    measure: str,
    answers: Answers,
    measured_on: dt.date,
    entered_by: Staff | None,
    via: str,
    assignee: Staff | None,
    service: Service | None,
    requested_by: Staff | None = None,
) -> MeasureScore:
    if measured_on > timezone.localdate():
        raise ValidationError({"measured_on": "A questionnaire cannot be dated in the future"})
    if referral is not None:
        if measured_on < referral.received_date:
            raise ValidationError(
                {"measured_on": "A questionnaire cannot be before the referral was received"}
            )
        _not_discharged(referral)
    result = _score_or_error(measure, answers)
    score = MeasureScore.objects.create(
        person=person,
        referral=referral,
        measured_on=measured_on,
        measure=measure,
        answers=list(result.answers),
        total=result.total,
        at_caseness=result.at_caseness,
        risk_flags=[f.value for f in result.risk_flags],
        entered_by=entered_by,
        entered_via=via,
        requested_by=requested_by,
        recorded_at=timezone.now(),
    )
    if result.risk_flags:
        _raise_risk_tasks(
            person=person,
            referral=referral,
            service=service,
            score=score,
            flags=result.risk_flags,
            item9=_item9(answers),
            assignee=assignee,
        )
    return score


def _unscorable_with_risk(error: ValidationError) -> bool:
    cause = error.__cause__
    return (
        isinstance(cause, measures.TooManyMissing)
        and measures.RiskFlag.ITEM9_POSITIVE in cause.risk_flags
    )


def measure_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    measure: str,
    answers: Answers,
    measured_on: dt.date,
    referral: TTReferral | None = None,
) -> MeasureScore:
    """Score and store one questionnaire entered by a clinician; see `measures_record`."""
    return measures_record(
        by=by,
        person=person,
        answers={measure: answers},
        measured_on=measured_on,
        referral=referral,
    )[0]


def measures_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    answers: Mapping[str, Answers],
    measured_on: dt.date,
    referral: TTReferral | None = None,
) -> list[MeasureScore]:
    """Score and store questionnaires entered by a clinician (in a referral, or a screen before
    one): all of them or, if one is refused, none.

    A PHQ-9 whose item 9 is positive, missing or invalid raises a risk task for the responsible
    clinician in the same transaction. A PHQ-9 too incomplete to score is refused, but a positive
    item 9 on it still raises a risk task, so the safety signal is never lost.
    """
    try:
        return _measures_record(
            by=by, person=person, answers=answers, measured_on=measured_on, referral=referral
        )
    except ValidationError as error:
        if _unscorable_with_risk(error):
            _unscored_risk(by=by, person=person, referral=referral, answers=answers[RISK_MEASURE])
        raise


@transaction.atomic
def _measures_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    answers: Mapping[str, Answers],
    measured_on: dt.date,
    referral: TTReferral | None,
) -> list[MeasureScore]:
    staff = staff_of(by)
    check_can_open_record(staff, person)
    if referral is not None:
        _service_staff(by, referral.service)
        if referral.person_id != person.pk:
            raise ValidationError("That referral is not this person's")
    scores = []
    for measure, given in answers.items():
        score = _record_score(
            person=person,
            referral=referral,
            measure=measure,
            answers=given,
            measured_on=measured_on,
            entered_by=staff,
            via=MeasureScore.EnteredVia.CLINICIAN,
            assignee=referral.clinician if referral is not None else staff,
            service=referral.service if referral is not None else None,
        )
        scores.append(score)
        audit(
            by=by,
            action=AuditEvent.Action.CREATE,
            person=person,
            what=f"{measure} recorded ({score.total:g})"
            + (f"; risk flags: {', '.join(score.risk_flags)}" if score.risk_flags else ""),
        )
    return scores


@transaction.atomic
def _unscored_risk(
    *,
    by: AbstractBaseUser,
    person: Person,
    referral: TTReferral | None,
    answers: Answers,
) -> None:
    staff = staff_of(by)
    check_can_open_record(staff, person)
    _raise_risk_tasks(
        person=person,
        referral=referral,
        service=referral.service if referral else None,
        score=None,
        flags=[measures.RiskFlag.ITEM9_POSITIVE],
        item9=_item9(answers),
        assignee=referral.clinician if referral else staff,
    )
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what="risk task from an unscorable PHQ-9 with a positive item 9",
    )


@transaction.atomic
def risk_task_review(*, by: AbstractBaseUser, task: RiskTask, note: str) -> RiskTask:
    """A named person records the risk review; until then the task stays on the caseload."""
    staff = staff_of(by)
    check_can_open_record(staff, task.person)
    if task.service_id is not None and not staff.services.filter(pk=task.service_id).exists():
        raise AccessDenied("Only staff of the service can review this risk task")
    if task.service_id is None and task.assigned_to_id not in {None, staff.pk}:
        raise AccessDenied("Only the clinician who recorded the screen can review this task")
    task = RiskTask.objects.select_for_update().get(pk=task.pk)
    if task.reviewed_at is not None:
        raise ValidationError("This risk task has already been reviewed")
    note = note.strip()
    if len(note) < 10:
        raise ValidationError({"note": "Describe the risk review (at least 10 characters)"})
    task.reviewed_by = staff
    task.reviewed_at = timezone.now()
    task.review_note = note[:2000]
    task.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=task.person,
        what=f"risk task {task.pk} ({task.flag}) reviewed",
        why=note[:1000],
    )
    return task


@transaction.atomic
def risk_tasks_escalate(*, now: dt.datetime | None = None) -> list[RiskTask]:
    """Mark unreviewed tasks past the end of their working day as escalated to the service
    manager. The pages apply the same rule when read; this keeps a record of when it happened."""
    now = now or timezone.now()
    due = [
        task
        for task in RiskTask.objects.select_for_update().filter(
            reviewed_at__isnull=True, escalated_at__isnull=True
        )
        if workday.is_overdue(task.raised_at, now)
    ]
    RiskTask.objects.filter(pk__in=[t.pk for t in due]).update(escalated_at=now)
    return due


# The person's one-time questionnaire link ------------------------------------------------------


def hash_code(code: str) -> str:
    normalised = re.sub(r"[\s-]", "", code).upper()
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"questionnaire:{normalised}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    invitation: QuestionnaireInvitation
    code: str
    """Shown once, to give to the person; only its hash is stored."""


@transaction.atomic
def invitation_create(
    *,
    by: AbstractBaseUser,
    person: Person,
    measures_wanted: Sequence[str],
    referral: TTReferral | None = None,
) -> NewInvitation:
    staff = staff_of(by)
    check_can_open_record(staff, person)
    if referral is not None:
        _service_staff(by, referral.service)
        _not_discharged(referral)
    wanted = list(dict.fromkeys(measures_wanted))
    if not wanted:
        raise ValidationError({"measures": "Choose at least one questionnaire"})
    for code in wanted:
        try:
            measures.instrument(code)
        except measures.UnknownMeasure:
            raise ValidationError({"measures": f"{code} is not a measure"}) from None
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = timezone.now()
    invitation = QuestionnaireInvitation.objects.create(
        person=person,
        referral=referral,
        service=referral.service if referral else None,
        measures=wanted,
        code_hash=hash_code(code),
        created_by=staff,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"questionnaire link created for {', '.join(wanted)}",
    )
    return NewInvitation(invitation, code)


INVALID_CODE = (
    "That code does not work. It may be mistyped, already used or out of date: ask your"
    " therapist or practice for a new one."
)


def invitation_for_code(*, code: str, client: str) -> QuestionnaireInvitation:
    """The unused, unexpired invitation for this code; each try counts towards the limit."""
    _attempt("questionnaire", client)
    invitation = QuestionnaireInvitation.objects.filter(
        code_hash=hash_code(code), used_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
    if invitation is None:
        raise ValidationError({"code": INVALID_CODE})
    return invitation


def questionnaire_submit(
    *,
    code: str,
    client: str,
    answers: Mapping[str, Sequence[int | None]],
) -> list[MeasureScore]:
    """The person's answers from the link: scored, stored, and the code used up, all at once.

    Risk tasks reach the responsible clinician (or the service's unassigned list) at once.
    """
    _attempt("questionnaire", client)
    return _questionnaire_save(code=code, answers=answers)


@transaction.atomic
def _questionnaire_save(
    *, code: str, answers: Mapping[str, Sequence[int | None]]
) -> list[MeasureScore]:
    invitation = (
        QuestionnaireInvitation.objects.select_for_update(of=("self",))
        .filter(code_hash=hash_code(code), used_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("referral", "person", "created_by")
        .first()
    )
    if invitation is None:
        raise ValidationError({"code": INVALID_CODE})
    if set(answers) != set(invitation.measures):
        raise ValidationError("Answer the questionnaires you were asked to complete")
    referral = invitation.referral
    today = timezone.localdate()
    scores = []
    for measure in invitation.measures:
        scores.append(
            _record_score(
                person=invitation.person,
                referral=referral,
                measure=measure,
                answers=answers[measure],
                measured_on=today,
                entered_by=None,
                via=MeasureScore.EnteredVia.PERSON,
                assignee=referral.clinician if referral is not None else invitation.created_by,
                service=invitation.service,
                requested_by=invitation.created_by,
            )
        )
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    audit(
        by=AnonymousUser(),
        action=AuditEvent.Action.CREATE,
        person=invitation.person,
        what="questionnaires completed from a one-time link: "
        + ", ".join(f"{s.measure} {s.total:g}" for s in scores),
    )
    return scores


# Discharge -------------------------------------------------------------------------------------


@transaction.atomic
def tt_referral_discharge(
    *,
    by: AbstractBaseUser,
    referral: TTReferral,
    discharge_date: dt.date,
    ending_reason: str,
    version: int,
    withheld_from_person: str = "",
) -> TTReferral:
    """Discharge with an ending reason; the shared-record referral closes (its closing note tells
    everyone caring for the person), and the outcome goes to the GP and LTC team as a letter on
    the timeline, a psychological therapy entry: its scores follow the person's sharing decision
    like every other score (decision 0030). The person reads the letter and the closing note in
    their own record unless `withheld_from_person` says why not (decision 0040)."""
    staff = _service_staff(by, referral.service)
    referral = _locked(referral, version)
    _not_discharged(referral)
    if ending_reason not in {c.code for c in codes.ENDING_REASONS}:
        raise ValidationError({"ending_reason": "Choose the reason for discharge"})
    if discharge_date > timezone.localdate():
        raise ValidationError({"discharge_date": "Discharge cannot be in the future"})
    if discharge_date < referral.received_date:
        raise ValidationError(
            {"discharge_date": "Discharge cannot be before the referral was received"}
        )
    last = referral.contacts.aggregate(last=Max("starts_at"))["last"]
    if last is not None and discharge_date < timezone.localtime(last).date():
        raise ValidationError(
            {
                "discharge_date": "Discharge cannot be before the last care contact"
                f" ({timezone.localtime(last):%-d %B %Y})"
            }
        )
    referral.status = TTReferral.Status.DISCHARGED
    referral.discharge_date = discharge_date
    referral.ending_reason = ending_reason
    result = engine.referral_outcome(referral)
    record_services.entry_create(
        by=by,
        person=referral.person,
        kind=RecordEntry.Kind.LETTER,
        title="NHS Talking Therapies discharge letter to the GP and long-term condition team",
        text=engine.discharge_letter(referral, result, staff),
        service=referral.service,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        withheld_from_person=withheld_from_person,
    )
    _bump(referral, "status", "discharge_date", "ending_reason")
    record_services.pathway_referral_close(
        referral_id=referral.referral_id,
        staff=staff,
        closed_date=discharge_date,
        note=f"Discharged from NHS Talking Therapies: {referral.ending_reason_label}",
        withheld_from_person=withheld_from_person,
    )
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=referral.person,
        what=f"Talking Therapies discharge on {discharge_date:%Y-%m-%d}, ending reason"
        f" {ending_reason} ({referral.ending_reason_label})",
    )
    return referral


# Physical markers ------------------------------------------------------------------------------


@transaction.atomic
def marker_record(
    *, by: AbstractBaseUser, person: Person, code: str, value: float, observed_on: dt.date
) -> PhysicalMarker:
    staff = staff_of(by)
    check_can_open_record(staff, person)
    try:
        markers.check_value(code, value)
    except ValueError as error:
        raise ValidationError({"value": str(error)}) from None
    if observed_on > timezone.localdate():
        raise ValidationError({"observed_on": "A result cannot be dated in the future"})
    found = PhysicalMarker.objects.create(
        person=person,
        code=code,
        value=value,
        observed_on=observed_on,
        recorded_by=staff,
        recorded_at=timezone.now(),
    )
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=person,
        what=f"{markers.marker(code).label} {value:g} recorded",
    )
    return found
