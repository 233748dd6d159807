"""The coded values the pathway records, in the NHS Talking Therapies data set's terms.

Pure Python, no Django. Sources (docs/formats/talking-therapies-dataset.md has the mapping):
source of referral, ending reason and consultation medium follow the IAPT / NHS Talking
Therapies data set (v2.0) code lists as published in the NHS Data Dictionary; contact kinds are
the outcomes engine's vocabulary (`wholecare.outcomes.rules.CONTACT_KINDS`); physical markers
and therapy types are SNOMED CT / LOINC. Codes marked `verified=False` could not be checked
against the published list when written and are listed as open questions in
docs/talking-therapies.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from wholecare.outcomes import rules


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    label: str
    verified: bool = True


def choices(codes: tuple[Code, ...]) -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in codes]


def label(codes: tuple[Code, ...], code: str) -> str:
    for c in codes:
        if c.code == code:
            return c.label
    return code


#: SOURCE OF REFERRAL FOR IAPT (a subset: the routes into the LTC pathway).
SOURCES_OF_REFERRAL: tuple[Code, ...] = (
    Code("A1", "GP"),
    Code("B1", "Self-referral"),
    Code("A3", "Other primary health care (practice nurse, LTC nurse)"),
    Code("P1", "Acute secondary care (hospital clinician)"),
    Code("Q1", "Community health service (LTC team)", verified=False),
)
SELF_REFERRAL = "B1"

#: ENDING REASON (IAPT data set ENDCODE). 1x: not taken on for a course of treatment; 4x: seen
#: and taken on.
ENDING_REASONS: tuple[Code, ...] = (
    Code("10", "Not suitable: no action taken or directed back to the referrer"),
    Code("11", "Not suitable: signposted elsewhere with mutual agreement"),
    Code("12", "Discharged by mutual agreement following advice and support"),
    Code("13", "Referred to another therapy service by mutual agreement"),
    Code("14", "Suitable, but declined the treatment offered"),
    Code("16", "Incomplete assessment (dropped out)"),
    Code("46", "Mutually agreed completion of treatment"),
    Code("47", "Ended earlier than the clinician planned"),
    Code("48", "Ended earlier than the person requested"),
    Code("50", "Not assessed"),
)

#: Contact kinds: exactly the outcomes engine's vocabulary.
CONTACT_KIND_LABELS: dict[str, str] = {
    "assessment": "Assessment",
    "treatment": "Treatment",
    "follow_up": "Follow-up",
    "employment_support": "Employment support",
    "other": "Other",
}
assert tuple(CONTACT_KIND_LABELS) == rules.CONTACT_KINDS

#: ATTENDED OR DID NOT ATTEND (NHS Data Dictionary): 5 attended on time, 3 did not attend,
#: 2 cancelled by the patient, 4 cancelled or postponed by the provider.
ATTENDANCE: tuple[Code, ...] = (
    Code("5", "Attended"),
    Code("3", "Did not attend"),
    Code("2", "Cancelled by the person"),
    Code("4", "Cancelled by the service"),
)
ATTENDED = "5"

#: CONSULTATION MEDIUM USED, with the place of an in-person contact.
MODES: tuple[Code, ...] = (
    Code("gp-surgery", "In person at a GP surgery"),
    Code("ltc-clinic", "In person at a long-term condition clinic"),
    Code("phone", "Telephone"),
    Code("video", "Video"),
)
CONSULTATION_MEDIUM: dict[str, str] = {
    "gp-surgery": "01",
    "ltc-clinic": "01",
    "phone": "02",
    "video": "04",
}

#: Therapy types (SNOMED CT procedures) for care activities.
THERAPY_TYPES: tuple[Code, ...] = (
    Code("1026111000000108", "Guided self-help (low intensity)", verified=False),
    Code("228557008", "Cognitive behavioural therapy"),
    Code("449030000", "Eye movement desensitisation and reprocessing therapy"),
    Code("443730003", "Interpersonal psychotherapy"),
    Code("409063005", "Counselling"),
)

INTENSITIES: tuple[Code, ...] = (Code("low", "Low intensity"), Code("high", "High intensity"))
