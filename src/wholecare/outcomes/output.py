"""Writing outcomes.csv, rejected.csv and summary.json, the same bytes whichever engine ran.

CSV text is built with Arrow compute (no engine's own writer), so equal tables give equal
bytes. The three files are written to a temporary directory beside the output directory and
moved into place only when all three are complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from wholecare.outcomes import io, rules

OUTCOMES_SCHEMA = pa.schema(
    [
        ("line", pa.int64()),
        ("referral_id", pa.string()),
        ("received_date", pa.date32()),
        ("discharge_date", pa.date32()),
        ("problem_descriptor", pa.string()),
        ("ltc", pa.string()),
        ("ethnic_category", pa.string()),
        ("imd_decile", pa.int64()),
        ("finished_treatment", pa.bool_()),
        ("treatment_contacts", pa.int64()),
        ("first_treatment_date", pa.date32()),
        ("wait_to_first_treatment_days", pa.int64()),
        ("within_6_weeks", pa.bool_()),
        ("within_18_weeks", pa.bool_()),
        ("anxiety_measure", pa.string()),
        ("phq9_first", pa.float64()),
        ("phq9_last", pa.float64()),
        ("anxiety_first", pa.float64()),
        ("anxiety_last", pa.float64()),
        ("paired", pa.bool_()),
        ("at_caseness", pa.bool_()),
        ("recovered", pa.bool_()),
        ("reliable_improvement", pa.bool_()),
        ("reliable_deterioration", pa.bool_()),
        ("no_reliable_change", pa.bool_()),
        ("reliable_recovery", pa.bool_()),
        ("second_treatment_date", pa.date32()),
        ("first_assessment_date", pa.date32()),
    ]
)


def canonical(outcomes: pa.Table) -> pa.Table:
    """The engine's result in file order with the exact column types, whatever the engine."""
    return in_line_order(outcomes.select(OUTCOMES_SCHEMA.names).cast(OUTCOMES_SCHEMA))


#: More sorted runs than this are sorted outright.
_MOST_RUNS = 64


def in_line_order(table: pa.Table) -> pa.Table:
    """`table` sorted by `line` (unique). A parallel engine often returns a few sorted runs
    that do not overlap (one per batch); those are put in order without copying the rows."""
    lines = np.asarray(table["line"].to_numpy())
    breaks = np.flatnonzero(lines[1:] < lines[:-1]) + 1
    if not len(breaks):
        return table
    if len(breaks) < _MOST_RUNS:
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(lines)]))
        runs = np.argsort(lines[starts])
        starts, ends = starts[runs], ends[runs]
        if (lines[ends[:-1] - 1] < lines[starts[1:]]).all():
            return pa.concat_tables(
                [table.slice(start, end - start) for start, end in zip(starts, ends, strict=True)]
            )
    return table.sort_by("line")


def ordered_rejections(rejected: pa.Table) -> pa.Table:
    """Rejected rows by file (referrals, contacts, measures), then line."""
    rank = pc.index_in(rejected["file"], value_set=pa.array(io.FILES))
    ranked = rejected.cast(io.REJECTED_SCHEMA).append_column("rank", rank)
    return ranked.sort_by([("rank", "ascending"), ("line", "ascending")]).drop_columns("rank")


def _csv_field(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """One CSV field per value: true/false, ISO dates, shortest numbers, text (quoted where
    needed)."""
    kind = column.type
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    if pa.types.is_string(kind):
        needs_quotes = pc.match_substring_regex(column, r'[",\r\n]')
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
        return pc.if_else(needs_quotes, quoted, column)
    return column.cast(pa.string())


def csv_bytes(table: pa.Table, columns: Sequence[str]) -> bytes:
    """`table[columns]` as CSV text with a header; missing values are empty fields."""
    try:
        # Arrow's writer is quickest (its text for booleans, dates and numbers is that of
        # `_csv_field`); it refuses text that would need quotes. It writes on one core, so the
        # rows are split among the cores.
        selected = table.select(list(columns))
        parts = _slices(selected)
        with ThreadPoolExecutor(len(parts)) as pool:
            texts = list(pool.map(_unquoted_csv, parts, [i == 0 for i in range(len(parts))]))
        return b"".join(texts)
    except pa.ArrowInvalid:
        return quoted_csv_bytes(table, columns)


def _slices(table: pa.Table) -> list[pa.Table]:
    count = max(1, min(os.cpu_count() or 1, table.num_rows // _ROWS_PER_SLICE))
    size = max(1, -(-table.num_rows // count))
    return [table.slice(start, size) for start in range(0, max(table.num_rows, 1), size)]


#: Fewer rows than this are written on one core.
_ROWS_PER_SLICE = 100_000


def _unquoted_csv(table: pa.Table, header: bool) -> bytes:
    buffer = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(
        include_header=header, quoting_style="none", quoting_header="none"
    )
    pa_csv.write_csv(table, buffer, options)
    content: bytes = buffer.getvalue().to_pybytes()
    return content


def quoted_csv_bytes(table: pa.Table, columns: Sequence[str]) -> bytes:
    """As `csv_bytes`, quoting text that holds a comma, a quote or a line break."""
    quoted = [_csv_field(table[name]) for name in columns]
    header = (",".join(columns) + "\n").encode()
    lines = pc.binary_join_element_wise(*quoted, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, "\n", "")
    return header + b"".join(_chunk_bytes(chunk) for chunk in lines.chunks)


def _chunk_bytes(chunk: pa.Array) -> bytes:
    """The concatenated values of a null-free string array, straight from its data buffer."""
    data = chunk.buffers()[2]
    if data is None:
        return b""
    offsets = pa.Array.from_buffers(
        pa.int32(), len(chunk) + 1, [None, chunk.buffers()[1]], offset=chunk.offset
    )
    content: bytes = data.to_pybytes()
    return content[offsets[0].as_py() : offsets[len(chunk)].as_py()]


def outcomes_csv(outcomes: pa.Table) -> bytes:
    return csv_bytes(outcomes, rules.OUTCOME_COLUMNS)


def rejected_csv(rejected: pa.Table, file_names: Mapping[str, str]) -> bytes:
    names = pa.array([file_names[role] for role in io.FILES])
    file_column = pc.take(names, pc.index_in(rejected["file"], value_set=pa.array(io.FILES)))
    shown = rejected.set_column(0, "file", file_column)
    return csv_bytes(shown, ("file", "line", "reason"))


def json_bytes(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def write_atomically(out_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write every file or none: into a temporary directory, then move each into `out_dir`."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        for name, content in files.items():
            (staging / name).write_bytes(content)
        if not out_dir.exists():
            staging.rename(out_dir)
            return
        for name in files:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
