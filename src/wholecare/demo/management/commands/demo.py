"""`wholecare demo`: build the synthetic demonstration area and print one sign-in per discipline."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from wholecare.demo.load import (
    PASSWORD_VARIABLE,
    DemoAlreadyLoaded,
    DemoResult,
    load_demo,
    reset_sign_ins,
)
from wholecare.demo.population import MAX_PEOPLE
from wholecare.record.models import Person
from wholecare.talking_therapies.demo import load_talking_therapies


class Command(BaseCommand):
    help = (
        "Build a fictional integrated care area (modelled on Torbay and South Devon) with a "
        "synthetic "
        "population, and print the demo sign-ins. Migrates the database first when needed. The "
        f"password is {PASSWORD_VARIABLE} when set, otherwise a new one is generated and printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=5000, help="how many people (5000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="when people are already loaded, load nothing: only reset and print the sign-ins",
        )

    def handle(self, *args: Any, people: int, seed: int, if_empty: bool, **options: Any) -> None:
        if not 0 < people <= MAX_PEOPLE:
            raise CommandError(f"--people must be between 1 and {MAX_PEOPLE:,}", returncode=2)
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=options["verbosity"])
        if Person.objects.exists():
            if not if_empty:
                raise CommandError(
                    f"The database already holds {Person.objects.count():,} people, so nothing was "
                    "loaded. Run `wholecare demo --if-empty` to reset and print the demo sign-ins, "
                    "or point DATABASE_URL at an empty database.",
                    returncode=2,
                )
            result = reset_sign_ins()
            self.stdout.write(f"People already loaded ({result.people:,}): demo sign-ins reset.")
        else:
            try:
                result = load_demo(people=people, seed=seed, progress=True)
            except DemoAlreadyLoaded as error:
                raise CommandError(str(error), returncode=2) from error
            load_talking_therapies(seed=seed, progress=True)
            self.stdout.write(
                self.style.SUCCESS(f"Loaded {result.people:,} synthetic people (seed {seed}).")
            )
        self.print_sign_ins(result)

    def print_sign_ins(self, result: DemoResult) -> None:
        if not result.sign_ins:
            self.stdout.write("No demo sign-ins exist in this database.")
            return
        width = max(len(s.username) for s in result.sign_ins)
        role_width = max(len(s.role) for s in result.sign_ins)
        self.stdout.write("")
        self.stdout.write(f"{'Username':<{width}}  {'Discipline':<{role_width}}  What to try")
        for s in result.sign_ins:
            self.stdout.write(f"{s.username:<{width}}  {s.role:<{role_width}}  {s.try_this}")
        self.stdout.write("")
        self.stdout.write(f"Password for every demo sign-in: {result.password}")
