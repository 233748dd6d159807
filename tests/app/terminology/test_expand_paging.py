"""Paging through an expansion with any page size, with or without a filter, gives every matching
member exactly once, in order."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.terminology.helpers import COLOUR, code_system, load, value_set
from wholecare.terminology import operations

URL = "https://example.org/vs/shades"
WORDS = ["red", "green", "blue", "pale", "deep", "warm"]
FILTERS = [None, "", "red", "pale", "deep blue", "WARM gr", "none-such"]


@pytest.fixture
def shades(db):
    concepts = [
        {"code": f"c{index}", "display": f"{WORDS[index % 6]} {WORDS[(index * 5 + 1) % 6]}"}
        for index in range(47)
    ]
    load(code_system(concepts), value_set(URL, [{"system": COLOUR}]))
    return concepts


def _expected(concepts: list[dict[str, Any]], text: str | None) -> list[str]:
    terms = (text or "").lower().split()
    return [
        c["code"]
        for c in concepts
        if all(any(word.startswith(term) for word in c["display"].split()) for term in terms)
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=st.integers(min_value=1, max_value=50), text=st.sampled_from(FILTERS))
def test_pages_cover_the_expansion_exactly_once(shades, count, text):
    expected = _expected(shades, text)
    seen: list[str] = []
    offset = 0
    while True:
        expansion = operations.expand(URL, filter=text, offset=offset, count=count)["expansion"]
        assert expansion["total"] == len(expected)
        assert expansion["offset"] == offset
        page = [c["code"] for c in expansion["contains"]]
        assert len(page) == min(count, max(len(expected) - offset, 0))
        seen += page
        offset += count
        if offset >= expansion["total"]:
            break
    assert seen == expected
    assert len(set(seen)) == len(seen)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offset=st.integers(min_value=0, max_value=60), count=st.integers(min_value=0, max_value=60))
def test_any_window_is_the_same_slice_of_the_whole(shades, offset, count):
    whole = [c["code"] for c in operations.expand(URL)["expansion"]["contains"]]
    window = operations.expand(URL, offset=offset, count=count)["expansion"]["contains"]
    assert [c["code"] for c in window] == whole[offset : offset + count]
