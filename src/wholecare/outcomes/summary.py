"""summary.json: counts and rates overall and by group, with NHS small-number suppression.

Counts follow NHS England's reporting: each measure is counted in the period by its own event
date (referrals by received date, finished courses and their outcomes by discharge date, second
treatments by their date, first assessments by theirs). Grouped figures are suppressed as NHS
England publishes them: counts of 1 to 7 shown as "*", others rounded to the nearest 5, and a
rate withheld ("*") when any count it is computed from is suppressed. Rates are computed from
the unrounded counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wholecare.disclosure import SUPPRESSED, suppress
from wholecare.measures import INSTRUMENT_CODES
from wholecare.outcomes import io, rules

RATE_DIGITS = 4

#: (rate, numerator, denominator counts added, denominator counts subtracted)
RATES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("recovery", "recovered", ("finished",), ("finished_not_at_caseness",)),
    ("reliable_recovery", "reliable_recovery", ("finished",), ("finished_not_at_caseness",)),
    ("reliable_improvement", "reliable_improvement", ("finished",), ()),
    ("reliable_deterioration", "reliable_deterioration", ("finished",), ()),
    ("no_reliable_change", "no_reliable_change", ("finished",), ()),
    ("first_treatment_within_6_weeks", "finished_within_6_weeks", ("finished",), ()),
    ("first_treatment_within_18_weeks", "finished_within_18_weeks", ("finished",), ()),
    ("first_to_second_over_90_days", "first_to_second_over_90_days", ("second_treatments",), ()),
)


Days = np.ndarray[Any, np.dtype[np.int64]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]
_NO_DATE = np.iinfo(np.int64).min


def _days(column: pa.ChunkedArray) -> Days:
    """Days since 1970 for a date column; missing dates become a sentinel below any date."""
    days: Days = np.asarray(pc.fill_null(column.cast(pa.int32()), 0).to_numpy(), dtype=np.int64)
    days[~io.mask(pc.is_valid(column))] = _NO_DATE
    return days


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None

    def holds(self, days: Days) -> Mask:
        """Whether each date falls in the period (both ends inclusive); missing dates never do."""
        inside: Mask = days != _NO_DATE
        if self.start is not None:
            inside &= days >= (self.start - _EPOCH).days
        if self.end is not None:
            inside &= days <= (self.end - _EPOCH).days
        return inside


_EPOCH = date(1970, 1, 1)


def measure_columns(outcomes: pa.Table, period: Period) -> dict[str, Mask]:
    """One boolean array per counted measure, one entry per referral."""
    day = {name: _days(outcomes[name]) for name in _DATES}
    flag = {name: io.mask(outcomes[name]) for name in _FLAGS}
    discharged_in = period.holds(day["discharge_date"])
    finished = flag["finished_treatment"] & discharged_in
    assessed = period.holds(day["first_assessment_date"])
    second = period.holds(day["second_treatment_date"])
    with np.errstate(over="ignore"):
        wait_to_assessment = day["first_assessment_date"] - day["received_date"]
        first_to_second = day["second_treatment_date"] - day["first_treatment_date"]
    counts: dict[str, Mask] = {
        "referrals": period.holds(day["received_date"]),
        "ended": discharged_in,
        "finished": finished,
        "finished_not_at_caseness": finished & flag["paired"] & ~flag["at_caseness"],
        "recovered": finished & flag["recovered"],
        "reliable_recovery": finished & flag["reliable_recovery"],
        "reliable_improvement": finished & flag["reliable_improvement"],
        "reliable_deterioration": finished & flag["reliable_deterioration"],
        "no_reliable_change": finished & flag["no_reliable_change"],
        "finished_within_6_weeks": finished & flag["within_6_weeks"],
        "finished_within_18_weeks": finished & flag["within_18_weeks"],
        "second_treatments": second,
        "first_to_second_over_90_days": second
        & (first_to_second > rules.FIRST_TO_SECOND_OVER_DAYS),
        "first_assessments": assessed,
    }
    lower = -1
    for band, upper in rules.ASSESSMENT_WAIT_BANDS:
        within = wait_to_assessment > lower
        if upper is not None:
            within &= wait_to_assessment <= upper
            lower = upper
        counts[f"first_assessment_{band}"] = assessed & within
    return counts


_DATES = (
    "received_date",
    "discharge_date",
    "first_treatment_date",
    "second_treatment_date",
    "first_assessment_date",
)
_FLAGS = (
    "finished_treatment",
    "paired",
    "at_caseness",
    "recovered",
    "reliable_recovery",
    "reliable_improvement",
    "reliable_deterioration",
    "no_reliable_change",
    "within_6_weeks",
    "within_18_weeks",
)


def _figures(counts: Mapping[str, int], *, suppressed: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        name: suppress(value) if suppressed else value for name, value in counts.items()
    }
    rates: dict[str, Any] = {}
    for rate, numerator, plus, minus in RATES:
        denominator = sum(counts[n] for n in plus) - sum(counts[n] for n in minus)
        parts = (numerator, *plus, *minus)
        if suppressed and any(shown[p] == SUPPRESSED for p in parts):
            rates[rate] = SUPPRESSED
        elif denominator <= 0:
            rates[rate] = None
        else:
            rates[rate] = round(counts[numerator] / denominator, RATE_DIGITS)
    return {"counts": shown, "rates": rates}


@dataclass(frozen=True)
class Combinations:
    """Which measures each referral counts in, as an index (`of_referral`) into the distinct
    combinations found (`flags`: one row per combination, one column per measure). There are a
    few hundred combinations at most, so a grouping is tallied with one `bincount` of group and
    combination, not one per measure."""

    names: tuple[str, ...]
    of_referral: np.ndarray[Any, np.dtype[np.int64]]
    flags: np.ndarray[Any, np.dtype[np.int64]]

    @classmethod
    def of(cls, measures: Mapping[str, Mask]) -> Combinations:
        names = tuple(measures)
        if len(names) > 62:
            raise ValueError("more measures than bits in an int64")
        rows = len(next(iter(measures.values()))) if names else 0
        bits = np.zeros(rows, dtype=np.int64)
        for bit, values in enumerate(measures.values()):
            bits |= values.astype(np.int64) << bit
        encoded = pc.dictionary_encode(pa.array(bits))
        found = np.asarray(encoded.dictionary.to_numpy(), dtype=np.int64)
        flags = (found[:, None] >> np.arange(len(names), dtype=np.int64)) & 1
        of_referral = np.asarray(encoded.indices.to_numpy(), dtype=np.int64)
        return cls(names, of_referral, flags)

    def totals(self, codes: np.ndarray[Any, Any], groups: int) -> np.ndarray[Any, Any]:
        """Counts per group (rows) and measure (columns); `codes` give each referral's group."""
        width = len(self.flags)
        pairs = np.bincount(codes * width + self.of_referral, minlength=groups * width)
        return pairs.reshape(groups, width) @ self.flags


