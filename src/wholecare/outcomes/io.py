"""Reading the three input files: header checks, line numbers and field-level validation.

Each file may be CSV or Parquet (recognised by its first bytes, not its name). Every data row
gets its line number (CSV: the physical line, the header being line 1; Parquet: the 1-based
row number). Rows that fail a field check go to the rejected list with the first reason that
applies; relational checks (unknown or duplicate referral, score outside the referral) are part
of the pipeline. A bad header or an unreadable file raises `InputError`: nothing is written.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from wholecare.measures import INSTRUMENT_CODES, instrument
from wholecare.outcomes import rules

REFERRALS, CONTACTS, MEASURES = "referrals", "contacts", "measures"
FILES = (REFERRALS, CONTACTS, MEASURES)

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    REFERRALS: (
        "referral_id",
        "person_id",
        "received_date",
        "discharge_date",
        "problem_descriptor",
        "ltc",
    ),
    CONTACTS: ("referral_id", "contact_date", "kind", "attended"),
    MEASURES: ("referral_id", "measure_date", "measure", "score"),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    REFERRALS: ("ethnic_category", "imd_decile", "age", "sex", "service_id"),
    CONTACTS: ("intensity", "integrated"),
    MEASURES: (),
}

#: The columns the outcomes read (the others are checked in the header only).
USED_COLUMNS: dict[str, tuple[str, ...]] = {
    REFERRALS: (
        "referral_id",
        "received_date",
        "discharge_date",
        "problem_descriptor",
        "ltc",
        "ethnic_category",
        "imd_decile",
    ),
    CONTACTS: ("referral_id", "contact_date", "kind", "attended", "intensity", "integrated"),
    MEASURES: REQUIRED_COLUMNS[MEASURES],
}

#: Text columns with few distinct values, handled dictionary-encoded.
CODED_COLUMNS: dict[str, tuple[str, ...]] = {
    REFERRALS: ("problem_descriptor", "ltc", "ethnic_category"),
    CONTACTS: ("kind", "attended", "intensity", "integrated"),
    MEASURES: ("measure",),
}

# Reasons a row is rejected, checked in this order within each file (the first that applies).
WRONG_FIELD_COUNT = "wrong number of fields"
MISSING_REFERRAL_ID = "missing referral_id"
BAD_DATE = "bad date"
DISCHARGE_BEFORE_RECEIVED = "discharge before received"
BAD_LTC = "bad ltc"
BAD_IMD_DECILE = "bad imd_decile"
BAD_KIND = "bad kind"
BAD_ATTENDED = "bad attended"
BAD_INTENSITY = "bad intensity"
BAD_INTEGRATED = "bad integrated"
UNKNOWN_MEASURE = "unknown measure"
BAD_SCORE = "score not a number"
SCORE_OUT_OF_RANGE = "score out of range"

REJECTED_SCHEMA = pa.schema([("file", pa.string()), ("line", pa.int64()), ("reason", pa.string())])

_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_INTEGER_PATTERN = r"^[+-]?\d+$"
#: Whole scores below this are checked by counting (see `_out_of_range`).
_SMALL_SCORES = 1024


class InputError(Exception):
    """A file that cannot be processed at all: unreadable, or a bad header."""


@dataclass(frozen=True)
class Inputs:
    """Typed tables of the rows that passed the field checks, and the rows that did not."""

    referrals: pa.Table
    contacts: pa.Table
    measures: pa.Table
    rejected: pa.Table
    rows_read: dict[str, int]


@dataclass(frozen=True)
class Read:
    """What reading reports when an engine holds the rows itself (see `scan`)."""

    rejected: pa.Table
    rows_read: dict[str, int]


def read_inputs(paths: Mapping[str, Path]) -> Inputs:
    """Read and check the three files (one after the other: Arrow already uses every core)."""
    return _inputs({role: _check(role, *_read(role, paths[role])) for role in FILES})


def inputs_from_tables(tables: Mapping[str, pa.Table]) -> Inputs:
    """Check three tables already in memory exactly as `read_inputs` checks Parquet files with
    the same columns: the header check, then every field check; rows are numbered from 1.

    For callers that hold the data typed already (the Talking Therapies dashboard), so that
    nothing is written out and parsed back.
    """
    return _inputs(
        {
            role: _check(role, _in_memory(role, tables[role]), np.empty(0, dtype=np.int64))
            for role in FILES
        }
    )


def _inputs(checked: Mapping[str, tuple[pa.Table, pa.Table, int]]) -> Inputs:
    return Inputs(
        referrals=checked[REFERRALS][0],
        contacts=checked[CONTACTS][0],
        measures=checked[MEASURES][0],
        rejected=pa.concat_tables([checked[role][1] for role in FILES]),
        rows_read={role: checked[role][2] for role in FILES},
    )


def _check(role: str, table: pa.Table, malformed: np.ndarray) -> tuple[pa.Table, pa.Table, int]:
    """Accepted rows, rejected rows and the number of rows read."""
    accepted, rejected = _VALIDATORS[role](table)
    wrong_count = _rejections(role, malformed, WRONG_FIELD_COUNT)
    return accepted, pa.concat_tables([wrong_count, rejected]), table.num_rows + len(malformed)


# Reading -------------------------------------------------------------------------------------


def _read(role: str, path: Path) -> tuple[pa.Table, np.ndarray]:
    """The file's rows (with `line`) and the line numbers of rows with a wrong field count."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise InputError(f"{role} file {path}: cannot be read ({error.strerror})") from error
    if magic == b"PAR1":
        return _read_parquet(role, path), np.empty(0, dtype=np.int64)
    return _read_csv(role, path)


