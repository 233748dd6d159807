"""Done-when for issue 4: two independent FHIR client libraries (fhirclient, fhirpy) against a
live server on loopback. Each creates a patient with an NHS number, finds them by identifier,
adds conditions and a PHQ-9 QuestionnaireResponse, reads back the scored Observation and pages
through a search."""

import os

import pytest
from fhirclient import server as fhirclient_server  # type: ignore[import-untyped]
from fhirclient.models.condition import Condition  # type: ignore[import-untyped]
from fhirclient.models.observation import Observation  # type: ignore[import-untyped]
from fhirclient.models.patient import Patient  # type: ignore[import-untyped]
from fhirclient.models.questionnaireresponse import QuestionnaireResponse  # type: ignore[import-untyped]
from fhirpy import SyncFHIRClient

from tests import factories
from tests.app.fhir.conftest import patient_resource
from wholecare.fhir.auth import client_register, token_issue

pytestmark = pytest.mark.slow
NHS = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"
PHQ9 = "https://wholecare.example.org/Questionnaire/phq9"
ANSWERS = [1, 2, 1, 2, 1, 1, 0, 1, 1]


@pytest.fixture
def live(live_server, allow_audit_reset, monkeypatch):
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    gp = factories.StaffFactory(discipline="gp")
    for _ in range(7):
        factories.CareTeamMembershipFactory(staff=gp)
    registered, _ = client_register(name="client test", staff=gp, allowed_scopes="user/*.cruds")
    token, _ = token_issue(client=registered, scope="user/*.cruds")
    return f"{live_server.url}/fhir/", token, gp


def _patient(gp, number):
    return patient_resource(number, generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}])


def _response(patient_id):
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": PHQ9,
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": "2026-03-01T09:00:00+00:00",
        "item": [
            {"linkId": str(n), "answer": [{"valueInteger": a}]}
            for n, a in enumerate(ANSWERS, start=1)
        ],
    }


def _condition(patient_id, code):
    return {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": SNOMED, "code": code}]},
    }


def test_fhirclient_journey(live):
    base, token, gp = live
    smart = fhirclient_server.FHIRServer(None, base_uri=base)
    smart.session.headers["Authorization"] = f"Bearer {token}"
    number = factories.next_nhs_number()
    created = Patient(_patient(gp, number)).create(smart)
    patient_id = created["id"]

    found = list(
        Patient.where(struct={"identifier": f"{NHS}|{number}"}).perform_resources_iter(smart)
    )
    assert [p.id for p in found] == [patient_id]
    assert found[0].identifier[0].value == number

    for code in ("44054006", "35489007"):
        Condition(_condition(patient_id, code)).create(smart)
    conditions = list(Condition.where(struct={"patient": patient_id}).perform_resources_iter(smart))
    assert sorted(c.code.coding[0].code for c in conditions) == ["35489007", "44054006"]

    response = QuestionnaireResponse(_response(patient_id)).create(smart)
    scored = list(
        Observation.where(
            struct={"derived-from": f"QuestionnaireResponse/{response['id']}"}
        ).perform_resources_iter(smart)
    )
    assert len(scored) == 1
    observation = Observation.read(scored[0].id, smart)
    assert observation.valueQuantity.value == sum(ANSWERS)

    pages = list(Patient.where(struct={"_count": "3"}).perform_iter(smart))
    assert len(pages) == 3
    seen = [e.resource.id for page in pages for e in page.entry]
    assert len(seen) == len(set(seen)) == 8


def test_fhirpy_journey(live):
    base, token, gp = live
    client = SyncFHIRClient(base, authorization=f"Bearer {token}")
    number = factories.next_nhs_number()
    patient = client.resource("Patient", **_patient(gp, number))
    patient.save()

    found = client.resources("Patient").search(identifier=f"{NHS}|{number}").fetch()
    assert [p.id for p in found] == [patient.id]

    for code in ("44054006", "13645005"):
        client.resource("Condition", **_condition(patient.id, code)).save()
    conditions = client.resources("Condition").search(patient=patient.id).fetch()
    assert len(conditions) == 2

    response = client.resource("QuestionnaireResponse", **_response(patient.id))
    response.save()
    scored = (
        client.resources("Observation")
        .search(**{"derived-from": f"QuestionnaireResponse/{response.id}"})
        .first()
    )
    assert scored is not None
    observation = client.reference("Observation", scored.id).to_resource()
    assert observation["valueQuantity"]["value"] == sum(ANSWERS)

    pages = client.resources("Patient").limit(3).fetch_all()
    assert len({p.id for p in pages}) == 8
