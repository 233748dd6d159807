from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate


class TerminologyConfig(AppConfig):
    name = "wholecare.terminology"
    verbose_name = "Terminology"

    def ready(self) -> None:
        post_migrate.connect(_load_builtin_releases, sender=self)


def _load_builtin_releases(using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, **_: Any) -> None:
    """After migrate (as Django adds content types and permissions), make sure the built-in releases
    are held. Releases already held are left as they are."""
    from wholecare.terminology.builtin import load_builtin
    from wholecare.terminology.models import Concept

    if using != DEFAULT_DB_ALIAS:
        return
    if Concept._meta.db_table not in connections[using].introspection.table_names():
        return
    created = [result for result in load_builtin() if result.created]
    if created and verbosity >= 1:
        print(f"  Loaded {len(created)} built-in terminology releases")
