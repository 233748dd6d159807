"""`wholecare outcomes` end to end: formats, rejected rows, bad input, suppression, period."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from wholecare import disclosure
from wholecare.cli import main as wholecare
from wholecare.outcomes import rules, summary

REFERRALS = """\
referral_id,person_id,received_date,discharge_date,problem_descriptor,ltc,ethnic_category,imd_decile
R1,P1,2024-04-01,2024-08-01,F41.1,Y,A,3
R2,P2,2024-04-03,,F40.0,N,B,
R3,P3,2024-02-30,,,,,
R1,P4,2024-04-01,,F41.1,N,,
R4,P5,2024-05-01,2024-04-01,F32,N,,
R5,P6,2024-05-01,,F32,maybe,,
R6,P7,2024-05-01,,F32,N,,11
"""
CONTACTS = """\
referral_id,contact_date,kind,attended
R1,2024-04-10,assessment,Y
R1,2024-05-01,treatment,Y
R1,2024-05-08,treatment,Y
R9,2024-05-08,treatment,Y
R1,2024-05-08,treat,Y
R1,2024-05-08,treatment,maybe
R1,not-a-date,treatment,Y
"""
MEASURES = """\
referral_id,measure_date,measure,score
R1,2024-04-10,PHQ9,15
R1,2024-05-08,PHQ9,6
R1,2024-04-10,GAD7,12
R1,2024-05-08,GAD7,5
R1,2024-03-01,GAD7,5
R1,2024-05-08,GAD7,50
R1,2024-05-08,XYZ,5
R1,2024-05-08
R7,2024-05-08,PHQ9,3
R1,2024-05-08,PHQ9,ten
R1,2024-05-08,PHQ9,6.5
"""
EXPECTED_REJECTED = [
    ("referrals", "4", "bad date"),
    ("referrals", "5", "duplicate referral_id"),
    ("referrals", "6", "discharge before received"),
    ("referrals", "7", "bad ltc"),
    ("referrals", "8", "bad imd_decile"),
    ("contacts", "5", "unknown referral"),
    ("contacts", "6", "bad kind"),
    ("contacts", "7", "bad attended"),
    ("contacts", "8", "bad date"),
    ("measures", "6", "score dated outside referral"),
    ("measures", "7", "score out of range"),
    ("measures", "8", "unknown measure"),
    ("measures", "9", "wrong number of fields"),
    ("measures", "10", "unknown referral"),
    ("measures", "11", "score not a number"),
    ("measures", "12", "score out of range"),
]


def write_inputs(folder: Path, referrals: str = REFERRALS) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in (("referrals", referrals), ("contacts", CONTACTS), ("measures", MEASURES)):
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(text)
    return paths


def run(paths: dict[str, Path], out: Path, *extra: str) -> int:
    return wholecare(
        [
            "outcomes",
            "--referrals",
            str(paths["referrals"]),
            "--contacts",
            str(paths["contacts"]),
            "--measures",
            str(paths["measures"]),
            "--out",
            str(out),
            *extra,
        ]
    )


def test_writes_outcomes_rejected_and_summary(tmp_path):
    paths = write_inputs(tmp_path / "in")
    assert run(paths, tmp_path / "out") == 0
    outcomes = (tmp_path / "out" / "outcomes.csv").read_text().splitlines()
    assert outcomes[0] == ",".join(rules.OUTCOME_COLUMNS)
    assert outcomes[1:] == [
        "R1,true,2,2024-05-01,30,true,true,GAD7,15,6,12,5,true,true,true,true,false,false,true",
        "R2,false,0,,,,,GAD7,,,,,false,,,,,,",
    ]
    with (tmp_path / "out" / "rejected.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "line", "reason"]
    names = {str(path): role for role, path in paths.items()}
    assert [(names[f], line, reason) for f, line, reason in rows[1:]] == EXPECTED_REJECTED
    document = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert document["rejected"]["total"] == len(EXPECTED_REJECTED)
    assert document["rejected"]["by_reason"]["score out of range"] == 2
    assert document["inputs"]["measures"] == {"rows": 11, "accepted": 4, "rejected": 7}
    assert document["overall"]["counts"]["finished"] == 1
    assert document["overall"]["rates"]["recovery"] == 1.0
    # Grouped figures are suppressed: one referral per group shows as "*".
    assert document["by_ltc"]["LTC"]["counts"]["referrals"] == "*"
    assert document["by_ltc"]["LTC"]["rates"]["recovery"] == "*"


def test_parquet_input_gives_the_same_outputs(tmp_path):
    paths = write_inputs(tmp_path / "csv")
    as_parquet = {}
    for role, path in paths.items():
        if role == "measures":  # a malformed CSV row has no Parquet equivalent
            continue
        table = pa_csv.read_csv(
            path,
            convert_options=pa_csv.ConvertOptions(
                column_types={"imd_decile": pa.string(), "discharge_date": pa.string()}
            ),
        )
        as_parquet[role] = tmp_path / f"{role}.parquet"
        pq.write_table(table, as_parquet[role])
    as_parquet["measures"] = paths["measures"]
    assert run(paths, tmp_path / "from_csv") == 0
    assert run(as_parquet, tmp_path / "from_parquet") == 0
    for name in ("outcomes.csv", "summary.json"):
        csv_bytes = (tmp_path / "from_csv" / name).read_bytes()
        assert csv_bytes == (tmp_path / "from_parquet" / name).read_bytes()
    rejected = (tmp_path / "from_parquet" / "rejected.csv").read_text().splitlines()
    # Parquet rows are numbered from 1 (no header line).
    assert f"{as_parquet['referrals']},3,bad date" in rejected


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("referral_id,person_id,received_date,problem_descriptor,ltc", "discharge_date"),
        ("referral_id,person_id,received_date,discharge_date,problem_descriptor,ltc,x", "x"),
        (
            "referral_id,referral_id,person_id,received_date,discharge_date,problem_descriptor,ltc",
            "repeated",
        ),
    ],
    ids=["missing column", "unknown column", "repeated column"],
)
def test_bad_header_stops_and_writes_nothing(tmp_path, capsys, header, message):
    paths = write_inputs(tmp_path / "in", referrals=header + "\nR1,P1,2024-04-01,,F32,N\n")
    assert run(paths, tmp_path / "out") == 2
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no staging directory left behind
    error = capsys.readouterr().err
    assert "bad header" in error
    assert message in error
    assert "nothing written" in error


def test_unreadable_file_stops_and_writes_nothing(tmp_path, capsys):
    paths = write_inputs(tmp_path / "in")
    paths["contacts"] = tmp_path / "in" / "missing.csv"
    assert run(paths, tmp_path / "out") == 2
    assert not (tmp_path / "out").exists()
    assert "cannot be read" in capsys.readouterr().err


def test_bad_header_leaves_previous_outputs_untouched(tmp_path):
    paths = write_inputs(tmp_path / "in")
    assert run(paths, tmp_path / "out") == 0
    before = (tmp_path / "out" / "outcomes.csv").read_bytes()
    paths["measures"].write_text("referral_id,date,measure,score\n")
    assert run(paths, tmp_path / "out") == 2
    assert (tmp_path / "out" / "outcomes.csv").read_bytes() == before


def test_period_counts_finished_courses_by_discharge_date(tmp_path):
    paths = write_inputs(tmp_path / "in")
    assert run(paths, tmp_path / "in_period", "--period-start", "2024-08-01") == 0
    assert run(paths, tmp_path / "before", "--period-end", "2024-07-31") == 0
    inside = json.loads((tmp_path / "in_period" / "summary.json").read_text())
    before = json.loads((tmp_path / "before" / "summary.json").read_text())
    assert inside["overall"]["counts"]["finished"] == 1
    assert inside["overall"]["counts"]["referrals"] == 0  # both received before 1 August
    assert before["overall"]["counts"]["finished"] == 0
    assert before["overall"]["counts"]["referrals"] == 2
    assert before["overall"]["rates"]["recovery"] is None
    # outcomes.csv is per referral and the same whatever the period.
    assert (tmp_path / "in_period" / "outcomes.csv").read_bytes() == (
        tmp_path / "before" / "outcomes.csv"
    ).read_bytes()


def test_period_start_after_end_is_refused(tmp_path):
    paths = write_inputs(tmp_path / "in")
    code = run(
        paths, tmp_path / "out", "--period-start", "2025-01-01", "--period-end", "2024-01-01"
    )
    assert code == 2
    assert not (tmp_path / "out").exists()


# NHS small-number suppression (NHS England Talking Therapies publications): 1-7 shown as "*",
# other counts rounded to the nearest 5; zero is shown.
SUPPRESSION = [(0, 0), (1, "*"), (7, "*"), (8, 10), (12, 10), (13, 15), (15, 15), (1002, 1000)]


@pytest.mark.parametrize(("count", "shown"), SUPPRESSION)
def test_suppression(count, shown):
    assert disclosure.suppress(count) == shown


def test_rate_withheld_when_a_count_it_uses_is_suppressed():
    counts = dict.fromkeys(
        [
            "finished",
            "finished_not_at_caseness",
            "recovered",
            "reliable_recovery",
            "reliable_improvement",
            "reliable_deterioration",
            "no_reliable_change",
            "finished_within_6_weeks",
            "finished_within_18_weeks",
            "second_treatments",
            "first_to_second_over_90_days",
        ],
        0,
    )
    counts.update(finished=40, finished_not_at_caseness=3, recovered=20, reliable_improvement=30)
    figures = summary._figures(counts, suppressed=True)
    assert figures["counts"]["finished_not_at_caseness"] == "*"
    assert figures["rates"]["recovery"] == "*"  # its denominator uses a suppressed count
    assert figures["rates"]["reliable_improvement"] == 0.75
    assert figures["rates"]["first_to_second_over_90_days"] is None
    exact = summary._figures(counts, suppressed=False)
    assert exact["rates"]["recovery"] == round(20 / 37, 4)  # recovered / (finished - not caseness)


def test_unverified_thresholds_are_reported(tmp_path, monkeypatch):
    real = rules.thresholds

    def gad7_unverified(measure: str) -> rules.MeasureThresholds | None:
        found = real(measure)
        if measure == "GAD7" and found is not None:
            return rules.MeasureThresholds(
                "GAD7",
                found.caseness_value,
                found.caseness_inclusive,
                found.reliable_change,
                caseness_verified=True,
                reliable_change_verified=False,
            )
        return found

    monkeypatch.setattr(rules, "thresholds", gad7_unverified)
    paths = write_inputs(tmp_path / "in")
    assert run(paths, tmp_path / "out") == 0
    document = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert document["unverified"]["thresholds"] == {
        "GAD7": {"values": ["reliable_change"], "caseness": 8.0, "reliable_change": 4.0}
    }
    assert document["unverified"]["outcome_rows_with_unverified_anxiety_thresholds"] == 2
    assert document["unverified"]["finished_in_period_with_unverified_anxiety_thresholds"] == 1


def test_pandas_engine_writes_the_same_files(tmp_path):
    paths = write_inputs(tmp_path / "in")
    assert run(paths, tmp_path / "duckdb") == 0
    assert run(paths, tmp_path / "pandas", "--engine", "pandas") == 0
    for name in ("outcomes.csv", "summary.json", "rejected.csv"):
        assert (tmp_path / "duckdb" / name).read_bytes() == (
            tmp_path / "pandas" / name
        ).read_bytes()


def test_text_that_needs_quotes_is_quoted(tmp_path):
    referrals = (
        "referral_id,person_id,received_date,discharge_date,problem_descriptor,ltc\n"
        '"R,1",P1,2024-04-01,,F32,N\n'
        'R"2,P2,2024-04-01,,F32,N\n'
    )
    paths = write_inputs(tmp_path / "in", referrals=referrals)
    assert run(paths, tmp_path / "out") == 0
    with (tmp_path / "out" / "outcomes.csv").open(newline="") as handle:
        ids = [row[0] for row in csv.reader(handle)][1:]
    assert ids == ["R,1", 'R"2']
    assert (tmp_path / "out" / "outcomes.csv").read_text().splitlines()[1].startswith('"R,1",')


def test_line_numbers_survive_blank_and_short_lines(tmp_path):
    paths = write_inputs(tmp_path / "in")
    paths["measures"].write_text(
        "referral_id,measure_date,measure,score\n"
        "R1,2024-04-10,PHQ9,15\n"
        "\n"
        "R1,2024-04-10\n"
        "R1,2023-02-29,PHQ9,15\n"
        "R1,2024-05-08,PHQ9,99\n"
    )
    assert run(paths, tmp_path / "out") == 0
    rejected = (tmp_path / "out" / "rejected.csv").read_text().splitlines()
    measures = [row.split(",", 1)[1] for row in rejected if row.startswith(str(paths["measures"]))]
    assert measures == [
        "3,missing referral_id",
        "4,wrong number of fields",
        "5,bad date",
        "6,score out of range",
    ]


def test_a_value_spanning_lines_stops_the_run(tmp_path, capsys):
    paths = write_inputs(tmp_path / "in")
    paths["contacts"].write_text(
        'referral_id,contact_date,kind,attended\n"R\n1",2024-04-10,assessment,Y\n'
    )
    assert run(paths, tmp_path / "out") == 2
    assert not (tmp_path / "out").exists()
    assert "spans lines" in capsys.readouterr().err


@pytest.mark.parametrize("decile", ["99999999999999999999", "3.5", "0", "x"])
def test_a_bad_deprivation_decile_is_rejected_not_fatal(tmp_path, decile):
    referrals = (
        "referral_id,person_id,received_date,discharge_date,problem_descriptor,ltc,imd_decile\n"
        f"R1,P1,2024-04-01,,F32,N,{decile}\n"
        "R2,P2,2024-04-01,,F32,N,10\n"
    )
    paths = write_inputs(tmp_path / "in", referrals=referrals)
    assert run(paths, tmp_path / "out") == 0
    rejected = (tmp_path / "out" / "rejected.csv").read_text()
    assert f"{paths['referrals']},2,bad imd_decile" in rejected
    assert "R2," in (tmp_path / "out" / "outcomes.csv").read_text()
