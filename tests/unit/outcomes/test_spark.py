"""DuckDB and Spark run the same Ibis pipeline and must write byte-identical outputs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from wholecare.outcomes import engines, io, summary
from wholecare.outcomes.cli import render
from wholecare.synth import talking_therapies

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

REFERRALS = 100_000


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with engines.spark_session() as session:
        yield session


def _row(table: pa.Table, line: int, **values: object) -> pa.Table:
    """The first row of `table` with its line number and the given columns replaced."""
    row = table.slice(0, 1)
    for name, value in {"line": line, **values}.items():
        field = row.schema.field(name)
        row = row.set_column(row.schema.get_field_index(name), field, pa.array([value], field.type))
    return row


def with_bad_rows(inputs: io.Inputs) -> io.Inputs:
    """Add a duplicate referral, rows for an unknown referral and a score before its referral."""
    late = 10**9
    extra = {
        io.REFERRALS: [_row(inputs.referrals, late)],
        io.CONTACTS: [_row(inputs.contacts, late, referral_id="NOT-A-REFERRAL")],
        io.MEASURES: [
            _row(inputs.measures, late, measure_date=date(2000, 1, 1)),
            _row(inputs.measures, late + 1, referral_id="NOT-A-REFERRAL"),
        ],
    }
    return io.Inputs(
        referrals=pa.concat_tables([inputs.referrals, *extra[io.REFERRALS]]),
        contacts=pa.concat_tables([inputs.contacts, *extra[io.CONTACTS]]),
        measures=pa.concat_tables([inputs.measures, *extra[io.MEASURES]]),
        rejected=inputs.rejected,
        rows_read={role: n + len(extra[role]) for role, n in inputs.rows_read.items()},
    )


def test_duckdb_and_spark_write_identical_outputs(tmp_path_factory, spark):
    folder: Path = tmp_path_factory.mktemp("national")
    talking_therapies.write(REFERRALS, 11, folder, "parquet", progress=False)
    paths = {role: folder / f"{role}.parquet" for role in io.FILES}
    inputs = with_bad_rows(io.read_inputs(paths))
    period = summary.Period(date(2024, 4, 1), date(2025, 3, 31))

    on_duckdb = render(inputs, engines.run(inputs, "duckdb"), period, paths)
    on_spark = render(inputs, engines.run_spark(inputs, spark), period, paths)

    assert on_duckdb["outcomes.csv"].count(b"\n") == REFERRALS + 1
    assert on_duckdb["rejected.csv"].count(b"\n") == 5
    for name in ("outcomes.csv", "rejected.csv", "summary.json"):
        assert on_spark[name] == on_duckdb[name], name
