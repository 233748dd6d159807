"""The answer to a request to the prescriber (decision 0046)."""

import pytest

from wholecare.medicines.requests import Answer, Kind, answer_problem


@pytest.mark.parametrize(
    ("kind", "answer", "note", "problem"),
    [
        # NICE NG5 1.3.8: a discrepancy found at reconciliation is resolved and the outcome
        # shared with whoever found it; a list left as it is says why.
        (Kind.CORRECTION, "done", "", None),
        (Kind.CORRECTION, "done", "Added to repeats.", None),
        (Kind.CORRECTION, "not-done", "Clinic trial only: stops on 30 Nov.", None),
        (
            Kind.CORRECTION,
            "not-done",
            "  ",
            "Dapagliflozin: say why your list stands, for whoever asked",
        ),
        (Kind.CORRECTION, "", "", "Dapagliflozin: say whether your list has been corrected"),
        (
            Kind.CORRECTION,
            "maybe",
            "Later.",
            "Dapagliflozin: say whether your list has been corrected",
        ),
        # NHS England SMR guidance: what was agreed with the person is acted on, or they and
        # whoever reviewed are told why not.
        (Kind.CHANGE, "done", "", None),
        (Kind.CHANGE, "not-done", "Person changed their mind at the surgery.", None),
        (
            Kind.CHANGE,
            "not-done",
            "",
            "Dapagliflozin: say why the prescription stands, for whoever asked",
        ),
        (Kind.CHANGE, "corrected", "", "Dapagliflozin: say whether the change has been made"),
    ],
)
def test_golden_answers(kind: Kind, answer: str, note: str, problem: str | None) -> None:
    assert answer_problem(kind, "Dapagliflozin", answer, note) == problem


def test_each_kind_answers_in_its_own_words() -> None:
    assert [label for _, label in Kind.CORRECTION.answer_choices()] == [
        "Corrected: our list now says what the person should take",
        "Not corrected: our list stands as it is",
    ]
    assert [label for _, label in Kind.CHANGE.answer_choices()] == [
        "Changed: the prescription now says what was agreed",
        "Not changed: the prescription stands as it is",
    ]
    assert Kind.CORRECTION.answered(Answer.DONE) == "corrected"
    assert Kind.CHANGE.answered(Answer.NOT_DONE) == "not changed"
