"""FHIR bulk import of a synthetic population as NDJSON: resources per second and peak memory.

Generates 50,000 synthetic people (NHS numbers from the 999 test range, made-up names) as FHIR R4
NDJSON, ten resources each: a Patient, a Condition from the record's value sets, two Encounters
and six Observations (vital signs and HbA1c), 500,000 resources in all. Then, in a child process
per database, `wholecare migrate` and `wholecare fhir import` of the four files into a fresh
SQLite database, and into a throwaway PostgreSQL database when a server answers at
127.0.0.1:5432. Every resource goes through the same checks as the API (the R4 model, then the
mappers); the importer joins each person's care team (`--care-team-role`), with `--jobs` as the
command's default (the cores available; BENCH_FHIR_BULK_JOBS to choose). Prints resources per
second of the import, the processes used and the cores, the CPU time of the import (its own and
its worker processes', not the database server's) as resources per CPU second, and the importing
process's peak memory (its own ru_maxrss; a worker holds a few chunks).
Target (issue 4): 2,000 resources per second per core on SQLite, more on PostgreSQL.
"""

import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PEOPLE = int(os.environ.get("BENCH_FHIR_BULK_PEOPLE", "50000"))
OUT = Path("bench-out") / "fhir-bulk"
PG_URL = "postgres://postgres@127.0.0.1:5432"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
GIVEN = ("Alex", "Sam", "Jo", "Priya", "Amir", "Grace", "Tomasz", "Aisha", "Ewan", "Mei")
FAMILY = ("Synthetic", "Example", "Testperson", "Sample", "Placeholder", "Fictional")
VITALS = (
    ("8867-4", "Heart rate", "/min", 55, 95),
    ("9279-1", "Respiratory rate", "/min", 12, 20),
    ("29463-7", "Body weight", "kg", 50, 110),
    ("8302-2", "Body height", "cm", 150, 195),
    ("39156-5", "Body mass index", "kg/m2", 18, 35),
    ("4548-4", "Haemoglobin A1c", "mmol/mol", 30, 80),
)


def generate(folder: Path, people: int) -> int:
    """Write Patient, Condition, Encounter and Observation NDJSON files; how many resources."""
    from wholecare.demo.population import valid_nhs_number
    from wholecare.record.vocabulary import CONDITIONS

    rng = random.Random(20261123)
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    written = 0
    files = {name: (folder / f"{name}.ndjson").open("w") for name in ORDER}
    try:
        for index in range(people):
            patient_id = f"p{index}"
            subject = {"reference": f"Patient/{patient_id}"}
            born = dt.date(1930 + rng.randrange(75), 1 + rng.randrange(12), 1 + rng.randrange(28))
            records: dict[str, list[dict[str, Any]]] = {
                "Patient": [
                    {
                        "resourceType": "Patient",
                        "id": patient_id,
                        "identifier": [{"system": NHS, "value": valid_nhs_number(rng, used)}],
                        "name": [
                            {
                                "use": "official",
                                "family": rng.choice(FAMILY),
                                "given": [rng.choice(GIVEN)],
                            }
                        ],
                        "gender": rng.choice(("female", "male")),
                        "birthDate": born.isoformat(),
                        "address": [{"use": "home", "postalCode": f"ZZ9{rng.randrange(10)} 9ZZ"}],
                    }
                ],
                "Condition": [
                    {
                        "resourceType": "Condition",
                        "id": f"c{index}",
                        "subject": subject,
                        "code": {
                            "coding": [{"system": SNOMED, "code": rng.choice(CONDITIONS).snomed}]
                        },
                        "onsetDateTime": (born + (TODAY - born) / 2).isoformat(),
                    }
                ],
                "Encounter": [
                    {
                        "resourceType": "Encounter",
                        "id": f"e{index}-{visit}",
                        "status": "finished",
                        "class": {"system": ACT_CODE, "code": "AMB"},
                        "subject": subject,
                        "period": {"start": f"2025-{1 + visit * 5:02d}-{1 + index % 28:02d}"},
                    }
                    for visit in range(2)
                ],
                "Observation": [
                    {
                        "resourceType": "Observation",
                        "id": f"o{index}-{n}",
                        "status": "final",
                        "code": {"coding": [{"system": LOINC, "code": code, "display": label}]},
                        "subject": subject,
                        "encounter": {"reference": f"Encounter/e{index}-{n % 2}"},
                        "effectiveDateTime": f"2025-{1 + (n % 2) * 5:02d}-{1 + index % 28:02d}",
                        "valueQuantity": {
                            "value": rng.randrange(low, high),
                            "unit": unit,
                            "system": "http://unitsofmeasure.org",
                            "code": unit,
                        },
                    }
                    for n, (code, label, unit, low, high) in enumerate(VITALS)
                ],
            }
            for name, resources in records.items():
                for one in resources:
                    files[name].write(json.dumps(one, separators=(",", ":")) + "\n")
                    written += 1
    finally:
        for handle in files.values():
            handle.close()
    return written


