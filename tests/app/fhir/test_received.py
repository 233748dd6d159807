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
from tests.app.fhir.conftest import api_for, sharing_decision
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.access.permissions import can_open_record
from wholecare.directory.models import Staff
from wholecare.fhir.base import Receiving, ReceivingRecord
from wholecare.fhir.models import ImportedId, Resource
from wholecare.fhir.registry import registered
from wholecare.record.models import Alert, CareTeamMembership, Person, Referral

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
    decision = gp_api.post("/fhir/Consent", sharing_decision(mine))
    assert decision.status_code == 201, decision.content
    assert SharingConsent.objects.get(person=mine).decision == "permit"
    broken = sharing_decision(mine)
    del broken["provision"]["type"]
    refused = gp_api.post("/fhir/Consent", broken)
    assert refused.status_code == 422
    assert "is a sharing decision" in refused.json()["issue"][0]["diagnostics"]
    unknown = sharing_decision(mine)
    unknown["provision"]["actor"][0]["role"]["coding"][0]["code"] = "astrologer"
    assert gp_api.post("/fhir/Consent", unknown).status_code == 422
    assert not Resource.objects.filter(resource_type="Consent", record_pk__isnull=True).exists()


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"status": "draft"}, "Consent.status", "only an active sharing decision is recorded"),
        ({"status": "proposed"}, "Consent.status", "only an active sharing decision is recorded"),
        ({"status": "rejected"}, "Consent.status", "only an active sharing decision is recorded"),
        ({"status": "inactive"}, "Consent.status", "send the opposite decision"),
        (
            {"period": {"end": "2026-12-31"}},
            "Consent.provision.period",
            "not recorded with this condition dropped",
        ),
        (
            {"provision": [{"type": "deny"}]},
            "Consent.provision.provision",
            "with no period, exceptions or purposes",
        ),
    ],
)
def test_a_sharing_decision_not_in_force_as_sent_is_refused_never_applied_wider(
    gp_api, mine, change, where, says
):
    decision = sharing_decision(mine)
    if "status" in change:
        decision.update(change)
    else:
        decision["provision"].update(change)
    refused = gp_api.post("/fhir/Consent", decision)
    assert refused.status_code == 422, refused.content
    issue = refused.json()["issue"][0]
    assert issue["expression"] == [where]
    assert says in issue["diagnostics"]
    assert not SharingConsent.objects.exists()
    assert not Resource.objects.filter(resource_type="Consent").exists()


def test_a_received_consent_can_be_deleted_and_a_sharing_decision_cannot(gp_api, mine):
    received = gp_api.post("/fhir/Consent", _privacy_consent(mine)).json()["id"]
    decision = gp_api.post("/fhir/Consent", sharing_decision(mine)).json()["id"]
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
    unknown = gp_api.post(
        "/fhir/Questionnaire", _questionnaire("https://wholecare.example.org/Questionnaire/x")
    )
    assert unknown.status_code == 422
    assert "Wholecare's instruments only" in unknown.json()["issue"][0]["diagnostics"]
    assert not Resource.objects.filter(resource_type="Questionnaire").exists()


# Practitioner and PractitionerRole -------------------------------------------------------------


def test_a_received_practitioner_is_not_staff_and_grants_nothing(gp_api, mine):
    staff = Staff.objects.count()
    created = gp_api.post("/fhir/Practitioner", _practitioner("Rastall"))
    assert created.status_code == 201, created.content
    fhir_id = created.json()["id"]
    assert Staff.objects.count() == staff
    found = gp_api.get("/fhir/Practitioner?name=rast").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [fhir_id]
    referral = gp_api.post(
        "/fhir/ServiceRequest",
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "subject": _ref(mine),
            "performer": [{"reference": f"Practitioner/{fhir_id}"}],
        },
    )
    assert referral.status_code == 422
    assert not Referral.objects.exists()
    team = gp_api.post("/fhir/CareTeam", _care_team(mine, f"Practitioner/{fhir_id}"))
    assert team.status_code == 201
    assert CareTeamMembership.objects.filter(person=mine).count() == 1
    role = gp_api.post(
        "/fhir/PractitionerRole",
        {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": f"Practitioner/{fhir_id}"},
            "organization": {"reference": f"Organization/{mine.registered_practice.ods_code}"}
            if mine.registered_practice
            else {"display": "Somewhere"},
            "code": [{"coding": [{"system": "http://example.org/roles", "code": "dietitian"}]}],
        },
    )
    assert role.status_code == 201, role.content
    by_practitioner = gp_api.get(f"/fhir/PractitionerRole?practitioner={fhir_id}").json()
    assert [e["resource"]["id"] for e in by_practitioner["entry"]] == [role.json()["id"]]
    assert gp_api.get("/fhir/PractitionerRole?role=dietitian").json()["total"] == 1


