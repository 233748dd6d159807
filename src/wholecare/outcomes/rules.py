"""The constants behind the outcome rules, each with the NHS England construction it follows.

Every number that decides an outcome lives here or in `wholecare.measures` (caseness and
reliable-change values), so the executable specification (`spec.py`), the relational pipeline
(`pipeline.py`) and the pandas engine (`pandas_engine.py`) cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from wholecare.measures import INSTRUMENT_CODES, instrument

#: The depression measure paired with every anxiety measure.
PHQ9 = "PHQ9"
#: The anxiety measure for every descriptor without a disorder-specific one, and the fallback.
GAD7 = "GAD7"

#: A paired measure needs at least this many in-referral scores to be used.
MIN_SCORES_FOR_PAIRING = 2
#: Finished a course of treatment: discharged with at least this many treatment contacts.
MIN_TREATMENT_CONTACTS = 2

#: Referral to first treatment within 6 and 18 weeks (NHS England: DATEDIFF(DD, received,
#: TherapySession_FirstDate) <= 42 and <= 126, over finished courses).
WITHIN_6_WEEKS_DAYS = 42
WITHIN_18_WEEKS_DAYS = 126
#: First to second treatment: NHS England's "FirstToSecondMoreThan90Days" (gap > 90 days).
FIRST_TO_SECOND_OVER_DAYS = 90
#: Referral to first assessment, in NHS England's published wait bands (upper bounds, days).
ASSESSMENT_WAIT_BANDS: tuple[tuple[str, int | None], ...] = (
    ("within_28_days", 28),
    ("29_to_56_days", 56),
    ("57_to_90_days", 90),
    ("over_90_days", None),
)

CONTACT_KINDS = ("assessment", "treatment", "follow_up", "employment_support", "other")
TREATMENT = "treatment"
ASSESSMENT = "assessment"


def normalise_descriptor(code: str | None) -> str:
    """ICD-10 or SNOMED CT descriptor, upper case without dots or spaces ("F40.0" -> "F400")."""
    if code is None:
        return ""
    return code.strip().upper().replace(".", "").replace(" ", "")


@dataclass(frozen=True, slots=True)
class Pairing:
    """Problem descriptors (ICD-10 prefix or exact SNOMED CT code) and their anxiety measures.

    `measures` are tried in order; the first with enough in-referral scores is used.
    """

    label: str
    measures: tuple[str, ...]
    icd10_prefix: str | None = None
    snomed: str | None = None

    def matches(self, normalised: str) -> bool:
        if self.icd10_prefix is not None:
            return normalised.startswith(self.icd10_prefix)
        return normalised == self.snomed


#: NHS England pairs each of these descriptors with its anxiety disorder specific measure (ADSM):
#: nhsengland/Talking-Therapies, "CountAppropriatePairedADSM" (F400 AgoraAlone, F401 SocialPhobia,
#: F410 PanicDisorder, F42% OCD, F431 PTSD, F452 AnxietyInventory) and the April 2022 additions
#: (83482000 BDD, G93.3 CFS, K58 IBS, 723916001 MUS); see docs/outcomes.md.
PAIRINGS: tuple[Pairing, ...] = (
    Pairing("F40.0 agoraphobia", ("MI",), icd10_prefix="F400"),
    Pairing("F40.1 social phobia", ("SPIN",), icd10_prefix="F401"),
    Pairing("F41.0 panic disorder", ("PDSS",), icd10_prefix="F410"),
    Pairing("F42 obsessive-compulsive disorder", ("OCI",), icd10_prefix="F42"),
    Pairing("F43.1 post-traumatic stress disorder", ("PCL5", "IESR"), icd10_prefix="F431"),
    Pairing("F45.2 hypochondriacal disorder", ("HAI",), icd10_prefix="F452"),
    Pairing("83482000 body dysmorphic disorder", ("AAI",), snomed="83482000"),
    Pairing("G93.3 chronic fatigue syndrome", ("CFQ",), icd10_prefix="G933"),
    Pairing("K58 irritable bowel syndrome", ("IBSSSS",), icd10_prefix="K58"),
    Pairing("723916001 medically unexplained symptoms", ("PHQ15",), snomed="723916001"),
)


def paired_measures(descriptor: str | None) -> tuple[str, ...]:
    """The disorder-specific anxiety measures to try for this descriptor (empty: GAD-7 only)."""
    normalised = normalise_descriptor(descriptor)
    for pairing in PAIRINGS:
        if pairing.matches(normalised):
            return pairing.measures
    return ()


#: Problem descriptor groups for the summary, as NHS England's dashboards group them
#: (nhsengland/Talking-Therapies, "6. Appointment Dosage.sql", 'Problem Descriptor' category),
#: with the 2022 additions. First match wins; "Unspecified" when no descriptor is recorded.
DESCRIPTOR_GROUPS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (group, ICD-10 prefixes, SNOMED CT codes)
    ("F32-F33 depression", ("F32", "F33"), ()),
    ("F40.0 agoraphobia", ("F400",), ()),
    ("F40.1 social phobia", ("F401",), ()),
    ("F40.2 specific phobia", ("F402",), ()),
    ("F41.0 panic disorder", ("F410",), ()),
    ("F41.1 generalised anxiety disorder", ("F411",), ()),
    ("F41.2 mixed anxiety and depressive disorder", ("F412",), ()),
    ("F42 obsessive-compulsive disorder", ("F42",), ()),
    ("F43.1 post-traumatic stress disorder", ("F431",), ()),
    ("F45.2 hypochondriacal disorder", ("F452",), ()),
    ("Other F40-F43 anxiety", ("F40", "F41", "F43"), ()),
    ("83482000 body dysmorphic disorder", (), ("83482000",)),
    ("G93.3 chronic fatigue syndrome", ("G933",), ()),
    ("K58 irritable bowel syndrome", ("K58",), ()),
    ("723916001 medically unexplained symptoms", (), ("723916001",)),
)
UNSPECIFIED_GROUP = "Unspecified"
OTHER_GROUP = "Other"


def descriptor_group(descriptor: str | None) -> str:
    normalised = normalise_descriptor(descriptor)
    if not normalised:
        return UNSPECIFIED_GROUP
    for group, prefixes, snomed in DESCRIPTOR_GROUPS:
        if normalised in snomed or any(normalised.startswith(p) for p in prefixes):
            return group
    return OTHER_GROUP


@dataclass(frozen=True, slots=True)
class MeasureThresholds:
    """The two values an outcome needs from a measure, with whether each is verified."""

    measure: str
    caseness_value: float
    caseness_inclusive: bool
    reliable_change: float
    caseness_verified: bool
    reliable_change_verified: bool

    def at_caseness(self, score: float) -> bool:
        if self.caseness_inclusive:
            return score >= self.caseness_value
        return score > self.caseness_value

    @property
    def unverified(self) -> tuple[str, ...]:
        flags = (
            ("caseness", self.caseness_verified),
            ("reliable_change", self.reliable_change_verified),
        )
        return tuple(name for name, verified in flags if not verified)


@cache
def thresholds(measure: str) -> MeasureThresholds | None:
    """Caseness and reliable change for `measure`, or None when it lacks either value.

    A measure without both values cannot decide caseness and reliable change, so it cannot serve
    as the anxiety measure (the referral falls back to GAD-7).
    """
    inst = instrument(measure)
    if inst.caseness is None or inst.reliable_change is None:
        return None
    return MeasureThresholds(
        measure=measure,
        caseness_value=float(inst.caseness.value),
        caseness_inclusive=inst.caseness.inclusive,
        reliable_change=float(inst.reliable_change.value),
        caseness_verified=inst.caseness.verified,
        reliable_change_verified=inst.reliable_change.verified,
    )


def required_thresholds(measure: str) -> MeasureThresholds:
    """Thresholds of PHQ-9, GAD-7 or a candidate from `anxiety_candidates` (which have both)."""
    found = thresholds(measure)
    if found is None:
        raise ValueError(f"{measure} lacks a caseness or reliable change value")
    return found


def anxiety_candidates(descriptor: str | None) -> tuple[str, ...]:
    """Paired measures for the descriptor that `wholecare.measures` defines with both thresholds."""
    return tuple(
        m
        for m in paired_measures(descriptor)
        if m in INSTRUMENT_CODES and thresholds(m) is not None
    )


#: The columns of outcomes.csv, in order (docs/formats/outcomes.md).
OUTCOME_COLUMNS: tuple[str, ...] = (
    "referral_id",
    "finished_treatment",
    "treatment_contacts",
    "first_treatment_date",
    "wait_to_first_treatment_days",
    "within_6_weeks",
    "within_18_weeks",
    "anxiety_measure",
    "phq9_first",
    "phq9_last",
    "anxiety_first",
    "anxiety_last",
    "paired",
    "at_caseness",
    "recovered",
    "reliable_improvement",
    "reliable_deterioration",
    "no_reliable_change",
    "reliable_recovery",
)
