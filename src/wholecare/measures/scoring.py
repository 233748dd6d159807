"""Scoring answers to an instrument, and the safety checks that run whatever the score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wholecare.measures.errors import (
    InvalidAnswer,
    MalformedAnswers,
    ScoringError,
    TooManyMissing,
)
from wholecare.measures.model import Instrument, Item, RiskFlag, ScoringRule
from wholecare.measures.registry import instrument

_DASH = "\N{EN DASH}"

Answers = Mapping[int, int | None] | Sequence[int | None]
"""Item number (from 1) to answer, or answers in item order; None is a missing answer."""


@dataclass(frozen=True, slots=True)
class Score:
    code: str
    total: float
    """Exact total; with imputed items it may fall between whole numbers (it is not rounded)."""
    severity: str | None
    at_caseness: bool | None
    risk_flags: tuple[RiskFlag, ...]
    imputed_items: tuple[int, ...]
    unverified: tuple[str, ...]
    answers: tuple[int | None, ...]


def score(code: str, answers: Answers) -> Score:
    """Score `answers` to instrument `code`.

    Raises a `ScoringError` subclass for answers that cannot be scored; the error's
    `risk_flags` still carries every safety flag found in the answers.
    """
    measure = instrument(code)
    flags = _risk_flags(measure, answers)
    try:
        values = _validated(measure, answers)
        missing = tuple(n for n, value in enumerate(values, start=1) if value is None)
        if len(missing) > measure.missing.max_missing:
            raise TooManyMissing(
                f"{code}: {_count(len(missing), 'item')} missing "
                f"({'item' if len(missing) == 1 else 'items'} {', '.join(map(str, missing))}); "
                f"at most {measure.missing.max_missing} may be missing",
                code=code,
                missing=missing,
            )
    except ScoringError as error:
        error.risk_flags = flags
        raise
    total = _total(measure, [value for value in values if value is not None])
    return Score(
        code=code,
        total=total,
        severity=measure.severity_band(total),
        at_caseness=measure.at_caseness(total),
        risk_flags=flags,
        imputed_items=missing,
        unverified=measure.unverified,
        answers=values,
    )


def risk_flags_for(code: str, answers: Answers) -> tuple[RiskFlag, ...]:
    """The safety flags in `answers`, however incomplete or malformed the rest of them are.

    Raises only `UnknownMeasure`. A missing or unreadable risk item is itself a flag, never
    read as "no risk".
    """
    return _risk_flags(instrument(code), answers)


def _risk_flags(measure: Instrument, answers: Answers) -> tuple[RiskFlag, ...]:
    flags: list[RiskFlag] = []
    for risk in measure.risk_items:
        value = _raw_answer(answers, risk.item)
        if value is None:
            flags.append(risk.not_answered)
        elif not _is_option(value, measure.item(risk.item)):
            flags.append(risk.invalid)
        elif isinstance(value, int) and value > risk.positive_above:
            flags.append(risk.positive)
    return tuple(flags)


def _raw_answer(answers: object, number: int) -> object:
    if isinstance(answers, Mapping):
        return answers.get(number)
    if isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        return answers[number - 1] if len(answers) >= number else None
    return None


def _validated(measure: Instrument, answers: Answers) -> tuple[int | None, ...]:
    code = measure.code
    count = measure.item_count
    if isinstance(answers, Mapping):
        unknown = sorted(
            (key for key in answers if not (_is_int(key) and 1 <= key <= count)), key=repr
        )
        if unknown:
            raise MalformedAnswers(
                f"{code}: no item {', '.join(map(repr, unknown))} (items are 1{_DASH}{count})",
                code=code,
            )
        raw: list[object] = [answers.get(n) for n in range(1, count + 1)]
    elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) != count:
            raise MalformedAnswers(
                f"{code}: {_count(len(answers), 'answer')} given; expected {count} "
                "(use None for a missing answer)",
                code=code,
            )
        raw = list(answers)
    else:
        raise MalformedAnswers(
            f"{code}: answers must be a mapping of item number to answer, or a sequence "
            f"in item order, not {type(answers).__name__}",
            code=code,
        )
    for item, value in zip(measure.items, raw, strict=True):
        if value is not None and not _is_option(value, item):
            raise InvalidAnswer(_invalid_message(code, item, value), code=code, item=item.number)
    return tuple(value if isinstance(value, int) else None for value in raw)


def _total(measure: Instrument, answered: list[int]) -> float:
    """Sum or mean; for a sum, each missing item takes the mean of the answered items."""
    if measure.scoring is ScoringRule.MEAN:
        return sum(answered) / len(answered)
    if len(answered) == measure.item_count:
        return float(sum(answered))
    return sum(answered) * measure.item_count / len(answered)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_option(value: object, item: Item) -> bool:
    return _is_int(value) and value in item.options


def _invalid_message(code: str, item: Item, value: object) -> str:
    where = f"{code} item {item.number}"
    if not _is_int(value):
        return f"{where}: {value!r} is not a whole number"
    return f"{where}: {value} is out of range ({_describe(item.options)})"


def _describe(options: tuple[int, ...]) -> str:
    if list(options) == list(range(options[0], options[-1] + 1)):
        return f"{options[0]}{_DASH}{options[-1]}"
    return "one of " + ", ".join(map(str, options))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
