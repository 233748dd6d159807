"""The instruments Wholecare knows, by code."""

from __future__ import annotations

from functools import cache

from wholecare.measures.errors import InstrumentDefinitionError, UnknownMeasure
from wholecare.measures.loader import parse_instrument, read_definition
from wholecare.measures.model import Instrument

INSTRUMENT_CODES: tuple[str, ...] = (
    "PHQ9",
    "GAD7",
    "PHQ15",
    "WSAS",
    "PHOBIA_SOCIAL",
    "PHOBIA_AGORAPHOBIA",
    "PHOBIA_SPECIFIC",
    "SPIN",
    "PDSS",
    "MI",
    "OCI",
    "IESR",
    "PCL5",
    "HAI",
    "AAI",
    "CFQ",
    "IBSSSS",
)


@cache
def instrument(code: str) -> Instrument:
    """The instrument with this code; raises `UnknownMeasure` for any other."""
    if code not in INSTRUMENT_CODES:
        raise UnknownMeasure(code, INSTRUMENT_CODES)
    loaded = parse_instrument(read_definition(code))
    if loaded.code != code:
        raise InstrumentDefinitionError(f"{code}.toml declares code {loaded.code!r}")
    return loaded


def all_instruments() -> tuple[Instrument, ...]:
    return tuple(instrument(code) for code in INSTRUMENT_CODES)
