"""The outcome rules over whole datasets, written once in Ibis.

The same expression runs on DuckDB (the default, embedded) and unchanged on Spark. It takes the
typed tables from `io.read_inputs` and returns one row per accepted referral (the columns of
outcomes.csv plus what summary.json needs) and the rows it rejects on relational grounds.
Every rule mirrors `spec.referral_outcome`; tests prove the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from wholecare.measures import INSTRUMENT_CODES
from wholecare.outcomes import io, rules

DUPLICATE_REFERRAL = "duplicate referral_id"
UNKNOWN_REFERRAL = "unknown referral"
SCORE_OUTSIDE_REFERRAL = "score dated outside referral"

#: Packs (date, line) into one orderable integer: lines stay below 10**10.
_LINE_SPAN = 10_000_000_000


@dataclass(frozen=True)
class Result:
    """`outcomes` has, besides the canonical columns, each referral's `known_contacts` (its
    rows in the contacts file) and, in every row, `known_scores` (the scores dated within a
    referral, all told): when the outcomes rows, the contacts and the scores so counted are
    all the rows read, `rejected` is empty and need not run.
    """

    outcomes: ir.Table
    rejected: ir.Table


def _within(day: ir.DateValue, received: ir.DateValue, discharge: ir.DateValue) -> ir.BooleanValue:
    """Dated from the received date to the discharge date, inclusive; open referrals: no end."""
    return (day >= received) & (discharge.isnull() | (day <= discharge))


def _normalised(descriptor: ir.StringValue) -> ir.StringValue:
    return descriptor.strip().upper().replace(".", "").replace(" ", "")


def _candidate(descriptor: ir.StringValue, position: int) -> ir.StringValue:
    """The `position`-th usable paired measure for the descriptor (see `rules.PAIRINGS`)."""
    code = _normalised(descriptor)
    branches = []
    for pairing in rules.PAIRINGS:
        usable = [m for m in pairing.measures if m in INSTRUMENT_CODES]
        usable = [m for m in usable if rules.thresholds(m) is not None]
        if len(usable) <= position:
            continue
        if pairing.icd10_prefix is not None:
            matches = code.startswith(pairing.icd10_prefix)
        else:
            matches = code == pairing.snomed
        branches.append((matches, ibis.literal(usable[position])))
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))


def _thresholded(
    measure: ir.StringValue,
    score: ir.NumericValue,
    test: Callable[[rules.MeasureThresholds, ir.NumericValue], ir.BooleanValue],
) -> ir.BooleanValue:
    """`test(thresholds of measure, score)`, for whichever measure this row uses."""
    usable = [m for m in INSTRUMENT_CODES if rules.thresholds(m) is not None]
    return ibis.cases(
        *[(measure == m, test(rules.required_thresholds(m), score)) for m in usable],
        else_=ibis.null("boolean"),
    )


def _at_caseness(limits: rules.MeasureThresholds, score: ir.NumericValue) -> ir.BooleanValue:
    value = ibis.literal(limits.caseness_value, "float64")
    return score >= value if limits.caseness_inclusive else score > value


def _reliable_rise(
    measure: ir.StringValue, first: ir.NumericValue, last: ir.NumericValue
) -> ir.BooleanValue:
    """A rise of at least the measure's reliable change value from `first` to `last`."""
    return _thresholded(
        measure,
        last - first,
        lambda t, change: change >= ibis.literal(t.reliable_change, "float64"),
    )


def _attach(left: ir.Table, right: ir.Table) -> ir.Table:
    """Left join on the referral key `rix`, keeping the left key only."""
    renamed = right.rename(right_rix="rix")
    return left.left_join(renamed, left.rix == renamed.right_rix).drop("right_rix")


def _by(arg: float, key: int) -> float:  # the signature of the two aggregates below
    return arg


# The value of the row with the smallest (largest) key: DuckDB's arg_min, Spark's min_by.
_first_by: Callable[..., ir.FloatingScalar] = ibis.udf.agg.builtin(_by, name="min_by")
_last_by: Callable[..., ir.FloatingScalar] = ibis.udf.agg.builtin(_by, name="max_by")


def _rejections(table: ir.Table, file: str, reason: str) -> ir.Table:
    return table.select(file=ibis.literal(file), line=table.line, reason=ibis.literal(reason))


