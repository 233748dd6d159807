"""Organisations, the services they run, and the staff who work in them.

Maps onto FHIR Organization, HealthcareService, Practitioner and PractitionerRole.
"""

from django.conf import settings
from django.db import models

from wholecare.directory.disciplines import Discipline, choices


class Organisation(models.Model):
    class Kind(models.TextChoices):
        GP_PRACTICE = "gp-practice", "GP practice"
        ACUTE_TRUST = "acute-trust", "Acute hospital trust"
        COMMUNITY_TRUST = "community-trust", "Community health trust"
        MENTAL_HEALTH_TRUST = "mental-health-trust", "Mental health trust"
        ADULT_SOCIAL_CARE = "adult-social-care", "Local authority adult social care"
        VOLUNTARY = "voluntary", "Voluntary organisation"

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    postcode = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    class Kind(models.TextChoices):
        GENERAL_PRACTICE = "general-practice", "General practice"
        TALKING_THERAPIES = "talking-therapies", "NHS Talking Therapies"
        DISTRICT_NURSING = "district-nursing", "District nursing"
        COMMUNITY_MENTAL_HEALTH = "community-mental-health", "Community mental health team"
        ADULT_SOCIAL_CARE = "adult-social-care", "Adult social care"
        HOMECARE = "homecare", "Homecare"
        RAPID_RESPONSE = "rapid-response", "Home First rapid response"
        HOSPITAL_CLINIC = "hospital-clinic", "Hospital long-term condition clinic"
        THERAPIES = "therapies", "Community therapies"
        PHARMACY = "pharmacy", "Pharmacy"
        VOLUNTARY_SUPPORT = "voluntary-support", "Voluntary-sector support"
        INFORMATION_GOVERNANCE = "information-governance", "Information governance"
        ANALYTICS = "analytics", "Business intelligence"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, choices=Kind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="service_name_unique_in_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A member of staff's working identity: who they are, their discipline, and where they work."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff"
    )
    discipline = models.CharField(max_length=40, choices=choices())
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="staff")
    services = models.ManyToManyField(Service, related_name="staff", blank=True)
    professional_registration = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "staff"
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def discipline_enum(self) -> Discipline:
        return Discipline(self.discipline)
