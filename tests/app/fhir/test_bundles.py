"""Transaction Bundles land whole or not at all; batch entries stand alone; urn:uuid references
resolve within a transaction."""

import pytest

from tests import factories
from tests.app.fhir.conftest import patient_resource
from wholecare.access.models import AuditEvent
from wholecare.record.models import Condition, Person

pytestmark = pytest.mark.django_db


def _bundle(kind, gp, number, code="44054006"):
    urn = "urn:uuid:8f0a2a4e-6d1b-4b63-9b1e-6f1f0c8e2a11"
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {
                "fullUrl": "urn:uuid:0c6a3b52-1d7e-4c8f-a1b2-3c4d5e6f7a8b",
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": urn},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
                },
                "request": {"method": "POST", "url": "Condition"},
            },
            {
                "fullUrl": urn,
                "resource": patient_resource(
                    number, generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}]
                ),
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }


def test_transaction_resolves_urn_references_and_lands_whole(gp_api, gp):
    number = factories.next_nhs_number()
    response = gp_api.post("/fhir/", _bundle("transaction", gp, number))
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 2
    person = Person.objects.get(nhs_number=number)
    assert result["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{person.public_id}"
    assert Condition.objects.filter(person=person).count() == 1


def test_transaction_with_one_bad_entry_writes_nothing_and_says_which(gp_api, gp):
    audited = AuditEvent.objects.count()
    response = gp_api.post("/fhir/", _bundle("transaction", gp, factories.next_nhs_number(), "1"))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[0].resource.Condition.code"]
    assert issue["diagnostics"].startswith("Bundle.entry[0]:")
    assert not Person.objects.exists()
    assert not Condition.objects.exists()
    assert AuditEvent.objects.count() == audited


def test_batch_entries_succeed_or_fail_alone(gp_api, gp):
    number = factories.next_nhs_number()
    bundle = _bundle("batch", gp, number)
    response = gp_api.post("/fhir/", bundle)
    assert response.status_code == 200
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["422", "201 Created"]
    assert Person.objects.filter(nhs_number=number).exists()
    assert not Condition.objects.exists()


def test_only_transaction_or_batch_bundles(gp_api):
    response = gp_api.post("/fhir/", {"resourceType": "Bundle", "type": "collection"})
    assert response.status_code == 400
