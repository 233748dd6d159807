"""`wholecare terminology import PATH...`, `wholecare terminology builtin`,
`wholecare terminology releases`, `wholecare terminology bench`."""

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from wholecare.terminology import operations
from wholecare.terminology.builtin import load_builtin
from wholecare.terminology.fhir_io import ImportFailed, SourcedResource
from wholecare.terminology.importer import ImportResult, import_paths, import_resources
from wholecare.terminology.models import CodeSystemRelease, ConceptMapRelease, ValueSetRelease


class Command(BaseCommand):
    help = "Import and list terminology releases (FHIR CodeSystem, ValueSet, ConceptMap)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser(
            "import",
            help="Import FHIR JSON or XML files (or folders of them): all of them, or nothing.",
        )
        importing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        actions.add_parser("builtin", help="Load the built-in releases (migrate does this).")
        actions.add_parser("releases", help="List the releases held.")
        bench = actions.add_parser(
            "bench",
            help="Time $expand of a 10,000-concept value set (created and rolled back).",
        )
        bench.add_argument("--concepts", type=int, default=10_000)
        bench.add_argument("--repeat", type=int, default=50)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "releases":
            self._list()
            return
        if options["action"] == "bench":
            self._bench(options["concepts"], options["repeat"])
            return
        try:
            results = (
                import_paths(options["paths"])
                if options["action"] == "import"
                else (load_builtin())
            )
        except ImportFailed as failed:
            raise CommandError(
                "nothing was imported:\n" + "\n".join(str(p) for p in failed.problems)
            ) from None
        self._report(results)

    def _report(self, results: list[ImportResult]) -> None:
        for result in results:
            self.stdout.write(str(result))
        created = sum(result.created for result in results)
        self.stdout.write(f"{created} new releases, {len(results) - created} already held")

    def _list(self) -> None:
        kinds = (
            ("CodeSystem", CodeSystemRelease.objects.select_related("code_system"), "code_system"),
            ("ValueSet", ValueSetRelease.objects.select_related("value_set"), "value_set"),
            ("ConceptMap", ConceptMapRelease.objects.select_related("concept_map"), "concept_map"),
        )
        for kind, releases, parent in kinds:
            for release in releases.order_by(f"{parent}__url", "id"):
                self.stdout.write(
                    f"{kind}\t{getattr(release, parent).url}|{release.version}\t"
                    f"{release.imported_at:%Y-%m-%d %H:%M}\t{release.source}"
                )

    def _bench(self, size: int, repeat: int) -> None:
        url = "https://wholecare.example.org/ValueSet/benchmark"
        words = ["chronic", "acute", "renal", "cardiac", "pulmonary", "hepatic", "neural", "ocular"]
        concepts = [
            {"code": f"B{n:06d}", "display": f"{words[n % 8]} {words[n * 3 % 7]} disorder {n}"}
            for n in range(size)
        ]
        system = "https://wholecare.example.org/CodeSystem/benchmark"
        resources = [
            SourcedResource(
                "bench",
                "CodeSystem",
                {
                    "resourceType": "CodeSystem",
                    "url": system,
                    "version": "1",
                    "status": "draft",
                    "content": "complete",
                    "concept": concepts,
                },
            ),
            SourcedResource(
                "bench",
                "ValueSet",
                {
                    "resourceType": "ValueSet",
                    "url": url,
                    "version": "1",
                    "status": "draft",
                    "compose": {"include": [{"system": system}]},
                },
            ),
        ]
        with transaction.atomic():
            import_resources(resources)
            cases: dict[str, tuple[str | None, int]] = {
                "filter 'renal card' (1 in 8 match), first 100": ("renal card", 0),
                "filter '1234' (1 match)": ("1234", 0),
                "no filter, offset 9,000, 100": (None, 9_000),
            }
            for label, (text, offset) in cases.items():
                timings = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    operations.expand(url, filter=text, offset=offset, count=100)
                    timings.append((time.perf_counter() - start) * 1000)
                timings.sort()
                self.stdout.write(
                    f"$expand {size:,} concepts, {label}: median"
                    f" {statistics.median(timings):.1f} ms, p95"
                    f" {timings[int(len(timings) * 0.95) - 1]:.1f} ms"
                )
            transaction.set_rollback(True)
