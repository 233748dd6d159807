"""The shared care record: people, their conditions and needs, care teams, referrals, care plans
and one timeline.

Served as FHIR UK Core: Person ↔ Patient, Condition ↔ Condition, CareTeamMembership ↔
CareTeam.participant, Referral ↔ ServiceRequest, RecordEntry → DocumentReference, Alert ↔ Flag,
CarePlan → CarePlan.
Business rules live in `services.py` (writes) and `selectors.py` (reads), never in `save()`.
"""

import datetime as dt
import uuid
from typing import TypeVar

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

from wholecare.directory.disciplines import choices as discipline_choices
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.record import vocabulary


def _choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return list(mapping.items())


NAME_NOT_KNOWN = "Name not known"
_M = TypeVar("_M", bound=models.Model)


class Person(models.Model):
    class Sex(models.TextChoices):
        """Administrative gender, as FHIR Patient.gender."""

        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Not known"

    class SexualOrientation(models.TextChoices):
        NOT_RECORDED = "", "Not recorded"
        HETEROSEXUAL = "heterosexual", "Heterosexual or straight"
        GAY_LESBIAN = "gay-lesbian", "Gay or lesbian"
        BISEXUAL = "bisexual", "Bisexual"
        OTHER = "other", "Other sexual orientation"
        NOT_STATED = "not-stated", "Person asked and does not wish to say"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    nhs_number = models.CharField("NHS number", max_length=10, unique=True, null=True, blank=True)
    """Null while not known (a newborn before allocation, a visitor): never matched on
    (decision 0013)."""
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    date_of_death = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices)
    gender_identity = models.CharField(max_length=60, blank=True)
    ethnic_category = models.CharField(
        max_length=2, choices=_choices(vocabulary.ETHNIC_CATEGORIES), default="99"
    )
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    imd_decile = models.PositiveSmallIntegerField(
        "deprivation decile (IMD, 1 = most deprived)", null=True, blank=True
    )
    main_language = models.CharField(
        max_length=3, choices=_choices(vocabulary.LANGUAGES), default="en"
    )
    interpreter_needed = models.BooleanField(default=False)
    accessibility_needs = models.CharField(
        "communication and information needs (Accessible Information Standard)",
        max_length=300,
        blank=True,
    )
    preferred_written_format = models.CharField(
        max_length=2, choices=_choices(vocabulary.WRITTEN_FORMATS), blank=True
    )
    disability = models.CharField(max_length=200, blank=True)
    sexual_orientation = models.CharField(
        max_length=20, choices=SexualOrientation.choices, blank=True
    )
    contact_method = models.CharField(
        "preferred contact method",
        max_length=2,
        choices=_choices(vocabulary.CONTACT_METHODS),
        blank=True,
    )
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    registered_practice = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_people",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
    )
    notes_online_paused_at = models.DateTimeField(null=True, blank=True)
    """Set while the person's notes and letters are kept from their online record as a whole,
    pending a review of the harm reading them could do (decision 0040)."""
    notes_online_paused_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes_online_paused_reason = models.TextField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["family_name", "date_of_birth"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(imd_decile__isnull=True)
                | models.Q(imd_decile__gte=1, imd_decile__lte=10),
                name="person_imd_decile_1_to_10",
            )
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or NAME_NOT_KNOWN

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name.upper()}".strip() or NAME_NOT_KNOWN


class NotEnteredInError(models.Manager[_M]):
    """What is on the record: a row marked entered in error (a condition, a timeline entry)
    leaves every view, export and count, and is kept (with who marked it, when and why) only for
    the audit trail."""

    def get_queryset(self) -> models.QuerySet[_M]:
        return super().get_queryset().filter(entered_in_error_at__isnull=True)

    def including_entered_in_error(self) -> models.QuerySet[_M]:
        """For FHIR history and 410 Gone only: nothing a clinician reads."""
        return super().get_queryset()


class Condition(models.Model):
    class ClinicalStatus(models.TextChoices):
        ACTIVE = "active", "Active"
        REMISSION = "remission", "In remission"
        RESOLVED = "resolved", "Resolved"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="conditions")
    snomed_code = models.CharField("SNOMED CT code", max_length=18)
    display = models.CharField(
        "the sender's description",
        max_length=300,
        blank=True,
        help_text="Shown for a code outside Wholecare's condition value sets",
    )
    onset_date = models.DateField(null=True, blank=True)
    clinical_status = models.CharField(
        max_length=12, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE
    )
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True)
    recorded_by_discipline = models.CharField(max_length=40, choices=discipline_choices())
    recorded_at = models.DateTimeField()
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_in_error_reason = models.TextField(blank=True)

    objects = NotEnteredInError["Condition"]()

    class Meta:
        ordering = ["-onset_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "snomed_code"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="condition_once_per_person",
            )
        ]

    def __str__(self) -> str:
        return self.concept.display

    @property
    def concept(self) -> vocabulary.ConditionConcept:
        """The value sets' concept, or an unclassified one with the sender's description."""
        return vocabulary.classify(self.snomed_code, self.display)


