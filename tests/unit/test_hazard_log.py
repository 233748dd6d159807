"""Every test the hazard log names as proof of a control exists: the log cannot drift from code."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?((?:::\w+)?)`")


def _references() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    current_file = ""
    for line in LOG.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| H"):
            continue
        proof = line.split("|")[6]
        for path, test in REFERENCE.findall(proof):
            current_file = path or current_file
            found.append((current_file, test.removeprefix("::")))
    return found


def test_every_hazard_names_a_test() -> None:
    rows = [line for line in LOG.read_text(encoding="utf-8").splitlines() if line.startswith("| H")]
    assert rows
    for row in rows:
        assert "tests/" in row.split("|")[6], row.split("|")[1]


def test_named_tests_exist() -> None:
    references = _references()
    assert len(references) > 10
    for path, test in references:
        source = (ROOT / path).read_text(encoding="utf-8")
        if test:
            assert re.search(rf"def {test}\(", source), f"{path}::{test} is not defined"
