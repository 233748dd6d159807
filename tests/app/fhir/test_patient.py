"""Patient: create, read, vread, history, search by NHS number, update with If-Match, and the
errors a client gets for bad input."""

import datetime as dt

import pytest

from tests import factories
from tests.app.fhir.conftest import patient_resource
from wholecare.access.models import AuditEvent
from wholecare.record.models import CareTeamMembership, Person

pytestmark = pytest.mark.django_db
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _register(gp_api, gp, number: str | None = None, **extra):
    number = number or factories.next_nhs_number()
    body = patient_resource(
        number, generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}], **extra
    )
    return gp_api.post("/fhir/Patient", body)


def test_create_registers_the_person_and_puts_the_registering_gp_on_the_care_team(gp_api, gp):
    number = factories.next_nhs_number()
    response = _register(gp_api, gp, number)
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    created = response.json()
    assert created["meta"]["versionId"] == "1"
    assert response["ETag"] == 'W/"1"'
    assert response["Location"].endswith(f"/fhir/Patient/{created['id']}/_history/1")
    person = Person.objects.get(nhs_number=number)
    assert str(person.public_id) == created["id"]
    assert CareTeamMembership.objects.filter(person=person, staff=gp).exists()
    assert AuditEvent.objects.filter(person_id=person.pk, action="create").count() == 2


def test_read_search_by_identifier_and_version_history(gp_api, gp):
    number = factories.next_nhs_number()
    created = _register(gp_api, gp, number).json()
    read = gp_api.get(f"/fhir/Patient/{created['id']}")
    assert read.status_code == 200
    assert read.json()["identifier"] == [{"system": NHS, "value": number}]
    found = gp_api.get(f"/fhir/Patient?identifier={NHS}|{number}").json()
    assert found["resourceType"] == "Bundle"
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["id"] == created["id"]
    assert gp_api.get(f"/fhir/Patient?identifier={NHS}|9990000018").json()["total"] == 0

    changed = {**read.json(), "telecom": [{"system": "phone", "value": "01632 960001"}]}
    updated = gp_api.put(f"/fhir/Patient/{created['id']}", changed, **{"If-Match": 'W/"1"'})
    assert updated.status_code == 200, updated.content
    assert updated.json()["meta"]["versionId"] == "2"
    assert Person.objects.get(nhs_number=number).phone == "01632 960001"

    stale = gp_api.put(f"/fhir/Patient/{created['id']}", changed, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"

    first = gp_api.get(f"/fhir/Patient/{created['id']}/_history/1").json()
    assert "telecom" not in first
    assert first["meta"]["versionId"] == "1"
    history = gp_api.get(f"/fhir/Patient/{created['id']}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]


def test_change_through_the_web_ui_becomes_a_new_version(gp_api, gp):
    created = _register(gp_api, gp).json()
    Person.objects.filter(public_id=created["id"]).update(postcode="TQ2 5AA")
    read = gp_api.get(f"/fhir/Patient/{created['id']}").json()
    assert read["meta"]["versionId"] == "2"
    assert read["address"][0]["postalCode"] == "TQ2 5AA"


def test_xml_on_request(gp_api, gp):
    created = _register(gp_api, gp).json()
    response = gp_api.get(f"/fhir/Patient/{created['id']}?_format=xml")
    assert response["Content-Type"].startswith("application/fhir+xml")
    assert b"<Patient" in response.content
    accept = gp_api.get(f"/fhir/Patient/{created['id']}", Accept="application/fhir+xml")
    assert accept.content.startswith(b"<?xml")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "structure"),
        ({"resourceType": "Patient", "gender": 12}, 400, "structure"),
        ({"resourceType": "Condition"}, 400, "invalid"),
        (
            {"resourceType": "Patient", "birthDate": "1970-01-01", "colour": "blue"},
            400,
            "structure",
        ),
        (patient_resource("9990000010"), 422, "value"),
        (patient_resource("123"), 422, "value"),
        (
            {
                **patient_resource("9990000018"),
                "identifier": [
                    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"},
                    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000026"},
                ],
            },
            422,
            "business-rule",
        ),
        ({**patient_resource("9990000018"), "birthDate": "1970"}, 422, "value"),
        # A death without its date is refused, not dropped (which would leave them alive).
        ({**patient_resource("9990000018"), "deceasedBoolean": True}, 422, "business-rule"),
    ],
)
def test_bad_input_is_refused_with_an_operation_outcome(gp_api, body, status, code):
    response = gp_api.post("/fhir/Patient", body)
    assert response.status_code == status, response.content
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == code
    assert not Person.objects.exists()


def test_duplicate_nhs_number_is_a_conflict(gp_api, person):
    response = gp_api.post("/fhir/Patient", patient_resource(person.nhs_number))
    assert response.status_code == 409
    assert response.json()["issue"][0]["code"] == "duplicate"


def test_conditional_create_returns_the_existing_patient(gp_api, gp):
    number = factories.next_nhs_number()
    first = _register(gp_api, gp, number).json()
    again = gp_api.post(
        "/fhir/Patient",
        patient_resource(number),
        **{"If-None-Exist": f"identifier={NHS}|{number}"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert Person.objects.filter(nhs_number=number).count() == 1


def test_unknown_search_parameter_is_refused_unless_lenient(gp_api):
    assert gp_api.get("/fhir/Patient?colour=blue").status_code == 400
    lenient = gp_api.get("/fhir/Patient?colour=blue", Prefer="handling=lenient")
    assert lenient.status_code == 200
    outcome = lenient.json()["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert "colour" in outcome["resource"]["issue"][0]["diagnostics"]


def test_unknown_patient_and_unknown_type_are_404(gp_api):
    missing = gp_api.get("/fhir/Patient/6f1c1c52-0a57-4a53-9d6e-0d1d8d1b0001")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"
    assert gp_api.get("/fhir/Spaceship/1").status_code == 404


def test_metadata_is_public_and_names_what_is_served(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    assert statement["fhirVersion"] == "4.0.1"
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert {"read", "create", "update", "search-type"} <= {
        i["code"] for i in patient["interaction"]
    }
    assert "identifier" in {p["name"] for p in patient["searchParam"]}


def test_no_token_is_401(client, person):
    response = client.get(f"/fhir/Patient/{person.public_id}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["issue"][0]["code"] == "login"


def test_a_death_is_recorded_with_its_date_and_a_living_person_may_say_so(gp_api):
    died = gp_api.post(
        "/fhir/Patient", patient_resource("9990000018", deceasedDateTime="2026-10-01")
    )
    assert died.status_code == 201, died.content
    assert Person.objects.get(nhs_number="9990000018").date_of_death == dt.date(2026, 10, 1)
    alive = gp_api.post("/fhir/Patient", patient_resource("9990000026", deceasedBoolean=False))
    assert alive.status_code == 201, alive.content
    assert Person.objects.get(nhs_number="9990000026").date_of_death is None
