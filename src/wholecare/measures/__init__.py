"""Questionnaire instruments (PHQ-9, GAD-7 and the NHS Talking Therapies measures) and scoring.

Pure Python: no Django, so it can be imported and tested alone. Definitions live as data in
`instruments/*.toml`; see docs/measures.md.
"""

from wholecare.measures.errors import (
    InstrumentDefinitionError,
    InvalidAnswer,
    MalformedAnswers,
    ScoringError,
    TooManyMissing,
    UnknownMeasure,
)
from wholecare.measures.model import (
    Band,
    Cutoff,
    Instrument,
    Item,
    MissingRule,
    RiskFlag,
    RiskItem,
    ScoringRule,
    Severity,
    Threshold,
)
from wholecare.measures.registry import INSTRUMENT_CODES, all_instruments, instrument
from wholecare.measures.scoring import Answers, Score, risk_flags_for, score

__all__ = [
    "INSTRUMENT_CODES",
    "Answers",
    "Band",
    "Cutoff",
    "Instrument",
    "InstrumentDefinitionError",
    "InvalidAnswer",
    "Item",
    "MalformedAnswers",
    "MissingRule",
    "RiskFlag",
    "RiskItem",
    "Score",
    "ScoringError",
    "ScoringRule",
    "Severity",
    "Threshold",
    "TooManyMissing",
    "UnknownMeasure",
    "all_instruments",
    "instrument",
    "risk_flags_for",
    "score",
]
