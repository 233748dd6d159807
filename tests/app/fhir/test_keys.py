"""Ids and numbers that Python's `str.isdigit` accepts but `int` or the database refuse: a 400 or
an empty result, never a 500."""

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.app.fhir.conftest import Api, patient_resource
from wholecare.fhir.keys import record_key

ODD_NUMBERS = ["%C2%B2", "%D9%A3", "99999999999999999999999", "9223372036854775808"]


@given(st.one_of(st.text(), st.integers(min_value=0, max_value=2**70).map(str)))
def test_record_key_is_the_ascii_number_within_64_bits(value: str) -> None:
    expected = int(value) if re.fullmatch(r"[0-9]+", value) and int(value) < 2**63 else None
    assert record_key(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD_NUMBERS)
@pytest.mark.parametrize(
    "url",
    [
        "/fhir/HealthcareService?_id={}",
        "/fhir/Practitioner?_id={}",
        "/fhir/AuditEvent?_id={}",
        "/fhir/CodeSystem?_id={}",
        "/fhir/Practitioner/{}",
        "/fhir/HealthcareService/{}",
        "/fhir/AuditEvent/{}",
        "/fhir/CodeSystem/{}",
        "/fhir/ServiceRequest?performer=HealthcareService/{}",
        "/fhir/Group/caseload-{}",
    ],
)
def test_an_odd_number_as_an_id_finds_nothing(gp_api: Api, url: str, value: str) -> None:
    response = gp_api.get(url.format(value))
    assert response.status_code in (200, 404), response.content[:300]
    if response.status_code == 200:
        assert response.json()["total"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_an_odd_number_as_a_page_size_is_a_bad_request(gp_api: Api, value: str) -> None:
    response = gp_api.get(f"/fhir/Patient?_count={value}")
    assert response.status_code == 400
    assert "_count" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_an_odd_version_number_finds_no_version(gp_api: Api, gp: Any, value: str) -> None:
    body = patient_resource(
        factories.next_nhs_number(), generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}]
    )
    created = gp_api.post("/fhir/Patient", body)
    assert created.status_code == 201, created.content
    history = f"/fhir/Patient/{created.json()['id']}/_history"
    assert gp_api.get(f"{history}/1").status_code == 200
    assert gp_api.get(f"{history}/{value}").status_code == 404
