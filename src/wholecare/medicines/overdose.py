"""Medicines more toxic in overdose, for whoever assesses the risk of suicide (decision 0044).
Pure Python, no Django.

NICE's guideline on depression in adults (CG90, 2009, and NG222, 2022, which keeps it) asks
that toxicity in overdose is taken into account when choosing an antidepressant for someone at
significant risk of suicide: tricyclic antidepressants, except lofepramine, carry the greatest
risk in overdose, and venlafaxine a greater risk of death from overdose than the other
antidepressants used in primary care. People with a long-term condition often take a tricyclic
for pain or sleep (amitriptyline, nortriptyline) without anyone in mental health care knowing.

A medicine is matched by the ingredient its name gives, whole words only, as in
`medicines.review`."""

from __future__ import annotations

import re

SOURCE = "NICE CG90 (2009) and NG222 (2022), depression in adults: toxicity in overdose"

TRICYCLICS = (
    "amitriptyline",
    "clomipramine",
    "dosulepin",
    "dothiepin",
    "doxepin",
    "imipramine",
    "nortriptyline",
    "trimipramine",
)
"""The tricyclic antidepressants prescribed in the UK, but lofepramine (BNF 4.3.1)."""

_WHY: dict[str, str] = {
    **dict.fromkeys(TRICYCLICS, "a tricyclic antidepressant"),
    "venlafaxine": "venlafaxine",
}
_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, _WHY)) + r")(?![\w-])")


def more_toxic(name: str) -> str:
    """Why a medicine of this name is more toxic in overdose ("a tricyclic antidepressant"), or
    empty when NICE names no such risk for it."""
    found = _PATTERN.search(name.casefold())
    return _WHY[found.group(1)] if found else ""
