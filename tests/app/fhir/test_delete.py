"""DELETE: what it means per resource type (decision 0010). Resources kept whole are marked
entered in error, leave reads and searches (410 Gone) and keep every version in their history;
record-backed types and read-only types refuse with 405 and say why; access is that of update."""

from typing import Any

import pytest

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.access.models import AuditEvent
from wholecare.fhir.models import Resource, ResourceVersion
from wholecare.fhir.registry import registered

pytestmark = pytest.mark.django_db
PSY = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"},
]


def observation(
    person: Any, when: str = "2026-01-10T09:00:00+00:00", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{person.public_id}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": 72, "unit": "/min"},
        **extra,
    }


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


@pytest.fixture
def kept(gp_api, mine) -> str:
    created = gp_api.post("/fhir/Observation", observation(mine))
    assert created.status_code == 201, created.content
    fhir_id: str = created.json()["id"]
    return fhir_id


def test_delete_marks_entered_in_error_and_keeps_every_version(gp_api, mine, kept):
    url = f"/fhir/Observation/{kept}"
    deleted = gp_api.delete(url)
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["resourceType"] == "OperationOutcome"
    assert "entered in error" in deleted.json()["issue"][0]["diagnostics"]
    assert deleted["ETag"] == 'W/"2"'

    gone = gp_api.get(url)
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    assert gp_api.get(f"/fhir/Observation?patient={mine.public_id}").json()["total"] == 0

    history = gp_api.get(f"{url}/_history").json()
    assert history["total"] == 2
    newest, first = history["entry"]
    assert newest["request"] == {"method": "DELETE", "url": f"Observation/{kept}"}
    assert "resource" not in newest
    assert first["resource"]["status"] == "final"
    assert gp_api.get(f"{url}/_history/1").json()["status"] == "final"
    assert gp_api.get(f"{url}/_history/2").status_code == 410
    as_xml = gp_api.get(f"{url}/_history?_format=xml")
    assert as_xml.status_code == 200
    assert b'<method value="DELETE"/>' in as_xml.content

    resource = Resource.objects.get(fhir_id=kept)
    assert resource.status == "entered-in-error"
    assert resource.content["status"] == "entered-in-error"
    assert ResourceVersion.objects.filter(resource=resource).count() == 2


def test_delete_is_audited_against_the_person(gp_api, mine, kept):
    gp_api.delete(f"/fhir/Observation/{kept}")
    event = AuditEvent.objects.first()
    assert event is not None
    assert event.what == f"FHIR delete Observation/{kept} (marked entered in error)"
    assert event.action == AuditEvent.Action.UPDATE
    assert event.person_id == mine.pk


def test_deleting_again_changes_nothing_and_update_after_delete_is_gone(gp_api, mine, kept):
    url = f"/fhir/Observation/{kept}"
    gp_api.delete(url)
    again = gp_api.delete(url)
    assert again.status_code == 200
    assert "already deleted" in again.json()["issue"][0]["diagnostics"]
    assert Resource.objects.get(fhir_id=kept).version == 2
    revived = gp_api.put(url, {**observation(mine), "id": kept})
    assert revived.status_code == 410
    assert Resource.objects.get(fhir_id=kept).version == 2


def test_marking_entered_in_error_by_update_is_the_same_as_delete(gp_api, mine, kept):
    url = f"/fhir/Observation/{kept}"
    marked = gp_api.put(url, {**observation(mine), "id": kept, "status": "entered-in-error"})
    assert marked.status_code == 200
    assert gp_api.get(url).status_code == 410
    assert "already deleted" in gp_api.delete(url).json()["issue"][0]["diagnostics"]


