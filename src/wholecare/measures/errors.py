"""Errors raised by `wholecare.measures`; all are `ValueError`s, so bad input is handled alike."""

from __future__ import annotations

from collections.abc import Iterable

from wholecare.measures.model import RiskFlag


class UnknownMeasure(ValueError):
    def __init__(self, code: object, valid: Iterable[str]) -> None:
        self.code = code
        super().__init__(f"unknown measure {code!r}; valid codes are: {', '.join(valid)}")


class InstrumentDefinitionError(ValueError):
    """An instrument's TOML file is malformed or inconsistent."""


class ScoringError(ValueError):
    """Answers that cannot be scored.

    `risk_flags` carries the safety flags found in the same answers, so a clinician still learns
    of a positive PHQ-9 item 9 on a questionnaire that cannot be scored.
    """

    def __init__(self, message: str, *, code: str, risk_flags: tuple[RiskFlag, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.risk_flags = risk_flags


class MalformedAnswers(ScoringError):
    """The answers are not shaped like this instrument: wrong length, unknown item numbers."""


class InvalidAnswer(ScoringError):
    """One item's answer is not one of that item's response options."""

    def __init__(
        self, message: str, *, code: str, item: int, risk_flags: tuple[RiskFlag, ...] = ()
    ) -> None:
        super().__init__(message, code=code, risk_flags=risk_flags)
        self.item = item


class TooManyMissing(ScoringError):
    def __init__(
        self,
        message: str,
        *,
        code: str,
        missing: tuple[int, ...],
        risk_flags: tuple[RiskFlag, ...] = (),
    ) -> None:
        super().__init__(message, code=code, risk_flags=risk_flags)
        self.missing = missing
