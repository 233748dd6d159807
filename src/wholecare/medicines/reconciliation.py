"""Medicines reconciliation (NICE NG5, recommendations 1.3.1 to 1.3.8; decision 0042): the lists of
medicines each system sent about a person, set side by side medicine by medicine with what differs
between them, and the rules for what whoever reconciles them records of each. Pure Python, no
Django.

A medicine is the same in two lists when both give the same dm+d code or, where either gives
none, the same name once case, spacing and the space between a strength and its unit are set
aside. Nothing looser is taken for a match (another strength or form is another medicine): a
false difference costs the reconciler a look, a false match could hide one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from wholecare.fhir.medicines import CURRENT, Medicine


class Difference(StrEnum):
    LISTED_TWICE = "listed-twice"
    """One list has it in force twice: taken as listed, the person could take a double dose."""
    NOT_IN_EVERY_LIST = "not-in-every-list"
    """In force in one list and absent from another: started or stopped without the other
    knowing, or left off."""
    STATUS = "status"
    """Taken in one list, paused, about to start or stopped in another."""
    DOSAGE = "dosage"
    """The lists have it in force with different dosages."""

    @property
    def label(self) -> str:
        return _DIFFERENCE_LABELS[self]


_DIFFERENCE_LABELS = {
    Difference.LISTED_TWICE: "Listed twice",
    Difference.NOT_IN_EVERY_LIST: "Not in every list",
    Difference.STATUS: "Status differs",
    Difference.DOSAGE: "Dosage differs",
}


class Decision(StrEnum):
    """What whoever reconciles the lists found of one medicine, having asked the person (or their
    carer) what they take."""

    AS_LISTED = "as-listed"
    INTENDED = "intended"
    PRESCRIBER_ASKED = "prescriber-asked"
    NOT_TAKEN_AS_LISTED = "not-taken-as-listed"
    TO_FOLLOW_UP = "to-follow-up"

    @property
    def label(self) -> str:
        return _DECISION_LABELS[self]


_DECISION_LABELS = {
    Decision.AS_LISTED: "Taken as listed",
    Decision.INTENDED: "Difference intended",
    Decision.PRESCRIBER_ASKED: "Not intended: prescriber asked to correct it",
    Decision.NOT_TAKEN_AS_LISTED: "Not taken as listed",
    Decision.TO_FOLLOW_UP: "To follow up",
}


@dataclass(frozen=True, slots=True)
class Listed:
    """One medicine in one list: a statement the system `source` sent."""

    source: str
    statement: str
    """The statement at the version compared (`MedicationStatement/{id}/_history/{version}`)."""
    medicine: Medicine
    sensitivity: str = "normal"
    """How the sharing rule shares the statement (`record.vocabulary.Sensitivity`): what is
    written of it shares no wider (decision 0047)."""

    @property
    def in_force(self) -> bool:
        return self.medicine.status_code in CURRENT


@dataclass(frozen=True, slots=True)
class Compared:
    """One medicine across the lists."""

    name: str
    listed: tuple[Listed, ...]
    """As each list has it, in the order of the lists."""
    differences: tuple[Difference, ...]
    missing_from: tuple[str, ...]
    """The lists without it at all, while another has it in force."""

    @property
    def in_force(self) -> bool:
        """In force (taken, paused or about to start) in at least one list."""
        return any(item.in_force for item in self.listed)

    @property
    def restricted(self) -> frozenset[str]:
        """The kinds of sensitive entry its statements are (none for most medicines): what is
        written of it is for whom the sharing rule lets read them."""
        return frozenset(item.sensitivity for item in self.listed) - {"normal"}

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """What may be recorded of it: where the lists differ, not that it is taken as listed
        (which list?), but whether the difference was intended, the prescriber asked to correct
        it, the person takes it otherwise, or it is still to follow up."""
        if self.differences:
            return tuple(d for d in Decision if d is not Decision.AS_LISTED)
        return (Decision.AS_LISTED, Decision.NOT_TAKEN_AS_LISTED, Decision.TO_FOLLOW_UP)

    @property
    def decision_choices(self) -> list[tuple[str, str]]:
        return [(d.value, d.label) for d in self.decisions]

    def problem(self, decision: str, note: str) -> str | None:
        """Why `decision` (with `note`) cannot be recorded of this medicine; None when it can."""
        if decision not in self.decisions:
            if decision == Decision.AS_LISTED:
                return (
                    f"{self.name}: the lists differ, so say whether the difference was intended,"
                    " the prescriber was asked to correct it, the person does not take it as"
                    " listed, or it is still to follow up"
                )
            return f"{self.name}: choose what you found"
        if decision != Decision.AS_LISTED and not note.strip():
            return f"{self.name}: say what you found and what happens next"
        return None


@dataclass(frozen=True, slots=True)
class Comparison:
    sources: tuple[str, ...]
    """The lists compared, in the order given."""
    medicines: tuple[Compared, ...]
    """Those in force in some list first, then those every list has ended; each by name."""
    fingerprint: str
    """Names exactly the statements compared, each at its version: a reconciliation saved
    against another fingerprint was made on lists that have changed since."""
    withheld: int = 0
    """Statements the sharing rule keeps from whoever compares: the person knows of them."""

    @property
    def differing(self) -> int:
        return sum(1 for m in self.medicines if m.differences)


def compare(listed: Iterable[Listed], withheld: int = 0) -> Comparison:
    """Set the lists side by side: the sources in the order their first medicine comes."""
    items = list(listed)
    sources = tuple(dict.fromkeys(item.source for item in items))
    medicines = [_compared(group, sources) for group in _same_medicines(items)]
    medicines.sort(key=lambda m: (not m.in_force, m.name.casefold(), m.name))
    return Comparison(sources, tuple(medicines), fingerprint(items), withheld)


def fingerprint(items: Iterable[Listed]) -> str:
    statements = "\n".join(sorted(item.statement for item in items))
    return hashlib.sha256(statements.encode()).hexdigest()[:32]


def name_key(name: str) -> str:
    """The name as compared: case, runs of spaces and a space between a strength and its unit
    (`5 mg`, `5mg`) set aside."""
    words = " ".join(name.casefold().split())
    return _STRENGTH_SPACE.sub("", words)


_STRENGTH_SPACE = re.compile(
    r"(?<![a-z])(?<=\d) (?=(?:mg|g|mcg|micrograms?|nanograms?|ml|l|mmol|units?|iu|%)(?![a-z]))"
)


def _same_medicines(items: Sequence[Listed]) -> list[list[Listed]]:
    """The items grouped into medicines: by dm+d code where they have one; one without a code
    joins the one coded medicine of its name, or else the others of its name without a code.
    A medicine its sender did not name matches nothing else."""
    groups: list[list[Listed]] = []
    coded: dict[str, list[Listed]] = {}
    for item in items:
        if item.medicine.code:
            if item.medicine.code not in coded:
                coded[item.medicine.code] = []
                groups.append(coded[item.medicine.code])
            coded[item.medicine.code].append(item)
    coded_names: dict[str, set[str]] = {}
    for code, group in coded.items():
        for item in group:
            if item.medicine.named:
                coded_names.setdefault(name_key(item.medicine.name), set()).add(code)
    uncoded: dict[str, list[Listed]] = {}
    for item in items:
        if item.medicine.code:
            continue
        if not item.medicine.named:
            groups.append([item])
            continue
        key = name_key(item.medicine.name)
        codes = coded_names.get(key, set())
        if len(codes) == 1:
            coded[next(iter(codes))].append(item)
            continue
        if key not in uncoded:
            uncoded[key] = []
            groups.append(uncoded[key])
        uncoded[key].append(item)
    return groups


def _compared(group: list[Listed], sources: Sequence[str]) -> Compared:
    rank = {source: n for n, source in enumerate(sources)}
    listed = tuple(sorted(group, key=lambda item: rank[item.source]))
    by_source: dict[str, list[Listed]] = {}
    for item in listed:
        by_source.setdefault(item.source, []).append(item)
    in_force = {source: [i for i in its if i.in_force] for source, its in by_source.items()}
    differences = []
    if any(len(items) > 1 for items in in_force.values()):
        differences.append(Difference.LISTED_TWICE)
    missing = tuple(s for s in sources if s not in by_source) if any(in_force.values()) else ()
    if missing:
        differences.append(Difference.NOT_IN_EVERY_LIST)
    states = {frozenset(i.medicine.status_code for i in items) for items in in_force.values()}
    if len(states) > 1:
        differences.append(Difference.STATUS)
    dosages = {
        source: frozenset(_dosage_key(i.medicine.dosage) for i in items)
        for source, items in in_force.items()
        if items
    }
    if len(set(dosages.values())) > 1:
        differences.append(Difference.DOSAGE)
    name = next((i.medicine.name for i in listed if i.in_force), listed[0].medicine.name)
    return Compared(name, listed, tuple(differences), missing)


def _dosage_key(dosage: str) -> str:
    return " ".join(dosage.casefold().split()).rstrip(".")


def other_medicines(text: str) -> list[str]:
    """The medicines the person takes that no list has (bought over the counter, herbal, from
    abroad), one a line as whoever reconciles wrote them."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def describe(item: Listed) -> str:
    """What one list says of a medicine, in words: "Taking: one tablet a day (GP practice)"."""
    medicine = item.medicine
    said = medicine.status
    if medicine.dosage and item.in_force:
        said += f": {medicine.dosage}"
    return f"{said} ({item.source})"