def test_a_practitioner_or_role_of_a_member_of_staff_is_the_directorys(gp_api, gp):
    gp.professional_registration = "G1234567"
    gp.save()
    same = gp_api.post(
        "/fhir/Practitioner",
        _practitioner("Other", identifier=[{"system": "https://x", "value": "G1234567"}]),
    )
    assert same.status_code == 422
    assert f"Practitioner/{gp.pk}" in same.json()["issue"][0]["diagnostics"]
    role = gp_api.post(
        "/fhir/PractitionerRole",
        {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": f"Practitioner/{gp.pk}"},
        },
    )
    assert role.status_code == 422
    assert not Resource.objects.filter(record_pk__isnull=True).exists()


def test_practitioner_search_pages_and_counts_across_staff_and_received(gp_api):
    staff = Staff.objects.count()
    for index in range(3):
        assert gp_api.post("/fhir/Practitioner", _practitioner(f"Sent{index}")).status_code == 201
    total = staff + 3
    seen: list[str] = []
    offset = 0
    while offset < total:
        page = gp_api.get(f"/fhir/Practitioner?_count=2&_offset={offset}").json()
        assert page["total"] == total
        seen += [e["resource"]["id"] for e in page["entry"]]
        offset += 2
    assert len(seen) == len(set(seen)) == total
    assert gp_api.get("/fhir/Practitioner?name=sent").json()["total"] == 3
    history = gp_api.get("/fhir/Practitioner/_history").json()
    assert history["total"] >= 3


def test_a_type_that_keeps_what_it_receives_sorts_only_by_what_both_halves_sort_by():
    """A `_sort` pages through Wholecare's own and those received in one order, so each
    parameter it offers must be one both halves sort by; otherwise it offers none."""
    for name in RECEIVING:
        kind = registered()[name]
        assert isinstance(kind, Receiving)
        offered = kind.sortable()
        if isinstance(kind, ReceivingRecord):
            assert offered.keys() <= kind.sorts.keys() & kind.received.sortable().keys()
        else:
            assert offered == {}
    assert registered()["CarePlan"].sortable().keys() == {"date", "_lastUpdated"}


