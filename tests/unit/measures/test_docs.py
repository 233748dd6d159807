"""docs/measures.md keeps one row per instrument, with the values the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from wholecare.measures import INSTRUMENT_CODES, instrument

DOC = Path(__file__).resolve().parents[3] / "docs" / "measures.md"


def _row(code: str) -> list[str]:
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| `{code}` | "):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"docs/measures.md has no row for {code}")


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_instrument_table_matches_the_definition(code: str) -> None:
    measure = instrument(code)
    cells = _row(code)
    caseness, reliable_change, unverified = cells[5], cells[6], cells[7]
    if measure.caseness is None:
        assert caseness == "—"
    else:
        sign = ">=" if measure.caseness.inclusive else ">"
        assert caseness == f"{sign} {measure.caseness.value:g}"
    expected_change = (
        "—" if measure.reliable_change is None else f"{measure.reliable_change.value:g}"
    )
    assert reliable_change == expected_change
    assert unverified == (", ".join(measure.unverified) or "none")