ORDER = ("Patient", "Condition", "Encounter", "Observation")
TODAY = dt.date(2026, 1, 1)


def child(folder: str) -> None:
    """In the child process (DATABASE_URL and WHOLECARE_VAR_DIR set): migrate, create the importing
    member of staff, import, and print the import's figures as JSON."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from wholecare.directory.models import Organisation, Staff
    from wholecare.fhir.bulk_import import Importer, available_cores

    call_command("migrate", verbosity=0)
    practice = Organisation.objects.create(
        ods_code="Z99998", name="Bulk Bench Practice", kind="gp-practice"
    )
    user = get_user_model().objects.create(username="bulk-bench-gp")
    gp = Staff.objects.create(user=user, discipline="gp", organisation=practice)
    rejected: list[str] = []

    def report(outcome: object) -> None:
        reason = getattr(outcome, "rejected", "")
        if reason and len(rejected) < 5:
            rejected.append(f"{getattr(outcome, 'where', '')}: {reason}")

    jobs = int(os.environ.get("BENCH_FHIR_BULK_JOBS", available_cores()))
    importer = Importer(gp, report=report, care_team_role="Bulk bench", jobs=jobs)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    totals = importer.run([Path(folder) / f"{name}.ndjson" for name in ORDER])
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    print(
        json.dumps(
            {
                "read": totals.read,
                "loaded": totals.loaded,
                "rejected": totals.rejected,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "jobs": jobs,
                "cores": available_cores(),
                "load": os.getloadavg()[0],
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "examples": rejected,
            }
        )
    )


def _cpu_seconds() -> float:
    """CPU time of this process and of its children waited for (the import's worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _import(folder: Path, database_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WHOLECARE_VAR_DIR": var,
            "DJANGO_SETTINGS_MODULE": "wholecare.settings",
        }
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from benchmarks.bench_fhir_bulk import child; child({str(folder)!r})",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the import failed:\n{done.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures


def _postgres_answers() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{PG_URL}/postgres", connect_timeout=3).close()
    except Exception:  # any failure means: no PostgreSQL to measure
        return False
    return True


def _print(database: str, figures: dict[str, Any]) -> None:
    seconds = float(figures["seconds"])
    read = int(figures["read"])
    cpu = float(figures["cpu_seconds"])
    print(
        f"{database}: {read:,} resources in {seconds:.0f} s = {read / seconds:,.0f} resources/s"
        f" ({figures['loaded']:,} loaded, {figures['rejected']:,} rejected);"
        f" {figures['jobs']} process(es) on {figures['cores']} core(s), load average"
        f" {figures['load']:.1f}; {cpu:.0f} CPU s = {read / cpu:,.0f} resources per CPU second;"
        f" peak memory of the importing process {figures['peak_mib']:,.0f} MiB",
        flush=True,
    )
    for example in figures["examples"]:
        print(f"  rejected: {example}")


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholecare.settings")
    folder = (OUT / f"{PEOPLE}-people").resolve()
    if not (folder / "Observation.ndjson").exists():
        started = time.perf_counter()
        count = generate(folder, PEOPLE)
        print(f"generated {count:,} resources in {time.perf_counter() - started:.0f} s: {folder}")
    else:
        count = sum(1 for name in ORDER for _ in (folder / f"{name}.ndjson").open())
        print(f"reusing {count:,} resources in {folder}")
    with tempfile.TemporaryDirectory() as sqlite_dir:
        _print("SQLite", _import(folder, f"sqlite:///{sqlite_dir}/bench.sqlite3"))
    if not _postgres_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        return
    import psycopg

    name = f"wholecare_bench_bulk_{os.getpid()}"
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        _print("PostgreSQL", _import(folder, f"{PG_URL}/{name}"))
    finally:
        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    run()
