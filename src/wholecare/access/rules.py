"""Who may read a sensitive entry: the sharing rule, as pure data and one function.

Without a recorded decision, a sensitive entry is read only by the disciplines that provide that
kind of
care (below) and by its author. The person's consent can share it with more disciplines, or withdraw
itfrom a default one; a decision always beats the default.
"""

from collections.abc import Mapping

from wholecare.directory.disciplines import MENTAL_HEALTH, Discipline
from wholecare.record.vocabulary import Sensitivity

DEFAULT_READERS: Mapping[Sensitivity, frozenset[Discipline]] = {
    Sensitivity.PSYCHOLOGICAL_THERAPY: MENTAL_HEALTH,
    Sensitivity.SEXUAL_HEALTH: frozenset({Discipline.GP}),
    Sensitivity.SAFEGUARDING: frozenset({Discipline.SOCIAL_WORKER, Discipline.GP}),
}

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
