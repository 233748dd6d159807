"""A Hypothesis strategy for whatever content a resource kept whole might hold: the readers of
what other systems send must read any of it without error."""

from typing import Any

from hypothesis import strategies as st

#: The keys FHIR data types nest under, so that the strategy reaches the readers' branches.
NESTED_KEYS = (
    "text",
    "coding",
    "display",
    "code",
    "system",
    "reference",
    "start",
    "end",
    "id",
    "actor",
    "type",
    "url",
    "manifestation",
)

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(NESTED_KEYS), inner, max_size=3)
    ),
    max_leaves=12,
)


def kept_content(*elements: str) -> st.SearchStrategy[dict[str, Any]]:
    """Content with any of these top-level elements, each holding anything JSON can."""
    return st.dictionaries(st.sampled_from(elements), _values)
