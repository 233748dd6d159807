"""Running the pipeline on an engine: DuckDB (embedded, the default), Spark or pandas.

Each engine gets the same typed Arrow tables from `io.read_inputs` and hands back Arrow tables
in the canonical schema (`output.canonical`), so everything after it is engine-independent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wholecare.outcomes import io, output, pipeline, scan

ENGINES = ("duckdb", "spark", "pandas")


@dataclass(frozen=True)
class EngineResult:
    outcomes: pa.Table
    rejected: pa.Table


def _tables(inputs: io.Inputs) -> dict[str, pa.Table]:
    return {
        f"wholecare_{io.REFERRALS}": inputs.referrals,
        f"wholecare_{io.CONTACTS}": inputs.contacts,
        f"wholecare_{io.MEASURES}": inputs.measures,
    }


def register(backend: Any, inputs: io.Inputs) -> None:
    """Hand the inputs to an Ibis backend that can read Arrow in place (DuckDB)."""
    for name, table in _tables(inputs).items():
        backend.create_view(name, ibis.memtable(table), overwrite=True)


def run_ibis(backend: Any, inputs: io.Inputs) -> EngineResult:
    """Run the pipeline on an Ibis backend where the inputs are registered."""
    return _outcomes(
        backend,
        backend.table(f"wholecare_{io.REFERRALS}"),
        backend.table(f"wholecare_{io.CONTACTS}"),
        backend.table(f"wholecare_{io.MEASURES}"),
        rows={
            io.REFERRALS: inputs.referrals.num_rows,
            io.CONTACTS: inputs.contacts.num_rows,
            io.MEASURES: inputs.measures.num_rows,
        },
    )


def _outcomes(
    backend: Any,
    referrals: ir.Table,
    contacts: ir.Table,
    measures: ir.Table,
    rows: Mapping[str, int],
    field_rejections: ir.Table | None = None,
) -> EngineResult:
    """The pipeline over the three tables, which hold `rows` rows before `field_rejections`."""
    result = pipeline.outcomes(referrals, contacts, measures)
    outcomes = backend.to_pyarrow(result.outcomes)
    known_scores = outcomes["known_scores"][0].as_py() if outcomes.num_rows else 0
    everything_known = (
        outcomes.num_rows == rows[io.REFERRALS]
        and _total(outcomes["known_contacts"]) == rows[io.CONTACTS]
        and known_scores == rows[io.MEASURES]
    )
    if everything_known:  # a second pass over the inputs would find nothing to reject
        rejected = io.REJECTED_SCHEMA.empty_table()
    elif field_rejections is None:
        rejected = backend.to_pyarrow(result.rejected)
    else:
        rejected = backend.to_pyarrow(field_rejections.union(result.rejected))
    return EngineResult(outcomes=output.canonical(outcomes), rejected=rejected)


def _total(column: pa.ChunkedArray) -> int:
    total = pc.sum(column).as_py()
    return int(total) if total is not None else 0


def _connect() -> Any:
    """An embedded DuckDB free to write in any order: every output is ordered explicitly (the
    outcomes by line, in the query; the rejections by file and line, in `output`), and keeping
    the order of the cached referrals, which nothing reads in order, cost 3% of a national run."""
    backend = ibis.duckdb.connect()
    backend.raw_sql("SET preserve_insertion_order = false")
    return backend


def run_duckdb(inputs: io.Inputs) -> EngineResult:
    backend = _connect()
    try:
        register(backend, inputs)
        return run_ibis(backend, inputs)
    finally:
        backend.disconnect()


# DuckDB 2.0 takes a Parquet file's statistics, which leave NaN out, as a column's whole range,
# and with them folds `isnan(score)` to false and a range check to true for a NaN score.
_NO_STATISTICS = "SET disabled_optimizers = 'statistics_propagation'"


def _nan_scores(backend: Any, measures: Path) -> bool:
    """Whether the measures file holds a NaN score, asked with DuckDB's statistics propagation
    off (and as an aggregate's filter, which is not pushed into the scan to prune row groups by
    those same statistics). Only then is the scan run without it, which costs it 5%."""
    con = backend.con
    con.execute(_NO_STATISTICS)
    try:
        found = con.execute(
            "select count(*) filter (where isnan(score)) from read_parquet(?)", [str(measures)]
        ).fetchone()
    finally:
        con.execute("RESET disabled_optimizers")
    return bool(found and found[0])


def run_duckdb_scanning(
    paths: Mapping[str, Path], found: Mapping[str, pa.Schema]
) -> tuple[dict[str, int], EngineResult]:
    """On DuckDB, scanning well-typed Parquet files itself (`scan.schemas` gives `found`).

    Returns the rows read from each file and the result, whose rejections include those of
    the field checks.
    """
    backend = _connect()
    try:
        if _nan_scores(backend, paths[io.MEASURES]):
            backend.raw_sql(_NO_STATISTICS)
        scanned = scan.scan(backend, paths, found)
        result = _outcomes(
            backend,
            scanned.referrals,
            scanned.contacts,
            scanned.measures,
            rows=scanned.rows_read,
            field_rejections=scanned.rejected,
        )
        return scanned.rows_read, result
    finally:
        backend.disconnect()


@contextmanager
def spark_session() -> Iterator[Any]:
    """A local Spark session for the pipeline: two cores, no UI, loopback only, UTC."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("wholecare-outcomes")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def run_spark(inputs: io.Inputs, session: Any | None = None) -> EngineResult:
    """On Spark: in the given session, or in a new local one stopped afterwards."""
    if session is None:
        with spark_session() as own:
            return run_spark(inputs, own)
    # Spark scans the inputs from Parquet files: data handed over from Python would live in
    # the driver's query plan (and its heap).
    with tempfile.TemporaryDirectory(prefix="wholecare-spark-") as folder:
        for name, table in _tables(inputs).items():
            path = Path(folder) / f"{name}.parquet"
            pq.write_table(table, path)
            session.read.parquet(str(path)).createOrReplaceTempView(name)
        return run_ibis(ibis.pyspark.connect(session), inputs)


def run(inputs: io.Inputs, engine: str) -> EngineResult:
    if engine == "duckdb":
        return run_duckdb(inputs)
    if engine == "spark":
        return run_spark(inputs)
    if engine == "pandas":
        from wholecare.outcomes import pandas_engine

        return pandas_engine.run(inputs)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
