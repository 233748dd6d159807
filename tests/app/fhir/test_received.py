"""Resources of a supported type that another system sent and Wholecare's own model cannot hold,
kept as received (decision 0014): a Consent that is not a sharing decision, a CareTeam, a
Questionnaire that is not one of the instruments, a Practitioner or PractitionerRole that is not
staff. They are read, searched (with Wholecare's own, paging and counting across both), audited
and access-checked like every entry about their person, and drive nothing: a received Consent is
never applied, a received CareTeam opens no record, a received Questionnaire scores nothing, a
received Practitioner is not staff."""

import datetime as dt
from typing import Any

import pytest

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.access.permissions import can_open_record
from wholecare.fhir.models import Resource
from wholecare.record.models import Alert, CareTeamMembership, Person

pytestmark = pytest.mark.django_db

PSY = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"},
]
RECEIVING = ("Consent", "CareTeam", "Questionnaire", "Practitioner", "PractitionerRole")


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _ref(person: Person) -> dict[str, str]:
    return {"reference": f"Patient/{person.public_id}"}


def _privacy_consent(person: Person, **provision: Any) -> dict[str, Any]:
    """UKCore-Consent-ForInformationAccess-Example's kind: a privacy consent from elsewhere."""
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "INFA"}
                ]
            }
        ],
        "patient": _ref(person),
        "dateTime": "2019-12-10T11:15:00+00:00",
        "provision": provision
        or {
            "purpose": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "GOV"}
            ]
        },
    }


def _sharing_decision(person: Person) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": _ref(person),
        "provision": {
            "type": "permit",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "https://wholecare.example.org/CodeSystem/discipline",
                                "code": "gp",
                            }
                        ]
                    },
                    "reference": {"display": "GP"},
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


def _care_team(person: Person, member: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "CareTeam",
        "status": "active",
        "name": "Weight management team",
        "subject": _ref(person),
        "participant": [{"member": {"reference": member}}],
        **extra,
    }


def _questionnaire(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "url": url,
        "status": "active",
        "title": "Fitness for work",
        "item": [{"linkId": "1", "text": "Can you work?", "type": "boolean"}],
        **extra,
    }


def _practitioner(family: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "name": [{"family": family, "given": ["Sam"]}], **extra}


# Consent ---------------------------------------------------------------------------------------


def test_a_consent_that_is_not_a_sharing_decision_is_kept_as_received_and_read_back(gp_api, mine):
    sent = _privacy_consent(mine)
    created = gp_api.post("/fhir/Consent", sent)
    assert created.status_code == 201, created.content
    assert not SharingConsent.objects.exists()
    read = gp_api.get(f"/fhir/Consent/{created.json()['id']}")
    assert read.status_code == 200
    body = read.json()
    for element in ("status", "scope", "category", "patient", "provision"):
        assert body[element] == sent[element]
    assert dt.datetime.fromisoformat(body["dateTime"]) == dt.datetime.fromisoformat(
        sent["dateTime"]
    )
    assert body["meta"]["versionId"] == "1"
    history = gp_api.get(f"/fhir/Consent/{body['id']}/_history").json()
    assert history["total"] == 1
    assert gp_api.get(f"/fhir/Consent/{body['id']}/_history/1").status_code == 200


def test_a_received_consent_is_never_applied_to_access(mine, therapist, gp, gp_api):
    """The hazard "a consent received from another system is assumed to be enforced": a
    privacy consent that permits sharing psychological therapy entries with everyone changes
    nothing: the GP still cannot read the therapist's sensitive entry."""
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    encounter = api_for(therapist).post(
        "/fhir/Encounter",
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": _ref(mine),
            "meta": {"security": PSY},
        },
    )
    assert encounter.status_code == 201, encounter.content
    permit = _privacy_consent(
        mine,
        type="permit",
        securityLabel=[
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}
        ],
        actor=[
            {
                "role": {"coding": [{"code": "PROV"}]},
                "reference": {"reference": f"Practitioner/{gp.pk}"},
            }
        ],
    )
    assert gp_api.post("/fhir/Consent", permit).status_code == 201
    assert not SharingConsent.objects.exists()
    assert gp_api.get(f"/fhir/Encounter/{encounter.json()['id']}").status_code == 403


def test_a_consent_naming_wholecares_sharing_vocabulary_is_a_sharing_decision_or_refused(
    gp_api, mine
):
    decision = gp_api.post("/fhir/Consent", _sharing_decision(mine))
    assert decision.status_code == 201, decision.content
    assert SharingConsent.objects.get(person=mine).decision == "permit"
    broken = _sharing_decision(mine)
    del broken["provision"]["type"]
    refused = gp_api.post("/fhir/Consent", broken)
    assert refused.status_code == 422
    assert "is a sharing decision" in refused.json()["issue"][0]["diagnostics"]
    unknown = _sharing_decision(mine)
    unknown["provision"]["actor"][0]["role"]["coding"][0]["code"] = "astrologer"
    assert gp_api.post("/fhir/Consent", unknown).status_code == 422
    assert not Resource.objects.filter(resource_type="Consent", record_pk__isnull=True).exists()


