"""NHS number rules, NHS Data Dictionary "NHS NUMBER": 10 digits, the last a modulus 11 check digit

computed with weights 10..2; a remainder giving check digit 10 makes the number invalid."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.record import nhs_number

# (number, valid, why) — worked examples of the published algorithm.
GOLDEN = [
    ("9434765919", True, "check digit 9: sum 299, 299 mod 11 = 2, 11 - 2 = 9"),
    ("9434765910", False, "same first nine digits, wrong check digit"),
    ("4010232137", True, "check digit 7"),
    ("4010232138", False, "wrong check digit"),
    ("1000000010", False, "sum 10, 11 - 10 = 10: no valid check digit exists"),
    ("0000000000", True, "sum 0 gives 11, which means check digit 0"),
    ("943 476 5919", True, "spaces are allowed in the 3 3 4 layout"),
    ("943-476-5919", True, "hyphens are allowed"),
    ("943476591", False, "nine digits"),
    ("94347659199", False, "eleven digits"),
    ("94347659l9", False, "a letter"),
    ("", False, "empty"),
]


@pytest.mark.parametrize(("number", "valid", "why"), GOLDEN)
def test_golden(number: str, valid: bool, why: str) -> None:
    assert nhs_number.is_valid(number) is valid, why


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12345", "must be 10 digits long (this one has 5)"),
        ("94347659l9", "only digits"),
        ("9434765910", "check digit does not match"),
        ("  ", "Enter an NHS number"),
    ],
)
def test_errors_say_what_is_wrong(number: str, message: str) -> None:
    with pytest.raises(nhs_number.InvalidNHSNumber, match=re.escape(message)):
        nhs_number.normalise(number)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_nine_digits_have_at_most_one_valid_completion(first_nine: str) -> None:
    valid = [d for d in "0123456789" if nhs_number.is_valid(first_nine + d)]
    expected = nhs_number.check_digit(first_nine)
    assert valid == ([] if expected is None else [str(expected)])


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_changing_one_digit_is_caught(first_nine: str) -> None:
    digit = nhs_number.check_digit(first_nine)
    if digit is None:
        return
    number = first_nine + str(digit)
    for position in range(10):
        for replacement in "0123456789":
            if replacement != number[position]:
                altered = number[:position] + replacement + number[position + 1 :]
                assert not nhs_number.is_valid(altered)


def test_formatted_in_three_three_four() -> None:
    assert nhs_number.formatted("9434765919") == "943 476 5919"
