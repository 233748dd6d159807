"""Medicines more toxic in overdose, for whoever assesses a risk of suicide (decision 0044)."""

import datetime as dt

import pytest

from wholecare.fhir import medicines
from wholecare.medicines import overdose

# Each row: a medicine as dm+d names it, and why it is more toxic in overdose; every row encodes
# NICE's statement on toxicity in overdose (`overdose.SOURCE`).
GOLDEN = [
    ("Amitriptyline 10mg tablets", "a tricyclic antidepressant"),
    ("Nortriptyline 25mg capsules", "a tricyclic antidepressant"),
    ("Dosulepin 75mg tablets", "a tricyclic antidepressant"),
    ("CLOMIPRAMINE 25MG CAPSULES", "a tricyclic antidepressant"),
    ("Venlafaxine 75mg modified-release capsules", "venlafaxine"),
    ("Lofepramine 70mg tablets", ""),
    ("Sertraline 50mg tablets", ""),
    ("Mirtazapine 15mg tablets", ""),
    ("Desvenlafaxine 50mg tablets (made up)", ""),
]


@pytest.mark.parametrize(("name", "why"), GOLDEN, ids=[row[0] for row in GOLDEN])
def test_golden_more_toxic_in_overdose(name: str, why: str) -> None:
    assert overdose.more_toxic(name) == why, overdose.SOURCE


def test_a_medicine_nobody_named_is_never_said_to_be_safe_or_not() -> None:
    coded = {"status": "active", "medicationReference": {"reference": "#amitriptyline"}}
    read = medicines.summarise(coded, dt.date(2026, 11, 24))
    assert not read.named
    assert read.more_toxic_in_overdose == ""
    named = {"status": "active", "medicationCodeableConcept": {"text": "Amitriptyline 10mg"}}
    assert medicines.summarise(named, dt.date(2026, 11, 24)).more_toxic_in_overdose