def check_header(role: str, source: str, names: list[str]) -> None:
    """`source` names where the columns come from, for the message ("file data/x.csv")."""
    required, optional = REQUIRED_COLUMNS[role], OPTIONAL_COLUMNS[role]
    problems = []
    if missing := [c for c in required if c not in names]:
        problems.append("missing column(s) " + ", ".join(missing))
    if unknown := [c for c in names if c not in required and c not in optional]:
        problems.append("unknown column(s) " + ", ".join(unknown))
    if duplicated := sorted({c for c in names if names.count(c) > 1}):
        problems.append("repeated column(s) " + ", ".join(duplicated))
    if problems:
        expected = ",".join(required)
        raise InputError(
            f"{role} {source}: bad header: {'; '.join(problems)} (expected {expected}"
            + (f", optionally {','.join(optional)})" if optional else ")")
        )


def _read_parquet(role: str, path: Path) -> pa.Table:
    try:
        schema = pq.read_schema(path)
        names = schema.names
        check_header(role, f"file {path}", names)
        coded = [
            c
            for c in CODED_COLUMNS[role]
            if c in names and pa.types.is_string(schema.field(c).type)
        ]
        table = pq.read_table(
            path, columns=[c for c in names if c in USED_COLUMNS[role]], read_dictionary=coded
        )
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"{role} file {path}: unreadable Parquet ({error})") from error
    return _numbered(table)


def _in_memory(role: str, table: pa.Table) -> pa.Table:
    """A table handed over in memory, checked and numbered as a Parquet file is."""
    names = table.column_names
    check_header(role, "table", names)
    return _numbered(table.select([c for c in names if c in USED_COLUMNS[role]]))


def _numbered(table: pa.Table) -> pa.Table:
    """With `line`, the 1-based row number."""
    lines = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    return table.append_column("line", lines)


