"""Well-typed Parquet inputs scanned by the engine itself, with `io`'s field checks in Ibis.

`io.read_inputs` reads any input into Arrow and checks it there; on a national year that took
about as long as the outcome rules. When the three files are Parquet with the natural types
(text as strings, dates as dates, scores as numbers, the deprivation decile as a whole number),
DuckDB scans them itself and the same checks run inside the query, row by row, with the same
reasons in the same order. Anything else (CSV, dates or numbers held as text) takes the Arrow
route. Tests prove both routes accept and reject the same rows.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from wholecare.measures import INSTRUMENT_CODES, instrument
from wholecare.outcomes import io, rules

TypeTest = Callable[[pa.DataType], bool]


def _text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _flag(kind: pa.DataType) -> bool:
    return _text(kind) or bool(pa.types.is_boolean(kind))


def _date(kind: pa.DataType) -> bool:
    return bool(pa.types.is_date32(kind))


def _number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _whole(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind))


#: The Parquet types a file's columns must have to be scanned directly.
NATURAL_TYPES: dict[str, dict[str, TypeTest]] = {
    io.REFERRALS: {
        "referral_id": _text,
        "received_date": _date,
        "discharge_date": _date,
        "problem_descriptor": _text,
        "ltc": _text,
        "ethnic_category": _text,
        "imd_decile": _whole,
    },
    io.CONTACTS: {
        "referral_id": _text,
        "contact_date": _date,
        "kind": _text,
        "attended": _flag,
        "intensity": _text,
        "integrated": _flag,
    },
    io.MEASURES: {
        "referral_id": _text,
        "measure_date": _date,
        "measure": _text,
        "score": _number,
    },
}


@dataclass(frozen=True)
class Scanned:
    """The rows that pass the field checks, typed as `io.Inputs` holds them, and the rest."""

    referrals: ir.Table
    contacts: ir.Table
    measures: ir.Table
    rejected: ir.Table
    rows_read: dict[str, int]


def schemas(paths: Mapping[str, Path]) -> dict[str, pa.Schema] | None:
    """Each file's schema when all three are Parquet with the natural types, else None.

    A Parquet file with a bad header raises `io.InputError`, as `io.read_inputs` would.
    """
    found = {}
    for role in io.FILES:
        path = paths[role]
        try:
            with path.open("rb") as handle:
                if handle.read(4) != b"PAR1":
                    return None
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException):
            return None  # the Arrow route reports it
        io.check_header(role, f"file {path}", schema.names)
        natural = NATURAL_TYPES[role]
        if not all(natural[c](schema.field(c).type) for c in schema.names if c in natural):
            return None
        found[role] = schema
    return found


def scan(backend: Any, paths: Mapping[str, Path], found: Mapping[str, pa.Schema]) -> Scanned:
    """The three files as checked tables on a DuckDB backend (see `schemas`)."""
    checked = {}
    for role in io.FILES:
        raw = backend.read_parquet(
            str(paths[role]), table_name=f"wholecare_raw_{role}", file_row_number=True
        )
        checked[role] = _CHECKS[role](raw, found[role].names)
    rejected = [
        table.filter(~table.ok).select(
            file=ibis.literal(role), line=table.line, reason=table.reason
        )
        for role, table in checked.items()
    ]
    accepted = {
        role: table.filter(table.ok).drop("ok", "reason") for role, table in checked.items()
    }
    return Scanned(
        referrals=accepted[io.REFERRALS],
        contacts=accepted[io.CONTACTS],
        measures=accepted[io.MEASURES],
        rejected=rejected[0].union(rejected[1]).union(rejected[2]),
        rows_read={role: pq.ParquetFile(paths[role]).metadata.num_rows for role in io.FILES},
    )


def _column(raw: ir.Table, names: list[str], name: str, kind: str) -> ir.Value:
    return raw[name] if name in names else ibis.null(kind)


def _verdicts(
    *checks: tuple[str, ir.BooleanValue], ok: ir.BooleanValue | None = None
) -> dict[str, ir.Value]:
    """`ok`, whether a row passes every check (a null test passes), and `reason`, the first
    check's reason that fails. Filtering on `ok` costs less than on `reason`; a caller may
    give `ok` itself, in a cheaper form, when checks share an expensive part."""
    if ok is None:
        ok = functools.reduce(operator.and_, [~failed.fill_null(False) for _, failed in checks])
    return {
        "ok": ok,
        "reason": ibis.cases(*[(failed, ibis.literal(reason)) for reason, failed in checks]),
    }


def _one_of(value: ir.StringValue, options: tuple[str, ...]) -> ir.BooleanValue:
    """`value` is one of `options` (null where `value` is): equalities, which DuckDB runs
    faster than an IN list (a join against the list)."""
    return functools.reduce(operator.or_, [value == option for option in options])


def _coded(value: ir.Value) -> ir.StringValue:
    """Text with the empty string read as missing."""
    text: ir.StringValue = value.cast("string")
    return text.nullif("")


def _yes(value: ir.Value) -> ir.BooleanValue:
    """Y/N text or a boolean as a boolean (null for anything else)."""
    if value.type().is_boolean():
        return value
    text = _coded(value)
    return ibis.cases((text == "Y", True), (text == "N", False), else_=ibis.null("boolean"))


def _line(raw: ir.Table) -> ir.IntegerValue:
    return (raw.file_row_number + 1).cast("int64")


def _referrals(raw: ir.Table, names: list[str]) -> ir.Table:
    referral_id = _coded(raw.referral_id)
    received, discharge = raw.received_date, raw.discharge_date
    ltc = _coded(_column(raw, names, "ltc", "string"))
    imd = _column(raw, names, "imd_decile", "int64").cast("int64")
    verdicts = _verdicts(
        (io.MISSING_REFERRAL_ID, referral_id.isnull()),
        (io.BAD_DATE, received.isnull()),
        (io.DISCHARGE_BEFORE_RECEIVED, discharge < received),
        (io.BAD_LTC, ~_one_of(ltc, ("Y", "N"))),
        (io.BAD_IMD_DECILE, ~imd.between(1, 10)),
    )
    return raw.select(
        line=_line(raw),
        referral_id=referral_id,
        received_date=received,
        discharge_date=discharge,
        problem_descriptor=_coded(raw.problem_descriptor),
        ltc=ltc,
        ethnic_category=_coded(_column(raw, names, "ethnic_category", "string")),
        imd_decile=imd,
        **verdicts,
    )


def _contacts(raw: ir.Table, names: list[str]) -> ir.Table:
    referral_id = _coded(raw.referral_id)
    kind = _coded(raw.kind)
    attended = _yes(raw.attended)
    known_kind = _one_of(kind, rules.CONTACT_KINDS)
    intensity = _coded(_column(raw, names, "intensity", "string"))
    known_intensity = _one_of(intensity, ("low", "high"))
    integrated = _column(raw, names, "integrated", "string")
    bad_integrated = _coded(integrated).notnull() & _yes(integrated).isnull()
    verdicts = _verdicts(
        (io.MISSING_REFERRAL_ID, referral_id.isnull()),
        (io.BAD_DATE, raw.contact_date.isnull()),
        (io.BAD_KIND, kind.isnull() | ~known_kind),
        (io.BAD_ATTENDED, attended.isnull()),
        (io.BAD_INTENSITY, ~known_intensity),
        (io.BAD_INTEGRATED, bad_integrated),
        # The same, each test once and without negations: a missing kind is unknown, a
        # missing intensity passes.
        ok=referral_id.notnull()
        & raw.contact_date.notnull()
        & known_kind.fill_null(False)
        & attended.notnull()
        & known_intensity.fill_null(True)
        & ~bad_integrated.fill_null(False),
    )
    return raw.select(
        line=_line(raw),
        referral_id=referral_id,
        contact_date=raw.contact_date,
        kind=kind,
        attended=attended,
        **verdicts,
    )


def _nearest(value: float) -> float:  # the signature of `_rounded`
    return value


# DuckDB's round of a double, a double (Ibis's round casts to an integer, which fails on NaN).
_rounded: Callable[[ir.FloatingValue], ir.FloatingValue] = ibis.udf.scalar.builtin(
    _nearest, name="round"
)


def _valid_total(measure: ir.StringValue, score: ir.FloatingValue) -> ir.BooleanValue:
    """`instrument(measure).is_valid_total(score)`, true for a missing score (checked before),
    null for an unknown or missing measure."""
    branches = []
    # The commonest first: each branch is tried on the rows the ones before it left.
    for code in sorted(INSTRUMENT_CODES, key=lambda c: c not in (rules.PHQ9, rules.GAD7)):
        found = instrument(code)
        valid = score.between(found.total_min, found.total_max)
        if found.total_is_integer:
            valid &= _rounded(score) == score
        branches.append((measure == code, score.isnull() | valid))
    return ibis.cases(*branches, else_=ibis.null("boolean"))


def _measures(raw: ir.Table, names: list[str]) -> ir.Table:
    referral_id = _coded(raw.referral_id)
    measure = _coded(raw.measure)
    score = raw.score.cast("float64")
    valid = _valid_total(measure, score)
    verdicts = _verdicts(
        (io.MISSING_REFERRAL_ID, referral_id.isnull()),
        (io.BAD_DATE, raw.measure_date.isnull()),
        (io.UNKNOWN_MEASURE, valid.isnull()),
        (io.BAD_SCORE, score.isnull()),
        (io.SCORE_OUT_OF_RANGE, ~valid),
        # The same, with the per-measure range test written once: an unknown measure (null)
        # and a score out of range (false) both fail.
        ok=referral_id.notnull()
        & raw.measure_date.notnull()
        & score.notnull()
        & valid.fill_null(False),
    )
    return raw.select(
        line=_line(raw),
        referral_id=referral_id,
        measure_date=raw.measure_date,
        measure=measure,
        score=score,
        **verdicts,
    )


_CHECKS: dict[str, Callable[[ir.Table, list[str]], ir.Table]] = {
    io.REFERRALS: _referrals,
    io.CONTACTS: _contacts,
    io.MEASURES: _measures,
}
