"""Reads instrument definitions from the TOML files shipped in `instruments/`.

Every file is checked on load: the declared total range must match what the items can add up
to, bands must tile that range, and every threshold must name its source and say whether it is
verified. A definition that fails is an error at load, never a silently wrong score.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from wholecare.measures.errors import InstrumentDefinitionError
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

Table = Mapping[str, Any]


def read_definition(code: str) -> Table:
    path = resources.files("wholecare.measures").joinpath("instruments", f"{code}.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def definition_files() -> tuple[str, ...]:
    """The stem of every `*.toml` file shipped in `instruments/`."""
    folder = resources.files("wholecare.measures").joinpath("instruments")
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        )
    )


def parse_instrument(data: Table) -> Instrument:
    code = data.get("code")
    label = code if isinstance(code, str) and code else "<no code>"
    try:
        return _parse(data)
    except (TypeError, ValueError) as error:
        raise InstrumentDefinitionError(f"{label}: {error}") from error


def _parse(data: Table) -> Instrument:
    code: str = _get(data, "code", str)
    items_table = _table(data, "items")
    items = _parse_items(items_table)
    scoring = ScoringRule(_get(data, "scoring", str))
    total = _table(data, "total")
    total_min = float(_number(total, "min"))
    total_max = float(_number(total, "max"))
    total_is_integer = _get(total, "integer", bool)
    _check_total(scoring, items, total_min, total_max, total_is_integer)

    missing_table = _table(data, "missing")
    missing = MissingRule(
        max_missing=_get(missing_table, "max_missing", int),
        verified=_get(missing_table, "verified", bool),
        source=_source(missing_table),
    )
    if not 0 <= missing.max_missing < len(items):
        raise ValueError(f"missing.max_missing must be 0 to {len(items) - 1}")

    severity = None
    if "severity" in data:
        severity = _parse_severity(_table(data, "severity"), total_min, total_max, total_is_integer)

    caseness = None
    if "caseness" in data:
        table = _table(data, "caseness")
        caseness = Cutoff(
            value=float(_number(table, "value")),
            inclusive=_get(table, "inclusive", bool),
            verified=_get(table, "verified", bool),
            source=_source(table),
        )
        if not total_min <= caseness.value <= total_max:
            raise ValueError(f"caseness {caseness.value} is outside {total_min} to {total_max}")

    reliable_change = None
    if "reliable_change" in data:
        table = _table(data, "reliable_change")
        reliable_change = Threshold(
            value=float(_number(table, "value")),
            verified=_get(table, "verified", bool),
            source=_source(table),
        )
        if not 0 < reliable_change.value <= total_max - total_min:
            raise ValueError(f"reliable change {reliable_change.value} does not fit the range")

    risk_items = tuple(_parse_risk(table, items) for table in data.get("risk", ()))

    return Instrument(
        code=code,
        name=_get(data, "name", str),
        items=items,
        scoring=scoring,
        total_min=total_min,
        total_max=total_max,
        total_is_integer=total_is_integer,
        missing=missing,
        severity=severity,
        caseness=caseness,
        reliable_change=reliable_change,
        risk_items=risk_items,
        snomed=_optional(data, "snomed"),
        loinc=_optional(data, "loinc"),
        licence=_get(data, "licence", str),
        stem=_optional(items_table, "stem"),
        option_labels=tuple(_get(items_table, "option_labels", list, [])),
        notes=_get(data, "notes", str, ""),
    )


def _parse_items(table: Table) -> tuple[Item, ...]:
    count = _get(table, "count", int)
    if count < 1:
        raise ValueError("items.count must be at least 1")
    default = _options(_get(table, "options", list), "items.options")
    overrides = _get(table, "options_by_item", dict, {})
    texts = _get(table, "text", list, [])
    if texts and len(texts) != count:
        raise ValueError(f"items.text has {len(texts)} entries for {count} items")
    unknown = set(overrides) - {str(n) for n in range(1, count + 1)}
    if unknown:
        raise ValueError(f"items.options_by_item names no such item: {sorted(unknown)}")
    return tuple(
        Item(
            number=n,
            options=_options(overrides[str(n)], f"item {n} options")
            if str(n) in overrides
            else default,
            text=texts[n - 1] if texts else None,
        )
        for n in range(1, count + 1)
    )


def _options(raw: object, where: str) -> tuple[int, ...]:
    if not isinstance(raw, list) or not raw:
        raise TypeError(f"{where} must be a non-empty list of whole numbers")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        raise TypeError(f"{where} must be whole numbers")
    if raw != sorted(set(raw)):
        raise ValueError(f"{where} must be ascending without repeats")
    return tuple(raw)


def _check_total(
    scoring: ScoringRule,
    items: tuple[Item, ...],
    total_min: float,
    total_max: float,
    total_is_integer: bool,
) -> None:
    lows = [item.options[0] for item in items]
    highs = [item.options[-1] for item in items]
    if scoring is ScoringRule.SUM:
        expected = (float(sum(lows)), float(sum(highs)), True)
    else:
        expected = (float(min(lows)), float(max(highs)), False)
    declared = (total_min, total_max, total_is_integer)
    if declared != expected:
        raise ValueError(
            f"total (min, max, integer) is {declared} but the items give {expected} by {scoring}"
        )


def _parse_severity(
    table: Table, total_min: float, total_max: float, total_is_integer: bool
) -> Severity:
    if not total_is_integer:
        raise ValueError("severity bands are only supported for whole-number totals")
    bands = tuple(
        Band(
            label=_get(band, "label", str),
            lower=float(_number(band, "lower")),
            upper=float(_number(band, "upper")),
        )
        for band in _get(table, "bands", list)
    )
    if not bands:
        raise ValueError("severity.bands is empty")
    if bands[0].lower != total_min or bands[-1].upper != total_max:
        raise ValueError(f"severity bands must run from {total_min} to {total_max}")
    for band, following in itertools.pairwise(bands):
        if band.lower > band.upper or following.lower != band.upper + 1:
            raise ValueError(f"severity bands {band.label!r} and {following.label!r} do not meet")
    return Severity(bands=bands, verified=_get(table, "verified", bool), source=_source(table))


def _parse_risk(table: Table, items: tuple[Item, ...]) -> RiskItem:
    number = _get(table, "item", int)
    if not 1 <= number <= len(items):
        raise ValueError(f"risk item {number} does not exist")
    return RiskItem(
        item=number,
        positive_above=_get(table, "positive_above", int),
        positive=RiskFlag(_get(table, "positive", str)),
        not_answered=RiskFlag(_get(table, "not_answered", str)),
        invalid=RiskFlag(_get(table, "invalid", str)),
    )


_MISSING = object()


def _get(table: Table, key: str, kind: type[Any], default: Any = _MISSING) -> Any:
    if key not in table:
        if default is _MISSING:
            raise ValueError(f"missing key {key!r}")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _number(table: Table, key: str) -> int | float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key!r} must be a number")
    return value


def _table(table: Table, key: str) -> Table:
    value: Table = _get(table, key, dict)
    return value


def _source(table: Table) -> str:
    source: str = _get(table, "source", str)
    if not source.strip():
        raise ValueError("every threshold needs a non-empty source")
    return source


def _optional(table: Table, key: str) -> str | None:
    value: str | None = _get(table, key, str, None)
    return value
