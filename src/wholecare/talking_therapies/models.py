"""The NHS Talking Therapies long-term-conditions pathway on the shared record.

A `TTReferral` extends one `record.Referral` (which gives the service's staff their legitimate
relationship) with what the pathway needs: source, the LTCs it is about, problem descriptor, step,
status, ending reason and a version for optimistic locking. Shaped for the NHS Talking Therapies
data set: TTReferral ↔ IDS101 Referral, CareContact ↔ IDS201 Care Contact (+ IDS202 Care
Activity), MeasureScore ↔ IDS606 Coded Scored Assessment. Rules live in services.py, never in
save().
"""

import uuid

from django.db import models

from wholecare.directory.models import Service, Staff
from wholecare.record.models import Condition, Person, Referral
from wholecare.talking_therapies import codes, markers
from wholecare.talking_therapies.stepping import Step


class TTReferral(models.Model):
    class Status(models.TextChoices):
        AWAITING_ASSESSMENT = "awaiting-assessment", "Waiting for assessment"
        AWAITING_TREATMENT = "awaiting-treatment", "Assessed, waiting for treatment"
        IN_TREATMENT = "in-treatment", "In treatment"
        DISCHARGED = "discharged", "Discharged"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.OneToOneField(
        Referral, on_delete=models.PROTECT, related_name="talking_therapies"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="tt_referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="tt_referrals")
    received_date = models.DateField()
    source = models.CharField(max_length=2, choices=codes.choices(codes.SOURCES_OF_REFERRAL))
    referred_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    conditions = models.ManyToManyField(Condition, blank=True, related_name="tt_referrals")
    problem_descriptor = models.CharField("problem descriptor (ICD-10)", max_length=8, blank=True)
    step = models.CharField(
        max_length=4, choices=[(s.value, s.label) for s in Step], blank=True, default=""
    )
    clinician = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tt_caseload",
        help_text="The responsible clinician, who receives risk tasks",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_ASSESSMENT
    )
    discharge_date = models.DateField(null=True, blank=True)
    ending_reason = models.CharField(
        max_length=2, choices=codes.choices(codes.ENDING_REASONS), blank=True
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["service", "status"]),
            models.Index(fields=["clinician", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discharge_date__isnull=True)
                | models.Q(discharge_date__gte=models.F("received_date")),
                name="tt_discharge_after_received",
            )
        ]

    def __str__(self) -> str:
        return f"Talking Therapies referral {self.public_id}"

    @property
    def step_enum(self) -> Step | None:
        return Step(self.step) if self.step else None

    @property
    def source_label(self) -> str:
        return codes.label(codes.SOURCES_OF_REFERRAL, self.source)

    @property
    def ending_reason_label(self) -> str:
        return codes.label(codes.ENDING_REASONS, self.ending_reason)


class StepChange(models.Model):
    """Every step allocation, step-up and step-down, with who decided and why."""

    referral = models.ForeignKey(TTReferral, on_delete=models.CASCADE, related_name="step_changes")
    from_step = models.CharField(max_length=4, blank=True)
    to_step = models.CharField(max_length=4)
    recommended_step = models.CharField(max_length=4, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_step or '-'} -> {self.to_step}"


class CareContact(models.Model):
    class Kind(models.TextChoices):
        ASSESSMENT = "assessment", "Assessment"
        TREATMENT = "treatment", "Treatment"
        FOLLOW_UP = "follow_up", "Follow-up"
        EMPLOYMENT_SUPPORT = "employment_support", "Employment support"
        OTHER = "other", "Other"

    referral = models.ForeignKey(TTReferral, on_delete=models.CASCADE, related_name="contacts")
    starts_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    attendance = models.CharField(max_length=1, choices=codes.choices(codes.ATTENDANCE))
    mode = models.CharField(max_length=12, choices=codes.choices(codes.MODES))
    integrated_ltc = models.BooleanField(
        "integrated LTC contact", default=False, help_text="Joint with the LTC team or clinic"
    )
    therapy_type = models.CharField(
        "therapy type (SNOMED CT)",
        max_length=18,
        choices=codes.choices(codes.THERAPY_TYPES),
        blank=True,
    )
    intensity = models.CharField(max_length=4, choices=codes.choices(codes.INTENSITIES))
    clinician = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="tt_contacts")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["referral", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d}"

    @property
    def attended(self) -> bool:
        return self.attendance == codes.ATTENDED


