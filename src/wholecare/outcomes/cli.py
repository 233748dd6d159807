"""`wholecare outcomes`: NHS Talking Therapies outcomes for a set of referrals.

    wholecare outcomes --referrals R --contacts C --measures M --out DIR
                       [--engine duckdb|spark|pandas] [--period-start D] [--period-end D]

Reads CSV or Parquet (docs/formats/outcomes.md) and writes DIR/outcomes.csv, DIR/summary.json
and DIR/rejected.csv, all three or none.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pyarrow as pa

from wholecare.outcomes import engines, io, output, scan, summary


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wholecare outcomes",
        description="NHS Talking Therapies outcome metrics (recovery, reliable change, waits).",
    )
    p.add_argument("--referrals", type=Path, required=True, help="referrals file, CSV or Parquet")
    p.add_argument("--contacts", type=Path, required=True, help="care contacts file")
    p.add_argument("--measures", type=Path, required=True, help="questionnaire scores file")
    p.add_argument("--out", type=Path, required=True, help="directory for the three outputs")
    p.add_argument("--engine", choices=engines.ENGINES, default="duckdb")
    p.add_argument(
        "--period-start",
        type=_day,
        help="first day of the reporting period (inclusive); see docs/formats/outcomes.md",
    )
    p.add_argument("--period-end", type=_day, help="last day of the reporting period (inclusive)")
    return p


def produce(
    paths: Mapping[str, Path],
    engine: str,
    period: summary.Period,
    timings: dict[str, float] | None = None,
) -> dict[str, bytes]:
    """The three output files' contents; raises `io.InputError` for unusable input.

    `timings`, when given, receives the seconds spent reading, in the engine and rendering.
    """
    clock = time.perf_counter()
    stages = timings if timings is not None else {}
    found = scan.schemas(paths) if engine == "duckdb" else None
    read: io.Inputs | io.Read
    if found is not None:  # DuckDB reads and checks the files itself, in the engine stage
        stages["read"], clock = time.perf_counter() - clock, time.perf_counter()
        rows_read, result = engines.run_duckdb_scanning(paths, found)
        read = io.Read(rejected=io.REJECTED_SCHEMA.empty_table(), rows_read=rows_read)
    else:
        read = io.read_inputs(paths)
        stages["read"], clock = time.perf_counter() - clock, time.perf_counter()
        result = engines.run(read, engine)
    stages["engine"], clock = time.perf_counter() - clock, time.perf_counter()
    files = render(read, result, period, paths)
    stages["render"] = time.perf_counter() - clock
    return files


def render(
    read: io.Inputs | io.Read,
    result: engines.EngineResult,
    period: summary.Period,
    paths: Mapping[str, Path],
) -> dict[str, bytes]:
    """outcomes.csv, summary.json and rejected.csv from an engine's result."""
    with ThreadPoolExecutor(1) as pool:  # the CSV text is written while the summary is counted
        outcomes_csv = pool.submit(output.outcomes_csv, result.outcomes)
        others = _summary_and_rejected(read, result, period, paths)
        return {"outcomes.csv": outcomes_csv.result(), **others}


def _summary_and_rejected(
    read: io.Inputs | io.Read,
    result: engines.EngineResult,
    period: summary.Period,
    paths: Mapping[str, Path],
) -> dict[str, bytes]:
    rejected = output.ordered_rejections(
        pa.concat_tables([read.rejected, result.rejected.cast(io.REJECTED_SCHEMA)])
    )
    rejected_by_file = Counter(rejected["file"].to_pylist())
    rows_accepted = {role: read.rows_read[role] - rejected_by_file[role] for role in io.FILES}
    document = summary.build(
        result.outcomes,
        period=period,
        rejected=rejected,
        rows_read=read.rows_read,
        rows_accepted=rows_accepted,
    )
    names = {role: str(path) for role, path in paths.items()}
    return {
        "summary.json": output.json_bytes(document),
        "rejected.csv": output.rejected_csv(rejected, names),
    }


def main(argv: Sequence[str]) -> int:
    try:
        args = parser().parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    if args.period_start and args.period_end and args.period_start > args.period_end:
        print("wholecare outcomes: --period-start is after --period-end", file=sys.stderr)
        return 2
    paths = {io.REFERRALS: args.referrals, io.CONTACTS: args.contacts, io.MEASURES: args.measures}
    started = time.perf_counter()
    timings: dict[str, float] = {}
    period = summary.Period(args.period_start, args.period_end)
    try:
        files = produce(paths, args.engine, period, timings)
    except io.InputError as error:
        print(f"wholecare outcomes: {error}; nothing written", file=sys.stderr)
        return 2
    output.write_atomically(args.out, files)
    rows = files["outcomes.csv"].count(b"\n") - 1
    rejected = files["rejected.csv"].count(b"\n") - 1
    print(
        f"wrote {args.out}/outcomes.csv ({rows} referrals), summary.json and rejected.csv "
        f"({rejected} rows rejected) with {args.engine} in {time.perf_counter() - started:.1f} s "
        f"(read {timings['read']:.1f} s, engine {timings['engine']:.1f} s, "
        f"outputs {timings['render']:.1f} s)",
        file=sys.stderr,
    )
    return 0