class SocialCareNeed(models.Model):
    class Status(models.TextChoices):
        ASSESSED = "assessed", "Assessed, support in place"
        AWAITING = "awaiting", "Awaiting assessment"
        MET = "met", "Met, no longer needed"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="social_care_needs")
    need_code = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices)
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True)
    recorded_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    """When the need took its present status: how long it has been awaiting assessment."""
    status_changed_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "need_code"], name="need_once_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.need.display} ({self.get_status_display()})"

    @property
    def need(self) -> vocabulary.SocialCareNeed:
        return vocabulary.SOCIAL_CARE_NEEDS_BY_CODE[self.need_code]


class CareTeamMembership(models.Model):
    """A member of staff on the person's care team for a time: the main legitimate relationship."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="care_team")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="care_team_memberships")
    role = models.CharField(max_length=60)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["staff", "person"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="care_team_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} as {self.role}"


class Referral(models.Model):
    """A referral of the person to a service. While open, the service's staff may open the
    record."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class AddressedTo(models.TextChoices):
        """What the referrer named: the service itself, or a clinician or an organisation, which
        the record holds as the one service that clinician works in or that organisation runs."""

        SERVICE = "service", "The service"
        PRACTITIONER = "practitioner", "A clinician of the service"
        ORGANISATION = "organisation", "The organisation running the service"

    class Priority(models.TextChoices):
        """How soon the referrer asks for it to be acted on (FHIR request-priority)."""

        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"
        ASAP = "asap", "As soon as possible"
        STAT = "stat", "Immediately"

    class Pathway(models.TextChoices):
        """A care pathway that keeps its own record of the referral and closes it itself."""

        NONE = "", "None"
        TALKING_THERAPIES = "talking-therapies", "NHS Talking Therapies"

    class Outcome(models.TextChoices):
        """How a closed referral ended (decision 0021): the receiving service discharges the
        person, records that they declined it, or does not accept the referral; the referrer
        withdraws it. FHIR: completed for a discharge, revoked otherwise."""

        DISCHARGED = "discharged", "Seen and discharged"
        DECLINED = "declined", "Declined by the person"
        NOT_ACCEPTED = "not-accepted", "Not accepted by the service"
        WITHDRAWN = "withdrawn", "Withdrawn by the referrer"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    addressed_to = models.CharField(
        max_length=12, choices=AddressedTo.choices, default=AddressedTo.SERVICE
    )
    recipient = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_received",
        help_text="The clinician named, when the referral was addressed to one",
    )
    referred_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True)
    self_referral = models.BooleanField(
        default=False, help_text="The person referred themselves: no member of staff did"
    )
    received_date = models.DateField()
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.ROUTINE)
    reason = models.CharField(max_length=300, blank=True)
    request_system = models.CharField(max_length=200, blank=True)
    request_code = models.CharField(max_length=100, blank=True)
    request_display = models.CharField(
        max_length=300, blank=True, help_text="What is asked for, as the referrer coded it"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(
        max_length=500, blank=True, help_text="Why it ended so, or what was done, for the referrer"
    )
    closed_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_closed"
    )
    pathway = models.CharField(
        max_length=20, choices=Pathway.choices, blank=True, default=Pathway.NONE
    )
    accepted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the service accepted it, having triaged it"
    )
    accepted_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_accepted"
    )

    class Meta:
        indexes = [models.Index(fields=["service", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", closed_date__isnull=True, outcome="")
                | (models.Q(status="closed", closed_date__isnull=False) & ~models.Q(outcome="")),
                name="referral_closed_with_date_and_outcome",
            ),
            models.CheckConstraint(
                condition=models.Q(self_referral=False) | models.Q(referred_by__isnull=True),
                name="referral_self_referral_has_no_staff_referrer",
            ),
            models.CheckConstraint(
                condition=models.Q(addressed_to="practitioner", recipient__isnull=False)
                | (~models.Q(addressed_to="practitioner") & models.Q(recipient__isnull=True)),
                name="referral_recipient_when_addressed_to_practitioner",
            ),
        ]

    def __str__(self) -> str:
        return f"referral to {self.service} ({self.get_status_display()})"

    @property
    def how_soon(self) -> str:
        """Nothing for a routine referral, else its priority in brackets, as audit lines and
        messages append it: "referral to Home First (Urgent)"."""
        if self.priority == self.Priority.ROUTINE:
            return ""
        return f" ({self.get_priority_display()})"


class RecordEntry(models.Model):
    """One item on the person's timeline, written by one discipline for everyone it may be shared
    with."""

    class Kind(models.TextChoices):
        ENCOUNTER = "encounter", "Encounter"
        NOTE = "note", "Note"
        LETTER = "letter", "Letter"
        RESULT = "result", "Result"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    text = models.TextField(max_length=20_000, blank=True)
    author = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="entries")
    discipline = models.CharField(max_length=40, choices=discipline_choices())
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True)
    sensitivity = models.CharField(
        max_length=30,
        choices=[(s.value, s.label) for s in vocabulary.Sensitivity],
        default=vocabulary.Sensitivity.NORMAL,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_in_error_reason = models.TextField(blank=True)
    withheld_from_person = models.CharField(
        max_length=12,
        choices=[(w.value, w.label) for w in vocabulary.WithheldFromPerson],
        blank=True,
        help_text="Why the person does not read this entry in their own record (decision 0040).",
    )
    withheld_from_person_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withheld_from_person_at = models.DateTimeField(null=True, blank=True)

    objects = NotEnteredInError["RecordEntry"]()

    class Meta:
        verbose_name_plural = "record entries"
        indexes = [models.Index(fields=["person", "-occurred_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def written_later(self) -> bool:
        """Written more than an hour after it happened: the timeline says when, as a
        retrospective note must."""
        return self.created_at - self.occurred_at > dt.timedelta(hours=1)

    @property
    def withheld_from_person_because(self) -> vocabulary.WithheldFromPerson | None:
        return (
            vocabulary.WithheldFromPerson(self.withheld_from_person)
            if self.withheld_from_person
            else None
        )


class Alert(models.Model):
    """Something every member of the care team must see first (FHIR Flag): raised in Wholecare,
    by its staff or by its rules (a PHQ-9 item 9 risk flag), or received from another system
    (`source`), as that system coded and worded it."""

    class Category(models.TextChoices):
        RISK = "risk", "Risk"
        SAFEGUARDING = "safeguarding", "Safeguarding"
        COMMUNICATION = "communication", "Communication need"
        ALLERGY = "allergy", "Allergy"
        CLINICAL = "clinical", "Clinical"
        # The rest of HL7's flag categories, kept as other systems send them.
        DIET = "diet", "Diet"
        DRUG = "drug", "Drug"
        LAB = "lab", "Laboratory"
        ADMIN = "admin", "Administrative"
        CONTACT = "contact", "Contacting the person"
        BEHAVIOURAL = "behavioral", "Behaviour"
        RESEARCH = "research", "Research"
        ADVANCE_DIRECTIVE = "advance-directive", "Advance directive"
        SAFETY = "safety", "Safety"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="alerts")
    category = models.CharField(max_length=20, choices=Category.choices)
    text = models.CharField(max_length=300)
    """What the alert says: Wholecare's own words, or the sender's (FHIR code.text)."""
    code_system = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=18, blank=True)
    code_display = models.CharField(max_length=300, blank=True)
    """The coded concept a sender gave (SNOMED CT), with the sender's display."""
    active = models.BooleanField(default=True)
    raised_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True)
    author_display = models.CharField(max_length=200, blank=True)
    """Who raised it, as the sender named them (whether or not they are in the directory)."""
    raised_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts_ended"
    )
    end_reason = models.CharField(max_length=300, blank=True)
    """Why it no longer applies, for everyone caring for the person (decision 0023)."""
    source = models.CharField(max_length=200, blank=True)
    """The other system it came from (its API client's name); empty when raised in Wholecare."""

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.text}"