def _grouped(
    combinations: Combinations, codes: np.ndarray[Any, Any], labels: list[str]
) -> dict[str, Any]:
    """Suppressed figures for each group; `codes` index into `labels`, one per referral."""
    totals = combinations.totals(codes, len(labels))
    present = np.bincount(codes, minlength=len(labels)) > 0
    by_label = {
        labels[i]: _figures(
            {name: int(totals[i, j]) for j, name in enumerate(combinations.names)},
            suppressed=True,
        )
        for i in range(len(labels))
        if present[i]
    }
    return dict(sorted(by_label.items()))


def _groups(column: pa.ChunkedArray, label: Callable[[Any], str]) -> tuple[Any, list[str]]:
    """Group codes for a column: one label per distinct value (missing values included)."""
    encoded = pc.dictionary_encode(column.combine_chunks(), null_encoding="encode")
    names = [label(v) for v in encoded.dictionary.to_pylist()]
    distinct = sorted(set(names))
    remap = np.array([distinct.index(n) for n in names], dtype=np.int64)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return remap[indices] if len(indices) else indices.astype(np.int64), distinct


def _stated(value: Any) -> str:
    return "Not stated" if value is None else str(value)


def groupings(outcomes: pa.Table) -> dict[str, tuple[np.ndarray[Any, Any], list[str]]]:
    """summary.json's grouped sections: for each, a group code per referral (an index into the
    sorted group labels) and the labels."""
    ltc_names = {"Y": "LTC", "N": "No LTC"}
    return {
        "by_ltc": _groups(outcomes["ltc"], lambda v: ltc_names.get(v, "Not stated")),
        "by_problem_descriptor_group": _groups(
            outcomes["problem_descriptor"], rules.descriptor_group
        ),
        "by_ethnic_category": _groups(outcomes["ethnic_category"], _stated),
        "by_deprivation_decile": _groups(
            outcomes["imd_decile"], lambda v: "Not stated" if v is None else f"{v:02d}"
        ),
    }


