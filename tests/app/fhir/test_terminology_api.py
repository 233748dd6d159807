"""The terminology service at the FHIR API: $lookup, $validate-code, $expand and $translate by GET
and by POSTed Parameters, reads and searches of the releases, and their errors."""

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.app.fhir.conftest import api_for
from wholecare.access.models import AuditEvent
from wholecare.record import vocabulary
from wholecare.terminology import operations

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ETHNIC = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
LTC = "https://wholecare.example.org/ValueSet/long-term-conditions"


@pytest.fixture
def api(gp):
    return api_for(gp, "user/*.rs")


def _values(parameters: dict[str, Any]) -> dict[str, Any]:
    get_fhir_model_class("Parameters").model_validate(parameters)
    return {
        p["name"]: next(v for k, v in p.items() if k.startswith("value"))
        for p in parameters["parameter"]
        if "part" not in p
    }


def _parameters(**values: Any) -> dict[str, Any]:
    kinds = {dict: "valueCoding", bool: "valueBoolean", int: "valueInteger"}
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": name, kinds.get(type(value), "valueString"): value}
            for name, value in values.items()
        ],
    }


def test_lookup_by_get_and_by_posted_coding(api, gp):
    got = api.get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=44054006")
    assert got.status_code == 200, got.content
    assert got["Content-Type"].startswith("application/fhir+json")
    values = _values(got.json())
    assert values["display"] == "Type 2 diabetes mellitus"
    assert values["version"] == "wholecare-subset-1"
    posted = api.post(
        "/fhir/CodeSystem/$lookup", _parameters(coding={"system": SNOMED, "code": "44054006"})
    )
    assert posted.status_code == 200, posted.content
    assert _values(posted.json())["display"] == values["display"]
    assert (
        AuditEvent.objects.filter(
            what="FHIR operation CodeSystem/$lookup", actor_user_id=gp.user_id
        ).count()
        == 2
    )


def test_lookup_errors_are_operation_outcomes_with_the_terminology_status(api):
    unknown_code = api.get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=1")
    assert unknown_code.status_code == 404
    issue = unknown_code.json()["issue"][0]
    assert (issue["code"], issue["expression"]) == ("not-found", ["code"])
    missing = api.get("/fhir/CodeSystem/$lookup?code=1")
    assert missing.status_code == 400
    assert missing.json()["issue"][0]["code"] == "invalid"
    unknown_system = api.get("/fhir/CodeSystem/$lookup?system=http://example.org/x&code=1")
    assert unknown_system.status_code == 404
    assert "not held" in unknown_system.json()["issue"][0]["diagnostics"]


def test_validate_code_against_a_code_system_and_a_value_set(api):
    right = api.get(f"/fhir/CodeSystem/$validate-code?url={ETHNIC}&code=A")
    assert _values(right.json())["result"] is True
    wrong_display = api.get(f"/fhir/CodeSystem/$validate-code?url={ETHNIC}&code=A&display=Blue")
    values = _values(wrong_display.json())
    assert values["result"] is False
    assert "expected" in values["message"]
    in_set = api.get(f"/fhir/ValueSet/$validate-code?url={LTC}&system={SNOMED}&code=44054006")
    assert _values(in_set.json())["result"] is True
    not_in_set = api.get(f"/fhir/ValueSet/$validate-code?url={LTC}&system={SNOMED}&code=35489007")
    assert _values(not_in_set.json())["result"] is False
    concept = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "url", "valueUri": LTC},
            {
                "name": "codeableConcept",
                "valueCodeableConcept": {
                    "coding": [
                        {"system": ICD10, "code": "E11"},
                        {"system": SNOMED, "code": "44054006"},
                    ]
                },
            },
        ],
    }
    posted = api.post("/fhir/ValueSet/$validate-code", concept)
    assert posted.status_code == 200, posted.content
    assert _values(posted.json())["code"] == "44054006"
    no_url = api.get(f"/fhir/ValueSet/$validate-code?system={SNOMED}&code=44054006")
    assert no_url.status_code == 400


def test_expand_pages_and_filters_and_validates_as_a_value_set(api):
    got = api.get(f"/fhir/ValueSet/$expand?url={LTC}&filter=diab&count=2")
    assert got.status_code == 200, got.content
    expanded = got.json()
    get_fhir_model_class("ValueSet").model_validate(expanded)
    assert expanded["expansion"]["total"] == 3
    assert len(expanded["expansion"]["contains"]) == 2
    posted = api.post(
        "/fhir/ValueSet/$expand",
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "url", "valueUri": LTC},
                {"name": "filter", "valueString": "diab"},
                {"name": "offset", "valueInteger": 2},
            ],
        },
    )
    everything = api.get(f"/fhir/ValueSet/$expand?url={LTC}&filter=diab").json()
    codes = [c["code"] for c in everything["expansion"]["contains"]]
    assert [c["code"] for c in posted.json()["expansion"]["contains"]] == codes[2:]
    assert api.get(f"/fhir/ValueSet/$expand?url={LTC}&offset=-1").status_code == 400
    bad_count = api.get(f"/fhir/ValueSet/$expand?url={LTC}&count=many")
    assert bad_count.status_code == 400
    assert bad_count.json()["issue"][0]["expression"] == ["count"]


