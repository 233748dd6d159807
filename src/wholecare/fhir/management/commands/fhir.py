"""`wholecare fhir import PATH...`: bulk import of NDJSON and Bundle files (decision 0009).
`wholecare fhir conformance --out docs/fhir-conformance.md`: the UK Core conformance table.
`wholecare fhir export-jobs`: run the $export jobs waiting."""

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from wholecare.directory.models import Staff
from wholecare.fhir import bulk_export
from wholecare.fhir.bulk_import import Importer, Outcome, available_cores
from wholecare.fhir.bulk_read import UnreadablePaths
from wholecare.fhir.conformance import CORPUS, run, table


class Bar:
    """The import's progress as a tqdm bar (on stderr)."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None

    def start(self, total: int) -> None:
        self.bar = tqdm(total=total, unit="res", unit_scale=True, desc="importing")

    def advance(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Report:
    """Each rejected resource, and each element not kept, one line each in the report file
    (tab-separated: where, resource, what happened, detail); each rejection on stderr too."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, outcome: Outcome) -> None:
        what = f"{outcome.resource_type}/{outcome.source_id}" if outcome.source_id else "-"
        if outcome.rejected:
            self.out.write(f"{outcome.where}\t{what}\trejected\t{outcome.rejected}\n")
            tqdm.write(f"rejected {outcome.where} ({what}): {outcome.rejected}", file=sys.stderr)
        for path, detail in outcome.not_kept:
            self.out.write(f"{outcome.where}\t{what}\tnot kept\t{path}: {detail}\n")


class Command(BaseCommand):
    help = "Bulk FHIR data: import NDJSON and Bundle files."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser(
            "import",
            help="Import NDJSON, JSON and XML files (resources or Bundles), or folders of them."
            " Resumable: a rerun skips what was loaded. Rejected resources are reported with"
            " their file, line or entry and reason, and everything else is loaded.",
        )
        importing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        importing.add_argument(
            "--as",
            dest="username",
            required=True,
            help="The member of staff the import acts as (audited; their access rules apply).",
        )
        importing.add_argument(
            "--care-team-role",
            default="",
            help="Put the importing member of staff on the care team of every person imported,"
            " in this role (otherwise only when a Patient's generalPractitioner names them).",
        )
        importing.add_argument(
            "--report",
            type=Path,
            default=Path("fhir-import-report.tsv"),
            help="Where to write each rejection and each element not kept"
            " (default: fhir-import-report.tsv).",
        )
        importing.add_argument(
            "--jobs",
            type=int,
            default=available_cores(),
            help="Processes to use: this one writes, in order, and the others check the next"
            " resources against the FHIR R4 model meanwhile (default: the cores available,"
            f" {available_cores()}; 1 does everything in this process).",
        )

        conformance = actions.add_parser(
            "conformance",
            help="Import every UK Core example (in a transaction rolled back), export it and"
            " write the conformance table.",
        )
        actions.add_parser(
            "export-jobs",
            help="Run the $export jobs waiting (the server also runs them in a background"
            " thread), then stop.",
        )
        conformance.add_argument("--out", type=Path, required=True)
        conformance.add_argument(
            "--corpus", type=Path, default=CORPUS, help=f"Folder of examples (default: {CORPUS})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export-jobs":
            self.stdout.write(f"{bulk_export.run_pending()} export job(s) run")
            return
        if options["action"] == "conformance":
            if not options["corpus"].is_dir():
                raise CommandError(f"--corpus: {options['corpus']} is not a folder")
            options["out"].write_text(table(run(options["corpus"])), encoding="utf-8")
            self.stdout.write(f"Wrote {options['out']}")
            return
        if options["jobs"] < 1:
            raise CommandError(f"--jobs: {options['jobs']}; at least 1")
        staff = (
            Staff.objects.select_related("user").filter(user__username=options["username"]).first()
        )
        if staff is None:
            raise CommandError(f"--as: no member of staff has the username {options['username']!r}")
        bar = Bar()
        with options["report"].open("w", encoding="utf-8") as out:
            importer = Importer(
                staff,
                report=Report(out),
                care_team_role=options["care_team_role"].strip(),
                progress=bar,
                jobs=options["jobs"],
            )
            try:
                totals = importer.run(options["paths"])
            except UnreadablePaths as problem:
                raise CommandError(f"nothing was imported:\n{problem}") from None
            finally:
                bar.close()
        self.stdout.write(
            f"{totals.read} resources read: {totals.loaded} loaded, {totals.rejected} rejected"
            + (
                f"; {totals.skipped_files} file(s) already imported, skipped"
                if totals.skipped_files
                else ""
            )
        )
        for path, times in totals.not_kept.most_common(10):
            self.stdout.write(f"  not kept: {path} (in {times} resources)")
        self.stdout.write(f"Report: {options['report']}")