def build(
    outcomes: pa.Table,
    *,
    period: Period,
    rejected: pa.Table,
    rows_read: Mapping[str, int],
    rows_accepted: Mapping[str, int],
) -> dict[str, Any]:
    """The whole summary.json document."""
    measures = measure_columns(outcomes, period)
    reasons = Counter(rejected["reason"].to_pylist())
    files = Counter(rejected["file"].to_pylist())
    anxiety = outcomes["anxiety_measure"]
    document: dict[str, Any] = {
        "period": {
            "start": period.start.isoformat() if period.start else None,
            "end": period.end.isoformat() if period.end else None,
        },
        "inputs": {
            role: {
                "rows": rows_read[role],
                "accepted": rows_accepted[role],
                "rejected": files.get(role, 0),
            }
            for role in rows_read
        },
        "rejected": {"total": rejected.num_rows, "by_reason": dict(sorted(reasons.items()))},
        "unverified": unverified(anxiety, measures["finished"]),
        "paired_measures_without_thresholds": without_thresholds(),
        "overall": _figures(
            {name: int(values.sum()) for name, values in measures.items()}, suppressed=False
        ),
    }
    combinations = Combinations.of(measures)
    for key, (codes, labels) in groupings(outcomes).items():
        document[key] = _grouped(combinations, codes, labels)
    document["suppression"] = (
        "Grouped counts of 1 to 7 are shown as '*', others rounded to the nearest 5; a rate "
        "is withheld ('*') when a count it uses is suppressed. Overall figures are exact."
    )
    return document


def without_thresholds() -> list[str]:
    """Paired measures that fall back to GAD-7 because they lack caseness or reliable change."""
    named = {m for pairing in rules.PAIRINGS for m in pairing.measures}
    return sorted(m for m in named if m in INSTRUMENT_CODES and rules.thresholds(m) is None)


def unverified(anxiety_measure: pa.ChunkedArray, finished: Mask) -> dict[str, Any]:
    """Which thresholds used here lack an authoritative source, and how many rows rely on them."""
    used = pc.unique(anxiety_measure).drop_null().to_pylist()
    listed = {}
    for measure in [rules.PHQ9, *sorted(set(used) - {rules.PHQ9})]:
        limits = rules.thresholds(measure)
        if limits is not None and limits.unverified:
            listed[measure] = {
                "values": list(limits.unverified),
                "caseness": limits.caseness_value,
                "reliable_change": limits.reliable_change,
            }
    anxious = [m for m in listed if m != rules.PHQ9]
    relying = io.mask(pc.is_in(anxiety_measure, value_set=pa.array(anxious, pa.string())))
    return {
        "thresholds": listed,
        "outcome_rows_with_unverified_anxiety_thresholds": int(relying.sum()),
        "finished_in_period_with_unverified_anxiety_thresholds": int((relying & finished).sum()),
    }
