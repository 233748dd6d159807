"""FHIR reads run outside a transaction (so, on SQLite, concurrent reads do not queue for the
write lock) and commit their audit event before they return: a read whose audit event cannot be
written gives the client nothing."""

from typing import Any

import pytest

from tests.app.fhir.conftest import Api
from wholecare.access.models import AuditEvent
from wholecare.record.models import CareTeamMembership, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_id(gp_api: Api, gp: Any, person: Person) -> str:
    CareTeamMembership.objects.create(person=person, staff=gp, role="GP", start_date="2020-01-01")
    return str(person.public_id)


def _failing_audit(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("the audit table is unavailable")


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/Patient/{id}",
        "/fhir/Patient/{id}/_history",
        "/fhir/Patient/{id}/_history/1",
        "/fhir/Patient?_id={id}",
        "/fhir/Condition?patient={id}",
    ],
)
def test_a_read_whose_audit_fails_returns_nothing(
    gp_api: Api, patient_id: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gp_api.get(url.format(id=patient_id)).status_code == 200
    monkeypatch.setattr(AuditEvent.objects, "create", _failing_audit)
    monkeypatch.setattr(AuditEvent.objects, "bulk_create", _failing_audit)
    with pytest.raises(RuntimeError, match="audit table"):
        gp_api.get(url.format(id=patient_id))


def test_a_read_is_audited_once_it_returns(gp_api: Api, patient_id: str, person: Person) -> None:
    before = AuditEvent.objects.filter(person_id=person.pk, action="view").count()
    response = gp_api.get(f"/fhir/Patient/{patient_id}")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(person_id=person.pk, action="view").count() == before + 1
