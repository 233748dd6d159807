"""Consent to share sensitive entries, break-glass access, proxy access and the audit trail."""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from wholecare.directory.disciplines import choices as discipline_choices
from wholecare.directory.models import Staff
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity


class SharingConsent(models.Model):
    """The person's decision to share (or not) one kind of sensitive entry with one discipline
    (FHIR Consent)."""

    class Decision(models.TextChoices):
        PERMIT = "permit", "Share"
        DENY = "deny", "Do not share"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sharing_consents")
    sensitivity = models.CharField(
        max_length=30,
        choices=[(s.value, s.label) for s in Sensitivity if s is not Sensitivity.NORMAL],
    )
    discipline = models.CharField(max_length=40, choices=discipline_choices())
    decision = models.CharField(max_length=6, choices=Decision.choices)
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "sensitivity", "discipline"], name="one_consent_per_discipline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.sensitivity} with {self.discipline}"


class BreakGlassAccess(models.Model):
    """Emergency access to a record without a legitimate relationship, kept open for review."""

    class Review(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        APPROPRIATE = "appropriate", "Appropriate"
        INAPPROPRIATE = "inappropriate", "Inappropriate: referred for investigation"

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="break_glass_accesses")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="break_glass_accesses"
    )
    reason = models.TextField(max_length=1000)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    review = models.CharField(max_length=14, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="break_glass_reviews"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(max_length=1000, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["staff", "person", "expires_at"]),
            models.Index(fields=["review", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.pk} ({self.get_review_display()})"


class AuditEvent(models.Model):
    """One thing done with a person's data. Append-only.

    No foreign keys, so that nothing deleted elsewhere can break or rewrite the trail; the database
    refuses
    UPDATE and DELETE on this table (triggers in migration 0002), and the model refuses them too.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        EXPORT = "export", "Exported"
        BREAK_GLASS = "break-glass", "Broke glass"
        REVIEW = "review", "Reviewed break-glass access"
        DENIED = "denied", "Refused access"
        AGGREGATE = "aggregate", "Viewed de-identified figures"

    occurred_at = models.DateTimeField(db_index=True)
    actor_user_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(max_length=150)
    actor_name = models.CharField(max_length=300)
    actor_role = models.CharField(max_length=40)
    action = models.CharField(max_length=20, choices=Action.choices)
    person_id = models.BigIntegerField(null=True, db_index=True)
    what = models.CharField(max_length=300)
    why = models.TextField(max_length=1000, blank=True)
    flagged_for_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["actor_user_id", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditTrailIsAppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("audit events cannot be deleted")


class AuditTrailIsAppendOnly(Exception):
    pass


class ProxyAccess(models.Model):
    """Someone who reads the person's record online on their behalf (NHS proxy access): a carer,
    a relative. Granted by staff caring for the person, who check who the proxy is and that the
    person agreed freely, or, when the person cannot decide, that it is in their best interests
    (decision 0041). Ended, never deleted."""

    class Basis(models.TextChoices):
        PERSON_AGREED = (
            "person-agreed",
            "The person agreed, when I spoke with them on their own, without pressure from anyone",
        )
        BEST_INTERESTS = (
            "best-interests",
            "The person cannot make this decision, and it is in their best interests (Mental"
            " Capacity Act 2005)",
        )

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="proxies")
    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proxy_for"
    )
    relationship = models.CharField(max_length=100)
    """Who the proxy is to the person, in the person's words: "Daughter", "Paid carer"."""
    reads_notes = models.BooleanField(default=False)
    """Whether the proxy also reads the notes and letters the person reads (decision 0040), those
    written since the proxy's access began."""
    basis = models.CharField(max_length=14, choices=Basis.choices)
    granted_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(max_length=1000, blank=True)

    class Meta:
        verbose_name_plural = "proxy access"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "proxy"],
                condition=models.Q(ended_at__isnull=True),
                name="one_proxy_access_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"proxy {self.pk}: {self.relationship}"

    @property
    def proxy_name(self) -> str:
        return self.proxy.get_full_name() or self.proxy.get_username()