def test_a_received_consent_can_be_deleted_and_a_sharing_decision_cannot(gp_api, mine):
    received = gp_api.post("/fhir/Consent", _privacy_consent(mine)).json()["id"]
    decision = gp_api.post("/fhir/Consent", _sharing_decision(mine)).json()["id"]
    assert gp_api.delete(f"/fhir/Consent/{received}").status_code == 200
    assert gp_api.get(f"/fhir/Consent/{received}").status_code == 410
    assert gp_api.get(f"/fhir/Consent/{received}/_history").json()["total"] == 2
    refused = gp_api.delete(f"/fhir/Consent/{decision}")
    assert refused.status_code == 405
    found = gp_api.get(f"/fhir/Consent?patient={mine.public_id}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [decision]


def test_a_received_consent_is_held_to_the_persons_access(gp_api, mine):
    stranger = factories.PersonFactory()
    refused = gp_api.post("/fhir/Consent", _privacy_consent(stranger))
    assert refused.status_code == 422
    created = gp_api.post("/fhir/Consent", _privacy_consent(mine)).json()["id"]
    outsider = api_for(factories.StaffFactory())
    assert outsider.get(f"/fhir/Consent/{created}").status_code == 404
    assert outsider.get("/fhir/Consent").json()["total"] == 0
    before = AuditEvent.objects.filter(person_id=mine.pk).count()
    gp_api.get(f"/fhir/Consent/{created}")
    assert AuditEvent.objects.filter(person_id=mine.pk).count() == before + 1


# CareTeam --------------------------------------------------------------------------------------


def test_a_received_care_team_grants_no_access(gp_api, mine):
    colleague = factories.StaffFactory()
    created = gp_api.post("/fhir/CareTeam", _care_team(mine, f"Practitioner/{colleague.pk}"))
    assert created.status_code == 201, created.content
    assert not can_open_record(colleague, mine)
    assert not CareTeamMembership.objects.filter(staff=colleague).exists()
    assert api_for(colleague).get(f"/fhir/Patient/{mine.public_id}").status_code == 404
    assert api_for(colleague).get(f"/fhir/CareTeam/{created.json()['id']}").status_code == 404


def test_care_team_search_pages_and_counts_across_wholecares_own_and_received(gp, gp_api):
    people = [factories.PersonFactory() for _ in range(3)]
    for one in people:
        factories.CareTeamMembershipFactory(person=one, staff=gp)
    for one in people[:2]:
        for _ in range(2):
            sent = gp_api.post("/fhir/CareTeam", _care_team(one, f"Practitioner/{gp.pk}"))
            assert sent.status_code == 201, sent.content
    first = gp_api.get("/fhir/CareTeam?_count=2").json()
    assert first["total"] == 7
    seen = [e["resource"]["id"] for e in first["entry"]]
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while url:
        page = gp_api.get(url.split("testserver", 1)[1]).json()
        assert page["total"] == 7
        seen += [e["resource"]["id"] for e in page["entry"]]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen)) == 7
    names = [gp_api.get(f"/fhir/CareTeam/{i}").json()["name"] for i in seen]
    assert names[:3] == [f"Care team of {p.full_name}" for p in people]
    assert names[3:] == ["Weight management team"] * 4
    one = gp_api.get(f"/fhir/CareTeam?patient={people[0].public_id}&_count=1&_offset=1").json()
    assert (one["total"], len(one["entry"])) == (3, 1)
    assert one["entry"][0]["resource"]["name"] == "Weight management team"
    inactive = gp_api.get("/fhir/CareTeam?status=inactive").json()
    assert inactive["total"] == 0
    assert gp_api.get("/fhir/CareTeam?_sort=_lastUpdated").status_code == 400


def test_a_received_care_team_whose_member_does_not_exist_is_refused_through_the_api(gp_api, mine):
    response = gp_api.post("/fhir/CareTeam", _care_team(mine, "Practitioner/nobody-here"))
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["CareTeam.participant[0].member"]


# Questionnaire ---------------------------------------------------------------------------------


def test_a_received_questionnaire_is_kept_searchable_and_never_scores(gp_api, mine):
    url = "https://example.org/Questionnaire/fitness-for-work"
    created = gp_api.post("/fhir/Questionnaire", _questionnaire(url))
    assert created.status_code == 201, created.content
    found = gp_api.get(f"/fhir/Questionnaire?url={url}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [created.json()["id"]]
    everything = gp_api.get("/fhir/Questionnaire?_count=100").json()
    assert everything["total"] == 18
    assert everything["entry"][-1]["resource"]["url"] == url
    response = gp_api.post(
        "/fhir/QuestionnaireResponse",
        {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": url,
            "status": "completed",
            "subject": _ref(mine),
            "item": [{"linkId": "1", "answer": [{"valueBoolean": False}]}],
        },
    )
    assert response.status_code == 201, response.content
    assert not Resource.objects.filter(resource_type="Observation").exists()
    assert not Alert.objects.exists()


def test_a_questionnaire_under_an_instruments_url_is_refused(gp_api):
    phq9 = "https://wholecare.example.org/Questionnaire/phq9"
    different = gp_api.post("/fhir/Questionnaire", _questionnaire(phq9))
    assert different.status_code == 422
    assert (
        "give this questionnaire its own canonical URL"
        in different.json()["issue"][0]["diagnostics"]
    )
    same = gp_api.get("/fhir/Questionnaire/phq9").json()
    del same["meta"]
    again = gp_api.post("/fhir/Questionnaire", same)
    assert again.status_code == 422
    assert "it is not created again" in again.json()["issue"][0]["diagnostics"]
    assert not Resource.objects.filter(resource_type="Questionnaire").exists()
