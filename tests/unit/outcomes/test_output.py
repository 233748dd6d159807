"""Putting an engine's result in file order."""

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from wholecare.outcomes import output


@st.composite
def engine_orders(draw: st.DrawFn) -> list[int]:
    """Distinct line numbers as an engine may return them: sorted runs in any order, or none."""
    lines = sorted(draw(st.sets(st.integers(1, 500), max_size=60)))
    if draw(st.booleans()):
        return draw(st.permutations(lines))
    cuts = sorted(draw(st.lists(st.integers(0, len(lines)), max_size=5)))
    runs = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True)]
    return [line for run in draw(st.permutations(runs)) for line in run]


@given(engine_orders())
def test_rows_come_back_in_line_order_with_their_values(lines: list[int]) -> None:
    table = pa.table({"line": pa.array(lines, pa.int64()), "twice": [2 * n for n in lines]})
    ordered = output.in_line_order(table)
    assert ordered["line"].to_pylist() == sorted(lines)
    assert ordered["twice"].to_pylist() == [2 * n for n in sorted(lines)]
