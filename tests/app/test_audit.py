"""The audit trail is append-only, in the model and in the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from tests import factories
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent, AuditTrailIsAppendOnly
from wholecare.access.purge import set_audit_purge
from wholecare.record import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(gp, person):
    set_audit_purge(connection, on=False)
    return audit(by=gp.user, action=AuditEvent.Action.VIEW, person=person, what="person summary")


def test_model_refuses_change_and_delete(event):
    event.what = "nothing to see"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()


def test_database_refuses_update(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(what="rewritten")
    assert AuditEvent.objects.get(pk=event.pk).what == "person summary"


def test_database_refuses_delete(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_database_refuses_raw_sql_update(event):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE access_auditevent SET why = 'x'")


def test_read_and_its_audit_event_share_one_transaction(gp, person, monkeypatch):
    """If the audit write fails, the read fails too: no unaudited access."""
    factories.CareTeamMembershipFactory(person=person, staff=gp)

    def broken_audit(**kwargs):
        raise DatabaseError("audit store unavailable")

    monkeypatch.setattr(selectors, "audit", broken_audit)
    with pytest.raises(DatabaseError):
        selectors.person_summary(by=gp.user, public_id=person.public_id)


def test_person_can_see_who_looked(gp, person):
    from wholecare.access.selectors import who_looked_at_my_record

    patient_user = factories.UserFactory(username="patient")
    person.user = patient_user
    person.save()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    selectors.person_summary(by=gp.user, public_id=person.public_id)
    events = who_looked_at_my_record(by=patient_user)
    assert [(e.actor_username, e.action, e.what) for e in events] == [
        ("gp", AuditEvent.Action.VIEW, "person summary")
    ]
    client = Client()
    client.force_login(patient_user)
    page = client.get(reverse("web:my-record-access")).content.decode()
    assert f"{gp.user.get_full_name()} (GP)" in page
