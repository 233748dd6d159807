"""Staff disciplines, in the NHS's own words, with what each may do by default.

Pure Python: the permission module and the demo both read it.
"""

from enum import StrEnum


class Discipline(StrEnum):
    GP = "gp"
    PRACTICE_NURSE = "practice-nurse"
    DISTRICT_NURSE = "district-nurse"
    PSYCHOLOGICAL_WELLBEING_PRACTITIONER = "pwp"
    HIGH_INTENSITY_THERAPIST = "therapist"
    PSYCHIATRIST = "psychiatrist"
    MENTAL_HEALTH_NURSE = "mental-health-nurse"
    SOCIAL_WORKER = "social-worker"
    HOMECARE_WORKER = "homecare-worker"
    OCCUPATIONAL_THERAPIST = "occupational-therapist"
    PHYSIOTHERAPIST = "physiotherapist"
    PHARMACIST = "pharmacist"
    PEER_SUPPORT_WORKER = "peer-support-worker"
    CARE_COORDINATOR = "care-coordinator"
    VOLUNTARY_SECTOR_WORKER = "voluntary-sector-worker"
    SERVICE_MANAGER = "service-manager"
    ANALYST = "analyst"
    ADMINISTRATOR = "administrator"
    PRIVACY_OFFICER = "privacy-officer"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[Discipline, str] = {
    Discipline.GP: "GP",
    Discipline.PRACTICE_NURSE: "Practice nurse",
    Discipline.DISTRICT_NURSE: "District nurse",
    Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER: "Psychological wellbeing practitioner",
    Discipline.HIGH_INTENSITY_THERAPIST: "High-intensity therapist",
    Discipline.PSYCHIATRIST: "Psychiatrist",
    Discipline.MENTAL_HEALTH_NURSE: "Mental health nurse",
    Discipline.SOCIAL_WORKER: "Social worker",
    Discipline.HOMECARE_WORKER: "Homecare worker",
    Discipline.OCCUPATIONAL_THERAPIST: "Occupational therapist",
    Discipline.PHYSIOTHERAPIST: "Physiotherapist",
    Discipline.PHARMACIST: "Pharmacist",
    Discipline.PEER_SUPPORT_WORKER: "Peer support worker",
    Discipline.CARE_COORDINATOR: "Care coordinator",
    Discipline.VOLUNTARY_SECTOR_WORKER: "Voluntary-sector worker",
    Discipline.SERVICE_MANAGER: "Service manager",
    Discipline.ANALYST: "Analyst",
    Discipline.ADMINISTRATOR: "Administrator",
    Discipline.PRIVACY_OFFICER: "Privacy officer",
}

MENTAL_HEALTH = frozenset(
    {
        Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
        Discipline.HIGH_INTENSITY_THERAPIST,
        Discipline.PSYCHIATRIST,
        Discipline.MENTAL_HEALTH_NURSE,
    }
)

# Disciplines whose staff make diagnoses, and so may record a condition on the shared record
# (decision 0017). The others (social care, homecare, peer support, coordination, the voluntary
# sector, management and administration) record needs and notes, not diagnoses.
DIAGNOSING = frozenset(
    {
        Discipline.GP,
        Discipline.PRACTICE_NURSE,
        Discipline.DISTRICT_NURSE,
        Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
        Discipline.HIGH_INTENSITY_THERAPIST,
        Discipline.PSYCHIATRIST,
        Discipline.MENTAL_HEALTH_NURSE,
        Discipline.OCCUPATIONAL_THERAPIST,
        Discipline.PHYSIOTHERAPIST,
        Discipline.PHARMACIST,
    }
)

# Disciplines who reconcile a person's medicines lists (decision 0042): NICE NG5 1.3.3 asks for a
# trained and competent practitioner, in practice a pharmacist, a prescriber or a registered nurse.
MEDICINES_RECONCILERS = frozenset(
    {
        Discipline.GP,
        Discipline.PHARMACIST,
        Discipline.PRACTICE_NURSE,
        Discipline.DISTRICT_NURSE,
        Discipline.PSYCHIATRIST,
        Discipline.MENTAL_HEALTH_NURSE,
    }
)

# Disciplines who carry out needs assessments under the Care Act 2014, and so decide that a social
# care need is assessed (support in place) or met (decision 0018). Anyone caring for the person may
# record a need they notice, as awaiting assessment.
SOCIAL_CARE_ASSESSORS = frozenset({Discipline.SOCIAL_WORKER, Discipline.OCCUPATIONAL_THERAPIST})

# Disciplines that never open an individual's record: they work with de-identified aggregates or
# with the audit trail only, so they cannot break glass either.
NO_DIRECT_CARE = frozenset({Discipline.ANALYST, Discipline.PRIVACY_OFFICER})

# Disciplines who may see de-identified aggregate figures.
AGGREGATE_VIEWERS = frozenset(
    {Discipline.ANALYST, Discipline.SERVICE_MANAGER, Discipline.PRIVACY_OFFICER}
)


def choices() -> list[tuple[str, str]]:
    return [(discipline.value, discipline.label) for discipline in Discipline]
