"""Properties that hold for every instrument definition."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.measures import (
    INSTRUMENT_CODES,
    Instrument,
    ScoringRule,
    TooManyMissing,
    instrument,
    score,
)


def answers_for(measure: Instrument, *, max_missing: int) -> st.SearchStrategy[list[int | None]]:
    """Answers with at most `max_missing` items left blank."""
    full = st.tuples(*(st.sampled_from(item.options) for item in measure.items))
    blanks = st.sets(
        st.integers(1, measure.item_count), max_size=min(max_missing, measure.item_count)
    )
    return st.builds(
        lambda values, gone: [None if n in gone else v for n, v in enumerate(values, start=1)],
        full,
        blanks,
    )


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
@given(data=st.data())
def test_total_is_within_range(code: str, data: st.DataObject) -> None:
    measure = instrument(code)
    answers = data.draw(answers_for(measure, max_missing=measure.missing.max_missing))
    result = score(code, answers)
    assert measure.total_min <= result.total <= measure.total_max
    if not result.imputed_items:
        assert measure.is_valid_total(result.total)


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
@given(data=st.data())
def test_imputation_substitutes_the_answered_mean(code: str, data: st.DataObject) -> None:
    measure = instrument(code)
    answers = data.draw(answers_for(measure, max_missing=measure.missing.max_missing))
    answered = [a for a in answers if a is not None]
    mean = sum(answered) / len(answered)
    filled = [mean if a is None else a for a in answers]
    expected = sum(filled) if measure.scoring is ScoringRule.SUM else mean
    result = score(code, answers)
    assert result.total == pytest.approx(expected)
    assert result.imputed_items == tuple(n for n, a in enumerate(answers, 1) if a is None)


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
@given(data=st.data())
def test_more_missing_than_allowed_is_refused(code: str, data: st.DataObject) -> None:
    measure = instrument(code)
    gone = data.draw(
        st.sets(
            st.integers(1, measure.item_count),
            min_size=measure.missing.max_missing + 1,
        )
    )
    answers = {n: measure.item(n).options[0] for n in range(1, measure.item_count + 1)}
    for n in gone:
        del answers[n]
    with pytest.raises(TooManyMissing):
        score(code, answers)


BANDED = [code for code in INSTRUMENT_CODES if instrument(code).severity is not None]


@pytest.mark.parametrize("code", BANDED)
def test_bands_cover_the_range_without_gaps_or_overlaps(code: str) -> None:
    measure = instrument(code)
    assert measure.severity is not None
    whole_totals = range(int(measure.total_min), int(measure.total_max) + 1)
    for total in whole_totals:
        holding = [b for b in measure.severity.bands if b.lower <= total <= b.upper]
        assert len(holding) == 1, f"{code} total {total} is in {len(holding)} bands"
        assert measure.severity_band(total) == holding[0].label


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
@given(fraction=st.floats(0, 1))
def test_every_total_in_range_has_a_band(code: str, fraction: float) -> None:
    measure = instrument(code)
    total = measure.total_min + fraction * (measure.total_max - measure.total_min)
    band = measure.severity_band(total)
    assert (band is None) is (measure.severity is None)


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
@given(total=st.floats(allow_nan=False))
def test_at_caseness_follows_the_cutoff(code: str, total: float) -> None:
    measure = instrument(code)
    cutoff = measure.caseness
    if cutoff is None:
        assert measure.at_caseness(total) is None
    elif cutoff.inclusive:
        assert measure.at_caseness(total) is (total >= cutoff.value)
    else:
        assert measure.at_caseness(total) is (total > cutoff.value)
