"""Who may read a sensitive entry: the sharing rule, as pure data and one function.

Without a recorded decision, a sensitive entry is read only by the disciplines that provide that
kind of care (below) and by its author. The person's consent can share it with more disciplines,
or withdraw it from a default one; a decision always beats the default.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wholecare.directory.disciplines import MENTAL_HEALTH, Discipline
from wholecare.record.vocabulary import NEVER_SHOWN_TO_PERSON, Sensitivity

DEFAULT_READERS: Mapping[Sensitivity, frozenset[Discipline]] = {
    Sensitivity.PSYCHOLOGICAL_THERAPY: MENTAL_HEALTH,
    Sensitivity.SEXUAL_HEALTH: frozenset({Discipline.GP}),
    Sensitivity.SAFEGUARDING: frozenset({Discipline.SOCIAL_WORKER, Discipline.GP}),
}

#: The kinds of sensitive entry the person decides about themselves, from their own sign-in.
#: Who reads safeguarding information is decided with the staff caring for them (decision 0029):
#: practitioners share it without consent where someone may be at risk of harm.
PERSON_DECIDES = frozenset({Sensitivity.PSYCHOLOGICAL_THERAPY, Sensitivity.SEXUAL_HEALTH})

Decisions = Mapping[tuple[str, str], str]
"""(sensitivity, discipline) -> "permit" or "deny", as recorded for one person."""


def discipline_may_read(
    sensitivity: Sensitivity, discipline: Discipline, decisions: Decisions
) -> bool:
    if sensitivity is Sensitivity.NORMAL:
        return True
    decision = decisions.get((sensitivity.value, discipline.value))
    if decision is not None:
        return decision == "permit"
    return discipline in DEFAULT_READERS[sensitivity]


def readable_sensitivities(discipline: Discipline, decisions: Decisions) -> frozenset[Sensitivity]:
    return frozenset(s for s in Sensitivity if discipline_may_read(s, discipline, decisions))


@dataclass(frozen=True)
class Reader:
    """Whether one discipline reads one kind of sensitive entry, and why."""

    discipline: Discipline
    reads: bool
    decided: bool
    """True when the person's recorded decision says so; False when it is the default."""


def readers(
    sensitivity: Sensitivity, disciplines: Iterable[Discipline], decisions: Decisions
) -> list[Reader]:
    """For each of `disciplines`, whether it reads `sensitivity` entries and whether that is the
    person's decision or the default (`discipline_may_read`)."""
    return [
        Reader(
            discipline=d,
            reads=discipline_may_read(sensitivity, d, decisions),
            decided=(sensitivity.value, d.value) in decisions,
        )
        for d in disciplines
    ]


def person_reads_entry(
    *, sensitivity: Sensitivity, written_at: datetime, withheld: bool, online_since: datetime | None
) -> bool:
    """Whether the person reads a timeline entry in their own record (decision 0040): only once
    they have online access, and then what was written since (prospective access, as the NHS
    gives it: what was written before was not written to be read by them), unless a clinician
    withheld it, and never what `NEVER_SHOWN_TO_PERSON` names."""
    return (
        online_since is not None
        and written_at >= online_since
        and not withheld
        and sensitivity not in NEVER_SHOWN_TO_PERSON
    )
