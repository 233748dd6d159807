"""Talking Therapies pages for a service with 5,000 referrals (SQLite): the waiting list and the
dashboard.

Target (issue 5): p95 under 300 ms for each page, rendered through Django as a browser gets it.
The dashboard serves cached figures while its data are unchanged, and runs the outcomes engine on
the period's extract after any change; both are measured (the change: a referral edited, as every
service that changes one bumps its version). Each line gives wall time and the CPU time of this
process, p50 and p95: on a shared machine the CPU time is the steadier figure. The database is
built once with synthetic data and kept under bench-out/.
"""

import datetime as dt
import gc
import math
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REFERRALS = 5_000
REQUESTS = 100
CHANGES = 20
TARGET_MS = 300
OUT = Path("bench-out")
SEED = 5


def _build() -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from wholecare.directory.models import Organisation, Service, Staff
    from wholecare.record import nhs_number
    from wholecare.record.models import Condition, Person, Referral
    from wholecare.talking_therapies.models import CareContact, MeasureScore, TTReferral

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        practice = Organisation.objects.create(
            ods_code="B99001", name="Bench Medical Centre", kind="gp-practice"
        )
        service = Service.objects.create(
            organisation=practice, name="Bench Talking Therapies", kind="talking-therapies"
        )
        users = get_user_model().objects
        staff = {}
        for discipline in ("service-manager", "pwp", "therapist"):
            user = users.create_user(f"bench-{discipline}", password=None)
            staff[discipline] = Staff.objects.create(
                user=user, discipline=discipline, organisation=practice
            )
            staff[discipline].services.add(service)
        numbers: list[str] = []
        n = 999_000_000
        while len(numbers) < REFERRALS:
            n += 1
            digit = nhs_number.check_digit(f"{n:09d}")
            if digit is not None:
                numbers.append(f"{n:09d}{digit}")
        people = Person.objects.bulk_create(
            Person(
                nhs_number=number,
                given_name=f"Given{i}",
                family_name=f"Family{i}",
                date_of_birth=dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
                sex="female" if i % 2 else "male",
                ethnic_category=rng.choice("AAAAAAACHJKMNS"),
                imd_decile=rng.randint(1, 10),
                registered_practice=practice,
            )
            for i, number in enumerate(numbers)
        )
        conditions = Condition.objects.bulk_create(
            Condition(
                person=p,
                snomed_code=rng.choice(["44054006", "13645005", "38341003", "414545008"]),
                recorded_by_discipline="gp",
                recorded_at=timezone.now(),
            )
            for p in people
        )
        received = [today - dt.timedelta(days=rng.randint(0, 400)) for _ in people]
        shared = Referral.objects.bulk_create(
            Referral(person=p, service=service, received_date=r)
            for p, r in zip(people, received, strict=True)
        )
        referrals = TTReferral.objects.bulk_create(
            TTReferral(
                referral=s,
                person=p,
                service=service,
                received_date=r,
                source=rng.choice(["A1", "A3", "B1"]),
                problem_descriptor=rng.choice(["F32.1", "F41.1", "F41.2", "F43.1", "F40.1", ""]),
            )
            for s, p, r in zip(shared, people, received, strict=True)
        )
        TTReferral.conditions.through.objects.bulk_create(
            TTReferral.conditions.through(ttreferral=t, condition=c)
            for t, c in zip(referrals, conditions, strict=True)
        )
        contacts: list[CareContact] = []
        scores: list[MeasureScore] = []
        for referral, person in zip(referrals, people, strict=True):
            days_open = (today - referral.received_date).days
            day = rng.randint(7, 60)
            if day > days_open:
                continue
            step = "high" if referral.problem_descriptor in {"F43.1", "F40.1"} else "low"
            clinician = staff["therapist" if step == "high" else "pwp"]
            referral.step, referral.clinician = step, clinician
            visits = [("assessment", day)]
            for _ in range(rng.randint(0, 8)):
                day += rng.randint(5, 21)
                if day <= days_open:
                    visits.append(("treatment", day))
            phq, gad = rng.randint(10, 24), rng.randint(8, 20)
            for kind, offset in visits:
                when = referral.received_date + dt.timedelta(days=offset)
                attended = rng.random() > 0.1
                contacts.append(
                    CareContact(
                        referral=referral,
                        starts_at=dt.datetime.combine(when, dt.time(10), tzinfo=tz),
                        kind=kind,
                        attendance="5" if attended else "3",
                        mode=rng.choice(["gp-surgery", "ltc-clinic", "phone", "video"]),
                        integrated_ltc=rng.random() < 0.3,
                        intensity=step,
                        clinician=clinician,
                        recorded_at=timezone.now(),
                    )
                )
                if attended:
                    for measure, value in (("PHQ9", phq), ("GAD7", gad)):
                        scores.append(
                            MeasureScore(
                                person=person,
                                referral=referral,
                                measured_on=when,
                                measure=measure,
                                answers=[],
                                total=value,
                                at_caseness=value >= (10 if measure == "PHQ9" else 8),
                                entered_by=clinician,
                                entered_via="clinician",
                                recorded_at=timezone.now(),
                            )
                        )
                    phq = max(0, phq - rng.randint(-1, 4))
                    gad = max(0, gad - rng.randint(-1, 3))
            treatments = sum(1 for kind, _ in visits if kind == "treatment")
            referral.status = "in-treatment" if treatments else "awaiting-treatment"
            if len(visits) > 2 and rng.random() < 0.6:
                referral.status = "discharged"
                referral.discharge_date = referral.received_date + dt.timedelta(days=day)
                referral.ending_reason = "46"
        TTReferral.objects.bulk_update(
            referrals, ["step", "clinician", "status", "discharge_date", "ending_reason"]
        )
        Referral.objects.filter(talking_therapies__status="discharged").update(status="closed")
        CareContact.objects.bulk_create(contacts, batch_size=2000)
        MeasureScore.objects.bulk_create(scores, batch_size=2000)


