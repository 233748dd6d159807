from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from hypothesis import settings

from tests import factories
from wholecare.access.purge import set_audit_purge

# Speed is measured by the benchmarks, never by a test's clock: no per-example deadline, which a
# loaded machine (or the first example, loading an instrument) would otherwise fail.
settings.register_profile("wholecare", deadline=None)
settings.load_profile("wholecare")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL, end the sessions that a live server's request threads may still hold when
    the run ends (daemon threads, which stopping the server does not wait for) before the test
    database is dropped: PostgreSQL refuses to drop a database another session is using."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


@pytest.fixture
def allow_audit_reset(transactional_db: None) -> None:
    """Tests that reset the database between tests (live server, transactions) must clear the audit
    table too, which only audit purge allows."""
    for connection in connections.all():
        connection.ensure_connection()
        set_audit_purge(connection, on=True)


@pytest.fixture
def gp(db: None):
    return factories.StaffFactory(discipline="gp", user__username="gp")


@pytest.fixture
def person(db: None):
    return factories.PersonFactory()
