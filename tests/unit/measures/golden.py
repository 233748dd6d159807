from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class GoldenRow:
    code: str
    answers: tuple[int | None, ...]
    total: float
    severity: str | None
    at_caseness: bool | None
    imputed: tuple[int, ...]
    rule: str

    def __str__(self) -> str:
        return f"{self.code}:{self.total:g}:{len(self.imputed)}-imputed"


def _optional_bool(text: str) -> bool | None:
    return {"true": True, "false": False, "": None}[text]


def _answers(text: str) -> tuple[int | None, ...]:
    """Space-separated answers; "-" is missing and "VxN" repeats V N times."""
    answers: list[int | None] = []
    for token in text.split():
        value, _, times = token.partition("x")
        answers.extend([None if value == "-" else int(value)] * int(times or 1))
    return tuple(answers)


def golden_rows() -> list[GoldenRow]:
    with (HERE / "golden_scores.csv").open(encoding="utf-8", newline="") as handle:
        return [
            GoldenRow(
                code=row["code"],
                answers=_answers(row["answers"]),
                total=float(row["total"]),
                severity=row["severity"] or None,
                at_caseness=_optional_bool(row["at_caseness"]),
                imputed=tuple(int(n) for n in row["imputed"].split()),
                rule=row["rule"],
            )
            for row in csv.DictReader(handle)
        ]
