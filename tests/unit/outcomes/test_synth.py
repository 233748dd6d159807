"""`wholecare synth talking-therapies`: deterministic, well-formed, and near the national rates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wholecare.cli import main as wholecare
from wholecare.outcomes import io

# NHS England, NHS Talking Therapies annual report 2024-25 (England).
NATIONAL = {
    "recovery": 0.505,
    "reliable_recovery": 0.475,
    "reliable_improvement": 0.675,
    "reliable_deterioration": 0.058,
    "first_treatment_within_6_weeks": 0.916,
    "first_treatment_within_18_weeks": 0.987,
}
TOLERANCE = {"reliable_deterioration": 0.015}


def synth(out: Path, referrals: int, seed: int, file_format: str = "csv") -> int:
    return wholecare(
        [
            "synth",
            "talking-therapies",
            "--referrals",
            str(referrals),
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--format",
            file_format,
        ]
    )


def outcomes(folder: Path, file_format: str) -> dict[str, object]:
    args = ["outcomes", "--out", str(folder / "out")]
    for role in io.FILES:
        args += [f"--{role}", str(folder / f"{role}.{file_format}")]
    assert wholecare(args) == 0
    document: dict[str, object] = json.loads((folder / "out" / "summary.json").read_text())
    return document


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert synth(tmp_path / name, 3_000, seed) == 0
    for role in io.FILES:
        a, b, c = ((tmp_path / n / f"{role}.csv").read_bytes() for n in "abc")
        assert a == b
        assert a != c


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_files_are_read_without_a_rejected_row(tmp_path, file_format):
    assert synth(tmp_path, 2_000, 3, file_format) == 0
    document = outcomes(tmp_path, file_format)
    assert document["rejected"] == {"total": 0, "by_reason": {}}
    assert document["inputs"]["referrals"]["rows"] == 2_000  # type: ignore[index]


def test_a_synthetic_year_is_close_to_the_national_rates(tmp_path):
    assert synth(tmp_path, 60_000, 2025, "parquet") == 0
    document = outcomes(tmp_path, "parquet")
    overall = document["overall"]
    rates = overall["rates"]  # type: ignore[index]
    for rate, national in NATIONAL.items():
        assert rates[rate] == pytest.approx(national, abs=TOLERANCE.get(rate, 0.03)), rate
    counts = overall["counts"]  # type: ignore[index]
    assert counts["finished"] / counts["referrals"] == pytest.approx(0.37, abs=0.02)
    assert document["by_ltc"]["LTC"]["rates"]["recovery"] < rates["recovery"]  # type: ignore[index]


def test_bad_arguments_are_refused(tmp_path, capsys):
    assert synth(tmp_path, 0, 1) == 2
    assert wholecare(["synth", "no-such-data"]) == 2
    assert "unknown data set" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
