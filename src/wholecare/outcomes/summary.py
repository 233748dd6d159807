"""summary.json: counts and rates overall and by group, with NHS small-number suppression.

Counts follow NHS England's reporting: each measure is counted in the period by its own event
date (referrals by received date, finished courses and their outcomes by discharge date, second
treatments by their date, first assessments by theirs). Grouped figures are suppressed as NHS
England publishes them: counts of 1 to 7 shown as "*", others rounded to the nearest 5, and a
rate withheld ("*") when any count it is computed from is suppressed. Rates are computed from
the unrounded counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wholecare.outcomes import rules

SUPPRESSED = "*"
SMALLEST_SHOWN = 8
ROUND_TO = 5
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


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None

    def holds(self, days: pd.Series) -> np.ndarray:
        """Whether each date falls in the period (both ends inclusive); missing dates never do."""
        present = days.notna().to_numpy()
        inside = present.copy()
        values = days.to_numpy(dtype="datetime64[D]")
        if self.start is not None:
            inside &= values >= np.datetime64(self.start, "D")
        if self.end is not None:
            inside &= values <= np.datetime64(self.end, "D")
        return inside & present


def suppress(count: int) -> int | str:
    """NHS small-number suppression: 0 stays 0, 1-7 become "*", others round to the nearest 5."""
    if count == 0:
        return 0
    if count < SMALLEST_SHOWN:
        return SUPPRESSED
    return int((count + ROUND_TO // 2) // ROUND_TO * ROUND_TO)


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].fillna(False).to_numpy(dtype=bool)


def measure_columns(outcomes: pa.Table, period: Period) -> pd.DataFrame:
    """One 0/1 column per counted measure, one row per referral."""
    frame = outcomes.to_pandas(date_as_object=False)
    discharged_in = period.holds(frame["discharge_date"])
    finished = _flag(frame, "finished_treatment") & discharged_in
    wait_to_assessment = (frame["first_assessment_date"] - frame["received_date"]).dt.days
    first_to_second = (frame["second_treatment_date"] - frame["first_treatment_date"]).dt.days
    assessed = period.holds(frame["first_assessment_date"])
    second = period.holds(frame["second_treatment_date"])
    counts: dict[str, np.ndarray] = {
        "referrals": period.holds(frame["received_date"]),
        "ended": discharged_in,
        "finished": finished,
        "finished_not_at_caseness": finished
        & _flag(frame, "paired")
        & ~_flag(frame, "at_caseness"),
        "recovered": finished & _flag(frame, "recovered"),
        "reliable_recovery": finished & _flag(frame, "reliable_recovery"),
        "reliable_improvement": finished & _flag(frame, "reliable_improvement"),
        "reliable_deterioration": finished & _flag(frame, "reliable_deterioration"),
        "no_reliable_change": finished & _flag(frame, "no_reliable_change"),
        "finished_within_6_weeks": finished & _flag(frame, "within_6_weeks"),
        "finished_within_18_weeks": finished & _flag(frame, "within_18_weeks"),
        "second_treatments": second,
        "first_to_second_over_90_days": second
        & (first_to_second > rules.FIRST_TO_SECOND_OVER_DAYS).to_numpy(),
        "first_assessments": assessed,
    }
    lower = -1
    for band, upper in rules.ASSESSMENT_WAIT_BANDS:
        above = (wait_to_assessment > lower).to_numpy()
        below = (
            np.ones(len(frame), bool) if upper is None else (wait_to_assessment <= upper).to_numpy()
        )
        counts[f"first_assessment_{band}"] = assessed & above & below
        lower = upper if upper is not None else lower
    return pd.DataFrame({name: values.astype(np.int64) for name, values in counts.items()})


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


def _grouped(measures: pd.DataFrame, keys: pd.Series) -> dict[str, Any]:
    totals = measures.groupby(keys.to_numpy(), sort=True).sum()
    return {
        str(group): _figures({str(k): int(v) for k, v in row.items()}, suppressed=True)
        for group, row in totals.iterrows()
    }


def _labels(values: pd.Series, mapping: Mapping[Any, str] | None = None) -> pd.Series:
    named = values.map(mapping) if mapping is not None else values.astype("string")
    return named.fillna("Not stated").astype(str)


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
    frame = outcomes.select(
        ["problem_descriptor", "ltc", "ethnic_category", "imd_decile", "anxiety_measure"]
    ).to_pandas()
    descriptors = frame["problem_descriptor"]
    named = {d: rules.descriptor_group(d) for d in descriptors.dropna().unique()}
    groups = descriptors.map(named).astype(object).fillna(rules.UNSPECIFIED_GROUP)
    deciles = frame["imd_decile"].map(lambda v: f"{int(v):02d}" if pd.notna(v) else None)
    reasons = rejected["reason"].to_pandas().value_counts().sort_index()
    files = rejected["file"].to_pandas().value_counts()
    return {
        "period": {
            "start": period.start.isoformat() if period.start else None,
            "end": period.end.isoformat() if period.end else None,
        },
        "inputs": {
            role: {
                "rows": rows_read[role],
                "accepted": rows_accepted[role],
                "rejected": int(files.get(role, 0)),
            }
            for role in rows_read
        },
        "rejected": {
            "total": int(rejected.num_rows),
            "by_reason": {str(k): int(v) for k, v in reasons.items()},
        },
        "unverified": unverified(frame["anxiety_measure"], measures["finished"].to_numpy()),
        "overall": _figures({str(k): int(v) for k, v in measures.sum().items()}, suppressed=False),
        "by_ltc": _grouped(measures, _labels(frame["ltc"], {"Y": "LTC", "N": "No LTC"})),
        "by_problem_descriptor_group": _grouped(measures, groups),
        "by_ethnic_category": _grouped(measures, _labels(frame["ethnic_category"])),
        "by_deprivation_decile": _grouped(measures, _labels(deciles)),
        "suppression": (
            "Grouped counts of 1 to 7 are shown as '*', others rounded to the nearest 5; a rate "
            "is withheld ('*') when a count it uses is suppressed. Overall figures are exact."
        ),
    }


def unverified(anxiety_measure: pd.Series, finished: np.ndarray) -> dict[str, Any]:
    """Which thresholds used here lack an authoritative source, and how many rows rely on them."""
    used = [rules.PHQ9, *sorted(set(anxiety_measure.dropna().unique()) - {rules.PHQ9})]
    listed = {}
    for measure in used:
        limits = rules.thresholds(measure)
        if limits is not None and limits.unverified:
            listed[measure] = {
                "values": list(limits.unverified),
                "caseness": limits.caseness_value,
                "reliable_change": limits.reliable_change,
            }
    relying = anxiety_measure.isin([m for m in listed if m != rules.PHQ9]).to_numpy()
    return {
        "thresholds": listed,
        "outcome_rows_with_unverified_anxiety_thresholds": int(relying.sum()),
        "finished_in_period_with_unverified_anxiety_thresholds": int(
            (relying & (finished == 1)).sum()
        ),
    }
