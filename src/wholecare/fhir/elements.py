"""Reading FHIR data types as a person reads them: a concept's words, a date's calendar day. Pure
Python, no Django: shared by the summaries of what other systems sent (care plans, medicines)."""

import datetime as dt
from collections.abc import Mapping
from typing import Any


def concept_text(concept: Any) -> str:
    """A CodeableConcept's text, else its first coding's display; empty when it has neither (a
    bare code says nothing to a reader)."""
    if not isinstance(concept, Mapping):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, Mapping) and coding.get("display"):
            return str(coding["display"])
    return ""


def as_list(value: Any) -> list[Any]:
    """A repeating element's items; none when it is missing or not a list."""
    return value if isinstance(value, list) else []


def calendar_date(value: Any) -> dt.date | None:
    """The calendar day a FHIR date or dateTime names, as the sender wrote it (a partial date, a
    year or a year and month, is its first day); None for anything else."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    year, _, rest = value.partition("-")
    month, _, day = rest.partition("-")
    try:
        return dt.date(int(year), int(month or 1), int(day[:2] or 1))
    except ValueError:
        return None
