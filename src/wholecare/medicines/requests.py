"""Requests to the prescriber (decision 0046): what a medicines reconciliation or a structured
medication review asks of the organisation that prescribes a medicine, and the rule for its
answer. Pure Python, no Django.

Wholecare prescribes nothing. A reconciliation that finds a list not what was intended asks its
prescriber to correct it; a review that agrees with the person to stop, reduce or change a
medicine asks the prescriber to make the change. Either waits on that organisation until someone
there answers, so that whoever asked learns what was done (NICE NG5, 1.3.8 and 1.4)."""

from enum import StrEnum


class Answer(StrEnum):
    DONE = "done"
    NOT_DONE = "not-done"


class Kind(StrEnum):
    CORRECTION = "correction"
    """From a reconciliation: correct your list."""
    CHANGE = "change"
    """From a structured medication review: make the change agreed with the person."""

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    def answer_label(self, answer: Answer) -> str:
        return _ANSWER_LABELS[self, answer]

    def answer_choices(self) -> list[tuple[str, str]]:
        return [(a.value, self.answer_label(a)) for a in Answer]

    def answered(self, answer: Answer) -> str:
        """The answer in a note's title: "corrected", "not changed"."""
        done = {Kind.CORRECTION: "corrected", Kind.CHANGE: "changed"}[self]
        return done if answer is Answer.DONE else f"not {done}"


_KIND_LABELS = {
    Kind.CORRECTION: "Medicines correction",
    Kind.CHANGE: "Medicines change",
}

_ANSWER_LABELS = {
    (Kind.CORRECTION, Answer.DONE): "Corrected: our list now says what the person should take",
    (Kind.CORRECTION, Answer.NOT_DONE): "Not corrected: our list stands as it is",
    (Kind.CHANGE, Answer.DONE): "Changed: the prescription now says what was agreed",
    (Kind.CHANGE, Answer.NOT_DONE): "Not changed: the prescription stands as it is",
}


def answer_problem(kind: Kind, medicine: str, answer: str, note: str) -> str | None:
    """Why `answer` (with `note`) cannot be recorded of a request about `medicine`; None when it
    can. Leaving things as they are needs the reason, for whoever asked."""
    if answer not in {a.value for a in Answer}:
        if kind is Kind.CORRECTION:
            return f"{medicine}: say whether your list has been corrected"
        return f"{medicine}: say whether the change has been made"
    if answer == Answer.NOT_DONE and not note.strip():
        if kind is Kind.CORRECTION:
            return f"{medicine}: say why your list stands, for whoever asked"
        return f"{medicine}: say why the prescription stands, for whoever asked"
    return None