class MeasureScore(models.Model):
    """A scored questionnaire: in a referral (session by session) or a screen before one."""

    class EnteredVia(models.TextChoices):
        CLINICIAN = "clinician", "Entered by a clinician"
        PERSON = "person", "Completed by the person from a link"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tt_scores")
    referral = models.ForeignKey(
        TTReferral, on_delete=models.CASCADE, null=True, blank=True, related_name="scores"
    )
    measured_on = models.DateField()
    measure = models.CharField(max_length=20)
    answers = models.JSONField()
    total = models.FloatField()
    at_caseness = models.BooleanField(null=True)
    risk_flags = models.JSONField(default=list)
    entered_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_via = models.CharField(max_length=10, choices=EnteredVia.choices)
    requested_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    """Who sent the link the person completed it from: they read it, as they read those they
    enter, and act on it."""
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["measured_on", "pk"]
        indexes = [
            models.Index(fields=["person", "measure", "measured_on"]),
            models.Index(fields=["referral", "measured_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.total:g} on {self.measured_on}"


class RiskTask(models.Model):
    """A PHQ-9 item 9 answer (positive, missing or invalid) that a named person must review."""

    referral = models.ForeignKey(
        TTReferral, on_delete=models.CASCADE, null=True, blank=True, related_name="risk_tasks"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tt_risk_tasks")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True)
    score = models.ForeignKey(
        MeasureScore, on_delete=models.PROTECT, null=True, blank=True, related_name="risk_tasks"
    )
    flag = models.CharField(max_length=30)
    item9_answer = models.SmallIntegerField(null=True, blank=True)
    raised_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="tt_risk_tasks"
    )
    reviewed_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(max_length=2000, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        indexes = [models.Index(fields=["assigned_to", "reviewed_at"])]

    def __str__(self) -> str:
        return f"risk task {self.pk}: {self.flag}"


class QuestionnaireInvitation(models.Model):
    """A one-time code that lets the person complete questionnaires without an account.

    Only a hash of the code is stored; it works once, expires, and locks after too many wrong
    tries.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(
        TTReferral, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True)
    measures = models.JSONField()
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"questionnaire invitation {self.pk}"


class PublicAttempt(models.Model):
    """A submission to a public page, kept (by hashed address) only to rate-limit it."""

    kind = models.CharField(max_length=20)
    client_hash = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "client_hash", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class SelfReferral(models.Model):
    """A self-referral from the public form, waiting for the service to match it to a record.

    Nothing here creates a person: the service links it to the existing record (found by NHS
    number, or family name and date of birth) or creates one after an NHS number trace, and the
    person-creation service refuses a duplicate NHS number.
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="self_referrals")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField(max_length=10, blank=True)
    postcode = models.CharField(max_length=8)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    long_term_conditions = models.JSONField(default=list, blank=True)
    what_would_help = models.TextField(max_length=2000, blank=True)
    submitted_at = models.DateTimeField()
    tt_referral = models.OneToOneField(
        TTReferral, on_delete=models.SET_NULL, null=True, blank=True, related_name="self_referral"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"self-referral {self.pk}"


class PhysicalMarker(models.Model):
    """One measurement of a long-term condition's physical marker (FHIR Observation)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tt_markers")
    code = models.CharField(max_length=20, choices=[(m.code, m.label) for m in markers.MARKERS])
    value = models.FloatField()
    observed_on = models.DateField()
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["observed_on", "pk"]
        indexes = [models.Index(fields=["person", "code", "observed_on"])]

    def __str__(self) -> str:
        return f"{self.code} {self.value:g} on {self.observed_on}"