def _read_csv(role: str, path: Path) -> tuple[pa.Table, np.ndarray]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{role} file {path}: unreadable CSV ({error})") from error
    if not header:
        raise InputError(f"{role} file {path}: empty file, no header")
    check_header(role, f"file {path}", header)

    def load(use_threads: bool) -> tuple[pa.Table, list[int | None]]:
        malformed: list[int | None] = []

        def note(row: pa_csv.InvalidRow) -> str:
            malformed.append(row.number)
            return "skip"

        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=use_threads, encoding="utf-8"),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=note),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        return table, malformed

    try:
        table, malformed = load(use_threads=True)
        if malformed:  # the row numbers of malformed rows are known only without threads
            table, malformed = load(use_threads=False)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"{role} file {path}: unreadable CSV ({error})") from error
    for name in header:
        if pc.any(pc.match_substring_regex(table[name], r"[\r\n]")).as_py():
            raise InputError(
                f"{role} file {path}: a quoted value spans lines (column {name}); "
                "line breaks inside values are not supported"
            )
    bad_lines = np.array(sorted(n for n in malformed if n is not None), dtype=np.int64)
    # Physical lines 2.. hold the data rows; the malformed ones were skipped.
    all_lines = np.arange(2, table.num_rows + len(bad_lines) + 2, dtype=np.int64)
    lines = np.setdiff1d(all_lines, bad_lines, assume_unique=True)
    return table.append_column("line", pa.array(lines)), bad_lines


# Field conversion ----------------------------------------------------------------------------


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """As strings, with the empty string read as missing."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    empty = pc.equal(column, "")
    if not pc.any(empty).as_py():
        return column
    return pc.if_else(empty, pa.scalar(None, pa.string()), column)


def _dates(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Dates from YYYY-MM-DD text (or a date column); bad = present but not a real date."""
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        dates = column.cast(pa.date32())
        return dates, np.zeros(len(column), dtype=bool)
    text = _text(column)
    shaped = pc.match_substring_regex(text, _DATE_PATTERN)
    candidate = pc.if_else(shaped, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidate, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2023-02-29 over to 1 March: a real date keeps its day of the month.
    written_day = pc.cast(pc.utf8_slice_codeunits(candidate, 8, 10), pa.int64())
    real = pc.fill_null(pc.equal(pc.day(parsed), written_day), False)
    dates = pc.if_else(real, parsed.cast(pa.date32()), pa.scalar(None, pa.date32()))
    bad = mask(pc.and_(pc.is_valid(text), pc.invert(real)))
    return dates, bad


def _numbers(column: pa.ChunkedArray, *, integer: bool = False) -> pa.ChunkedArray:
    """Numbers from text (or a numeric column); anything else becomes missing.

    With `integer`, values that are not whole numbers (or too large) become missing too.
    """
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.cast(pa.float64())
    else:
        text = _text(column)
        pattern = _INTEGER_PATTERN if integer else _NUMBER_PATTERN
        shaped = pc.fill_null(pc.match_substring_regex(text, pattern), False)
        values = pc.if_else(shaped, text, pa.scalar(None, pa.string())).cast(pa.float64())
    if not integer:
        return values
    whole = pc.and_(pc.equal(pc.floor(values), values), pc.less_equal(pc.abs(values), 2.0**53))
    return pc.if_else(whole, values, pa.scalar(None, pa.float64())).cast(pa.int64())


@dataclass(frozen=True)
class _Coded:
    """A coded text column (kind, measure, ltc, ...) as integer codes into its distinct values.

    Checks then cost one test per distinct value; the column reaches the engines dictionary
    encoded. Missing (null or empty) values have code -1.
    """

    codes: np.ndarray
    names: list[str]

    @property
    def present(self) -> np.ndarray:
        return np.asarray(self.codes >= 0)

    def where(self, test: Callable[[str], bool]) -> np.ndarray:
        """`test` of each row's value; False where the value is missing."""
        verdicts = np.array([test(name) for name in self.names] + [False], dtype=bool)
        return np.asarray(verdicts[self.codes])

    def not_in(self, allowed: tuple[str, ...], *, optional: bool) -> np.ndarray:
        outside = ~self.where(lambda name: name in allowed)
        return outside & self.present if optional else outside

    def array(self) -> pa.DictionaryArray:
        indices = pa.array(self.codes, pa.int32(), mask=self.codes < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.names, pa.string()))


