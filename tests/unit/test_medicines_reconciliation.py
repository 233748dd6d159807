"""Setting the medicines lists side by side (NICE NG5 1.3; decision 0042)."""

import datetime as dt
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.fhir.medicines import Medicine
from wholecare.medicines.reconciliation import (
    Compared,
    Decision,
    Difference,
    Listed,
    compare,
    fingerprint,
    name_key,
    other_medicines,
    record_text,
)

GP = "Riverside Surgery"
HOSPITAL = "Torbay Hospital"
STATUS_LABELS = {"active": "Taking", "on-hold": "Paused", "intended": "About to start"}


def listed(
    source: str,
    name: str,
    status: str = "active",
    dosage: str = "One a day",
    code: str = "",
    statement: str = "",
    named: bool = True,
) -> Listed:
    medicine = Medicine(
        name=name,
        named=named,
        code=code,
        status_code=status,
        dosage=dosage,
        status=STATUS_LABELS.get(status, status.capitalize()),
        taking=status == "active",
        starts=dt.date(2026, 1, 1),
        ends=None,
        past_end=False,
        reason="",
        note="",
    )
    return Listed(source, statement or f"MedicationStatement/{source}-{name}/_history/1", medicine)


def one(*items: Listed) -> Compared:
    (compared,) = compare(items).medicines
    return compared


# Each row: the lists as sent, and the differences the comparison must find; the reason cites
# what NG5 1.3.6 asks to be identified (discrepancies, omissions, duplications, changes to dose).
GOLDEN: list[tuple[str, list[Listed], list[tuple[str, tuple[Difference, ...]]]]] = [
    (
        "the same medicine, written with other case and spacing, agrees",
        [
            listed(GP, "Amlodipine 5 mg tablets"),
            listed(HOSPITAL, "amlodipine  5mg Tablets", dosage="one a day."),
        ],
        [("Amlodipine 5 mg tablets", ())],
    ),
    (
        "another strength is another medicine: an omission and a start (NG5 1.3.6)",
        [listed(GP, "Bisoprolol 2.5mg tablets"), listed(HOSPITAL, "Bisoprolol 5mg tablets")],
        [
            ("Bisoprolol 2.5mg tablets", (Difference.NOT_IN_EVERY_LIST,)),
            ("Bisoprolol 5mg tablets", (Difference.NOT_IN_EVERY_LIST,)),
        ],
    ),
    (
        "one dm+d code is one medicine whatever each list calls it",
        [
            listed(GP, "Co-codamol 30mg/500mg tablets", code="42"),
            listed(HOSPITAL, "Codeine 30mg / Paracetamol 500mg tablets", code="42"),
        ],
        [("Co-codamol 30mg/500mg tablets", ())],
    ),
    (
        "two dm+d codes are two medicines even by one name",
        [listed(GP, "Insulin", code="1"), listed(HOSPITAL, "Insulin", code="2")],
        [
            ("Insulin", (Difference.NOT_IN_EVERY_LIST,)),
            ("Insulin", (Difference.NOT_IN_EVERY_LIST,)),
        ],
    ),
    (
        "a name without a code joins the one coded medicine of that name",
        [
            listed(GP, "Metformin 500mg tablets", code="7"),
            listed(HOSPITAL, "Metformin 500mg tablets"),
        ],
        [("Metformin 500mg tablets", ())],
    ),
    (
        "a medicine nobody named matches nothing",
        [
            listed(GP, "Medicine not named", named=False),
            listed(HOSPITAL, "Medicine not named", named=False),
        ],
        [
            ("Medicine not named", (Difference.NOT_IN_EVERY_LIST,)),
            ("Medicine not named", (Difference.NOT_IN_EVERY_LIST,)),
        ],
    ),
    (
        "taken in one list and stopped in the other: a change of status (NG5 1.3.6)",
        [
            listed(GP, "Furosemide 40mg tablets"),
            listed(HOSPITAL, "Furosemide 40mg tablets", "stopped"),
        ],
        [("Furosemide 40mg tablets", (Difference.STATUS,))],
    ),
    (
        "paused in one list and taken in the other",
        [listed(GP, "Warfarin 1mg tablets", "on-hold"), listed(HOSPITAL, "Warfarin 1mg tablets")],
        [("Warfarin 1mg tablets", (Difference.STATUS,))],
    ),
    (
        "a change of dose (NG5 1.3.6)",
        [
            listed(GP, "Furosemide 40mg tablets", dosage="One each morning"),
            listed(HOSPITAL, "Furosemide 40mg tablets", dosage="Two each morning"),
        ],
        [("Furosemide 40mg tablets", (Difference.DOSAGE,))],
    ),
    (
        "one list in force twice: a duplication (NG5 1.3.6)",
        [
            listed(GP, "Sertraline 50mg tablets", statement="s1"),
            listed(GP, "Sertraline 50mg tablets", statement="s2"),
            listed(HOSPITAL, "Sertraline 50mg tablets"),
        ],
        [("Sertraline 50mg tablets", (Difference.LISTED_TWICE,))],
    ),
    (
        "stopped in one list and absent from the other is no difference",
        [listed(GP, "Amoxicillin 500mg capsules", "completed"), listed(HOSPITAL, "Aspirin 75mg")],
        [
            ("Aspirin 75mg", (Difference.NOT_IN_EVERY_LIST,)),
            ("Amoxicillin 500mg capsules", ()),
        ],
    ),
    (
        "a single list has nothing to differ from but itself",
        [listed(GP, "Aspirin 75mg"), listed(GP, "Ramipril 5mg capsules", "on-hold")],
        [("Aspirin 75mg", ()), ("Ramipril 5mg capsules", ())],
    ),
]