def record_text(
    comparison: Comparison,
    found: Mapping[int, tuple[Decision, str]],
    others: Sequence[str],
    checked_with: Sequence[str],
    note: str,
    asked_of: Mapping[int, str],
) -> str:
    """The reconciliation in plain words, as the timeline keeps it: what was compared and with
    whom, then each medicine (by its number in the comparison, from 1) with what each list said,
    what was found and, for a correction, whose prescriber was asked (`asked_of`, by number)."""
    lines = [
        "Lists compared: " + ("; ".join(comparison.sources) or "none: no system sent any"),
        "Checked with: " + "; ".join(checked_with),
    ]
    if comparison.withheld:
        lines.append(
            f"Not compared: {comparison.withheld} medicine"
            f"{'s' if comparison.withheld != 1 else ''} the sharing rule withheld from whoever"
            " reconciled"
        )
    for number, compared in enumerate(comparison.medicines, start=1):
        decision, said = found[number]
        differs = ", ".join(d.label.lower() for d in compared.differences)
        lines.append(f"{number}. {compared.name}" + (f" ({differs})" if differs else ""))
        lines.extend(f"   {describe(item)}" for item in compared.listed)
        found_line = f"   Found: {decision.label}"
        if number in asked_of:
            found_line += f" (asked of {asked_of[number]})"
        lines.append(found_line + (f". {said.strip()}" if said.strip() else ""))
    if others:
        lines.append("Taken but in no list: " + "; ".join(others))
    if note.strip():
        lines.append(note.strip())
    return "\n".join(lines)