class CarePlan(models.Model):
    """A personalised care and support plan written in Wholecare with the person (decision 0031):
    what matters to them, what will be done and by whom, what to do if things change, and when
    it is next reviewed. Everyone caring for the person reads it, and so does the person."""

    class Status(models.TextChoices):
        """FHIR request-status: in force, finished (what it set out to do is done) or stopped."""

        ACTIVE = "active", "In force"
        COMPLETED = "completed", "Finished"
        REVOKED = "revoked", "Stopped"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="care_plans")
    title = models.CharField(max_length=200)
    what_matters = models.TextField(
        "what matters to the person", max_length=2000, validators=[MaxLengthValidator(2000)]
    )
    if_things_change = models.TextField(
        "what to do if things change",
        max_length=2000,
        blank=True,
        validators=[MaxLengthValidator(2000)],
    )
    review_date = models.DateField()
    agreed_with_person = models.BooleanField(
        help_text="The person (or whoever speaks for them) agreed the plan as it stands"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    version = models.PositiveIntegerField(default=1)
    """Raised by each change: a change made to an older version than the one stored is refused,
    so nobody overwrites a colleague's change unseen."""
    lead = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    """Who coordinates the plan: the person's contact for it, reminded of its review."""
    written_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    changed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="active", end_reason="")
                | (~models.Q(status="active") & ~models.Q(end_reason="")),
                name="care_plan_ended_with_reason",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def review_due(self) -> bool:
        """In force and past its review date."""
        return self.status == self.Status.ACTIVE and self.review_date < timezone.localdate()


class CarePlanAction(models.Model):
    """One thing the plan says will be done, by whom, and how far it has got (FHIR
    CarePlan.activity)."""

    class Status(models.TextChoices):
        NOT_STARTED = "not-started", "Not started"
        IN_PROGRESS = "in-progress", "In progress"
        DONE = "completed", "Done"
        STOPPED = "stopped", "Stopped"

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField()
    what = models.CharField(max_length=300)
    who = models.CharField(
        max_length=100, help_text="Whoever does it: the person, a carer, a service or a role"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    status_by_person_at = models.DateTimeField(null=True, blank=True)
    """When the person last recorded how far it has got, themselves; None while the status is
    as staff wrote it."""

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="care_plan_action_position")
        ]

    def __str__(self) -> str:
        return f"{self.what} ({self.who})"
