"""The outcome rules for one referral, in plain Python: the executable specification.

Each rule follows NHS England's construction (see docs/outcomes.md, and the golden tables in
tests/unit/outcomes/test_spec.py, one per rule). The relational pipeline and the pandas engine
are tested equal to this function; when they disagree, this function is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from wholecare.outcomes import rules


@dataclass(frozen=True, slots=True)
class Referral:
    referral_id: str
    received_date: date
    discharge_date: date | None
    problem_descriptor: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    contact_date: date
    kind: str
    attended: bool


@dataclass(frozen=True, slots=True)
class Score:
    measure_date: date
    measure: str
    score: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row of outcomes.csv, plus the dates the summary's waits and period need."""

    referral_id: str
    finished_treatment: bool
    treatment_contacts: int
    first_treatment_date: date | None
    wait_to_first_treatment_days: int | None
    within_6_weeks: bool | None
    within_18_weeks: bool | None
    anxiety_measure: str
    phq9_first: float | None
    phq9_last: float | None
    anxiety_first: float | None
    anxiety_last: float | None
    paired: bool
    at_caseness: bool | None
    recovered: bool | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    no_reliable_change: bool | None
    reliable_recovery: bool | None
    # Not in outcomes.csv: used by summary.json.
    second_treatment_date: date | None
    first_assessment_date: date | None


def within_referral(referral: Referral, day: date) -> bool:
    """Dated from the received date to the discharge date, both inclusive (open: no end)."""
    if day < referral.received_date:
        return False
    return referral.discharge_date is None or day <= referral.discharge_date


def in_referral_scores(referral: Referral, scores: Sequence[Score]) -> list[Score]:
    """The scores that count; the others are rejected with "score dated outside referral"."""
    return [s for s in scores if within_referral(referral, s.measure_date)]


@dataclass(frozen=True, slots=True)
class Run:
    """The scores of one measure on one referral: how many, and the first and last by date."""

    count: int
    first: float
    last: float


def first_and_last(scores: Sequence[Score], measure: str) -> Run | None:
    """Count, first and last score of `measure` by date; equal dates keep file order."""
    # sorted() is stable, so scores on the same date stay in file order.
    ordered = sorted((s for s in scores if s.measure == measure), key=lambda s: s.measure_date)
    if not ordered:
        return None
    return Run(len(ordered), ordered[0].score, ordered[-1].score)


def anxiety_measure(referral: Referral, scores: Sequence[Score]) -> str:
    """The paired disorder-specific measure with at least two scores, else GAD-7."""
    for measure in rules.anxiety_candidates(referral.problem_descriptor):
        count = sum(1 for s in scores if s.measure == measure)
        if count >= rules.MIN_SCORES_FOR_PAIRING:
            return measure
    return rules.GAD7


def referral_outcome(
    referral: Referral, contacts: Sequence[Contact], scores: Sequence[Score]
) -> Outcome:
    """Every outcome of one referral. `scores` must be in file order."""
    # Treatment contacts: attended, of kind treatment, dated within the referral.
    treatment_dates = sorted(
        c.contact_date
        for c in contacts
        if c.attended and c.kind == rules.TREATMENT and within_referral(referral, c.contact_date)
    )
    assessment_dates = sorted(
        c.contact_date
        for c in contacts
        if c.attended and c.kind == rules.ASSESSMENT and within_referral(referral, c.contact_date)
    )
    treatment_contacts = len(treatment_dates)
    finished = referral.discharge_date is not None and (
        treatment_contacts >= rules.MIN_TREATMENT_CONTACTS
    )

    first_treatment = treatment_dates[0] if treatment_dates else None
    wait = (first_treatment - referral.received_date).days if first_treatment else None
    within_6 = None if wait is None else wait <= rules.WITHIN_6_WEEKS_DAYS
    within_18 = None if wait is None else wait <= rules.WITHIN_18_WEEKS_DAYS

    counted = in_referral_scores(referral, scores)
    anxiety = anxiety_measure(referral, counted)
    phq_run = first_and_last(counted, rules.PHQ9)
    anx_run = first_and_last(counted, anxiety)
    phq = rules.required_thresholds(rules.PHQ9)
    anx = rules.required_thresholds(anxiety)

    # Paired: at least two PHQ-9 and two anxiety scores.
    pair = (
        (phq_run, anx_run)
        if phq_run is not None
        and anx_run is not None
        and phq_run.count >= rules.MIN_SCORES_FOR_PAIRING
        and anx_run.count >= rules.MIN_SCORES_FOR_PAIRING
        else None
    )
    at_caseness: bool | None = None
    if pair is not None:
        at_caseness = phq.at_caseness(pair[0].first) or anx.at_caseness(pair[1].first)

    recovered = improvement = deterioration = no_change = reliable_recovery = None
    if finished:
        improvement = deterioration = recovered = False
        if pair is not None:
            p, a = pair
            recovered = bool(at_caseness) and not (
                phq.at_caseness(p.last) or anx.at_caseness(a.last)
            )
            fell = (p.first - p.last >= phq.reliable_change) or (
                a.first - a.last >= anx.reliable_change
            )
            rose = (p.last - p.first >= phq.reliable_change) or (
                a.last - a.first >= anx.reliable_change
            )
            improvement = fell and not rose
            deterioration = rose and not fell
        no_change = pair is not None and not improvement and not deterioration
        reliable_recovery = recovered and improvement

    return Outcome(
        referral_id=referral.referral_id,
        finished_treatment=finished,
        treatment_contacts=treatment_contacts,
        first_treatment_date=first_treatment,
        wait_to_first_treatment_days=wait,
        within_6_weeks=within_6,
        within_18_weeks=within_18,
        anxiety_measure=anxiety,
        phq9_first=phq_run.first if phq_run else None,
        phq9_last=phq_run.last if phq_run else None,
        anxiety_first=anx_run.first if anx_run else None,
        anxiety_last=anx_run.last if anx_run else None,
        paired=pair is not None,
        at_caseness=at_caseness,
        recovered=recovered,
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        no_reliable_change=no_change,
        reliable_recovery=reliable_recovery,
        second_treatment_date=treatment_dates[1] if treatment_contacts >= 2 else None,
        first_assessment_date=assessment_dates[0] if assessment_dates else None,
    )
