"""Person summary latency: a person with 500 timeline entries among 50,000 people (SQLite).

Target (issue 2): p95 under 100 ms for the whole page, rendered through Django as a browser gets it.
Also the demo GP's caseload: its first page, a later one, and narrowed by name; and the person's
timeline as FHIR DocumentReferences, the first page of a search (no targets); and, for the demo
PWP, the latest PHQ-9 scores as FHIR Observations, sorted across those recorded in Wholecare and
those other systems sent (the first page of a merged `_sort`).
The database is built once with `wholecare demo` and kept under bench-out/ for later runs.
"""

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test import Client

PEOPLE = 50_000
ENTRIES = 500
REQUESTS = 200
CASELOAD_REQUESTS = 50
OUT = Path("bench-out")


def _database() -> Path:
    OUT.mkdir(exist_ok=True)
    path = (OUT / f"record-{PEOPLE}.sqlite3").resolve()
    if not path.exists():
        print(f"building a {PEOPLE:,}-person demo database (kept at {path})", flush=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _wholecare(partial, "demo", "--people", str(PEOPLE), "--seed", "1")
        # SQLite's journal files beside a database deleted by hand belong to that one, not this.
        for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        partial.rename(path)
    else:
        # A database kept from an earlier run is brought up to this code's migrations.
        _wholecare(path, "migrate", "--noinput")
    return path


def _wholecare(database: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "wholecare.cli", *args],
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "WHOLECARE_VAR_DIR": str(OUT.resolve()),
        },
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run() -> None:
    path = _database()
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["WHOLECARE_VAR_DIR"] = str(OUT.resolve())
    os.environ["WHOLECARE_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholecare.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from wholecare.directory.models import Staff
    from wholecare.fhir.auth import client_register, token_issue
    from wholecare.record.models import CareTeamMembership, Person, RecordEntry

    gp = Staff.objects.select_related("user").get(user__username="demo-gp")
    person = Person.objects.filter(care_team__staff=gp).order_by("pk").first()
    assert person is not None, "the demo GP has nobody on their caseload"
    have = RecordEntry.objects.filter(person=person).count()
    if have < ENTRIES:
        authors = list(Staff.objects.exclude(discipline__in=["analyst", "privacy-officer"])[:40])
        now = timezone.now()
        with transaction.atomic():
            RecordEntry.objects.bulk_create(
                RecordEntry(
                    person=person,
                    kind=RecordEntry.Kind.NOTE,
                    occurred_at=now - dt.timedelta(days=i * 3, hours=i % 7),
                    title=f"Review {i}",
                    text="Seen at home. Breathing better; inhaler technique checked.",
                    author=authors[i % len(authors)],
                    discipline=authors[i % len(authors)].discipline,
                    sensitivity="psychological-therapy" if i % 25 == 0 else "normal",
                )
                for i in range(ENTRIES - have)
            )
    entries = RecordEntry.objects.filter(person=person).count()
    people = Person.objects.count()
    assert CareTeamMembership.objects.filter(person=person, staff=gp).exists()

    client = Client()
    client.force_login(gp.user)
    median, p95 = _timed(client, f"/people/{person.public_id}/", REQUESTS)
    print(f"person summary, {entries} timeline entries, {people:,} people, SQLite:")
    print(
        f"  median {median:.1f} ms, p95 {p95:.1f} ms over {REQUESTS} requests"
        f" (target p95 < 100 ms: {'met' if p95 < 100 else 'NOT MET'})"
    )
    on_caseload = Person.objects.filter(care_team__staff=gp).distinct().count()
    for url in ("/caseload/", "/caseload/?page=20", "/caseload/?name=an"):
        median, p95 = _timed(client, url, CASELOAD_REQUESTS)
        print(f"the GP's caseload ({on_caseload:,} people), {url}:")
        print(f"  median {median:.1f} ms, p95 {p95:.1f} ms over {CASELOAD_REQUESTS} requests")

    api, _ = client_register(name="record benchmark", staff=gp, allowed_scopes="user/*.rs")
    token, _ = token_issue(client=api, scope="user/*.rs")
    url = f"/fhir/DocumentReference?patient={person.public_id}"
    median, p95 = _timed(Client(), url, CASELOAD_REQUESTS, Authorization=f"Bearer {token}")
    print(f"the same person's timeline through the API, {url.split('?')[0]} (first page):")
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms over {CASELOAD_REQUESTS} requests")

    pwp = Staff.objects.get(user__username="demo-pwp")
    api, _ = client_register(name="record benchmark, PWP", staff=pwp, allowed_scopes="user/*.rs")
    token, _ = token_issue(client=api, scope="user/*.rs")
    url = "/fhir/Observation?code=http://loinc.org|44261-6&_sort=-date"
    median, p95 = _timed(Client(), url, CASELOAD_REQUESTS, Authorization=f"Bearer {token}")
    print(f"the demo PWP's latest PHQ-9 scores through the API, {url} (first page):")
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms over {CASELOAD_REQUESTS} requests")


def _timed(client: "Client", url: str, requests: int, **headers: str) -> tuple[float, float]:
    """The median and 95th centile of `requests` GETs of `url`, in ms, after ten to warm up."""
    for _ in range(10):
        assert client.get(url, headers=headers).status_code == 200
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * len(timings)) - 1]
