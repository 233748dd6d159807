"""What the record holds from other systems (decision 0013): any SNOMED CT condition, any coded
observation, people whose NHS number is not known, referrals addressed to a clinician or an
organisation, responses to questionnaires that are not Wholecare's instruments, Consents that are
not sharing decisions (kept as received, decision 0014); and the refusals that stay (invalid NHS
numbers, codes that are not SNOMED CT concepts, referrals the directory cannot place in one
service)."""

from typing import Any

import pytest

from tests import factories
from tests.app.fhir.conftest import patient_resource
from wholecare.access.models import SharingConsent
from wholecare.access.permissions import can_open_record
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.models import Resource
from wholecare.record import selectors
from wholecare.record.models import Alert, Condition, Person, Referral

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _ref(person: Person) -> dict[str, str]:
    return {"reference": f"Patient/{person.public_id}"}


def _bleeding_from_ear(person: Person) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "subject": _ref(person),
        "code": {
            "coding": [{"system": SNOMED, "code": "26322001", "display": "Bleeding from ear"}]
        },
    }


def test_a_condition_outside_the_value_sets_is_held_with_the_senders_display(gp, gp_api, mine):
    created = gp_api.post("/fhir/Condition", _bleeding_from_ear(mine))
    assert created.status_code == 201, created.content
    code = created.json()["code"]
    assert code["coding"] == [
        {"system": SNOMED, "code": "26322001", "display": "Bleeding from ear"}
    ]
    assert code["text"] == "Bleeding from ear"
    found = gp_api.get(f"/fhir/Condition?code={SNOMED}|26322001").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [created.json()["id"]]
    summary = selectors.person_summary(by=gp.user, public_id=mine.public_id)
    assert [c.concept.display for c in summary.other_conditions] == ["Bleeding from ear"]
    assert summary.long_term_conditions == summary.mental_health_conditions == []
    again = gp_api.post("/fhir/Condition", _bleeding_from_ear(mine))
    assert again.status_code == 409


@pytest.mark.parametrize("code", ["22298006999", "12345", "0123456", "73211009x"])
def test_a_code_that_is_not_a_snomed_ct_concept_is_still_refused(gp_api, mine, code):
    body = _bleeding_from_ear(mine)
    body["code"]["coding"][0]["code"] = code
    response = gp_api.post("/fhir/Condition", body)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Condition.code"]
    assert not Condition.objects.exists()


def test_a_different_display_for_a_classified_code_is_reported_not_dropped(gp_api, mine):
    body = _bleeding_from_ear(mine)
    body["code"]["coding"][0] = {"system": SNOMED, "code": "44054006", "display": "T2DM"}
    created = gp_api.post("/fhir/Condition", body)
    assert created.status_code == 201
    assert created.json()["code"]["coding"][0]["display"] == "Type 2 diabetes mellitus"
    stored = Condition.objects.get(person=mine)
    assert (stored.concept.display, stored.display) == ("Type 2 diabetes mellitus", "T2DM")


def test_any_coded_observation_is_kept_with_its_value_or_absent_reason(gp_api, mine):
    news2 = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": "1104441000000107", "display": "ACVPU"}]},
        "subject": _ref(mine),
        "effectiveDateTime": "2026-01-02T10:00:00+00:00",
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "248234008"}]},
    }
    absent = {
        **news2,
        "code": {"coding": [{"system": "http://loinc.org", "code": "789-8"}]},
        "dataAbsentReason": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "error",
                }
            ]
        },
    }
    del absent["valueCodeableConcept"]
    for body in (news2, absent):
        created = gp_api.post("/fhir/Observation", body)
        assert created.status_code == 201, created.content
        read = gp_api.get(f"/fhir/Observation/{created.json()['id']}").json()
        for element in ("code", "valueCodeableConcept", "dataAbsentReason"):
            assert read.get(element) == body.get(element)


def test_a_person_whose_nhs_number_is_not_known_is_held_and_never_matched(gp, gp_api):
    unknown = patient_resource("", generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}])
    unknown["identifier"] = []
    first = gp_api.post("/fhir/Patient", unknown)
    second = gp_api.post("/fhir/Patient", {**unknown, "name": [{"family": "Other"}]})
    assert (first.status_code, second.status_code) == (201, 201), first.content
    assert "identifier" not in first.json()
    assert Person.objects.filter(nhs_number__isnull=True).count() == 2
    assert gp_api.get(f"/fhir/Patient?identifier={NHS_NUMBER}|").json()["total"] == 0
    assert selectors.find_people(by=gp.user, nhs_number_text="9990000018") == []
    nameless = gp_api.post("/fhir/Patient", {"resourceType": "Patient"})
    assert nameless.status_code == 201
    person = Person.objects.get(public_id=nameless.json()["id"])
    assert (person.full_name, person.date_of_birth, person.sex) == (
        "Name not known",
        None,
        "unknown",
    )