def test_the_capability_statement_says_received_resources_are_kept_and_not_applied(gp_api):
    statement = gp_api.get("/fhir/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for name in RECEIVING:
        entry = resources[name]
        assert "create" in [i["code"] for i in entry["interaction"]]
        assert "kept as received (decision 0014)" in entry["documentation"]
    assert "NOT applied" in resources["Consent"]["documentation"]
    assert "grants nobody access" in resources["CareTeam"]["documentation"]
    assert "never used to score" in resources["Questionnaire"]["documentation"]
    assert "delete" in [i["code"] for i in resources["Consent"]["interaction"]]
    for name in ("Practitioner", "PractitionerRole", "Questionnaire"):
        assert "or kept as received from another system" in resources[name]["documentation"]


def test_received_resources_are_exported_with_wholecares_own(gp, gp_api, mine, monkeypatch):
    from wholecare.fhir import bulk_export

    monkeypatch.setattr(bulk_export, "start_worker", lambda: None)
    gp_api.post("/fhir/Consent", sharing_decision(mine))
    received = gp_api.post("/fhir/Consent", _privacy_consent(mine)).json()["id"]
    team = gp_api.post("/fhir/CareTeam", _care_team(mine, f"Practitioner/{gp.pk}")).json()["id"]
    api = api_for(gp, "user/*.rs")
    kicked = api.get(
        "/fhir/Patient/$export?_type=Consent,CareTeam",
        Prefer="respond-async",
        Accept="application/fhir+json",
    )
    assert kicked.status_code == 202, kicked.content
    assert bulk_export.run_pending() == 1
    manifest = api.get(kicked["Content-Location"].removeprefix("http://testserver")).json()
    assert {f["type"]: f["count"] for f in manifest["output"]} == {"Consent": 2, "CareTeam": 2}
    for entry in manifest["output"]:
        response = api.get(entry["url"].removeprefix("http://testserver"))
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert received in "".join(lines) or team in "".join(lines)
    exported = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, person_id=mine.pk)
    assert "2 CareTeam" in exported.what
    assert "2 Consent" in exported.what
    practitioner = gp_api.post("/fhir/Practitioner", _practitioner("Rastall")).json()["id"]
    questionnaire = gp_api.post(
        "/fhir/Questionnaire", _questionnaire("https://example.org/Questionnaire/eol")
    ).json()["id"]
    system = api_for(gp, "system/*.rs")
    kicked = system.get(
        "/fhir/$export?_type=Practitioner,Questionnaire",
        Prefer="respond-async",
        Accept="application/fhir+json",
    )
    assert kicked.status_code == 202, kicked.content
    assert bulk_export.run_pending() == 1
    manifest = system.get(kicked["Content-Location"].removeprefix("http://testserver")).json()
    files = {}
    for entry in manifest["output"]:
        response = system.get(entry["url"].removeprefix("http://testserver"))
        files[entry["type"]] = b"".join(response.streaming_content).decode()
    assert practitioner in files["Practitioner"]
    assert questionnaire in files["Questionnaire"]
    assert '"id": "phq9"' in files["Questionnaire"]


def test_bulk_import_keeps_as_received_only_what_wholecares_model_cannot_hold(tmp_path, gp, mine):
    """The import and the API agree: a sharing decision goes to the record, a privacy consent,
    a CareTeam and a Practitioner that is not staff are kept as received (a reference that does
    not resolve is kept and reported, as for every import), a Questionnaire under an
    instrument's URL with other items is refused."""
    from tests.app.fhir.test_bulk_import import _import, _ndjson, _report

    colleague = factories.StaffFactory(professional_registration="C7654321")
    phq9 = "https://wholecare.example.org/Questionnaire/phq9"
    path = _ndjson(
        tmp_path / "received.ndjson",
        {**sharing_decision(mine), "id": "c1"},
        {**_privacy_consent(mine), "id": "c2"},
        {**_care_team(mine, "Practitioner/p-elsewhere"), "id": "t1"},
        {**_practitioner("Rastall"), "id": "p-elsewhere"},
        {**_practitioner("Known", identifier=[{"value": "C7654321"}]), "id": "p-known"},
        {**_questionnaire("https://example.org/Questionnaire/eol"), "id": "q1"},
        {**_questionnaire(phq9), "id": "q2"},
    )
    report = tmp_path / "report.tsv"
    out = _import(path, report=report)
    assert "7 resources read: 6 loaded, 1 rejected" in out, out
    assert SharingConsent.objects.get(person=mine).discipline == "gp"
    received = dict(
        Resource.objects.filter(record_pk__isnull=True)
        .exclude(resource_type="Patient")
        .values_list("resource_type", "fhir_id")
        .order_by("resource_type")
    )
    assert set(received) == {"CareTeam", "Consent", "Practitioner", "Questionnaire"}
    team = Resource.objects.get(resource_type="CareTeam", record_pk__isnull=True)
    assert team.person == mine
    assert team.content["participant"][0]["member"] == {
        "reference": f"Practitioner/{received['Practitioner']}"
    }
    assert not can_open_record(colleague, mine)
    rows = _report(report)
    [rejected] = [row for row in rows if row[2] == "rejected"]
    assert "give this questionnaire its own canonical URL" in rejected[3]
    targets = dict(ImportedId.objects.values_list("source_id", "target"))
    assert targets["p-known"] == f"Practitioner/{colleague.pk}"
    assert targets["c2"] == f"Consent/{received['Consent']}"
