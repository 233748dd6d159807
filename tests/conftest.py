import pytest
from django.db import connections
from hypothesis import settings

from tests import factories
from wholecare.access.purge import set_audit_purge

# Speed is measured by the benchmarks, never by a test's clock: no per-example deadline, which a
# loaded machine (or the first example, loading an instrument) would otherwise fail.
settings.register_profile("wholecare", deadline=None)
settings.load_profile("wholecare")


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
