"""The outcome rules in plain pandas: the benchmark's yardstick, tested equal to the spec.

Idiomatic vectorised pandas (merges, sorts and group-bys), single-threaded as pandas is. It
follows the same steps as `pipeline.py`; results go through the same canonical schema.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wholecare.measures import INSTRUMENT_CODES
from wholecare.outcomes import io, output, pipeline, rules
from wholecare.outcomes.engines import EngineResult


def _rejections(role: str, lines: pd.Series, reason: str) -> pa.Table:
    values = lines.to_numpy(dtype=np.int64)
    return pa.table(
        {"file": [role] * len(values), "line": values, "reason": [reason] * len(values)},
        schema=io.REJECTED_SCHEMA,
    )


def _candidates(descriptor: pd.Series, position: int) -> pd.Series:
    code = descriptor.str.strip().str.upper().str.replace(".", "").str.replace(" ", "")
    code = code.fillna("")
    conditions, choices = [], []
    for pairing in rules.PAIRINGS:
        usable = [m for m in pairing.measures if m in INSTRUMENT_CODES]
        usable = [m for m in usable if rules.thresholds(m) is not None]
        if len(usable) <= position:
            continue
        if pairing.icd10_prefix is not None:
            conditions.append(code.str.startswith(pairing.icd10_prefix).to_numpy())
        else:
            conditions.append((code == pairing.snomed).to_numpy())
        choices.append(usable[position])
    picked = np.select(conditions, choices, default="") if conditions else np.full(len(code), "")
    return pd.Series(picked, index=descriptor.index).replace("", None)


def _within(day: pd.Series, received: pd.Series, discharge: pd.Series) -> np.ndarray:
    return ((day >= received) & (discharge.isna() | (day <= discharge))).to_numpy()


def _limit(measure: pd.Series, field: str) -> np.ndarray:
    """A threshold attribute of each row's measure (NaN where the measure has none)."""
    table: dict[str, Any] = {}
    for code in INSTRUMENT_CODES:
        limits = rules.thresholds(code)
        if limits is not None:
            table[code] = getattr(limits, field)
    return measure.map(table).to_numpy(dtype=float)


def _cut(limits: rules.MeasureThresholds, score: np.ndarray) -> np.ndarray:
    if limits.caseness_inclusive:
        return score >= limits.caseness_value
    return score > limits.caseness_value


def _at_caseness(measure: pd.Series, score: np.ndarray) -> np.ndarray:
    value = _limit(measure, "caseness_value")
    inclusive = _limit(measure, "caseness_inclusive") == 1
    return np.where(inclusive, score >= value, score > value)


