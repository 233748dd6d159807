"""DuckDB scanning well-typed Parquet itself gives the outputs of the Arrow route, bad rows and all.

Hypothesis writes three Parquet files with the natural column types and every kind of bad
field (missing ids, dates and scores, unknown codes, out-of-range and fractional scores, NaN),
plus duplicate referrals, rows for unknown referrals and scores outside their referral; both
routes must write the same outcomes.csv, rejected.csv and summary.json.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wholecare.measures import INSTRUMENT_CODES
from wholecare.outcomes import cli, engines, io, rules, scan, summary

BASE = date(2024, 4, 1)
IDS = ["R1", "R2", "R3", "R4", "", None]
DATES = st.one_of(st.none(), st.integers(-3, 40).map(lambda d: BASE + timedelta(days=d)))
SCORES = st.one_of(
    st.none(),
    st.integers(-2, 30).map(float),
    st.sampled_from([0.5, 2.25, 88.0, 89.0, float("nan"), float("inf"), -0.0]),
)
PERIOD = summary.Period(date(2024, 4, 1), date(2024, 4, 30))


def _text(*values: str | None) -> st.SearchStrategy[str | None]:
    return st.sampled_from(values)


@st.composite
def parquet_files(draw: st.DrawFn) -> dict[str, pa.Table]:
    optional = draw(st.booleans())  # the optional columns present
    flags_as_booleans = draw(st.booleans())  # attended and integrated as booleans, not Y/N
    n = draw(st.integers(0, 8))
    referrals: dict[str, list[object]] = {
        "referral_id": [draw(st.sampled_from([*IDS[:4], "R1", ""])) for _ in range(n)],
        "person_id": ["P"] * n,
        "received_date": [draw(DATES) for _ in range(n)],
        "discharge_date": [draw(DATES) for _ in range(n)],
        "problem_descriptor": [
            draw(_text("F40.1", "F41.0", "F42", "F32", "", None)) for _ in range(n)
        ],
        "ltc": [draw(_text("Y", "N", "", None, "X")) for _ in range(n)],
    }
    if optional:
        referrals["ethnic_category"] = [draw(_text("A", "B", "", None)) for _ in range(n)]
        referrals["imd_decile"] = [draw(st.sampled_from([None, 0, 1, 5, 10, 11])) for _ in range(n)]
    types = {"received_date": pa.date32(), "discharge_date": pa.date32()}
    types["imd_decile"] = pa.int64()

    def flag(*extra: str | None) -> st.SearchStrategy[object]:
        if flags_as_booleans:
            return st.sampled_from([True, False, None])
        return _text("Y", "N", *extra)

    m = draw(st.integers(0, 14))
    contacts: dict[str, list[object]] = {
        "referral_id": [draw(st.sampled_from([*IDS, "NOPE"])) for _ in range(m)],
        "contact_date": [draw(DATES) for _ in range(m)],
        "kind": [draw(_text(*rules.CONTACT_KINDS, "", None, "visit")) for _ in range(m)],
        "attended": [draw(flag("", None, "maybe")) for _ in range(m)],
    }
    if optional:
        contacts["intensity"] = [draw(_text("low", "high", "", None, "mid")) for _ in range(m)]
        contacts["integrated"] = [draw(flag("", None, "Q")) for _ in range(m)]
    types["contact_date"] = pa.date32()
    if flags_as_booleans:
        types["attended"] = types["integrated"] = pa.bool_()
    k = draw(st.integers(0, 20))
    measure_names = [*sorted(INSTRUMENT_CODES), "PHQ9", "GAD7", "SPIN", "", None, "XYZ"]
    measures: dict[str, list[object]] = {
        "referral_id": [draw(st.sampled_from([*IDS, "NOPE"])) for _ in range(k)],
        "measure_date": [draw(DATES) for _ in range(k)],
        "measure": [draw(st.sampled_from(measure_names)) for _ in range(k)],
        "score": [draw(SCORES) for _ in range(k)],
    }
    types["measure_date"] = pa.date32()
    types["score"] = pa.float64()

    def table(columns: dict[str, list[object]]) -> pa.Table:
        arrays = {name: pa.array(v, types.get(name, pa.string())) for name, v in columns.items()}
        return pa.table(arrays)

    return {
        io.REFERRALS: table(referrals),
        io.CONTACTS: table(contacts),
        io.MEASURES: table(measures),
    }


def _write(folder: Path, tables: dict[str, pa.Table]) -> dict[str, Path]:
    paths = {}
    for role, table in tables.items():
        paths[role] = folder / f"{role}.parquet"
        pq.write_table(table, paths[role])
    return paths


def _arrow_route(paths: dict[str, Path]) -> dict[str, bytes]:
    inputs = io.read_inputs(paths)
    return cli.render(inputs, engines.run(inputs, "duckdb"), PERIOD, paths)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=parquet_files())
def test_scanning_gives_the_outputs_of_the_arrow_route(tmp_path_factory, tables):
    paths = _write(tmp_path_factory.mktemp("scan"), tables)
    assert scan.schemas(paths) is not None
    scanned = cli.produce(paths, "duckdb", PERIOD)
    assert scanned == _arrow_route(paths)


def test_the_national_shape_is_scanned_and_agrees(tmp_path):
    from wholecare.synth import talking_therapies

    talking_therapies.write(3_000, 5, tmp_path, "parquet", progress=False)
    paths = {role: tmp_path / f"{role}.parquet" for role in io.FILES}
    assert scan.schemas(paths) is not None
    assert cli.produce(paths, "duckdb", PERIOD) == _arrow_route(paths)


def test_dates_held_as_text_take_the_arrow_route(tmp_path):
    tables = {
        io.REFERRALS: pa.table(
            {
                "referral_id": ["R1"],
                "person_id": ["P"],
                "received_date": ["2024-04-01"],
                "discharge_date": ["2024-05-01"],
                "problem_descriptor": ["F32"],
                "ltc": ["N"],
            }
        ),
        io.CONTACTS: pa.table(
            {
                "referral_id": ["R1"],
                "contact_date": pa.array([BASE], pa.date32()),
                "kind": ["treatment"],
                "attended": ["Y"],
            }
        ),
        io.MEASURES: pa.table(
            {
                "referral_id": ["R1"],
                "measure_date": pa.array([BASE], pa.date32()),
                "measure": ["PHQ9"],
                "score": [12.0],
            }
        ),
    }
    paths = _write(tmp_path, tables)
    assert scan.schemas(paths) is None
    assert cli.produce(paths, "duckdb", PERIOD) == _arrow_route(paths)


def test_a_nan_score_is_out_of_range_when_the_files_other_scores_fit(tmp_path):
    """Found by the test above: DuckDB judged `between` from the Parquet statistics, which leave
    NaN out, so a NaN among scores that all fit passed as a valid total."""
    tables = {
        io.REFERRALS: pa.table(
            {
                "referral_id": ["R1"],
                "person_id": ["P"],
                "received_date": [BASE],
                "discharge_date": [BASE + timedelta(days=20)],
                "problem_descriptor": ["F43.1"],
                "ltc": ["N"],
            }
        ),
        io.CONTACTS: pa.table(
            {
                "referral_id": ["R1"],
                "contact_date": [BASE + timedelta(days=1)],
                "kind": ["treatment"],
                "attended": ["Y"],
            }
        ),
        io.MEASURES: pa.table(
            {
                "referral_id": ["R1", "R1", "R1"],
                "measure_date": [BASE + timedelta(days=d) for d in (1, 2, 3)],
                "measure": ["PCL5", "PCL5", "PHQ9"],
                "score": [-0.0, float("nan"), 27.0],
            }
        ),
    }
    paths = _write(tmp_path, tables)
    scanned = cli.produce(paths, "duckdb", PERIOD)
    assert scanned == _arrow_route(paths)
    assert b"measures.parquet,2,score out of range" in scanned["rejected.csv"]
