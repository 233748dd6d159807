"""The condition vocabulary: the value sets classify, they never refuse; any SNOMED CT concept id
is accepted by its shape, and what is not one is refused saying why."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.record import vocabulary


def test_a_classified_code_has_its_value_sets_concept():
    concept = vocabulary.classify("44054006", "anything the sender wrote")
    assert concept is vocabulary.condition("44054006")
    assert concept.group is vocabulary.ConditionGroup.LONG_TERM


def test_an_unclassified_code_carries_the_senders_display_or_says_none_was_sent():
    concept = vocabulary.classify("26322001", " Bleeding from ear ")
    assert (concept.display, concept.icd10, concept.value_set, concept.plain) == (
        "Bleeding from ear",
        "",
        "",
        "",
    )
    assert concept.group is vocabulary.ConditionGroup.UNCLASSIFIED
    assert vocabulary.classify("26322001").display == "SNOMED CT 26322001 (no description sent)"


def test_every_classified_code_has_the_shape_of_a_concept_id():
    for concept in vocabulary.CONDITIONS:
        assert vocabulary.check_concept_id(concept.snomed) == concept.snomed


@given(
    st.integers(min_value=100, max_value=10**15 - 1),
    st.sampled_from(["00", "10"]),
    st.integers(min_value=0, max_value=9),
)
def test_digits_with_a_concept_partition_are_accepted(item, partition, check):
    code = f"{item}{partition}{check}"
    assert vocabulary.check_concept_id(code) == code


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("12345", "6 to 18 digits"),
        ("1" * 19, "6 to 18 digits"),
        ("7321100x", "6 to 18 digits"),
        ("٣٢١١٠٠٩", "6 to 18 digits"),
        ("073211009", "starts with 0"),
        ("22298006999", "not of a concept"),
        ("123456", "not of a concept"),
    ],
)
def test_what_is_not_a_concept_id_is_refused_saying_why(code, why):
    with pytest.raises(vocabulary.InvalidSnomedId, match=why):
        vocabulary.check_concept_id(code)