def outcomes(referrals: ir.Table, contacts: ir.Table, measures: ir.Table) -> Result:
    # Referrals: the first row of each referral_id is kept, later ones are duplicates. The kept
    # row's line number is the referral's integer key (`rix`) from here on, and orders the
    # outcomes at the end.
    firsts = referrals.group_by("referral_id").aggregate(first=referrals.line.min())
    is_first = referrals.line == firsts.first
    duplicates = _rejections(
        referrals.anti_join(firsts, is_first), io.REFERRALS, DUPLICATE_REFERRAL
    )
    kept = referrals.semi_join(firsts, is_first)
    kept = kept.mutate(
        rix=kept.line,
        candidate_1=_candidate(kept.problem_descriptor, 0),
        candidate_2=_candidate(kept.problem_descriptor, 1),
    ).cache()
    span = kept.select(
        key="referral_id",
        rix="rix",
        received="received_date",
        discharge="discharge_date",
        candidate_1="candidate_1",
        candidate_2="candidate_2",
    )
    # Always true (field checks reject a discharge before the received date), but DuckDB then
    # expects fewer referrals than contacts and builds its hash table from the referrals, not
    # from the contacts that the field checks have filtered.
    span = span.filter(span.discharge.isnull() | (span.received <= span.discharge))

    # Contacts: every one of a kept referral is counted in `known_contacts` (the others are
    # rejected as unknown referrals); attended ones dated within the referral count.
    c = contacts.inner_join(span, contacts.referral_id == span.key)
    attended = c.attended & _within(c.contact_date, c.received, c.discharge)
    treatment = attended & (c.kind == rules.TREATMENT)
    # The second treatment contact's date: the second of the sorted dates, so two on one day
    # make that day the second too. Cheaper than numbering the contacts with a window.
    dates = c.contact_date.collect(where=treatment).sort()
    contacted = c.group_by("rix").aggregate(
        known_contacts=c.count(),
        treatment_contacts=treatment.sum(),
        first_treatment_date=c.contact_date.min(where=treatment),
        second_treatment_date=ibis.ifelse(dates.length() >= 2, dates[1], ibis.null("date")),
        first_assessment_date=c.contact_date.min(where=attended & (c.kind == rules.ASSESSMENT)),
    )

    # Scores: only those dated within a kept referral count; the others are rejected. Each
    # counted score plays at most one role: PHQ-9, a paired candidate, or GAD-7 (the fallback).
    # First and last are by date, then line, packed into one integer.
    m = measures.inner_join(span, measures.referral_id == span.key)
    counted = m.filter(_within(m.measure_date, m.received, m.discharge))
    role = ibis.cases(
        (counted.measure == rules.PHQ9, 0),
        (counted.measure == counted.candidate_1, 1),
        (counted.measure == counted.candidate_2, 2),
        (counted.measure == rules.GAD7, 3),
        else_=ibis.null("int8"),
    )
    counted = counted.mutate(
        # The scores without a role fall into one group, (null, null): they are only counted.
        rix=ibis.ifelse(role.isnull(), ibis.null("int64"), counted.rix),
        role=role,
        order=counted.measure_date.delta(ibis.date(1970, 1, 1), unit="day").cast("int64")
        * _LINE_SPAN
        + counted.line,
    )
    runs = counted.group_by(["rix", "role"]).aggregate(
        n=counted.count(),
        first=_first_by(counted.score, counted.order),
        last=_last_by(counted.score, counted.order),
    )
    # One column set per role: a join per role is cheaper than a pivoting aggregate.
    t = _attach(kept, contacted)
    for code, name in enumerate(("phq", "c1", "c2", "gad")):
        of_role = runs.filter(runs.role == code)
        t = _attach(
            t,
            of_role.select(
                "rix", **{f"{name}_n": "n", f"{name}_first": "first", f"{name}_last": "last"}
            ),
        )

    pairable = rules.MIN_SCORES_FOR_PAIRING
    c1_n, c2_n = t.c1_n.fill_null(0), t.c2_n.fill_null(0)
    t = t.mutate(
        treatment_contacts=t.treatment_contacts.fill_null(0),
        anxiety_measure=ibis.cases(
            (c1_n >= pairable, t.candidate_1),
            (c2_n >= pairable, t.candidate_2),
            else_=ibis.literal(rules.GAD7),
        ),
        anxiety_n=ibis.cases((c1_n >= pairable, c1_n), (c2_n >= pairable, c2_n), else_=t.gad_n),
        anxiety_first=ibis.cases(
            (c1_n >= pairable, t.c1_first), (c2_n >= pairable, t.c2_first), else_=t.gad_first
        ),
        anxiety_last=ibis.cases(
            (c1_n >= pairable, t.c1_last), (c2_n >= pairable, t.c2_last), else_=t.gad_last
        ),
        wait_to_first_treatment_days=t.first_treatment_date.delta(t.received_date, unit="day").cast(
            "int64"
        ),
    )
    t = t.mutate(
        finished_treatment=t.discharge_date.notnull()
        & (t.treatment_contacts >= rules.MIN_TREATMENT_CONTACTS),
        paired=(t.phq_n.fill_null(0) >= pairable) & (t.anxiety_n.fill_null(0) >= pairable),
        within_6_weeks=t.wait_to_first_treatment_days <= rules.WITHIN_6_WEEKS_DAYS,
        within_18_weeks=t.wait_to_first_treatment_days <= rules.WITHIN_18_WEEKS_DAYS,
    )
    phq = rules.required_thresholds(rules.PHQ9)
    phq_change = ibis.literal(phq.reliable_change, "float64")
    anxiety = t.anxiety_measure
    case_first = _at_caseness(phq, t.phq_first) | _thresholded(
        anxiety, t.anxiety_first, _at_caseness
    )
    case_last = _at_caseness(phq, t.phq_last) | _thresholded(anxiety, t.anxiety_last, _at_caseness)
    fell = (t.phq_first - t.phq_last >= phq_change) | _reliable_rise(
        anxiety, t.anxiety_last, t.anxiety_first
    )
    rose = (t.phq_last - t.phq_first >= phq_change) | _reliable_rise(
        anxiety, t.anxiety_first, t.anxiety_last
    )
    t = t.mutate(
        at_caseness=ibis.ifelse(t.paired, case_first, ibis.null("boolean")),
        improved=ibis.ifelse(t.paired, fell & ~rose, False),
        deteriorated=ibis.ifelse(t.paired, rose & ~fell, False),
        recovered_if_finished=ibis.ifelse(t.paired, case_first & ~case_last, False),
    )

    def when_finished(value: ir.BooleanValue) -> ir.BooleanValue:
        return ibis.ifelse(t.finished_treatment, value, ibis.null("boolean"))

    t = t.mutate(
        recovered=when_finished(t.recovered_if_finished),
        reliable_improvement=when_finished(t.improved),
        reliable_deterioration=when_finished(t.deteriorated),
        no_reliable_change=when_finished(t.paired & ~t.improved & ~t.deteriorated),
        reliable_recovery=when_finished(t.recovered_if_finished & t.improved),
    )
    result = t.select(
        "line",
        "referral_id",
        "received_date",
        "discharge_date",
        "problem_descriptor",
        "ltc",
        "ethnic_category",
        "imd_decile",
        "finished_treatment",
        "treatment_contacts",
        "first_treatment_date",
        "wait_to_first_treatment_days",
        "within_6_weeks",
        "within_18_weeks",
        "anxiety_measure",
        phq9_first="phq_first",
        phq9_last="phq_last",
        anxiety_first="anxiety_first",
        anxiety_last="anxiety_last",
        paired="paired",
        at_caseness="at_caseness",
        recovered="recovered",
        reliable_improvement="reliable_improvement",
        reliable_deterioration="reliable_deterioration",
        no_reliable_change="no_reliable_change",
        reliable_recovery="reliable_recovery",
        second_treatment_date="second_treatment_date",
        first_assessment_date="first_assessment_date",
        known_contacts=t.known_contacts.fill_null(0),
        known_scores=runs.n.sum().as_scalar().fill_null(0),
    )

    # The rows rejected on relational grounds, from a second pass over the inputs (needed only
    # when the counts above fall short of the rows read).
    unknown_contacts = _rejections(
        contacts.anti_join(span, contacts.referral_id == span.key), io.CONTACTS, UNKNOWN_REFERRAL
    )
    every_score = measures.left_join(span, measures.referral_id == span.key)
    rejected_scores = every_score.filter(
        every_score.rix.isnull()
        | ~_within(every_score.measure_date, every_score.received, every_score.discharge)
    )
    rejected_scores = rejected_scores.select(
        file=ibis.literal(io.MEASURES),
        line=rejected_scores.line,
        reason=ibis.ifelse(
            rejected_scores.rix.isnull(),
            ibis.literal(UNKNOWN_REFERRAL),
            ibis.literal(SCORE_OUTSIDE_REFERRAL),
        ),
    )
    rejected = duplicates.union(unknown_contacts).union(rejected_scores)
    # In file order: the engine sorts on its cores, where Arrow would sort on one.
    return Result(outcomes=result.order_by("line"), rejected=rejected)
