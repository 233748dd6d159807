"""Running the pipeline on an engine: DuckDB (embedded, the default), Spark or pandas.

Each engine gets the same typed Arrow tables from `io.read_inputs` and hands back Arrow tables
in the canonical schema (`output.canonical`), so everything after it is engine-independent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from wholecare.outcomes import io, output, pipeline

ENGINES = ("duckdb", "spark", "pandas")


@dataclass(frozen=True)
class EngineResult:
    outcomes: pa.Table
    rejected: pa.Table


def run_ibis(backend: Any, inputs: io.Inputs) -> EngineResult:
    """Register the inputs with an Ibis backend and run the pipeline there."""
    tables = {
        io.REFERRALS: inputs.referrals,
        io.CONTACTS: inputs.contacts,
        io.MEASURES: inputs.measures,
    }
    for name, table in tables.items():
        backend.create_view(f"wholecare_{name}", ibis.memtable(table), overwrite=True)
    result = pipeline.outcomes(
        backend.table(f"wholecare_{io.REFERRALS}"),
        backend.table(f"wholecare_{io.CONTACTS}"),
        backend.table(f"wholecare_{io.MEASURES}"),
    )
    outcomes = backend.to_pyarrow(result.outcomes)
    rejected = backend.to_pyarrow(result.rejected)
    return EngineResult(outcomes=output.canonical(outcomes), rejected=rejected)


def run_duckdb(inputs: io.Inputs) -> EngineResult:
    backend = ibis.duckdb.connect()
    try:
        return run_ibis(backend, inputs)
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
        .config("spark.sql.shuffle.partitions", "8")
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
    if session is not None:
        return run_ibis(ibis.pyspark.connect(session), inputs)
    with spark_session() as own:
        return run_ibis(ibis.pyspark.connect(own), inputs)


def run(inputs: io.Inputs, engine: str) -> EngineResult:
    if engine == "duckdb":
        return run_duckdb(inputs)
    if engine == "spark":
        return run_spark(inputs)
    if engine == "pandas":
        from wholecare.outcomes import pandas_engine

        return pandas_engine.run(inputs)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
