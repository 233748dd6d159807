from __future__ import annotations

import pytest

from wholecare.measures import (
    INSTRUMENT_CODES,
    InvalidAnswer,
    MalformedAnswers,
    RiskFlag,
    ScoringError,
    TooManyMissing,
    UnknownMeasure,
    instrument,
    score,
)


def test_unknown_measure_names_the_code_and_the_valid_ones() -> None:
    with pytest.raises(UnknownMeasure) as caught:
        instrument("PHQ8")
    message = str(caught.value)
    assert "'PHQ8'" in message
    assert all(code in message for code in INSTRUMENT_CODES)
    assert isinstance(caught.value, ValueError)


def test_unknown_measure_from_score() -> None:
    with pytest.raises(UnknownMeasure):
        score("phq9", [0] * 9)


def test_out_of_range_answer_names_the_item() -> None:
    with pytest.raises(
        InvalidAnswer, match=r"^PHQ9 item 4: 5 is out of range \(0\N{EN DASH}3\)$"
    ) as caught:
        score("PHQ9", [0, 0, 0, 5, 0, 0, 0, 0, 0])
    assert caught.value.item == 4


def test_negative_answer() -> None:
    with pytest.raises(InvalidAnswer, match=r"^GAD7 item 1: -1 is out of range \(0\N{EN DASH}3\)$"):
        score("GAD7", {1: -1})


@pytest.mark.parametrize("bad", [1.0, "1", True])
def test_answer_that_is_not_a_whole_number(bad: object) -> None:
    with pytest.raises(InvalidAnswer, match=r"^GAD7 item 2: .* is not a whole number$"):
        score("GAD7", [0, bad, 0, 0, 0, 0, 0])  # type: ignore[list-item]


def test_too_many_missing_lists_them() -> None:
    answers = [1, None, 1, 1, None, 1, None, 1, 0]
    with pytest.raises(
        TooManyMissing,
        match=r"^PHQ9: 3 items missing \(items 2, 5, 7\); at most 2 may be missing$",
    ) as caught:
        score("PHQ9", answers)
    assert caught.value.missing == (2, 5, 7)


def test_wrong_length_sequence() -> None:
    with pytest.raises(MalformedAnswers, match=r"^PHQ9: 8 answers given; expected 9"):
        score("PHQ9", [0] * 8)


def test_unknown_item_number_in_mapping() -> None:
    with pytest.raises(MalformedAnswers, match=r"^GAD7: no item 0, 8 \(items are 1\N{EN DASH}7\)$"):
        score("GAD7", {0: 1, 8: 1})


def test_string_is_not_a_sequence_of_answers() -> None:
    with pytest.raises(MalformedAnswers, match="not str"):
        score("GAD7", "0000000")  # type: ignore[arg-type]


def test_scoring_errors_are_value_errors() -> None:
    assert issubclass(ScoringError, ValueError)
    for error in (InvalidAnswer, MalformedAnswers, TooManyMissing):
        assert issubclass(error, ScoringError)


def test_unscorable_questionnaire_still_carries_item9_flag() -> None:
    with pytest.raises(TooManyMissing) as caught:
        score("PHQ9", [None, None, None, 0, 0, 0, 0, 0, 2])
    assert caught.value.risk_flags == (RiskFlag.ITEM9_POSITIVE,)


def test_invalid_answer_still_carries_item9_flag() -> None:
    with pytest.raises(InvalidAnswer) as caught:
        score("PHQ9", {1: 7, 9: 1})
    assert caught.value.risk_flags == (RiskFlag.ITEM9_POSITIVE,)


def test_out_of_range_lists_options_that_are_not_a_run() -> None:
    with pytest.raises(InvalidAnswer, match=r"^IBSSSS item 2: 15 is out of range \(one of 0, 10, "):
        score("IBSSSS", [0, 15, 0, 0, 0])


def test_mean_scored_instrument_refuses_a_sixth_missing_item() -> None:
    with pytest.raises(TooManyMissing, match=r"^MI: 6 items missing .*; at most 5 may be missing$"):
        score("MI", [3] * 21 + [None] * 6)


def test_single_missing_item_on_a_complete_only_instrument() -> None:
    with pytest.raises(
        TooManyMissing, match=r"^SPIN: 1 item missing \(item 3\); at most 0 may be missing$"
    ):
        score("SPIN", {n: 1 for n in range(1, 18) if n != 3})