@dataclass
class Timings:
    """Per request: wall time, and the CPU time of this process (all its threads), which other
    programs on a shared machine do not inflate as much."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, client: Any, url: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _report(label: str, timings: Timings) -> bool:
    p95 = _p95(timings.wall)
    met = p95 < TARGET_MS
    print(
        f"  {label}, {len(timings.wall)} requests:\n"
        f"    wall p50 {statistics.median(timings.wall):.1f} ms, p95 {p95:.1f} ms"
        f" (target p95 < {TARGET_MS} ms: {'met' if met else 'NOT MET'});"
        f" CPU p50 {statistics.median(timings.cpu):.1f} ms, p95 {_p95(timings.cpu):.1f} ms",
        flush=True,
    )
    return met


def run() -> None:
    OUT.mkdir(exist_ok=True)
    path = (OUT / f"talking-therapies-{REFERRALS}.sqlite3").resolve()
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["WHOLECARE_VAR_DIR"] = str(OUT.resolve())
    os.environ["WHOLECARE_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholecare.settings")
    import django

    django.setup()
    from django.db.models import F
    from django.test import Client

    from wholecare.directory.models import Staff
    from wholecare.talking_therapies.models import CareContact, MeasureScore, TTReferral

    if not path.exists() or not TTReferral.objects.exists():
        print(f"building a service with {REFERRALS:,} referrals (kept at {path})", flush=True)
        started = time.perf_counter()
        _build()
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    manager = Staff.objects.select_related("user").get(user__username="bench-service-manager")
    service = manager.services.get()
    referrals = TTReferral.objects.filter(service=service)
    print(
        f"{referrals.count():,} referrals, {CareContact.objects.count():,} care contacts,"
        f" {MeasureScore.objects.count():,} scores (SQLite); {os.cpu_count()} CPUs, load average"
        f" {os.getloadavg()[0]:.1f} (wall times are inflated when other programs share the CPUs):"
    )
    gc.freeze()  # as wsgi.py does in each server worker once the app is loaded
    client = Client()
    client.force_login(manager.user)
    waiting = f"/talking-therapies/services/{service.pk}/waiting-list/"
    dashboard = f"/talking-therapies/services/{service.pk}/dashboard/"
    for url in (waiting, dashboard):
        assert client.get(url).status_code == 200
    waiting_list = Timings()
    for _ in range(REQUESTS):
        waiting_list.add(client, waiting)
    _report("waiting list (first page of 100, all steps)", waiting_list)
    changed = Timings()
    edited = list(referrals.order_by("pk").values_list("pk", flat=True)[:CHANGES])
    for pk in edited:
        # An edit to a referral bumps its version, as every service that changes one does: the
        # dashboard's fingerprint changes and the engine recomputes the figures.
        TTReferral.objects.filter(pk=pk).update(version=F("version") + 1)
        changed.add(client, dashboard)
    _report("dashboard after a data change (figures recomputed by the engine)", changed)
    cached = Timings()
    for _ in range(REQUESTS):
        cached.add(client, dashboard)
    _report("dashboard, data unchanged since last computed (cached figures)", cached)
