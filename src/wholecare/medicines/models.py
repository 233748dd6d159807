"""Medicines reconciliations (decision 0042), structured medication reviews (decision 0045) and
the requests to the prescriber they make (decision 0046), made in Wholecare: what the lists
other systems sent said of each medicine, what was found or agreed with the person, and the
note each left on the timeline."""

import uuid

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q

from wholecare.directory.models import Organisation, Staff
from wholecare.medicines.reconciliation import Decision, Difference
from wholecare.medicines.requests import Answer, Kind
from wholecare.medicines.review import Outcome
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity


class MedicinesReconciliation(models.Model):
    """One reconciliation of the person's medicines lists, as it was made: the lists change, so
    what each said is kept here, not read again."""

    class CheckedWith(models.TextChoices):
        """Where what the person takes was checked, beyond the lists (NICE NG5 1.3.4)."""

        PERSON = "person", "The person"
        CARER = "carer", "Their carer or family"
        OWN_MEDICINES = "own-medicines", "Their own medicines, packs or charts"
        GP_RECORD = "gp-record", "The GP record"
        DISCHARGE = "discharge", "A hospital discharge summary"
        PHARMACY = "pharmacy", "Their community pharmacy"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="medicines_reconciliations"
    )
    entry = models.OneToOneField(RecordEntry, on_delete=models.RESTRICT, related_name="+")
    """The note on the timeline: while it is entered in error, so is the reconciliation."""
    reconciled_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    reconciled_at = models.DateTimeField()
    sources = models.JSONField(default=list)
    """The lists compared, by who sent them."""
    fingerprint = models.CharField(max_length=32)
    """The statements compared, each at its version (`reconciliation.fingerprint`)."""
    withheld = models.PositiveIntegerField(default=0)
    """Statements the sharing rule kept from whoever reconciled, so not compared."""
    checked_with = models.JSONField(default=list)
    others = models.JSONField(default=list)
    """Medicines the person takes that no list has, one an item."""
    note = models.TextField(max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])

    class Meta:
        indexes = [models.Index(fields=["person", "-reconciled_at"])]

    def __str__(self) -> str:
        return f"Medicines reconciliation of {self.reconciled_at:%Y-%m-%d}"


class ReconciledMedicine(models.Model):
    """One medicine of a reconciliation: what the lists said, how they differed, what was found."""

    reconciliation = models.ForeignKey(
        MedicinesReconciliation, on_delete=models.CASCADE, related_name="medicines"
    )
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=300)
    as_listed = models.JSONField(default=list)
    """What each list said of it, in words (`reconciliation.describe`)."""
    differences = models.JSONField(default=list)
    decision = models.CharField(max_length=20, choices=[(d.value, d.label) for d in Decision])
    note = models.TextField(max_length=1000, blank=True, validators=[MaxLengthValidator(1000)])

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "position"], name="reconciled_medicine_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def decision_label(self) -> str:
        return Decision(self.decision).label

    @property
    def difference_labels(self) -> list[str]:
        return [Difference(d).label for d in self.differences]


class MedicationReview(models.Model):
    """A structured medication review made with the person (decision 0045): what matters to
    them, what was agreed for each medicine they take, and when to review again. A shared
    decision: Wholecare prescribes nothing, and the prescriber makes any change agreed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="medication_reviews")
    entry = models.OneToOneField(RecordEntry, on_delete=models.RESTRICT, related_name="+")
    """The note on the timeline: while it is entered in error, so is the review."""
    reviewed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()
    what_matters = models.TextField(
        "what matters to the person", max_length=2000, validators=[MaxLengthValidator(2000)]
    )
    agreed_with_person = models.BooleanField()
    next_review = models.DateField(null=True, blank=True)
    note = models.TextField(max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])

    class Meta:
        indexes = [models.Index(fields=["person", "-reviewed_at"])]

    def __str__(self) -> str:
        return f"Structured medication review of {self.reviewed_at:%Y-%m-%d}"


class ReviewedMedicine(models.Model):
    """One medicine of a review: as the lists had it, and what was agreed."""

    review = models.ForeignKey(MedicationReview, on_delete=models.CASCADE, related_name="medicines")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=300)
    as_listed = models.JSONField(default=list)
    outcome = models.CharField(max_length=10, choices=[(o.value, o.label) for o in Outcome])
    note = models.TextField(max_length=1000, blank=True, validators=[MaxLengthValidator(1000)])

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "position"], name="reviewed_medicine_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label


class PrescriberRequest(models.Model):
    """What a reconciliation or a structured medication review asks of the organisation that
    prescribes one medicine (decision 0046): to correct its list, or to make the change agreed
    with the person. It waits on that organisation until someone there answers."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="prescriber_requests")
    kind = models.CharField(max_length=10, choices=[(k.value, k.label) for k in Kind])
    asked_in = models.ForeignKey(RecordEntry, on_delete=models.RESTRICT, related_name="+")
    """The reconciliation's or review's note: while it is entered in error nothing is asked."""
    asked_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField()
    asked_of = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    medicine = models.CharField(max_length=300)
    as_listed = models.JSONField(default=list)
    """What each list said of the medicine when asked, in words."""
    asked = models.TextField(max_length=1000, validators=[MaxLengthValidator(1000)])
    """What was found of the medicine, or agreed for it."""
    sensitivity = models.CharField(
        max_length=30,
        choices=[(s.value, s.label) for s in Sensitivity],
        default=Sensitivity.NORMAL,
    )
    """As the statements of this one medicine the sharing rule restricts: only their readers
    read the request, its answer and its withdrawal (decision 0048)."""
    answer = models.CharField(
        max_length=10, choices=[(a.value, a.value) for a in Answer], blank=True
    )
    answer_entry = models.OneToOneField(
        RecordEntry, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    """The answer's note on the timeline: while it is entered in error, the request waits
    again."""
    withdrawal_entry = models.OneToOneField(
        RecordEntry, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    """The note of whoever asked, withdrawing the request unanswered: while it is entered in
    error, the request waits again."""

    class Meta:
        indexes = [models.Index(fields=["asked_of", "asked_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(answer_entry__isnull=True) | ~Q(answer=""),
                name="prescriber_request_answered_with_an_answer",
            )
        ]

    def __str__(self) -> str:
        return f"{Kind(self.kind).label}: {self.medicine}"

    @property
    def kind_enum(self) -> Kind:
        return Kind(self.kind)

    @property
    def answer_label(self) -> str:
        return self.kind_enum.answer_label(Answer(self.answer)) if self.answer else ""