def test_translate_snomed_to_icd10_and_back(api):
    got = api.get(f"/fhir/ConceptMap/$translate?system={SNOMED}&code=44054006&targetsystem={ICD10}")
    assert got.status_code == 200, got.content
    parameters = got.json()
    get_fhir_model_class("Parameters").model_validate(parameters)
    assert _values(parameters)["result"] is True
    match = next(p for p in parameters["parameter"] if p["name"] == "match")
    concept = next(part for part in match["part"] if part["name"] == "concept")
    assert concept["valueCoding"]["code"] == "E11"
    reverse = api.post(
        "/fhir/ConceptMap/$translate",
        _parameters(coding={"system": ICD10, "code": "E11"}, targetsystem=SNOMED),
    )
    assert reverse.status_code == 400  # targetsystem is a uri: valueUri, not valueString
    assert "valueUri" in reverse.json()["issue"][0]["diagnostics"]
    backwards = api.get(
        f"/fhir/ConceptMap/$translate?system={ICD10}&code=E11&targetsystem={SNOMED}"
    )
    assert _values(backwards.json())["result"] is True
    assert (
        api.get(f"/fhir/ConceptMap/$translate?system={SNOMED}&code=1&reverse=maybe").status_code
        == 400
    )


def test_bad_requests_name_what_is_wrong(api):
    unknown = api.get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=1&colour=red")
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["issue"][0]["diagnostics"]
    twice = api.get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=1&code=2")
    assert twice.status_code == 400
    assert api.get("/fhir/CodeSystem/$subsumes").status_code == 404
    assert api.get("/fhir/Patient/$lookup").status_code == 404
    not_parameters = api.post("/fhir/CodeSystem/$lookup", {"resourceType": "Basic", "code": {}})
    assert not_parameters.status_code == 400
    assert (
        api.client.put(
            "/fhir/CodeSystem/$lookup",
            "{}",
            content_type="application/fhir+json",
            headers=api.headers,
        ).status_code
        == 405
    )


def test_scopes_decide_who_may_ask(gp, client):
    narrow = api_for(gp, "user/Patient.rs")
    refused = narrow.get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=44054006")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert (
        api_for(gp, "user/CodeSystem.rs")
        .get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=44054006")
        .status_code
        == 200
    )
    anonymous = client.get(f"/fhir/CodeSystem/$lookup?system={SNOMED}&code=1")
    assert anonymous.status_code == 401


def test_releases_are_read_and_searched_as_resources(api):
    found = api.get(f"/fhir/CodeSystem?url={ETHNIC}").json()
    assert found["total"] == 1
    resource = found["entry"][0]["resource"]
    get_fhir_model_class("CodeSystem").model_validate(resource)
    assert resource["url"] == ETHNIC
    read = api.get(f"/fhir/CodeSystem/{resource['id']}")
    assert read.status_code == 200
    assert read.json()["version"] == resource["version"]
    value_sets = api.get(f"/fhir/ValueSet?url={LTC}&_format=xml")
    assert value_sets.status_code == 200
    assert b"<Bundle" in value_sets.content
    maps = api.get("/fhir/ConceptMap?version=1&_count=100").json()
    assert maps["total"] >= 4
    assert api.get("/fhir/CodeSystem/999999").status_code == 404
    assert api.get("/fhir/CodeSystem/not-a-number").status_code == 404
    assert api.get(f"/fhir/CodeSystem/{resource['id']}/_history").status_code == 405


def test_capability_statement_lists_the_terminology_types_and_operations(client):
    statement = client.get("/fhir/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert [o["name"] for o in resources["CodeSystem"]["operation"]] == ["lookup", "validate-code"]
    assert [o["name"] for o in resources["ValueSet"]["operation"]] == ["expand", "validate-code"]
    assert [o["name"] for o in resources["ConceptMap"]["operation"]] == ["translate"]
    assert [i["code"] for i in resources["ConceptMap"]["interaction"]] == ["read", "search-type"]
    assert resources["ConceptMap"]["versioning"] == "no-version"
    get_fhir_model_class("CapabilityStatement").model_validate(statement)


def test_the_terminology_value_sets_hold_the_codes_the_record_classifies_by():
    members = {
        member["code"]
        for url in (LTC, "https://wholecare.example.org/ValueSet/mental-health-conditions")
        for member in operations.expand(url)["expansion"].get("contains", [])
        if member["system"] == SNOMED
    }
    assert members == set(vocabulary.CONDITIONS_BY_SNOMED)
