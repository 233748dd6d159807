"""The pure modules (docs/architecture.md) import nothing from Django, so they can be tested and
reused on their own: each is imported in a fresh interpreter, which must not load Django."""

import subprocess
import sys

import pytest

PURE = [
    "wholecare.measures",
    "wholecare.outcomes",
    "wholecare.disclosure",
    "wholecare.demo.population",
    "wholecare.access.rules",
    "wholecare.talking_therapies.stepping",
    "wholecare.talking_therapies.waits",
    "wholecare.talking_therapies.workday",
    "wholecare.fhir.care_plans",
    "wholecare.fhir.medicines",
    "wholecare.fhir.allergies",
    "wholecare.fhir.appointments",
    "wholecare.medicines.reconciliation",
    "wholecare.medicines.requests",
    "wholecare.medicines.review",
    "wholecare.medicines.overdose",
]


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_no_django(module: str) -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {module}; print(sorted(m for m in sys.modules if 'django' in m))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]", f"{module} loads {loaded.stdout.strip()}"
