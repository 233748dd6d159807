"""Counting the summary's measures by group."""

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from wholecare.outcomes import io, summary


@st.composite
def referrals_in_groups(draw: st.DrawFn) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Each referral's group and whether it counts in each of several measures."""
    rows = draw(st.integers(0, 60))
    groups = draw(st.integers(1, 6))
    codes = np.array(draw(st.lists(st.integers(0, groups - 1), min_size=rows, max_size=rows)))
    names = draw(st.lists(st.sampled_from("abcdefghijklmnopqrstu"), min_size=1, unique=True))
    measures = {
        name: np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)
        for name in names
    }
    return measures, codes.astype(np.int64), groups


@given(referrals_in_groups())
def test_counts_by_combination_equal_counts_measure_by_measure(
    case: tuple[dict[str, np.ndarray], np.ndarray, int],
) -> None:
    measures, codes, groups = case
    totals = summary.Combinations.of(measures).totals(codes, groups)
    for column, values in enumerate(measures.values()):
        expected = np.bincount(codes[values], minlength=groups)
        assert totals[:, column].tolist() == expected.tolist()


def test_a_missing_flag_counts_as_false() -> None:
    flags = pa.chunked_array([[True, None], [False, True, None]])
    assert io.mask(flags).tolist() == [True, False, False, True, False]
