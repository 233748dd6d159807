"""Whom to consider for a structured medication review (decision 0043), from the medicines other
systems say a person takes. Pure Python, no Django.

NHS England's Network Contract DES (structured medication reviews and medicines optimisation,
guidance of 31 March 2021 and the FAQ of April 2021) asks primary care networks to identify and
prioritise, among others, people on 10 or more medicines, people on medicines commonly
associated with medication errors, and people using one or more potentially addictive medicines:
any opioid, gabapentinoid, benzodiazepine or Z-drug. Wholecare sees those three in the
medicines lists; the others the service names (people in care homes, with a learning disability,
with severe frailty) it does not yet hold.

A medicine is placed in a group by the ingredients its name gives, whole words only (so
"buprenorphine" is not "morphine"), as dm+d names begin with them; a compound named for its
ingredients together (co-codamol, co-dydramol) is listed under its group."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Cohort(StrEnum):
    MANY_MEDICINES = "many-medicines"
    """10 or more medicines in force in one system's list."""
    POTENTIALLY_ADDICTIVE = "potentially-addictive"
    ERROR_PRONE = "error-prone"
    """Medicines commonly associated with medication errors: those of the National Patient
    Safety Agency's alerts on high-risk medicines."""

    @property
    def label(self) -> str:
        return _COHORT_LABELS[self]


_COHORT_LABELS = {
    Cohort.MANY_MEDICINES: "10 or more medicines",
    Cohort.POTENTIALLY_ADDICTIVE: "Potentially addictive",
    Cohort.ERROR_PRONE: "Often involved in errors",
}

MANY_MEDICINES = 10
"""The DES's complex and problematic polypharmacy: 10 or more medicines."""


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    label: str
    cohort: Cohort
    ingredients: tuple[str, ...]
    source: str


_DES = "NHS England, Network Contract DES SMR guidance (2021) and FAQ (April 2021)"

GROUPS: tuple[Group, ...] = (
    Group(
        "opioid",
        "an opioid",
        Cohort.POTENTIALLY_ADDICTIVE,
        (
            "alfentanil",
            "buprenorphine",
            "co-codamol",
            "co-dydramol",
            "codeine",
            "diamorphine",
            "dihydrocodeine",
            "dipipanone",
            "fentanyl",
            "hydromorphone",
            "meptazinol",
            "methadone",
            "morphine",
            "oxycodone",
            "papaveretum",
            "pentazocine",
            "pethidine",
            "tapentadol",
            "tramadol",
        ),
        _DES,
    ),
    Group(
        "gabapentinoid",
        "a gabapentinoid",
        Cohort.POTENTIALLY_ADDICTIVE,
        ("gabapentin", "pregabalin"),
        _DES,
    ),
    Group(
        "benzodiazepine",
        "a benzodiazepine",
        Cohort.POTENTIALLY_ADDICTIVE,
        (
            "alprazolam",
            "chlordiazepoxide",
            "clobazam",
            "clonazepam",
            "diazepam",
            "flurazepam",
            "loprazolam",
            "lorazepam",
            "lormetazepam",
            "midazolam",
            "nitrazepam",
            "oxazepam",
            "temazepam",
        ),
        _DES,
    ),
    Group(
        "z-drug",
        "a Z-drug",
        Cohort.POTENTIALLY_ADDICTIVE,
        ("zaleplon", "zolpidem", "zopiclone"),
        _DES,
    ),
    Group(
        "anticoagulant",
        "an anticoagulant",
        Cohort.ERROR_PRONE,
        (
            "acenocoumarol",
            "apixaban",
            "dabigatran",
            "edoxaban",
            "phenindione",
            "rivaroxaban",
            "warfarin",
        ),
        "NPSA patient safety alert NPSA/2007/18, actions that can make anticoagulant therapy safer",
    ),
    Group(
        "methotrexate",
        "methotrexate",
        Cohort.ERROR_PRONE,
        ("methotrexate",),
        "NPSA alert NPSA/2006/13, improving compliance with oral methotrexate guidelines",
    ),
    Group(
        "insulin",
        "insulin",
        Cohort.ERROR_PRONE,
        ("insulin",),
        "NPSA rapid response report NPSA/2010/RRR013 and alert NPSA/2011/PSA003, safer insulin",
    ),
    Group(
        "lithium",
        "lithium",
        Cohort.ERROR_PRONE,
        ("lithium",),
        "NPSA patient safety alert NPSA/2009/PSA005, safer lithium therapy",
    ),
)
BY_KEY = {group.key: group for group in GROUPS}

_PATTERNS = tuple(
    (
        group,
        re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, group.ingredients)) + r")(?![\w-])"),
    )
    for group in GROUPS
)


def groups_of(name: str) -> tuple[Group, ...]:
    """The groups a medicine of this name belongs to (none, mostly; a compound may be in two)."""
    words = name.casefold()
    return tuple(group for group, pattern in _PATTERNS if pattern.search(words))


def cohorts(medicines: int, groups: Iterable[str]) -> tuple[Cohort, ...]:
    """The DES cohorts of someone taking `medicines` in their longest list and medicines of
    `groups` (their keys), in the order of `Cohort`."""
    found = {BY_KEY[key].cohort for key in groups}
    if medicines >= MANY_MEDICINES:
        found.add(Cohort.MANY_MEDICINES)
    return tuple(c for c in Cohort if c in found)


class Outcome(StrEnum):
    """What the person and the reviewer agreed for one medicine in a structured medication
    review (decision 0045)."""

    CONTINUE = "continue"
    STOP = "stop"
    REDUCE = "reduce"
    CHANGE = "change"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    Outcome.CONTINUE: "Continue",
    Outcome.STOP: "Stop",
    Outcome.REDUCE: "Reduce the dose",
    Outcome.CHANGE: "Change to another medicine",
}

REVIEWED_FOR = dt.timedelta(days=365)
"""How long a review takes someone off the list to consider, unless an earlier review was
agreed: the DES expects at least a yearly review of those who need one."""


def outcome_problem(name: str, outcome: str, note: str) -> str | None:
    """Why `outcome` (with `note`) cannot be recorded of the medicine `name`; None when it can.
    Anything but continuing it says how (a tapering plan, what instead)."""
    if outcome not in set(Outcome):
        return f"{name}: choose what was agreed"
    if outcome != Outcome.CONTINUE and not note.strip():
        return f"{name}: say how, and who will make the change"
    return None


def still_reviewed(reviewed_on: dt.date, next_review: dt.date | None, today: dt.date) -> bool:
    """Whether a review done on `reviewed_on` still keeps someone off the list to consider: for
    `REVIEWED_FOR`, or until the next review agreed, whichever comes first."""
    until = reviewed_on + REVIEWED_FOR
    if next_review is not None:
        until = min(until, next_review)
    return today < until