@pytest.mark.parametrize(("why", "lists", "expected"), GOLDEN, ids=[row[0] for row in GOLDEN])
def test_golden_comparisons(
    why: str, lists: list[Listed], expected: list[tuple[str, tuple[Difference, ...]]]
) -> None:
    found = compare(lists).medicines
    assert [(m.name, m.differences) for m in found] == expected, why


def test_the_lists_missing_an_omitted_medicine_are_named() -> None:
    found = compare(
        [
            listed(GP, "Aspirin 75mg"),
            listed(HOSPITAL, "Aspirin 75mg"),
            listed("Boots Pharmacy", "Dapagliflozin 10mg tablets"),
        ]
    ).medicines
    assert [m.missing_from for m in found] == [("Boots Pharmacy",), (GP, HOSPITAL)]


def test_each_list_is_shown_in_the_order_given_and_medicines_in_force_come_first() -> None:
    comparison = compare(
        [
            listed(GP, "Zopiclone 3.75mg tablets", "stopped"),
            listed(HOSPITAL, "Aspirin 75mg"),
            listed(GP, "Aspirin 75mg", dosage="Two a day"),
        ]
    )
    assert comparison.sources == (GP, HOSPITAL)
    (aspirin, zopiclone) = comparison.medicines
    assert [item.source for item in aspirin.listed] == [GP, HOSPITAL]
    assert not zopiclone.in_force
    assert comparison.differing == 1


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Amlodipine 5 mg Tablets", "amlodipine 5mg tablets"),
        ("  Salbutamol 100 micrograms/dose   inhaler ", "salbutamol 100micrograms/dose inhaler"),
        ("Hydrocortisone 1 % cream", "hydrocortisone 1% cream"),
        ("Vitamin D3 tablets", "vitamin d3 tablets"),
    ],
)
def test_names_are_compared_without_case_or_spacing(name: str, key: str) -> None:
    assert name_key(name) == key


def test_where_lists_differ_taken_as_listed_cannot_be_recorded() -> None:
    differing = one(listed(GP, "Aspirin 75mg"), listed(HOSPITAL, "Aspirin 75mg", "stopped"))
    assert Decision.AS_LISTED not in differing.decisions
    assert "the lists differ" in (differing.problem(Decision.AS_LISTED, "") or "")
    agreed = one(listed(GP, "Aspirin 75mg"), listed(HOSPITAL, "Aspirin 75mg"))
    assert agreed.problem(Decision.AS_LISTED, "") is None
    assert agreed.problem(Decision.PRESCRIBER_ASKED, "x") == "Aspirin 75mg: choose what you found"
    assert agreed.problem("", "") == "Aspirin 75mg: choose what you found"


