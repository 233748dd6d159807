"""Identity details that were not known are recorded when another system learns them (an NHS
number allocated to a newborn, a birth date or name learned later); a known detail is never changed
through the API (`record.services.person_record_identity`)."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from tests import factories
from tests.app.fhir.conftest import patient_resource
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.record import services
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ALLOCATED = "9990000026"


def _newborn(gp: Any, gp_api: Any) -> dict[str, Any]:
    baby = patient_resource("", generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}])
    baby["identifier"] = []
    created = gp_api.post("/fhir/Patient", baby)
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def _unknown(gp: Any, gp_api: Any) -> dict[str, Any]:
    """A Patient with nothing known but the GP who registers them."""
    created = gp_api.post(
        "/fhir/Patient",
        {
            "resourceType": "Patient",
            "generalPractitioner": [{"reference": f"Practitioner/{gp.pk}"}],
        },
    )
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def _with_number(resource: dict[str, Any], number: str) -> dict[str, Any]:
    return {**resource, "identifier": [{"system": NHS_NUMBER, "value": number}]}


def test_an_nhs_number_allocated_later_is_recorded_and_then_matched(gp, gp_api):
    baby = _newborn(gp, gp_api)
    updated = gp_api.put(f"/fhir/Patient/{baby['id']}", _with_number(baby, ALLOCATED))
    assert updated.status_code == 200, updated.content
    assert updated.json()["identifier"] == [{"system": NHS_NUMBER, "value": ALLOCATED}]
    assert Person.objects.get(public_id=baby["id"]).nhs_number == ALLOCATED
    found = gp_api.get(f"/fhir/Patient?identifier={NHS_NUMBER}|{ALLOCATED}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [baby["id"]]
    assert AuditEvent.objects.filter(
        person_id=Person.objects.get(public_id=baby["id"]).pk,
        what__contains="not known recorded: nhs_number",
    ).exists()


def test_a_known_nhs_number_is_never_changed_or_removed(gp, gp_api):
    baby = _newborn(gp, gp_api)
    gp_api.put(f"/fhir/Patient/{baby['id']}", _with_number(baby, ALLOCATED))
    current = gp_api.get(f"/fhir/Patient/{baby['id']}").json()
    for attempt in (_with_number(current, "9990000034"), {**current, "identifier": []}):
        refused = gp_api.put(f"/fhir/Patient/{baby['id']}", attempt)
        assert refused.status_code == 422
        assert refused.json()["issue"][0]["expression"] == ["Patient.identifier"]
    assert Person.objects.get(public_id=baby["id"]).nhs_number == ALLOCATED


def test_an_nhs_number_held_by_someone_else_is_refused_and_nothing_is_written(gp, gp_api):
    factories.PersonFactory(nhs_number=ALLOCATED)
    unknown = _unknown(gp, gp_api)
    learned = {**_with_number(unknown, ALLOCATED), "birthDate": "2026-11-20"}
    refused = gp_api.put(f"/fhir/Patient/{unknown['id']}", learned)
    assert refused.status_code == 422
    assert "already on the record" in refused.json()["issue"][0]["diagnostics"]
    person = Person.objects.get(public_id=unknown["id"])
    assert (person.nhs_number, person.date_of_birth) == (None, None)


def test_a_birth_date_and_a_name_learned_later_are_recorded(gp, gp_api):
    unnamed = _unknown(gp, gp_api)
    learned = {
        **unnamed,
        "name": [{"use": "official", "family": "Adeyemi", "given": ["Tola"]}],
        "birthDate": "1961-03-02",
        "gender": "female",
    }
    updated = gp_api.put(f"/fhir/Patient/{unnamed['id']}", learned)
    assert updated.status_code == 200, updated.content
    person = Person.objects.get(public_id=unnamed["id"])
    assert (person.full_name, person.date_of_birth, person.sex) == (
        "Tola ADEYEMI",
        dt.date(1961, 3, 2),
        "female",
    )


def test_a_birth_date_after_a_conditions_onset_is_refused(gp, gp_api):
    unknown = _unknown(gp, gp_api)
    person = Person.objects.get(public_id=unknown["id"])
    factories.ConditionFactory(person=person, onset_date=dt.date(2015, 1, 1))
    refused = gp_api.put(
        f"/fhir/Patient/{person.public_id}", {**unknown, "birthDate": "2016-05-05"}
    )
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["Patient.birthDate"]
    person.refresh_from_db()
    assert person.date_of_birth is None


def test_the_service_needs_a_relationship_and_refuses_what_is_not_identity(gp, person):
    person.nhs_number = None
    person.save()
    with pytest.raises(AccessDenied):
        services.person_record_identity(by=gp.user, person=person, nhs_number=ALLOCATED)
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    with pytest.raises(ValidationError, match="postcode"):
        services.person_record_identity(by=gp.user, person=person, postcode="LS1 1AA")
    with pytest.raises(ValidationError) as invalid:
        services.person_record_identity(by=gp.user, person=person, nhs_number="9990000010")
    assert "nhs_number" in invalid.value.message_dict
    recorded = services.person_record_identity(by=gp.user, person=person, nhs_number=ALLOCATED)
    assert recorded.nhs_number == ALLOCATED