def _coded(column: pa.ChunkedArray) -> _Coded:
    if pa.types.is_boolean(column.type):
        column = pc.if_else(column, "Y", "N")
    if not pa.types.is_dictionary(column.type):
        if not pa.types.is_string(column.type):
            column = column.cast(pa.string())
        column = pc.dictionary_encode(column)
    unified = pa.table({"c": column}).unify_dictionaries()["c"]
    if unified.num_chunks == 0:
        return _Coded(np.empty(0, dtype=np.int64), [])
    names = [str(n) for n in unified.chunk(0).dictionary.cast(pa.string()).to_pylist()]
    codes = np.concatenate(
        [
            np.asarray(pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False), np.int64)
            for chunk in unified.chunks
        ]
    )
    if "" in names:
        codes[codes == names.index("")] = -1
    return _Coded(codes, names)


def mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Missing read as false (Kleene `and` with validity: quicker than filling the nulls)."""
    known = pc.and_kleene(values, pc.is_valid(values))
    return np.asarray(known.to_numpy(zero_copy_only=False), dtype=bool)


def _split(
    role: str, table: pa.Table, checks: list[tuple[str, np.ndarray]], columns: dict[str, pa.Array]
) -> tuple[pa.Table, pa.Table]:
    """Accepted rows (typed `columns` plus `line`) and the rejected rows, first reason first."""
    reason = np.zeros(table.num_rows, dtype=np.int8)
    for code, (_, failed) in reversed(list(enumerate(checks, start=1))):
        reason[failed] = code
    lines = table["line"]
    typed = pa.table({"line": lines, **columns})
    accepted = typed.filter(pa.array(reason == 0)) if reason.any() else typed
    rejected_at = np.flatnonzero(reason)
    names = np.array(["", *(name for name, _ in checks)], dtype=object)
    rejected = pa.table(
        {
            "file": pa.array([role] * len(rejected_at), pa.string()),
            "line": lines.take(pa.array(rejected_at)),
            "reason": pa.array(names[reason[rejected_at]], pa.string()),
        },
        schema=REJECTED_SCHEMA,
    )
    return accepted, rejected


def _rejections(role: str, lines: np.ndarray, reason: str) -> pa.Table:
    return pa.table(
        {"file": [role] * len(lines), "line": lines, "reason": [reason] * len(lines)},
        schema=REJECTED_SCHEMA,
    )


# Validation of each file ---------------------------------------------------------------------


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name in table.column_names:
        return table[name]
    return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])


def _validate_referrals(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    referral_id = _text(table["referral_id"])
    received, bad_received = _dates(table["received_date"])
    discharge, bad_discharge = _dates(table["discharge_date"])
    ltc = _coded(table["ltc"])
    imd_text = _text(_column(table, "imd_decile"))
    imd = _numbers(imd_text, integer=True)
    bad_imd = mask(pc.is_valid(imd_text)) & ~mask(
        pc.and_(pc.greater_equal(imd, 1), pc.less_equal(imd, 10))
    )
    checks = [
        (MISSING_REFERRAL_ID, ~mask(pc.is_valid(referral_id))),
        (BAD_DATE, bad_received | ~mask(pc.is_valid(received)) | bad_discharge),
        (DISCHARGE_BEFORE_RECEIVED, mask(pc.less(discharge, received))),
        (BAD_LTC, ltc.not_in(("Y", "N"), optional=True)),
        (BAD_IMD_DECILE, bad_imd),
    ]
    columns = {
        "referral_id": referral_id,
        "received_date": received,
        "discharge_date": discharge,
        "problem_descriptor": _coded(table["problem_descriptor"]).array(),
        "ltc": ltc.array(),
        "ethnic_category": _coded(_column(table, "ethnic_category")).array(),
        "imd_decile": imd,
    }
    return _split(REFERRALS, table, checks, columns)


def _validate_contacts(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    referral_id = _text(table["referral_id"])
    contact_date, bad_date = _dates(table["contact_date"])
    kind = _coded(table["kind"])
    attended = _coded(table["attended"])
    checks = [
        (MISSING_REFERRAL_ID, ~mask(pc.is_valid(referral_id))),
        (BAD_DATE, bad_date | ~mask(pc.is_valid(contact_date))),
        (BAD_KIND, kind.not_in(rules.CONTACT_KINDS, optional=False)),
        (BAD_ATTENDED, attended.not_in(("Y", "N"), optional=False)),
        (BAD_INTENSITY, _coded(_column(table, "intensity")).not_in(("low", "high"), optional=True)),
        (BAD_INTEGRATED, _coded(_column(table, "integrated")).not_in(("Y", "N"), optional=True)),
    ]
    columns = {
        "referral_id": referral_id,
        "contact_date": contact_date,
        "kind": kind.array(),
        "attended": pa.array(attended.where(lambda name: name == "Y")),
    }
    return _split(CONTACTS, table, checks, columns)


def _out_of_range(measure: _Coded, score: pa.ChunkedArray) -> np.ndarray:
    """Scores `instrument(measure).is_valid_total` rejects (unknown measures are not checked).

    Each distinct (measure, score) pair is asked once, so a national year costs a few hundred
    calls rather than millions. Whole scores from 0 to `_SMALL_SCORES - 1` (nearly all of them)
    are paired by counting; the rest by hashing.
    """
    if score.null_count:
        score = pc.fill_null(score, np.nan)
    values = np.asarray(score.to_numpy(zero_copy_only=False), dtype=float)

    def verdict(name_code: int, total: float) -> bool:
        name = measure.names[name_code] if name_code >= 0 else None
        return name not in INSTRUMENT_CODES or instrument(name).is_valid_total(total)

    # Few, small temporaries: on a national year each array of scores is 125 MB to allocate.
    with np.errstate(invalid="ignore"):
        whole = values.astype(np.int32)  # garbage for NaN or huge values, which then differ
    small = whole == values
    small &= (whole >= 0) & (whole < _SMALL_SCORES) & (measure.codes >= 0)
    everything_small = bool(small.all())
    keys = measure.codes * _SMALL_SCORES
    keys += whole
    if not everything_small:
        keys = keys[small]
    table = np.ones(len(measure.names) * _SMALL_SCORES, dtype=bool)
    for key in np.flatnonzero(np.bincount(keys, minlength=len(table))):
        table[key] = verdict(*divmod(int(key), _SMALL_SCORES))
    if everything_small:
        return np.asarray(~table[keys])
    valid = np.ones(len(values), dtype=bool)
    valid[small] = table[keys]

    rest = np.flatnonzero(~small)
    if len(rest):
        distinct_values, value_codes = np.unique(values[rest], return_inverse=True)
        span = len(distinct_values) + 1
        distinct_pairs, pair_codes = np.unique(
            measure.codes[rest] * span + value_codes, return_inverse=True
        )
        verdicts = np.ones(len(distinct_pairs), dtype=bool)
        for i, key in enumerate(distinct_pairs):
            name_code, value_code = divmod(int(key), span)
            verdicts[i] = verdict(name_code, float(distinct_values[value_code]))
        valid[rest] = verdicts[pair_codes]
    return ~valid


def _validate_measures(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    referral_id = _text(table["referral_id"])
    measure_date, bad_date = _dates(table["measure_date"])
    measure = _coded(table["measure"])
    score = _numbers(table["score"])
    checks = [
        (MISSING_REFERRAL_ID, ~mask(pc.is_valid(referral_id))),
        (BAD_DATE, bad_date | ~mask(pc.is_valid(measure_date))),
        (UNKNOWN_MEASURE, ~measure.where(lambda name: name in INSTRUMENT_CODES)),
        (BAD_SCORE, ~mask(pc.is_valid(score))),
        (SCORE_OUT_OF_RANGE, _out_of_range(measure, score)),
    ]
    columns = {
        "referral_id": referral_id,
        "measure_date": measure_date,
        "measure": measure.array(),
        "score": score,
    }
    return _split(MEASURES, table, checks, columns)


_VALIDATORS: dict[str, Callable[[pa.Table], tuple[pa.Table, pa.Table]]] = {
    REFERRALS: _validate_referrals,
    CONTACTS: _validate_contacts,
    MEASURES: _validate_measures,
}
