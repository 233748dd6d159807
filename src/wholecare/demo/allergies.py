"""The allergies the synthetic population's GP practices record, as their systems send them
(decision 0038): a few common ones, statements of no known drug allergy, and, for many people,
nothing at all, as in real records.

Pure Python, like `texts`: each choice draws from the caller's Random. Coded only with the
SNOMED CT concepts UK Core's own examples use; the others are named in words."""

from random import Random
from typing import Any

SNOMED_CT = "http://snomed.info/sct"

#: What each kind of record adds to an AllergyIntolerance, and how often people have one.
KINDS: dict[str, tuple[float, dict[str, Any]]] = {
    "amoxicillin": (
        0.07,
        {
            "type": "allergy",
            "category": ["medication"],
            "code": {
                "coding": [{"system": SNOMED_CT, "code": "372687004", "display": "Amoxicillin"}]
            },
            "reaction": [
                {
                    "manifestation": [
                        {
                            "coding": [
                                {
                                    "system": SNOMED_CT,
                                    "code": "247472004",
                                    "display": "Urticarial rash",
                                }
                            ]
                        }
                    ],
                    "severity": "mild",
                }
            ],
        },
    ),
    "peanut": (
        0.02,
        {
            "type": "allergy",
            "category": ["food"],
            "criticality": "high",
            "code": {"text": "Peanuts"},
            "reaction": [
                {
                    "manifestation": [{"text": "Swelling of the lips and throat"}],
                    "severity": "severe",
                }
            ],
            "note": [{"text": "Carries two adrenaline auto-injectors."}],
        },
    ),
    "codeine": (
        0.03,
        {
            "type": "intolerance",
            "category": ["medication"],
            "criticality": "low",
            "code": {"text": "Codeine"},
            "reaction": [
                {"manifestation": [{"text": "Nausea and vomiting"}], "severity": "moderate"}
            ],
        },
    ),
    "no-known-drug-allergy": (
        0.45,
        {
            "code": {
                "coding": [
                    {
                        "system": SNOMED_CT,
                        "code": "409137002",
                        "display": "No known drug allergy",
                    }
                ]
            }
        },
    ),
}


def recorded(rng: Random) -> list[str]:
    """The kinds of allergy record a person has: each allergy by its own chance; a statement of
    no known drug allergy only for someone with no drug allergy."""
    found = [
        kind
        for kind, (chance, _) in KINDS.items()
        if kind != "no-known-drug-allergy" and rng.random() < chance
    ]
    drug = any("medication" in KINDS[kind][1].get("category", ()) for kind in found)
    if not drug and rng.random() < KINDS["no-known-drug-allergy"][0]:
        found.append("no-known-drug-allergy")
    return found
