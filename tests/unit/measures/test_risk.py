"""PHQ-9 item 9: flagged when above 0 or missing, whatever the total and however incomplete."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wholecare.measures import RiskFlag, risk_flags_for, score

answer = st.one_of(st.none(), st.integers(0, 3))
phq9_answers = st.lists(answer, min_size=9, max_size=9)


@given(phq9_answers)
def test_item9_flag_follows_item9_alone(answers: list[int | None]) -> None:
    flags = risk_flags_for("PHQ9", answers)
    item9 = answers[8]
    if item9 is None:
        assert flags == (RiskFlag.ITEM9_NOT_ANSWERED,)
    elif item9 > 0:
        assert flags == (RiskFlag.ITEM9_POSITIVE,)
    else:
        assert flags == ()


@given(
    st.one_of(
        st.none(),
        st.integers(-10, 10),
        st.booleans(),
        st.floats(allow_nan=True),
        st.text(max_size=2),
    )
)
def test_only_a_valid_zero_on_item9_raises_no_flag(item9: object) -> None:
    flags = risk_flags_for("PHQ9", {9: item9})  # type: ignore[dict-item]
    is_valid_zero = type(item9) is int and item9 == 0
    assert (flags == ()) is is_valid_zero


@given(phq9_answers)
def test_scored_result_carries_the_same_flags(answers: list[int | None]) -> None:
    if answers.count(None) <= 2:
        assert score("PHQ9", answers).risk_flags == risk_flags_for("PHQ9", answers)


def test_positive_item9_with_lowest_possible_total() -> None:
    result = score("PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.total == 1
    assert result.at_caseness is False
    assert result.risk_flags == (RiskFlag.ITEM9_POSITIVE,)


def test_missing_item9_is_flagged_even_though_it_is_imputed() -> None:
    result = score("PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, None])
    assert result.total == 0
    assert result.imputed_items == (9,)
    assert result.risk_flags == (RiskFlag.ITEM9_NOT_ANSWERED,)


def test_item9_missing_from_mapping() -> None:
    assert risk_flags_for("PHQ9", {1: 3}) == (RiskFlag.ITEM9_NOT_ANSWERED,)


def test_item9_positive_with_everything_else_missing() -> None:
    assert risk_flags_for("PHQ9", {9: 3}) == (RiskFlag.ITEM9_POSITIVE,)


def test_short_sequence_never_raises() -> None:
    assert risk_flags_for("PHQ9", [0, 0]) == (RiskFlag.ITEM9_NOT_ANSWERED,)


def test_unreadable_item9_is_flagged_not_ignored() -> None:
    assert risk_flags_for("PHQ9", {9: 5}) == (RiskFlag.ITEM9_INVALID,)
    assert risk_flags_for("PHQ9", {9: "2"}) == (RiskFlag.ITEM9_INVALID,)  # type: ignore[dict-item]


def test_malformed_rest_of_answers_does_not_hide_item9() -> None:
    assert risk_flags_for("PHQ9", {0: 1, 42: 9, 9: 2}) == (RiskFlag.ITEM9_POSITIVE,)


def test_gad7_has_no_risk_items() -> None:
    assert risk_flags_for("GAD7", [None] * 7) == ()
