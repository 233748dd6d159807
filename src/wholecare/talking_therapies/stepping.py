"""Stepped-care allocation: which step an assessment points to, and why.

Pure Python, no Django. The clinician allocates the step; this rule recommends one and says why,
and the service records any departure from it with the clinician's reason. Each rule names the
published guidance it follows (golden table: tests/unit/talking_therapies/test_stepping.py).

- Step 2, low intensity: guided self-help with a psychological wellbeing practitioner (PWP), the
  first step for mild to moderate depression and most anxiety disorders (NICE CG90 / NG222, CG113,
  NHS Talking Therapies Manual, stepped care).
- Step 3, high intensity: a high-intensity therapist. Straight to step 3 for PTSD (NICE NG116:
  trauma-focused CBT or EMDR, no low-intensity step), social anxiety disorder (NICE CG159: do not
  routinely offer low-intensity interventions), more severe depression (NICE NG222 1.6: PHQ-9 16
  or more), severe anxiety (GAD-7 15 or more, the "severe" band of Spitzer et al. 2006, with NICE
  CG113 1.2.13: marked functional impairment goes to high intensity) and marked functional
  impairment (WSAS above 20, Mundt et al. 2002: moderately severe or worse).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Step(StrEnum):
    LOW_INTENSITY = "low"
    HIGH_INTENSITY = "high"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]

    @property
    def number(self) -> int:
        return 2 if self is Step.LOW_INTENSITY else 3


STEP_LABELS: dict[Step, str] = {
    Step.LOW_INTENSITY: "Step 2: low intensity (psychological wellbeing practitioner)",
    Step.HIGH_INTENSITY: "Step 3: high intensity (therapist)",
}

#: NICE NG222 (2022) 1.6: "more severe depression" is a PHQ-9 score of 16 or more.
PHQ9_MORE_SEVERE = 16
#: GAD-7 "severe" band (Spitzer et al. 2006; NHS England's IAPT SQL bands 15-21).
GAD7_SEVERE = 15
#: WSAS above 20: moderately severe or worse functional impairment (Mundt et al. 2002).
WSAS_MARKED = 20

#: Problem descriptors (ICD-10 prefixes, no dots) that go straight to high intensity.
STRAIGHT_TO_HIGH: tuple[tuple[str, str], ...] = (
    ("F431", "PTSD: trauma-focused therapy at step 3 (NICE NG116)"),
    ("F401", "Social anxiety disorder: individual CBT at step 3 (NICE CG159)"),
)


@dataclass(frozen=True, slots=True)
class Presentation:
    """What the assessment found: the problem descriptor and the first scores."""

    problem_descriptor: str = ""
    phq9: float | None = None
    gad7: float | None = None
    wsas: float | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    step: Step
    reasons: tuple[str, ...]


def _normalised(code: str) -> str:
    return code.strip().upper().replace(".", "").replace(" ", "")


def recommend(presentation: Presentation) -> Recommendation:
    """The step the assessment points to, with every reason that applies."""
    reasons: list[str] = []
    descriptor = _normalised(presentation.problem_descriptor)
    for prefix, reason in STRAIGHT_TO_HIGH:
        if descriptor.startswith(prefix):
            reasons.append(reason)
    if presentation.phq9 is not None and presentation.phq9 >= PHQ9_MORE_SEVERE:
        reasons.append(
            f"PHQ-9 {presentation.phq9:g}: more severe depression (16 or more, NICE NG222)"
        )
    if presentation.gad7 is not None and presentation.gad7 >= GAD7_SEVERE:
        reasons.append(f"GAD-7 {presentation.gad7:g}: severe anxiety (15 or more)")
    if presentation.wsas is not None and presentation.wsas > WSAS_MARKED:
        reasons.append(f"WSAS {presentation.wsas:g}: marked functional impairment (above 20)")
    if reasons:
        return Recommendation(Step.HIGH_INTENSITY, tuple(reasons))
    return Recommendation(
        Step.LOW_INTENSITY,
        ("Mild to moderate presentation: low-intensity guided self-help first (stepped care)",),
    )


def change_kind(before: Step | None, after: Step) -> str:
    """How an allocation moves the referral: first allocation, step up, step down or none."""
    if before is None:
        return "allocated"
    if before is after:
        return "unchanged"
    return "stepped up" if after.number > before.number else "stepped down"
