"""Ids and numbers that Python's `str.isdigit` accepts but `int` or the database refuse: a 400 or
an empty result, never a 500."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.app.fhir.conftest import Api
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
