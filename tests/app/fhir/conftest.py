import json
from typing import Any

import pytest
from django.test import Client

from tests import factories
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.auth import client_register, token_issue

FHIR_JSON = "application/fhir+json"


class Api:
    """A FHIR client on Django's test client, with a bearer token."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **headers: str) -> Any:
        return self.client.get(url, headers={**self.headers, **headers})

    def post(self, url: str, body: Any, **headers: str) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            url,
            data,
            content_type=headers.pop("content_type", FHIR_JSON),
            headers={**self.headers, **headers},
        )

    def put(self, url: str, body: Any, **headers: str) -> Any:
        return self.client.put(
            url, json.dumps(body), content_type=FHIR_JSON, headers={**self.headers, **headers}
        )

    def delete(self, url: str, **headers: str) -> Any:
        return self.client.delete(url, headers={**self.headers, **headers})


def api_for(staff, scope: str = "user/*.cruds", patient=None) -> Api:
    client, _ = client_register(name=f"client for {staff}", staff=staff, allowed_scopes=scope)
    token, _ = token_issue(client=client, scope=scope, patient=patient)
    return Api(token)


@pytest.fixture
def gp_api(gp) -> Api:
    return api_for(gp)


@pytest.fixture
def therapist(db):
    return factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)


def patient_resource(nhs_number: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}],
        "name": [{"use": "official", "family": "Testperson", "given": ["Alex"]}],
        "gender": "female",
        "birthDate": "1970-03-04",
        **extra,
    }


def sharing_decision(person: Any, discipline: str = "gp") -> dict[str, Any]:
    """A Consent that is a sharing decision: the person permits `discipline` to read their
    psychological therapy notes."""
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{person.public_id}"},
        "provision": {
            "type": "permit",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "https://wholecare.example.org/CodeSystem/discipline",
                                "code": discipline,
                            }
                        ]
                    },
                    "reference": {"display": discipline},
                }
            ],
            "securityLabel": [
                {
                    "system": "https://wholecare.example.org/CodeSystem/sensitivity",
                    "code": "psychological-therapy",
                }
            ],
        },
    }


def medicine_taken(
    person: Any, name: str, status: str = "active", dosage: str = "One a day", **extra: Any
) -> dict[str, Any]:
    """A MedicationStatement naming its medicine in words, as the demo's GP practices send."""
    return {
        "resourceType": "MedicationStatement",
        "status": status,
        "medicationCodeableConcept": {"text": name},
        "subject": {"reference": f"Patient/{person.public_id}"},
        "effectivePeriod": {"start": "2025-03-01"},
        "dosage": [{"text": dosage}],
        **extra,
    }


def send_as(staff: Any, body: dict[str, Any]) -> dict[str, Any]:
    """`body` created through the API as `staff`'s system sends it."""
    created = api_for(staff).post(f"/fhir/{body['resourceType']}", body)
    assert created.status_code == 201, created.content
    found: dict[str, Any] = created.json()
    return found
