"""Whom to consider for a structured medication review, from the medicines' names (decision
0043)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.medicines import review
from wholecare.medicines.review import Cohort

# Each row: a medicine as dm+d names it, and the groups it is in, citing the group's source.
GOLDEN = [
    ("Co-codamol 30mg/500mg tablets", ["opioid"], "DES FAQ 2021: any opioid"),
    ("Codeine 30mg tablets", ["opioid"], "DES FAQ 2021: any opioid"),
    ("Dihydrocodeine 30mg tablets", ["opioid"], "DES FAQ 2021: any opioid"),
    ("Buprenorphine 5micrograms/hour transdermal patches", ["opioid"], "DES FAQ 2021"),
    ("Morphine sulfate 10mg/5ml oral solution", ["opioid"], "DES FAQ 2021: any opioid"),
    ("Tramadol 50mg capsules", ["opioid"], "DES FAQ 2021: any opioid"),
    ("Pregabalin 75mg capsules", ["gabapentinoid"], "DES FAQ 2021: any gabapentinoid"),
    ("Gabapentin 300mg capsules", ["gabapentinoid"], "DES FAQ 2021: any gabapentinoid"),
    ("Diazepam 2mg tablets", ["benzodiazepine"], "DES FAQ 2021: any benzodiazepine"),
    ("Zopiclone 3.75mg tablets", ["z-drug"], "DES FAQ 2021: any Z-drug"),
    ("Warfarin 1mg tablets", ["anticoagulant"], "NPSA/2007/18"),
    ("Apixaban 5mg tablets", ["anticoagulant"], "NPSA/2007/18"),
    ("Methotrexate 2.5mg tablets", ["methotrexate"], "NPSA/2006/13"),
    ("Insulin glargine 100units/ml solution for injection", ["insulin"], "NPSA/2011/PSA003"),
    ("Lithium carbonate 400mg modified-release tablets", ["lithium"], "NPSA/2009/PSA005"),
    ("Paracetamol 500mg tablets", [], "not named by the DES"),
    ("Amitriptyline 10mg tablets", [], "not named by the DES"),
    ("Sertraline 50mg tablets", [], "not named by the DES"),
    ("Nortramadolic acid (made up)", [], "a whole word only"),
]


@pytest.mark.parametrize(("name", "groups", "source"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_groups(name: str, groups: list[str], source: str) -> None:
    assert [g.key for g in review.groups_of(name)] == groups, source
    assert [g.key for g in review.groups_of(name.upper())] == groups


@pytest.mark.parametrize(
    ("medicines", "groups", "cohorts"),
    [
        (9, [], ()),
        (10, [], (Cohort.MANY_MEDICINES,)),
        (1, ["opioid", "gabapentinoid"], (Cohort.POTENTIALLY_ADDICTIVE,)),
        (
            12,
            ["lithium", "z-drug"],
            (Cohort.MANY_MEDICINES, Cohort.POTENTIALLY_ADDICTIVE, Cohort.ERROR_PRONE),
        ),
    ],
)
def test_cohorts(medicines: int, groups: list[str], cohorts: tuple[Cohort, ...]) -> None:
    assert review.cohorts(medicines, groups) == cohorts


def test_every_group_names_its_source_and_no_ingredient_is_in_two_groups() -> None:
    ingredients = [i for g in review.GROUPS for i in g.ingredients]
    assert len(ingredients) == len(set(ingredients))
    assert all(g.source for g in review.GROUPS)
    assert {g.cohort for g in review.GROUPS} == {Cohort.POTENTIALLY_ADDICTIVE, Cohort.ERROR_PRONE}


@given(st.sampled_from([i for g in review.GROUPS for i in g.ingredients]), st.text(max_size=20))
def test_an_ingredient_at_the_start_of_a_name_is_found_whatever_follows(
    ingredient: str, rest: str
) -> None:
    name = f"{ingredient.capitalize()} {rest}"
    assert any(ingredient in g.ingredients for g in review.groups_of(name))


@pytest.mark.parametrize(
    ("outcome", "note", "problem"),
    [
        ("continue", "", None),
        ("stop", "", "Tramadol: say how, and who will make the change"),
        ("stop", "Taper over 4 weeks; GP to stop the repeat", None),
        ("reduce", "  ", "Tramadol: say how, and who will make the change"),
        ("change", "To paracetamol", None),
        ("", "", "Tramadol: choose what was agreed"),
        ("made-up", "x", "Tramadol: choose what was agreed"),
    ],
)
def test_each_outcome_but_continue_says_how(outcome: str, note: str, problem: str | None) -> None:
    assert review.outcome_problem("Tramadol", outcome, note) == problem


@pytest.mark.parametrize(
    ("reviewed", "next_review", "today", "kept_off"),
    [
        (dt.date(2026, 1, 10), None, dt.date(2026, 11, 24), True),
        (dt.date(2025, 11, 24), None, dt.date(2026, 11, 24), False),
        (dt.date(2025, 11, 25), None, dt.date(2026, 11, 24), True),
        (dt.date(2026, 6, 1), dt.date(2026, 9, 1), dt.date(2026, 11, 24), False),
        (dt.date(2026, 6, 1), dt.date(2027, 9, 1), dt.date(2026, 11, 24), True),
        (dt.date(2026, 6, 1), dt.date(2026, 11, 24), dt.date(2026, 11, 24), False),
    ],
)
def test_a_review_keeps_someone_off_the_list_for_a_year_or_until_the_next_agreed(
    reviewed: dt.date, next_review: dt.date | None, today: dt.date, kept_off: bool
) -> None:
    assert review.still_reviewed(reviewed, next_review, today) is kept_off