def test_if_match_guards_a_delete(gp_api, kept):
    url = f"/fhir/Observation/{kept}"
    stale = gp_api.delete(url, **{"If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert stale.json()["issue"][0]["code"] == "conflict"
    assert gp_api.get(url).status_code == 200
    assert gp_api.delete(url, **{"If-Match": 'W/"1"'}).status_code == 200


def test_unknown_and_unrelated_resources_are_404_and_untouched(gp_api, mine, kept):
    assert gp_api.delete("/fhir/Observation/no-such-id").status_code == 404
    stranger = api_for(factories.StaffFactory())
    refused = stranger.delete(f"/fhir/Observation/{kept}")
    assert refused.status_code == 404
    assert Resource.objects.get(fhir_id=kept).version == 1


def test_a_token_without_delete_scope_is_refused(gp, mine, kept):
    refused = api_for(gp, scope="user/*.crus").delete(f"/fhir/Observation/{kept}")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert Resource.objects.get(fhir_id=kept).version == 1


def test_a_patient_scoped_token_deletes_only_for_its_patient(gp, mine, kept):
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=gp)
    url = f"/fhir/Observation/{kept}"
    assert api_for(gp, "patient/*.cruds", other).delete(url).status_code == 404
    assert api_for(gp, "patient/*.cruds", mine).delete(url).status_code == 200


def test_a_withheld_sensitive_resource_cannot_be_deleted_by_those_it_is_withheld_from(
    gp_api, mine, therapist
):
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    created = api_for(therapist).post(
        "/fhir/Observation", observation(mine, meta={"security": PSY})
    )
    assert created.status_code == 201, created.content
    refused = gp_api.delete(f"/fhir/Observation/{created.json()['id']}")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "suppressed"
    assert Resource.objects.get(fhir_id=created.json()["id"]).version == 1


def test_a_patient_cannot_be_deleted_and_the_refusal_says_why(gp_api, mine):
    refused = gp_api.delete(f"/fhir/Patient/{mine.public_id}")
    assert refused.status_code == 405
    issue = refused.json()["issue"][0]
    assert issue["code"] == "not-supported"
    assert "never destroyed" in issue["diagnostics"]
    assert gp_api.get(f"/fhir/Patient/{mine.public_id}").status_code == 200


@pytest.mark.parametrize(
    ("resource_type", "why"),
    [
        ("Flag", "rendered from the record"),
        ("AuditEvent", "read-only"),
        ("Questionnaire", "read-only"),
    ],
)
def test_record_backed_and_read_only_types_refuse_delete(gp_api, mine, resource_type, why):
    refused = gp_api.delete(f"/fhir/{resource_type}/any-id")
    assert refused.status_code == 405
    assert why in refused.json()["issue"][0]["diagnostics"]


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _condition_id(api: Any, person: Any) -> str:
    found = api.get(f"/fhir/Condition?patient={person.public_id}").json()
    return str(found["entry"][0]["resource"]["id"])


def test_deleting_a_condition_withdraws_it_from_the_record_and_keeps_its_history(gp_api, mine, gp):
    condition = factories.ConditionFactory(person=mine, recorded_by=gp)
    fhir_id = _condition_id(gp_api, mine)
    assert gp_api.delete(f"/fhir/Condition/{fhir_id}", **{"If-Match": 'W/"7"'}).status_code == 412
    deleted = gp_api.delete(f"/fhir/Condition/{fhir_id}")
    assert deleted.status_code == 200, deleted.content
    condition.refresh_from_db()
    assert condition.entered_in_error_by == gp
    assert "through the API" in condition.entered_in_error_reason
    assert not mine.conditions.exists(), "it leaves the record's own views"
    gone = gp_api.get(f"/fhir/Condition/{fhir_id}")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    assert gp_api.get(f"/fhir/Condition?patient={mine.public_id}").json().get("total") == 0
    included = gp_api.get(f"/fhir/Patient?_id={mine.public_id}&_revinclude=Condition:patient")
    assert [e["resource"]["resourceType"] for e in included.json()["entry"]] == ["Patient"]
    history = gp_api.get(f"/fhir/Condition/{fhir_id}/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    last = gp_api.get(f"/fhir/Condition/{fhir_id}/_history/1").json()
    assert last["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert gp_api.put(f"/fhir/Condition/{fhir_id}", last).status_code == 410
    again = gp_api.delete(f"/fhir/Condition/{fhir_id}")
    assert again.status_code == 200
    assert "already deleted" in again.json()["issue"][0]["diagnostics"]
    audited = AuditEvent.objects.filter(person_id=mine.pk, what__contains="entered in error")
    assert audited.filter(what__startswith="condition:").count() == 1


def test_the_same_condition_may_be_recorded_again_after_one_entered_in_error(gp_api, mine, gp):
    factories.ConditionFactory(person=mine, recorded_by=gp)
    assert gp_api.delete(f"/fhir/Condition/{_condition_id(gp_api, mine)}").status_code == 200
    again = gp_api.post(
        "/fhir/Condition",
        {
            "resourceType": "Condition",
            "subject": {"reference": f"Patient/{mine.public_id}"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
        },
    )
    assert again.status_code == 201, again.content
    assert mine.conditions.get().entered_in_error_at is None


def test_only_its_discipline_may_end_or_withdraw_a_diagnosis(mine, gp):
    psychiatrist = factories.StaffFactory(discipline="psychiatrist")
    factories.CareTeamMembershipFactory(person=mine, staff=psychiatrist)
    factories.ConditionFactory(
        person=mine,
        snomed_code="35489007",
        recorded_by=psychiatrist,
        recorded_by_discipline="psychiatrist",
    )
    gp_api = api_for(gp)
    fhir_id = _condition_id(gp_api, mine)
    refused = gp_api.delete(f"/fhir/Condition/{fhir_id}")
    assert refused.status_code == 403
    assert "another Psychiatrist" in refused.json()["issue"][0]["diagnostics"]
    assert mine.conditions.exists()
    read = gp_api.get(f"/fhir/Condition/{fhir_id}").json()
    ended = {**read, "clinicalStatus": {"coding": [{"code": "resolved", "system": CLINICAL}]}}
    not_theirs = gp_api.put(f"/fhir/Condition/{fhir_id}", ended)
    assert not_theirs.status_code == 403
    assert "can change it" in not_theirs.json()["issue"][0]["diagnostics"]
    assert api_for(psychiatrist).delete(f"/fhir/Condition/{fhir_id}").status_code == 200
    assert not mine.conditions.exists()


def test_a_read_only_token_cannot_withdraw_a_condition(gp, mine):
    factories.ConditionFactory(person=mine, recorded_by=gp)
    reader = api_for(gp, scope="user/*.rs")
    refused = reader.delete(f"/fhir/Condition/{_condition_id(reader, mine)}")
    assert refused.status_code == 403
    assert mine.conditions.exists()


def test_conditional_delete_is_declared_unsupported(gp_api, mine, kept):
    refused = gp_api.delete(f"/fhir/Observation?patient={mine.public_id}")
    assert refused.status_code == 405
    assert "Conditional delete is not supported" in refused.json()["issue"][0]["diagnostics"]
    assert gp_api.get(f"/fhir/Observation/{kept}").status_code == 200


@pytest.mark.parametrize("resource_type", sorted(registered()))
def test_the_capability_statement_tells_the_truth_about_delete(gp_api, resource_type):
    statement = gp_api.get("/fhir/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == resource_type)
    offered = {i["code"] for i in entry["interaction"]}
    assert entry["conditionalDelete"] == "not-supported"
    answer = gp_api.delete(f"/fhir/{resource_type}/no-such-id")
    if "delete" in offered:
        assert answer.status_code == 404
    else:
        assert answer.status_code == 405
        assert "DELETE:" in entry["documentation"]


def _phq9(person: Any) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://wholecare.example.org/Questionnaire/phq9",
        "status": "completed",
        "subject": {"reference": f"Patient/{person.public_id}"},
        "authored": "2026-03-02T10:00:00+00:00",
        "item": [
            {"linkId": str(n), "answer": [{"valueInteger": a}]}
            for n, a in enumerate([2, 2, 1, 1, 1, 1, 1, 1, 2], start=1)
        ],
    }


def test_a_response_entered_in_error_takes_its_total_but_not_its_risk_flag(gp_api, mine):
    response = gp_api.post("/fhir/QuestionnaireResponse", _phq9(mine)).json()["id"]
    url = f"/fhir/Observation?derived-from=QuestionnaireResponse/{response}"
    total = gp_api.get(url).json()["entry"][0]["resource"]["id"]

    assert gp_api.delete(f"/fhir/QuestionnaireResponse/{response}").status_code == 200
    assert gp_api.get(f"/fhir/QuestionnaireResponse/{response}").status_code == 410
    assert gp_api.get(f"/fhir/Observation/{total}").status_code == 410
    assert gp_api.get(url).json()["total"] == 0
    assert gp_api.get(f"/fhir/Flag?patient={mine.public_id}&status=active").json()["total"] == 1
    assert AuditEvent.objects.filter(what__contains=f"Observation/{total} (scored from").exists()


def test_a_response_whose_total_the_token_may_not_delete_is_refused_whole(gp, mine):
    api = api_for(gp, "user/*.crus user/QuestionnaireResponse.d")
    response = api.post("/fhir/QuestionnaireResponse", _phq9(mine)).json()["id"]
    refused = api.delete(f"/fhir/QuestionnaireResponse/{response}")
    assert refused.status_code == 403
    assert "Observation" in refused.json()["issue"][0]["diagnostics"]
    assert api.get(f"/fhir/QuestionnaireResponse/{response}").status_code == 200
