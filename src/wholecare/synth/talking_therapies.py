"""A synthetic national year of NHS Talking Therapies: referrals, care contacts and scores.

Vectorised numpy, generated and written in fixed-size chunks (so the output depends on the seed
alone), each chunk from its own random stream. Distributions are approximations of the published
national picture (NHS England, NHS Talking Therapies annual reports 2023-24 and 2024-25; Census
2021 ethnicity; docs/outcomes.md lists them); the trajectory parameters are tuned so that
`wholecare outcomes` reports rates close to 2024-25 (recovery 50.5%, reliable improvement
67.5%, reliable deterioration 5.8%, first treatment within 6 weeks 91.6%, finished courses
about 37% of referrals). Nothing here describes a real person.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from tqdm import tqdm

from wholecare.measures import INSTRUMENT_CODES, instrument
from wholecare.outcomes import rules

CHUNK = 100_000
YEAR_START = np.datetime64("2024-04-01", "D")
DAYS_IN_YEAR = 365
Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]

# Problem descriptor mix of referrals (approximate shares, NHS Talking Therapies annual reports).
DESCRIPTORS: tuple[tuple[str | None, float], ...] = (
    ("F32.1", 0.20),
    ("F33.1", 0.12),
    ("F41.1", 0.21),
    ("F41.2", 0.15),
    ("F43.1", 0.05),
    ("F41.0", 0.03),
    ("F40.1", 0.03),
    ("F42", 0.03),
    ("F40.0", 0.01),
    ("F40.2", 0.01),
    ("F45.2", 0.015),
    ("F43.2", 0.025),
    ("83482000", 0.003),
    ("G93.3", 0.002),
    ("K58.9", 0.003),
    ("723916001", 0.005),
    ("F99", 0.05),
    (None, 0.047),
)
# NHS ethnic category codes with Census 2021 England shares (Arab in S, Roma/Traveller in C),
# and "Z" (not stated) for 5% of records.
ETHNICITY: tuple[tuple[str, float], ...] = (
    ("A", 73.54),
    ("B", 0.88),
    ("C", 6.64),
    ("D", 0.88),
    ("E", 0.43),
    ("F", 0.84),
    ("G", 0.80),
    ("H", 3.26),
    ("J", 2.78),
    ("K", 1.12),
    ("L", 1.69),
    ("M", 1.10),
    ("N", 2.60),
    ("P", 0.52),
    ("R", 0.76),
    ("S", 2.18),
)
NOT_STATED_ETHNICITY = 0.05
# Referrals come more from deprived areas (decile 1 = most deprived).
IMD_WEIGHTS = np.linspace(1.35, 0.7, 10)

# Pathways: (share, name). Finished = discharged after two or more treatment sessions.
PATHWAYS: tuple[tuple[str, float], ...] = (
    ("not_seen", 0.13),
    ("assessed_only", 0.16),
    ("waiting", 0.06),
    ("treated_once", 0.11),
    ("in_treatment", 0.17),
    ("finished", 0.37),
)
# Share of paired-descriptor referrals whose service records the disorder-specific measure.
ADSM_RECORDED = 0.55


@dataclass(frozen=True)
class Chunk:
    referrals: pa.Table
    contacts: pa.Table
    measures: pa.Table


def _choice(rng: np.random.Generator, n: int, weights: Sequence[float] | Floats) -> Ints:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _within_group_index(counts: Ints) -> Ints:
    """0, 1, ... within each group of a flat array laid out group by group."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts


def _ids(prefix: str, numbers: Ints) -> pa.Array:
    return pa.array(np.char.add(prefix, np.char.zfill(numbers.astype(str), 8)))


