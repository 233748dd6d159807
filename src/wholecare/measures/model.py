"""The shape of a questionnaire instrument, as loaded from its TOML definition."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class ScoringRule(enum.StrEnum):
    SUM = "sum"
    MEAN = "mean"


class RiskFlag(enum.StrEnum):
    """A safety signal that must reach a clinician, whether or not the questionnaire scores."""

    ITEM9_POSITIVE = "ITEM9_POSITIVE"
    ITEM9_NOT_ANSWERED = "ITEM9_NOT_ANSWERED"
    ITEM9_INVALID = "ITEM9_INVALID"


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    verified: bool
    source: str


@dataclass(frozen=True, slots=True)
class Cutoff:
    """A caseness cut-off: at caseness means `score >= value` if inclusive, else `score > value`."""

    value: float
    inclusive: bool
    verified: bool
    source: str

    def reached_by(self, score: float) -> bool:
        return score >= self.value if self.inclusive else score > self.value


@dataclass(frozen=True, slots=True)
class Band:
    """A severity band; `lower` and `upper` are inclusive and written as published."""

    label: str
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class Severity:
    bands: tuple[Band, ...]
    verified: bool
    source: str


@dataclass(frozen=True, slots=True)
class MissingRule:
    """How many items may be missing, and whether each missing item takes the answered mean.

    With `max_missing == 0` nothing is imputed. For a mean-scored instrument, substituting the
    answered mean is the same as averaging the answered items.
    """

    max_missing: int
    verified: bool
    source: str


@dataclass(frozen=True, slots=True)
class RiskItem:
    """An item whose answer raises a flag above `positive_above`, or when missing or invalid."""

    item: int
    positive_above: int
    positive: RiskFlag
    not_answered: RiskFlag
    invalid: RiskFlag


@dataclass(frozen=True, slots=True)
class Item:
    number: int
    options: tuple[int, ...]
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    name: str
    items: tuple[Item, ...]
    scoring: ScoringRule
    total_min: float
    total_max: float
    total_is_integer: bool
    missing: MissingRule
    severity: Severity | None
    caseness: Cutoff | None
    reliable_change: Threshold | None
    risk_items: tuple[RiskItem, ...]
    snomed: str | None
    loinc: str | None
    licence: str
    stem: str | None = None
    option_labels: tuple[str, ...] = ()
    notes: str = ""

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def unverified(self) -> tuple[str, ...]:
        """Names of this instrument's thresholds and rules that no authoritative source confirms."""
        checked: tuple[tuple[str, Threshold | Cutoff | Severity | MissingRule | None], ...] = (
            ("caseness", self.caseness),
            ("reliable_change", self.reliable_change),
            ("severity", self.severity),
            ("missing", self.missing),
        )
        return tuple(name for name, value in checked if value is not None and not value.verified)

    def item(self, number: int) -> Item:
        if not 1 <= number <= self.item_count:
            raise ValueError(f"{self.code} has items 1 to {self.item_count}, not {number}")
        return self.items[number - 1]

    def is_valid_total(self, score: float) -> bool:
        """Whether `score` is a total that a complete questionnaire could produce.

        A total pro-rated from a part-answered questionnaire may fall between whole numbers;
        check those against the range alone.
        """
        if isinstance(score, bool) or not math.isfinite(score):
            return False
        if not self.total_min <= score <= self.total_max:
            return False
        return not self.total_is_integer or float(score).is_integer()

    def at_caseness(self, score: float) -> bool | None:
        """Whether `score` is at or above caseness; None when the instrument has no cut-off."""
        if self.caseness is None:
            return None
        return self.caseness.reached_by(score)

    def severity_band(self, total: float) -> str | None:
        """The label of the band holding `total`, or None without bands or outside the range.

        Bands are published as whole-number ranges; a pro-rated total between two bands
        (14.6, between 10 to 14 and 15 to 19) stays in the lower one: it has not reached 15.
        """
        if self.severity is None or not self.total_min <= total <= self.total_max:
            return None
        for band in reversed(self.severity.bands):
            if total >= band.lower:
                return band.label
        return None
