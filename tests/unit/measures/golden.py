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
        return f"{self.code}:{' '.join('-' if a is None else str(a) for a in self.answers)}"


def _optional_bool(text: str) -> bool | None:
    return {"true": True, "false": False, "": None}[text]


def golden_rows() -> list[GoldenRow]:
    with (HERE / "golden_scores.csv").open(encoding="utf-8", newline="") as handle:
        return [
            GoldenRow(
                code=row["code"],
                answers=tuple(None if a == "-" else int(a) for a in row["answers"].split()),
                total=float(row["total"]),
                severity=row["severity"] or None,
                at_caseness=_optional_bool(row["at_caseness"]),
                imputed=tuple(int(n) for n in row["imputed"].split()),
                rule=row["rule"],
            )
            for row in csv.DictReader(handle)
        ]