def _blank_as_null(values: np.ndarray[Any, Any]) -> pa.Array:
    text = pa.array(values, pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _scale(gad7_equivalent: Floats, measure: str) -> Floats:
    """A GAD-7-scale severity mapped onto `measure`, with caseness on caseness."""
    inst = instrument(measure)
    limits = rules.thresholds(measure)
    anchor = limits.caseness_value if limits is not None else (inst.total_min + inst.total_max) / 2
    low, high = inst.total_min, inst.total_max
    below = low + (anchor - low) * gad7_equivalent / 8.0
    above = anchor + (high - anchor) * (gad7_equivalent - 8.0) / 13.0
    return np.clip(np.where(gad7_equivalent < 8.0, below, above), low, high)


def _round_for(measure: str, values: Floats) -> Floats:
    inst = instrument(measure)
    step = 0.01 if inst.is_valid_total(inst.total_min + 0.5) else 1.0
    return np.clip(np.round(values / step) * step, inst.total_min, inst.total_max)


def generate_chunk(seed: int, index: int, first_number: int, n: int) -> Chunk:
    rng = np.random.default_rng([seed, index])
    numbers = np.arange(first_number, first_number + n)
    referral_ids = _ids("RF", numbers)

    # Who: descriptor, LTC, ethnicity, deprivation, age, sex.
    descriptor_codes = np.array([d or "" for d, _ in DESCRIPTORS], dtype=object)
    descriptor_index = _choice(rng, n, [w for _, w in DESCRIPTORS])
    descriptor = descriptor_codes[descriptor_index]
    ltc = np.array(["Y", "N", ""], dtype=object)[_choice(rng, n, [0.30, 0.62, 0.08])]
    ethnic = np.array([c for c, _ in ETHNICITY], dtype=object)[
        _choice(rng, n, [w for _, w in ETHNICITY])
    ]
    ethnic[rng.random(n) < NOT_STATED_ETHNICITY] = "Z"
    imd = _choice(rng, n, IMD_WEIGHTS) + 1
    age = np.clip(np.round(rng.gamma(5.0, 7.5, n) + 16), 18, 95).astype(np.int64)
    sex = np.array(["2", "1", "9"], dtype=object)[_choice(rng, n, [0.64, 0.355, 0.005])]
    received = YEAR_START + rng.integers(0, DAYS_IN_YEAR, n)
    person = numbers.copy()
    repeat = rng.random(n) < 0.08  # a second referral of someone referred earlier in the chunk
    person[repeat] = first_number + rng.integers(0, n, int(repeat.sum()))

    # Pathway through stepped care.
    pathway = _choice(rng, n, [w for _, w in PATHWAYS])
    names = [p for p, _ in PATHWAYS]
    is_ = {name: pathway == i for i, name in enumerate(names)}
    high_intensity = rng.random(n) < 0.42
    sessions = np.zeros(n, dtype=np.int64)
    sessions[is_["treated_once"]] = 1
    in_treatment = is_["in_treatment"]
    sessions[in_treatment] = 1 + rng.poisson(1.5, int(in_treatment.sum()))
    finished = is_["finished"]
    mean_extra = np.where(high_intensity, 6.0, 3.0)[finished]
    sessions[finished] = 2 + rng.negative_binomial(3, 3 / (3 + mean_extra))
    treated = sessions > 0
    assessed = ~is_["not_seen"] & (~is_["waiting"] | (rng.random(n) < 0.5))

    # Waits: received to first treatment (lognormal, with a long tail), assessment before it.
    wait = np.round(np.exp(rng.normal(np.log(16.0), 0.66, n))).astype(np.int64)
    tail = rng.random(n) < 0.013
    wait[tail] = rng.integers(127, 300, int(tail.sum()))
    wait = np.maximum(wait, 1)
    assessment_wait = np.floor(wait * rng.uniform(0.15, 0.75, n)).astype(np.int64)
    assessment_day = received + assessment_wait
    first_treatment = received + wait

    # Treatment sessions, about weekly; a few long gaps between the first and second.
    ref_of_session = np.repeat(np.arange(n), sessions)
    k = _within_group_index(sessions)
    gap = 7 * rng.choice([1, 1, 1, 1, 2, 3], size=len(k)) + rng.integers(-1, 2, len(k))
    long_second = (k == 1) & (rng.random(len(k)) < 0.015)
    gap[long_second] = rng.integers(91, 150, int(long_second.sum()))
    gap[k == 0] = 0
    cumulative = np.cumsum(gap)
    group_start = np.repeat(np.cumsum(sessions) - sessions, sessions)
    offset = cumulative - cumulative[group_start]
    session_day = first_treatment[ref_of_session] + offset
    last_session = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    last_session[ref_of_session] = session_day  # later sessions overwrite earlier ones

    discharge = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    discharged = finished | is_["treated_once"]
    discharge[discharged] = last_session[discharged] + rng.integers(0, 21, int(discharged.sum()))
    not_seen = is_["not_seen"]
    discharge[not_seen] = received[not_seen] + rng.integers(10, 90, int(not_seen.sum()))
    only = is_["assessed_only"]
    discharge[only] = assessment_day[only] + rng.integers(0, 30, int(only.sum()))

    # Contacts: assessment, attended sessions, missed sessions, some follow-up and support.
    dna = np.where(treated, rng.poisson(0.7, n), 0)
    ref_of_dna = np.repeat(np.arange(n), dna)
    span = np.maximum((last_session - first_treatment).astype(np.int64), 1)
    dna_day = first_treatment[ref_of_dna] + rng.integers(0, span[ref_of_dna] + 1)
    extra_kind = np.where(rng.random(n) < 0.5, "follow_up", "employment_support")
    extra = treated & (rng.random(n) < 0.08)
    contact_ref = np.concatenate(
        [np.flatnonzero(assessed), ref_of_session, ref_of_dna, np.flatnonzero(extra)]
    )
    contact_day = np.concatenate(
        [assessment_day[assessed], session_day, dna_day, last_session[extra]]
    )
    contact_kind = np.concatenate(
        [
            np.full(int(assessed.sum()), "assessment", dtype=object),
            np.full(len(session_day), "treatment", dtype=object),
            np.full(len(dna_day), "treatment", dtype=object),
            extra_kind[extra].astype(object),
        ]
    )
    contact_attended = np.concatenate(
        [
            np.full(int(assessed.sum()), "Y", dtype=object),
            np.full(len(session_day), "Y", dtype=object),
            np.full(len(dna_day), "N", dtype=object),
            np.full(int(extra.sum()), "Y", dtype=object),
        ]
    )
    intensity = np.where(high_intensity, "high", "low").astype(object)[contact_ref]
    intensity[contact_kind != "treatment"] = None
    integrated = np.where((ltc == "Y") & (rng.random(n) < 0.2), "Y", "N").astype(object)[
        contact_ref
    ]

    # Scores: PHQ-9 and GAD-7 at assessment and every attended session (and the paired measure
    # where the service records it), WSAS at the first and last; trajectories tuned to the
    # national outcomes.
    occasions = assessed.astype(np.int64) + sessions
    ref_of_occasion = np.repeat(np.arange(n), occasions)
    j = _within_group_index(occasions)
    first_is_assessment = assessed[ref_of_occasion]
    session_index = j - first_is_assessment.astype(np.int64)
    at_assessment = first_is_assessment & (j == 0)
    session_flat = np.repeat(np.cumsum(sessions) - sessions, occasions) + np.maximum(
        session_index, 0
    )
    session_flat = np.minimum(session_flat, max(len(session_day) - 1, 0))
    treatment_day = (
        session_day[session_flat] if len(session_day) else assessment_day[ref_of_occasion]
    )
    occasion_day = np.where(at_assessment, assessment_day[ref_of_occasion], treatment_day)
    progress = j / np.maximum(occasions - 1, 1)[ref_of_occasion]

    phq_base = np.clip(rng.normal(15.2, 4.6, n), 0, 27)
    gad_base = np.clip(11.9 + 0.62 * (phq_base - 15.2) + rng.normal(0, 3.2, n), 0, 21)
    responder = rng.random(n)
    effect = np.where(
        responder < 0.046,
        -rng.uniform(0.25, 0.7, n),  # deteriorates
        np.where(responder < 0.293, rng.normal(0.05, 0.12, n), rng.beta(3.5, 2.35, n)),
    )
    effect -= 0.05 * (ltc == "Y") + 0.012 * (5.5 - imd)
    effect += np.where(high_intensity, 0.03, 0.0)

    def trajectory(base: Floats, noise: float, top: float) -> Floats:
        mean = base[ref_of_occasion] * (1 - effect[ref_of_occasion] * progress**0.8)
        return np.asarray(np.clip(mean + rng.normal(0, noise, len(mean)), 0, top), dtype=float)

    phq_scores = np.round(trajectory(phq_base, 1.7, 27))
    gad_scores = trajectory(gad_base, 1.5, 21)
    adsm = np.array(
        [next(iter(rules.anxiety_candidates(d or None)), "") for d, _ in DESCRIPTORS], dtype=object
    )[descriptor_index]
    adsm[rng.random(n) >= ADSM_RECORDED] = ""
    wsas_at = (j == 0) | (j == occasions[ref_of_occasion] - 1)

    measure_parts: list[tuple[Ints, Any, Any, Floats]] = []
    recorded = rng.random(len(j)) < 0.97
    measure_parts.append(
        (ref_of_occasion[recorded], occasion_day[recorded], "PHQ9", phq_scores[recorded])
    )
    gad_recorded = rng.random(len(j)) < 0.97
    measure_parts.append(
        (
            ref_of_occasion[gad_recorded],
            occasion_day[gad_recorded],
            "GAD7",
            np.round(gad_scores[gad_recorded]),
        )
    )
    for measure in sorted({m for m in adsm if m}):
        mine = adsm[ref_of_occasion] == measure
        mine &= rng.random(len(j)) < 0.9
        values = _round_for(measure, _scale(gad_scores[mine], measure))
        measure_parts.append((ref_of_occasion[mine], occasion_day[mine], measure, values))
    if "WSAS" in INSTRUMENT_CODES:
        wsas = wsas_at & (rng.random(len(j)) < 0.8)
        wsas_values = _round_for(
            "WSAS", 1.45 * phq_scores[wsas] + rng.normal(0, 3, int(wsas.sum()))
        )
        measure_parts.append((ref_of_occasion[wsas], occasion_day[wsas], "WSAS", wsas_values))

    measure_ref = np.concatenate([p[0] for p in measure_parts])
    measure_day = np.concatenate([p[1] for p in measure_parts])
    measure_name = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in measure_parts])
    measure_score = np.concatenate([p[3] for p in measure_parts])

    contact_order = np.lexsort((contact_day, contact_ref))
    measure_order = np.lexsort((measure_day, measure_ref))
    referrals = pa.table(
        {
            "referral_id": referral_ids,
            "person_id": _ids("P", person),
            "received_date": pa.array(received),
            "discharge_date": pa.array(discharge, mask=np.isnat(discharge)),
            "problem_descriptor": _blank_as_null(descriptor),
            "ltc": _blank_as_null(ltc),
            "ethnic_category": pa.array(ethnic, pa.string()),
            "imd_decile": pa.array(imd),
            "age": pa.array(age),
            "sex": pa.array(sex, pa.string()),
            "service_id": _ids("TT", rng.integers(1, 120, n)),
        }
    )
    contacts = pa.table(
        {
            "referral_id": referral_ids.take(pa.array(contact_ref[contact_order])),
            "contact_date": pa.array(contact_day[contact_order]),
            "kind": pa.array(contact_kind[contact_order], pa.string()),
            "attended": pa.array(contact_attended[contact_order], pa.string()),
            "intensity": pa.array(intensity[contact_order], pa.string()),
            "integrated": pa.array(integrated[contact_order], pa.string()),
        }
    )
    measures = pa.table(
        {
            "referral_id": referral_ids.take(pa.array(measure_ref[measure_order])),
            "measure_date": pa.array(measure_day[measure_order]),
            "measure": pa.array(measure_name[measure_order], pa.string()),
            "score": pa.array(measure_score[measure_order]),
        }
    )
    return Chunk(referrals, contacts, measures)


