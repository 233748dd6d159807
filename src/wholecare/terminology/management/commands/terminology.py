"""`wholecare terminology import PATH...`, `wholecare terminology builtin`,
`wholecare terminology releases`."""

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wholecare.terminology.builtin import load_builtin
from wholecare.terminology.fhir_io import ImportFailed
from wholecare.terminology.importer import ImportResult, import_paths
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

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "releases":
            self._list()
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