def _frame(table: pa.Table) -> pd.DataFrame:
    """As pandas, with coded (dictionary) columns as plain text rather than categoricals."""
    decoded = [
        column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    frame: pd.DataFrame = pa.table(decoded, names=table.column_names).to_pandas(
        date_as_object=False
    )
    return frame


def run(inputs: io.Inputs) -> EngineResult:
    referrals = _frame(inputs.referrals)
    contacts = _frame(inputs.contacts)
    measures = _frame(inputs.measures)

    referrals = referrals.sort_values("line", kind="stable")
    duplicate = referrals.duplicated("referral_id", keep="first")
    rejected = [_rejections(io.REFERRALS, referrals.line[duplicate], pipeline.DUPLICATE_REFERRAL)]
    kept = referrals[~duplicate].copy()
    kept["candidate_1"] = _candidates(kept.problem_descriptor, 0)
    kept["candidate_2"] = _candidates(kept.problem_descriptor, 1)
    span = kept[["referral_id", "received_date", "discharge_date", "candidate_1", "candidate_2"]]

    c = contacts.merge(span, on="referral_id", how="left")
    known = c.received_date.notna().to_numpy()
    rejected.append(_rejections(io.CONTACTS, c.line[~known], pipeline.UNKNOWN_REFERRAL))
    c = c[
        known & c.attended.to_numpy() & _within(c.contact_date, c.received_date, c.discharge_date)
    ]
    treatment = c[c.kind == rules.TREATMENT].sort_values(["referral_id", "contact_date"])
    order = treatment.groupby("referral_id", sort=False).cumcount().to_numpy()
    by_referral = treatment.groupby("referral_id", sort=False).contact_date
    treated = pd.DataFrame(
        {
            "treatment_contacts": by_referral.size(),
            "first_treatment_date": by_referral.min(),
            "second_treatment_date": treatment[order == 1].set_index("referral_id").contact_date,
        }
    )
    assessed = (
        c[c.kind == rules.ASSESSMENT]
        .groupby("referral_id")
        .contact_date.min()
        .rename("first_assessment_date")
    )

    m = measures.merge(span, on="referral_id", how="left")
    known = m.received_date.notna().to_numpy()
    inside = known & _within(m.measure_date, m.received_date, m.discharge_date)
    rejected.append(_rejections(io.MEASURES, m.line[~known], pipeline.UNKNOWN_REFERRAL))
    rejected.append(
        _rejections(io.MEASURES, m.line[known & ~inside], pipeline.SCORE_OUTSIDE_REFERRAL)
    )
    m = m[inside]
    role = np.select(
        [
            (m.measure == rules.PHQ9).to_numpy(),
            (m.measure == m.candidate_1).to_numpy(),
            (m.measure == m.candidate_2).to_numpy(),
            (m.measure == rules.GAD7).to_numpy(),
        ],
        ["phq", "c1", "c2", "gad"],
        default="",
    )
    m = m.assign(role=role)[role != ""]
    m = m.sort_values(["referral_id", "role", "measure_date", "line"])
    runs = m.groupby(["referral_id", "role"], sort=False).score.agg(["size", "first", "last"])
    wide = runs.unstack("role")
    wide.columns = [f"{role}_{stat}" for stat, role in wide.columns]

    t = kept.set_index("referral_id").join([treated, assessed.to_frame(), wide], how="left")
    t = t.reset_index()
    for role_name in ("phq", "c1", "c2", "gad"):
        for stat in ("size", "first", "last"):
            if f"{role_name}_{stat}" not in t:
                t[f"{role_name}_{stat}"] = np.nan
    pairable = rules.MIN_SCORES_FOR_PAIRING
    c1 = t.c1_size.fillna(0).to_numpy() >= pairable
    c2 = ~c1 & (t.c2_size.fillna(0).to_numpy() >= pairable)
    gad = ~c1 & ~c2
    t["anxiety_measure"] = np.select([c1, c2], [t.candidate_1, t.candidate_2], rules.GAD7)
    for stat in ("size", "first", "last"):
        t[f"anxiety_{stat}"] = np.select(
            [c1, c2, gad], [t[f"c1_{stat}"], t[f"c2_{stat}"], t[f"gad_{stat}"]]
        )
    contacts_n = t.treatment_contacts.fillna(0).to_numpy(dtype=np.int64)
    finished = t.discharge_date.notna().to_numpy() & (contacts_n >= rules.MIN_TREATMENT_CONTACTS)
    paired = (t.phq_size.fillna(0).to_numpy() >= pairable) & (
        np.nan_to_num(t.anxiety_size.to_numpy(dtype=float)) >= pairable
    )
    wait = (t.first_treatment_date - t.received_date).dt.days
    has_wait = wait.notna().to_numpy()
    wait_days = wait.fillna(0).to_numpy(dtype=np.int64)

    phq = rules.required_thresholds(rules.PHQ9)
    phq_first, phq_last = t.phq_first.to_numpy(float), t.phq_last.to_numpy(float)
    anx_first, anx_last = t.anxiety_first.to_numpy(float), t.anxiety_last.to_numpy(float)
    anxiety = t.anxiety_measure
    anx_change = _limit(anxiety, "reliable_change")
    with np.errstate(invalid="ignore"):
        case_first = _cut(phq, phq_first) | _at_caseness(anxiety, anx_first)
        case_last = _cut(phq, phq_last) | _at_caseness(anxiety, anx_last)
        fell = (phq_first - phq_last >= phq.reliable_change) | (anx_first - anx_last >= anx_change)
        rose = (phq_last - phq_first >= phq.reliable_change) | (anx_last - anx_first >= anx_change)
    improved = paired & fell & ~rose
    deteriorated = paired & rose & ~fell
    recovered = paired & case_first & ~case_last

    def flag(values: np.ndarray, known_where: np.ndarray) -> pa.Array:
        return pa.array(values.astype(bool), mask=~known_where)

    def scores(values: np.ndarray) -> pa.Array:
        return pa.array(values, mask=np.isnan(values))

    def dates(values: pd.Series) -> pa.Array:
        return pa.array(values.to_numpy(dtype="datetime64[D]"), mask=values.isna().to_numpy())

    columns = {
        "line": pa.array(t.line.to_numpy(np.int64)),
        "referral_id": pa.array(t.referral_id, pa.string()),
        "received_date": dates(t.received_date),
        "discharge_date": dates(t.discharge_date),
        "problem_descriptor": pa.array(t.problem_descriptor, pa.string()),
        "ltc": pa.array(t.ltc, pa.string()),
        "ethnic_category": pa.array(t.ethnic_category, pa.string()),
        "imd_decile": pa.array(t.imd_decile, pa.int64(), from_pandas=True),
        "finished_treatment": pa.array(finished),
        "treatment_contacts": pa.array(contacts_n),
        "first_treatment_date": dates(t.first_treatment_date),
        "wait_to_first_treatment_days": pa.array(wait_days, mask=~has_wait),
        "within_6_weeks": flag(wait_days <= rules.WITHIN_6_WEEKS_DAYS, has_wait),
        "within_18_weeks": flag(wait_days <= rules.WITHIN_18_WEEKS_DAYS, has_wait),
        "anxiety_measure": pa.array(anxiety, pa.string()),
        "phq9_first": scores(phq_first),
        "phq9_last": scores(phq_last),
        "anxiety_first": scores(anx_first),
        "anxiety_last": scores(anx_last),
        "paired": pa.array(paired),
        "at_caseness": flag(case_first, paired),
        "recovered": flag(recovered, finished),
        "reliable_improvement": flag(improved, finished),
        "reliable_deterioration": flag(deteriorated, finished),
        "no_reliable_change": flag(paired & ~improved & ~deteriorated, finished),
        "reliable_recovery": flag(recovered & improved, finished),
        "second_treatment_date": dates(t.second_treatment_date),
        "first_assessment_date": dates(t.first_assessment_date),
    }
    return EngineResult(
        outcomes=output.canonical(pa.table(columns)), rejected=pa.concat_tables(rejected)
    )
