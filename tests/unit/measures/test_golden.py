"""Golden scores: each row of golden_scores.csv names the published rule it encodes."""

from __future__ import annotations

import pytest

from tests.unit.measures.golden import GoldenRow, golden_rows
from wholecare.measures import INSTRUMENT_CODES, score


@pytest.mark.parametrize("row", golden_rows(), ids=str)
def test_golden_score(row: GoldenRow) -> None:
    result = score(row.code, row.answers)
    assert result.total == pytest.approx(row.total, abs=1e-9), row.rule
    assert result.severity == row.severity, row.rule
    assert result.at_caseness is row.at_caseness, row.rule
    assert result.imputed_items == row.imputed, row.rule


@pytest.mark.parametrize("row", golden_rows(), ids=str)
def test_golden_score_as_mapping(row: GoldenRow) -> None:
    as_mapping = {n: a for n, a in enumerate(row.answers, start=1) if a is not None}
    assert score(row.code, as_mapping).total == pytest.approx(row.total, abs=1e-9)


def test_every_row_cites_a_rule() -> None:
    assert all(row.rule.strip() for row in golden_rows())


def test_every_instrument_has_golden_rows() -> None:
    assert {row.code for row in golden_rows()} == set(INSTRUMENT_CODES)
