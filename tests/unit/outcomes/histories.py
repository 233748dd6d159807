"""Hypothesis strategies for referral histories, and the typed tables the engines take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import strategies as st

from wholecare.measures import INSTRUMENT_CODES, instrument
from wholecare.outcomes import io, rules
from wholecare.outcomes.spec import Contact, Referral, Score

BASE = date(2024, 4, 1)
DESCRIPTORS = [
    None,
    "F32.1",
    "F41.1",
    "F40.0",
    "F400",
    "F40.1",
    "F41.0",
    "F42.1",
    "f42",
    "F43.1",
    " F43.1 ",
    "F45.2",
    "83482000",
    "G93.3",
    "K58.9",
    "723916001",
    "F40.2",
]


@dataclass
class History:
    referrals: list[tuple[str, Referral, str | None, str | None, int | None]] = field(
        default_factory=list
    )  # (referral_id, referral, ltc, ethnic_category, imd_decile)
    contacts: list[tuple[str, Contact]] = field(default_factory=list)
    scores: list[tuple[str, Score]] = field(default_factory=list)


def _day(offset: int) -> date:
    return BASE + timedelta(days=offset)


def boundary_scores(measure: str) -> list[float]:
    """Valid totals at and around the measure's caseness and reliable-change boundaries."""
    inst = instrument(measure)
    limits = rules.thresholds(measure)
    step = 0.01 if inst.is_valid_total(inst.total_min + 0.5) else 1.0
    candidates = [inst.total_min, inst.total_max]
    if limits is not None:
        c, r = limits.caseness_value, limits.reliable_change
        candidates += [c - step, c, c + step, c - r, c - r - step, c + r, c + r - step, 2 * r]
    return sorted({round(v, 2) for v in candidates if inst.is_valid_total(round(v, 2))})


@st.composite
def histories(draw: st.DrawFn, max_referrals: int = 12) -> History:
    """Referral histories dense in the cases the rules distinguish.

    Scores sit on the caseness and reliable-change boundaries, most contacts and scores fall
    within their referral (some outside, some on its first or last day), dates repeat, and each
    referral's paired measure is likely to be recorded.
    """
    history = History()
    ids = [f"R{i}" for i in range(draw(st.integers(1, max_referrals)))]
    for rid in ids:
        received = draw(st.integers(0, 20))
        length = draw(st.one_of(st.none(), st.integers(0, 90), st.just(40)))
        descriptor = draw(st.sampled_from(DESCRIPTORS))
        referral = Referral(
            rid, _day(received), None if length is None else _day(received + length), descriptor
        )
        extra = (
            draw(st.sampled_from(["Y", "N", None])),
            draw(st.sampled_from(["A", "B", "M", None])),
            draw(st.one_of(st.none(), st.integers(1, 10))),
        )
        history.referrals.append((rid, referral, *extra))
        if draw(st.integers(0, 9)) == 0:  # a duplicate row: the first one wins
            history.referrals.append((rid, Referral(rid, _day(0), None, "F42"), "Y", None, None))
        paired = [m for m in rules.paired_measures(descriptor) if m in INSTRUMENT_CODES]
        inside = st.integers(0, 45 if length is None else length)
        if draw(st.integers(0, 4)) > 0:  # most referrals have a course of treatment
            for _ in range(draw(st.integers(1, 4))):
                contact = Contact(_day(received + draw(inside)), "treatment", True)
                history.contacts.append((rid, contact))
            for measure in ("PHQ9", draw(st.sampled_from([*paired, *paired, "GAD7"]))):
                for _ in range(draw(st.integers(1, 3))):
                    value = draw(st.sampled_from(boundary_scores(measure)))
                    score = Score(_day(received + draw(inside)), measure, value)
                    history.scores.append((rid, score))
        anywhere = st.integers(-2, 50)
        for _ in range(draw(st.integers(0, 3))):
            contact = Contact(
                _day(received + draw(anywhere)),
                draw(st.sampled_from(["treatment", "assessment", "follow_up"])),
                draw(st.booleans()),
            )
            history.contacts.append((rid, contact))
        for _ in range(draw(st.integers(0, 3))):
            measure = draw(st.sampled_from(["PHQ9", "GAD7", *paired, *INSTRUMENT_CODES]))
            value = draw(st.sampled_from(boundary_scores(measure)))
            history.scores.append((rid, Score(_day(received + draw(anywhere)), measure, value)))
    if draw(st.booleans()):  # rows for a referral that does not exist
        history.contacts.append(("NOPE", Contact(_day(3), "treatment", True)))
        history.scores.append(("NOPE", Score(_day(3), "PHQ9", 12.0)))
    return history


def _encoded(table: pa.Table, names: tuple[str, ...]) -> pa.Table:
    for name in names:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table[name]))
    return table


def inputs(history: History) -> io.Inputs:
    """The typed tables `io.read_inputs` would produce for this history (lines from 2)."""
    referrals = pa.table(
        {
            "line": pa.array(range(2, len(history.referrals) + 2), pa.int64()),
            "referral_id": [r[0] for r in history.referrals],
            "received_date": pa.array([r[1].received_date for r in history.referrals], pa.date32()),
            "discharge_date": pa.array(
                [r[1].discharge_date for r in history.referrals], pa.date32()
            ),
            "problem_descriptor": pa.array(
                [r[1].problem_descriptor for r in history.referrals], pa.string()
            ),
            "ltc": pa.array([r[2] for r in history.referrals], pa.string()),
            "ethnic_category": pa.array([r[3] for r in history.referrals], pa.string()),
            "imd_decile": pa.array([r[4] for r in history.referrals], pa.int64()),
        }
    )
    contacts = pa.table(
        {
            "line": pa.array(range(2, len(history.contacts) + 2), pa.int64()),
            "referral_id": pa.array([c[0] for c in history.contacts], pa.string()),
            "contact_date": pa.array([c[1].contact_date for c in history.contacts], pa.date32()),
            "kind": pa.array([c[1].kind for c in history.contacts], pa.string()),
            "attended": pa.array([c[1].attended for c in history.contacts], pa.bool_()),
        }
    )
    measures = pa.table(
        {
            "line": pa.array(range(2, len(history.scores) + 2), pa.int64()),
            "referral_id": pa.array([s[0] for s in history.scores], pa.string()),
            "measure_date": pa.array([s[1].measure_date for s in history.scores], pa.date32()),
            "measure": pa.array([s[1].measure for s in history.scores], pa.string()),
            "score": pa.array([s[1].score for s in history.scores], pa.float64()),
        }
    )
    # Coded text columns reach the engines dictionary encoded, as io.read_inputs hands them over.
    referrals, contacts, measures = (
        _encoded(table, coded)
        for table, coded in (
            (referrals, io.CODED_COLUMNS[io.REFERRALS]),
            (contacts, ("kind",)),
            (measures, io.CODED_COLUMNS[io.MEASURES]),
        )
    )
    empty = pa.table({"file": [], "line": [], "reason": []}, schema=io.REJECTED_SCHEMA)
    rows = {
        io.REFERRALS: referrals.num_rows,
        io.CONTACTS: contacts.num_rows,
        io.MEASURES: measures.num_rows,
    }
    return io.Inputs(referrals, contacts, measures, empty, rows)
