"""A FHIR AllergyIntolerance another system sent, as a reader of the shared record needs it: what
the person reacts to, how badly, and how sure the sender is; or that they have no known allergy.
Pure Python, no Django.

Only the elements a person can act on are read; the resource is kept whole by the FHIR edge
(decisions 0006 and 0038) and an API client reads every element there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wholecare.fhir.elements import as_list, calendar_date, concept_text

SNOMED_CT = "http://snomed.info/sct"
NO_KNOWN_ALLERGY = frozenset(
    {
        "716186003",  # No known allergy (situation)
        "409137002",  # No known drug allergy (situation)
        "429625007",  # No known food allergy (situation)
        "428607008",  # No known environmental allergy (situation)
        "428197003",  # No known insect allergy (situation)
        "1003774007",  # No known Hevea brasiliensis latex allergy (situation)
    }
)
"""SNOMED CT situations saying the person has no known allergy (of a kind): a statement the
sender made, recorded as an AllergyIntolerance, never an allergy."""

_CRITICALITY = {"high": "High risk", "low": "Low risk", "unable-to-assess": ""}
_SEVERITY = {"severe": 3, "moderate": 2, "mild": 1}
_CATEGORY = {
    "medication": "Medicine",
    "food": "Food",
    "environment": "Environment",
    "biologic": "Biologic",
}


@dataclass(frozen=True, slots=True)
class AllergySummary:
    what: str
    """The substance or product, or the no-known-allergy statement, in the sender's words."""
    no_known: bool
    """A statement that the person has no known allergy (of a kind), not an allergy."""
    in_force: bool
    """Active and not refuted: to be acted on now."""
    unconfirmed: bool
    intolerance: bool
    """An intolerance (a non-allergic reaction) rather than an allergy."""
    categories: tuple[str, ...]
    criticality: str
    """"High risk" or "Low risk" of a life-threatening reaction, when the sender assessed it."""
    reactions: tuple[str, ...]
    """Each reaction's manifestations, with its severity when given: "Rash (mild)"."""
    worst_severity: str
    recorded: dt.date | None
    note: str


def summarise(content: Mapping[str, Any]) -> AllergySummary:
    code = content.get("code")
    coded = [
        str(c.get("code"))
        for c in as_list(code.get("coding") if isinstance(code, Mapping) else None)
        if isinstance(c, Mapping) and c.get("system") == SNOMED_CT
    ]
    clinical = _status_code(content.get("clinicalStatus"))
    verification = _status_code(content.get("verificationStatus"))
    reactions = [r for r in as_list(content.get("reaction")) if isinstance(r, Mapping)]
    severities = [str(r.get("severity")) for r in reactions if r.get("severity") in _SEVERITY]
    return AllergySummary(
        what=concept_text(code) or _bare(coded),
        no_known=any(code in NO_KNOWN_ALLERGY for code in coded),
        in_force=clinical == "active" and verification not in {"refuted", "entered-in-error"},
        unconfirmed=verification == "unconfirmed",
        intolerance=content.get("type") == "intolerance",
        categories=tuple(
            _CATEGORY.get(str(c), str(c)) for c in as_list(content.get("category")) if c
        ),
        criticality=_CRITICALITY.get(str(content.get("criticality", "")), ""),
        reactions=tuple(text for text in map(_reaction, reactions) if text),
        worst_severity=max(severities, key=_SEVERITY.__getitem__, default=""),
        recorded=calendar_date(content.get("recordedDate")),
        note=" ".join(
            str(n["text"])
            for n in as_list(content.get("note"))
            if isinstance(n, Mapping) and n.get("text")
        ),
    )


def _status_code(concept: Any) -> str:
    if not isinstance(concept, Mapping):
        return ""
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, Mapping) and coding.get("code"):
            return str(coding["code"])
    return ""


def _reaction(reaction: Mapping[str, Any]) -> str:
    manifestations = ", ".join(
        text for text in map(concept_text, as_list(reaction.get("manifestation"))) if text
    )
    severity = reaction.get("severity")
    if manifestations and severity in _SEVERITY:
        return f"{manifestations} ({severity})"
    return manifestations


def _bare(codes: list[str]) -> str:
    return f"Allergy coded {codes[0]} (no description sent)" if codes else "Allergy not described"