FILE_NAMES = ("referrals", "contacts", "measures")


def write(n: int, seed: int, out: Path, file_format: str, *, progress: bool = True) -> None:
    """Generate `n` referrals chunk by chunk and append each to the three files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Any] = {}
    try:
        with tqdm(total=n, unit=" referrals", unit_scale=True, disable=not progress) as bar:
            for index, start in enumerate(range(0, n, CHUNK)):
                size = min(CHUNK, n - start)
                chunk = generate_chunk(seed, index, start + 1, size)
                for name in FILE_NAMES:
                    table: pa.Table = getattr(chunk, name)
                    if name not in writers:
                        path = out / f"{name}.{file_format}"
                        if file_format == "parquet":
                            writers[name] = pq.ParquetWriter(path, table.schema)
                        else:
                            options = pa_csv.WriteOptions(
                                quoting_style="none", quoting_header="none"
                            )
                            writers[name] = pa_csv.CSVWriter(
                                path, table.schema, write_options=options
                            )
                    writers[name].write_table(table)
                bar.update(size)
    finally:
        for writer in writers.values():
            writer.close()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="wholecare synth talking-therapies",
        description="Write a synthetic year of NHS Talking Therapies referrals, contacts and "
        "scores (referrals, contacts and measures files, as `wholecare outcomes` reads them).",
    )
    parser.add_argument("--referrals", type=int, required=True, help="number of referrals")
    parser.add_argument("--seed", type=int, required=True, help="same seed, same files")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    if args.referrals < 1:
        print("wholecare synth talking-therapies: --referrals must be at least 1", file=sys.stderr)
        return 2
    write(args.referrals, args.seed, args.out, args.format, progress=sys.stderr.isatty())
    print(f"wrote {args.referrals} referrals to {args.out}", file=sys.stderr)
    return 0