@pytest.mark.parametrize("number", ["9912003890", "9990000010", "123"])
def test_an_invalid_nhs_number_is_still_refused(gp_api, number):
    response = gp_api.post("/fhir/Patient", patient_resource(number))
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Patient.identifier.value"]
    assert not Person.objects.exists()


def _referral(person: Person, performer: str, code: str = "169069000") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": _ref(person),
        "code": {"coding": [{"system": SNOMED, "code": code, "display": "CT of chest"}]},
        "authoredOn": "2026-01-05",
        "performer": [{"reference": performer}],
    }


def test_a_referral_to_a_clinician_goes_to_their_service_whose_staff_then_open_the_record(
    gp_api, mine
):
    service = factories.ServiceFactory()
    consultant = factories.StaffFactory(discipline=Discipline.GP, organisation=service.organisation)
    colleague = factories.StaffFactory(organisation=service.organisation)
    consultant.services.add(service)
    colleague.services.add(service)
    outsider = factories.StaffFactory(organisation=service.organisation)
    assert not can_open_record(colleague, mine)
    created = gp_api.post("/fhir/ServiceRequest", _referral(mine, f"Practitioner/{consultant.pk}"))
    assert created.status_code == 201, created.content
    referral = Referral.objects.get(person=mine)
    assert (referral.service, referral.recipient, referral.addressed_to) == (
        service,
        consultant,
        "practitioner",
    )
    performers = [p["reference"] for p in created.json()["performer"]]
    assert performers == [f"Practitioner/{consultant.pk}", f"HealthcareService/{service.pk}"]
    assert created.json()["code"]["coding"][0]["code"] == "169069000"
    assert can_open_record(consultant, mine)
    assert can_open_record(colleague, mine)
    assert not can_open_record(outsider, mine)


def test_a_referral_to_an_organisation_goes_to_its_one_service(gp_api, mine):
    service = factories.ServiceFactory()
    organisation = service.organisation
    created = gp_api.post(
        "/fhir/ServiceRequest", _referral(mine, f"Organization/{organisation.ods_code}")
    )
    assert created.status_code == 201, created.content
    assert created.json()["performer"][0]["reference"] == f"Organization/{organisation.ods_code}"
    assert Referral.objects.get(person=mine).service == service
    second = gp_api.post(
        "/fhir/ServiceRequest", _referral(mine, f"HealthcareService/{service.pk}", "268400002")
    )
    assert second.status_code == 201, "a different request to the same service"
    same = gp_api.post(
        "/fhir/ServiceRequest", _referral(mine, f"HealthcareService/{service.pk}", "268400002")
    )
    assert same.status_code == 422
    assert "already has an open referral" in same.json()["issue"][0]["diagnostics"]


def test_a_referral_the_directory_cannot_place_in_one_service_is_refused(gp_api, mine):
    loner = factories.StaffFactory()
    busy = factories.OrganisationFactory()
    factories.ServiceFactory.create_batch(2, organisation=busy)
    for performer in (
        f"Practitioner/{loner.pk}",
        f"Organization/{busy.ods_code}",
        "Organization/NOPE1",
        "Location/1",
    ):
        response = gp_api.post("/fhir/ServiceRequest", _referral(mine, performer))
        assert response.status_code == 422, performer
        assert response.json()["issue"][0]["expression"] == ["ServiceRequest.performer"]
    assert not Referral.objects.exists()


def test_a_response_to_another_questionnaire_is_kept_unscored(gp_api, mine):
    canonical = "https://example.org/Questionnaire/fit-note"
    body = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": canonical,
        "status": "completed",
        "subject": _ref(mine),
        "authored": "2026-01-03",
        "item": [{"linkId": "9", "answer": [{"valueInteger": 3}]}],
    }
    created = gp_api.post("/fhir/QuestionnaireResponse", body)
    assert created.status_code == 201, created.content
    assert not Resource.objects.filter(resource_type="Observation").exists()
    assert not Alert.objects.exists()
    found = gp_api.get(f"/fhir/QuestionnaireResponse?questionnaire={canonical}").json()
    assert found["total"] == 1


def test_a_consent_that_is_not_a_sharing_decision_is_kept_as_received_not_applied(gp_api, mine):
    """Decision 0014 (it was refused under 0013); tests/app/fhir/test_received.py has the rest."""
    response = gp_api.post(
        "/fhir/Consent",
        {
            "resourceType": "Consent",
            "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
            "category": [{"coding": [{"code": "INFA"}]}],
            "patient": _ref(mine),
            "provision": {"purpose": [{"code": "GOV"}]},
        },
    )
    assert response.status_code == 201, response.content
    assert not SharingConsent.objects.exists()
