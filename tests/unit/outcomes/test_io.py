"""Field checks of the input reader against the scalar rules they vectorise."""

import math

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from wholecare.measures import INSTRUMENT_CODES, instrument
from wholecare.outcomes import io, output

MEASURES = [*sorted(INSTRUMENT_CODES), "NOTAMEASURE", ""]
SCORES = st.one_of(
    st.integers(min_value=-5, max_value=1100).map(float),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 14.6, 1023.0, 1024.0, -0.0, 2.0**53]),
    st.none(),
)


def expected_out_of_range(measure: str | None, score: float | None) -> bool:
    if not measure or measure not in INSTRUMENT_CODES:
        return False
    total = math.nan if score is None else score
    return not instrument(measure).is_valid_total(total)


@given(st.lists(st.tuples(st.one_of(st.sampled_from(MEASURES), st.none()), SCORES), max_size=60))
def test_out_of_range_agrees_with_each_instrument_rule(
    rows: list[tuple[str | None, float | None]],
) -> None:
    measures = pa.chunked_array([pa.array([m for m, _ in rows], pa.string())])
    scores = pa.chunked_array([pa.array([s for _, s in rows], pa.float64())])
    found = io._out_of_range(io._coded(measures), scores)
    assert found.tolist() == [expected_out_of_range(m, s) for m, s in rows]


ROWS = st.lists(
    st.tuples(
        st.one_of(st.booleans(), st.none()),
        st.one_of(st.floats(allow_nan=False, width=64), st.none()),
        st.one_of(st.integers(min_value=-(2**62), max_value=2**62), st.none()),
        st.one_of(st.dates(), st.none()),
        st.one_of(
            st.text(
                alphabet=st.characters(blacklist_characters=',"\r\n', blacklist_categories=["Cs"])
            ),
            st.none(),
        ),
    ),
    max_size=30,
)


@given(ROWS)
def test_arrow_csv_writer_writes_what_the_quoting_writer_writes(
    rows: list[tuple[object, ...]],
) -> None:
    """The fast writer and the quoting fallback give the same bytes for text with nothing to
    quote, so outcomes.csv does not depend on which one ran."""
    names = ["flag", "score", "count", "day", "text"]
    table = pa.table(
        {name: [row[i] for row in rows] for i, name in enumerate(names)},
        schema=pa.schema(
            [
                ("flag", pa.bool_()),
                ("score", pa.float64()),
                ("count", pa.int64()),
                ("day", pa.date32()),
                ("text", pa.string()),
            ]
        ),
    )
    assert output.csv_bytes(table, names) == output.quoted_csv_bytes(table, names)