@pytest.mark.parametrize("decision", [d for d in Decision if d is not Decision.AS_LISTED])
def test_anything_but_taken_as_listed_says_what_was_found(decision: Decision) -> None:
    differing = one(listed(GP, "Aspirin 75mg"), listed(HOSPITAL, "Aspirin 75mg", "stopped"))
    assert differing.problem(decision, "  ") == (
        "Aspirin 75mg: say what you found and what happens next"
    )
    assert differing.problem(decision, "Stopped in hospital after a bleed; GP told.") is None


def test_the_record_says_what_each_list_said_and_what_was_found() -> None:
    comparison = compare(
        [
            listed(GP, "Furosemide 40mg tablets", dosage="One each morning"),
            listed(HOSPITAL, "Furosemide 40mg tablets", dosage="Two each morning"),
            listed(GP, "Aspirin 75mg", "stopped"),
        ]
    )
    text = record_text(
        comparison,
        {
            1: (Decision.PRESCRIBER_ASKED, "Clinic doubled it; practice to update."),
            2: (Decision.AS_LISTED, ""),
        },
        ["Senna 7.5mg tablets"],
        ["The person", "Their own medicines"],
        "Blister pack from Friday.",
        {1: GP},
    )
    assert text.splitlines() == [
        f"Lists compared: {GP}; {HOSPITAL}",
        "Checked with: The person; Their own medicines",
        "1. Furosemide 40mg tablets (dosage differs)",
        f"   Taking: One each morning ({GP})",
        f"   Taking: Two each morning ({HOSPITAL})",
        "   Found: Not intended: prescriber asked to correct it"
        f" (asked of {GP}). Clinic doubled it; practice to update.",
        "2. Aspirin 75mg",
        f"   Stopped ({GP})",
        "   Found: Taken as listed",
        "Taken but in no list: Senna 7.5mg tablets",
        "Blister pack from Friday.",
    ]


def test_medicines_in_no_list_are_one_a_line() -> None:
    assert other_medicines("Senna\n\n  St John's wort  \r\nIbuprofen gel\n") == [
        "Senna",
        "St John's wort",
        "Ibuprofen gel",
    ]


_NAMES = st.sampled_from(["Aspirin 75mg", "aspirin 75 mg", "Sertraline 50mg", "Insulin", "X"])
_ITEMS = st.lists(
    st.builds(
        listed,
        source=st.sampled_from([GP, HOSPITAL, "Pharmacy"]),
        name=_NAMES,
        status=st.sampled_from(["active", "on-hold", "intended", "stopped", "completed"]),
        dosage=st.sampled_from(["", "One a day", "one a day.", "Two a day"]),
        code=st.sampled_from(["", "", "1", "2"]),
        named=st.booleans(),
    ),
    max_size=12,
)


@given(_ITEMS, st.randoms())
def test_every_statement_is_compared_once_whatever_the_order(
    items: list[Listed], shuffle: Random
) -> None:
    comparison = compare(items)
    compared = [item for m in comparison.medicines for item in m.listed]
    assert sorted(compared, key=id) == sorted(items, key=id)
    shuffled = list(items)
    shuffle.shuffle(shuffled)
    again = compare(shuffled)
    assert again.fingerprint == comparison.fingerprint
    assert {(frozenset(map(id, m.listed)), frozenset(m.differences)) for m in again.medicines} == {
        (frozenset(map(id, m.listed)), frozenset(m.differences)) for m in comparison.medicines
    }


@given(_ITEMS)
def test_a_match_never_joins_two_codes_and_differences_need_two_lists(items: list[Listed]) -> None:
    comparison = compare(items)
    for medicine in comparison.medicines:
        assert len({i.medicine.code for i in medicine.listed} - {""}) <= 1
        if any(not (i.medicine.named or i.medicine.code) for i in medicine.listed):
            assert len(medicine.listed) == 1
        if len(comparison.sources) == 1:
            assert set(medicine.differences) <= {Difference.LISTED_TWICE}
        assert (Decision.AS_LISTED in medicine.decisions) is not bool(medicine.differences)
        if not medicine.in_force:
            assert medicine.differences == ()


def test_the_fingerprint_changes_when_any_statement_does() -> None:
    before = [listed(GP, "Aspirin 75mg", statement="MedicationStatement/a/_history/1")]
    after = [listed(GP, "Aspirin 75mg", statement="MedicationStatement/a/_history/2")]
    assert fingerprint(before) != fingerprint(after)
    assert fingerprint(before) != fingerprint([])
