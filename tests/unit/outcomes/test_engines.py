"""The relational pipeline (DuckDB) and the pandas engine against the executable specification.

Hypothesis generates referral histories (ties on dates, scores outside the referral, duplicate
referrals, rows for unknown referrals, every paired descriptor) and checks that each engine gives
exactly what `spec.referral_outcome` gives, and that the invariants hold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from wholecare import disclosure
from wholecare.outcomes import engines, io, pandas_engine, pipeline, summary
from wholecare.outcomes.engines import EngineResult
from wholecare.outcomes.spec import referral_outcome, within_referral

from . import test_spec
from .histories import History, histories, inputs

_DUCKDB = ibis.duckdb.connect()


def _on_duckdb(data: io.Inputs) -> EngineResult:
    engines.register(_DUCKDB, data)
    return engines.run_ibis(_DUCKDB, data)


ENGINES: dict[str, Callable[[io.Inputs], EngineResult]] = {
    "duckdb": _on_duckdb,
    "pandas": pandas_engine.run,
}


def expected(history: History) -> tuple[list[dict[str, object]], list[tuple[str, int, str]]]:
    """Outcome rows (spec) and relational rejections, as the rules define them."""
    kept: dict[str, object] = {}
    rejected = []
    rows = []
    for line, (rid, referral, ltc, ethnic, imd) in enumerate(history.referrals, start=2):
        if rid in kept:
            rejected.append((io.REFERRALS, line, pipeline.DUPLICATE_REFERRAL))
            continue
        kept[rid] = referral
        contacts = [c for r, c in history.contacts if r == rid]
        scores = [s for r, s in history.scores if r == rid]
        outcome = dataclasses.asdict(referral_outcome(referral, contacts, scores))
        outcome.update(
            line=line,
            received_date=referral.received_date,
            discharge_date=referral.discharge_date,
            problem_descriptor=referral.problem_descriptor,
            ltc=ltc,
            ethnic_category=ethnic,
            imd_decile=imd,
        )
        rows.append(outcome)
    for line, (rid, _) in enumerate(history.contacts, start=2):
        if rid not in kept:
            rejected.append((io.CONTACTS, line, pipeline.UNKNOWN_REFERRAL))
    for line, (rid, score) in enumerate(history.scores, start=2):
        if rid not in kept:
            rejected.append((io.MEASURES, line, pipeline.UNKNOWN_REFERRAL))
        elif not within_referral(kept[rid], score.measure_date):  # type: ignore[arg-type]
            rejected.append((io.MEASURES, line, pipeline.SCORE_OUTSIDE_REFERRAL))
    return rows, sorted(rejected)


def _rejected(table: pa.Table) -> list[tuple[str, int, str]]:
    return sorted((r["file"], r["line"], r["reason"]) for r in table.to_pylist())


@pytest.mark.parametrize("engine", sorted(ENGINES))
@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_engine_equals_specification(engine, history):
    rows, rejected = expected(history)
    result = ENGINES[engine](inputs(history))
    assert result.outcomes.to_pylist() == rows
    assert _rejected(result.rejected) == rejected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(max_referrals=25))
def test_invariants(history):
    result = ENGINES["duckdb"](inputs(history))
    for row in result.outcomes.to_pylist():
        if row["reliable_recovery"]:
            assert row["recovered"]
            assert row["reliable_improvement"]
        assert not (row["reliable_improvement"] and row["reliable_deterioration"])
        if row["finished_treatment"]:
            flags = [row["reliable_improvement"], row["reliable_deterioration"]]
            flags.append(row["no_reliable_change"])
            assert sum(flags) == (1 if row["paired"] else 0)
        else:
            assert row["recovered"] is None
    document = summary.build(
        result.outcomes,
        period=summary.Period(),
        rejected=result.rejected,
        rows_read={io.REFERRALS: 0},
        rows_accepted={io.REFERRALS: 0},
    )
    sections = [document["overall"]]
    for key in ("by_ltc", "by_problem_descriptor_group", "by_ethnic_category"):
        sections.extend(document[key].values())
    for section in sections:
        for rate in section["rates"].values():
            assert rate in (None, disclosure.SUPPRESSED) or 0 <= rate <= 1


def golden_history() -> History:
    """Every golden-table case from test_spec, one referral each."""
    spec = test_spec
    cases = [
        (spec.referral(), spec.treatments(5, 12), spec.course(p, a)) for p, a, *_ in spec.OUTCOMES
    ]
    cases += [
        (spec.referral(), spec.treatments(5, 12), spec.course(p, a)) for p, a, *_ in spec.CASENESS
    ]
    cases += [(spec.referral(), spec.treatments(5, 12), given) for given, *_ in spec.SCORE_ORDER]
    cases += [(spec.referral(d), contacts, []) for contacts, d, *_ in spec.TREATMENT_CONTACTS]
    cases += [(spec.referral(d), contacts, []) for contacts, d, *_ in spec.FINISHED]
    cases += [(spec.referral(400), spec.treatments(f, f + 7), []) for f, *_ in spec.WAITS]
    history = History()
    for number, (referral, contacts, scores) in enumerate(cases):
        rid = f"G{number}"
        history.referrals.append(
            (rid, dataclasses.replace(referral, referral_id=rid), "N", None, None)
        )
        history.contacts += [(rid, c) for c in contacts]
        history.scores += [(rid, s) for s in scores]
    return history


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_engine_on_the_golden_cases(engine):
    history = golden_history()
    rows, _ = expected(history)
    assert ENGINES[engine](inputs(history)).outcomes.to_pylist() == rows
