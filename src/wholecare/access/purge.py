"""Switching audit purge on for one database session: the only way audit events can be deleted.

Used by the records-retention purge and by test database resets. For SQLite the switch is a function
that every connection registers (returning 0 unless switched on); for PostgreSQL a session setting.
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

FLAG = "wholecare_audit_purge"


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "wholecare_audit_purge", 0, lambda: int(getattr(connection, FLAG, False))
        )


def set_audit_purge(connection: BaseDatabaseWrapper, *, on: bool) -> None:
    setattr(connection, FLAG, on)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('wholecare.audit_purge', %s, false)", ["on" if on else "off"]
            )
