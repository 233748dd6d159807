"""Group-level $export (FHIR Bulk Data): a Group is a service's caseload (the people with an open
referral to it); the Group is read and searched like any resource, and its export holds the
members the requesting client may open, with the same sensitivity labels and suppression as the
rest of the API, audited per person."""

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.fhir.test_security import _encounter
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service
from wholecare.fhir import bulk_export
from wholecare.fhir.models import ExportJob, Resource
from wholecare.record.models import Referral

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def no_thread(monkeypatch):
    """Jobs wait in the table until the test runs them."""
    monkeypatch.setattr(bulk_export, "start_worker", lambda: None)


@pytest.fixture
def caseload(db, gp, therapist):
    """A talking therapies service with a practitioner; on its caseload `known` (whom the GP
    and a therapist also care for, with a psychological therapy encounter) and `unknown` (no
    relationship with the GP); off it `closed` (a closed referral) and `elsewhere` (referred to
    another service, on the GP's care team)."""
    service = factories.ServiceFactory(
        name="Talking Therapies North", kind=Service.Kind.TALKING_THERAPIES
    )
    worker = factories.StaffFactory(discipline=Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER)
    worker.services.add(service)
    people = SimpleNamespace(
        **{name: factories.PersonFactory() for name in ("known", "unknown", "closed", "elsewhere")}
    )
    for person in (people.known, people.unknown):
        factories.ReferralFactory(person=person, service=service)
    factories.ReferralFactory(
        person=people.closed,
        service=service,
        closed=True,
    )
    factories.ReferralFactory(person=people.elsewhere)
    for staff in (gp, therapist):
        factories.CareTeamMembershipFactory(person=people.known, staff=staff)
    factories.CareTeamMembershipFactory(person=people.elsewhere, staff=gp)
    for person in vars(people).values():
        factories.ConditionFactory(person=person)
    assert api_for(therapist).post(
        "/fhir/Encounter", _encounter(people.known, True)
    ).status_code == (201)
    return SimpleNamespace(
        service=service, worker=worker, group=f"caseload-{service.pk}", **vars(people)
    )


def _status(api, location):
    return api.get(location.removeprefix("http://testserver"))


def _lines(api, url):
    response = api.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def _export(api, url, **headers):
    kicked = api.get(url, **{**ASYNC, **headers})
    assert kicked.status_code == 202, kicked.content
    assert bulk_export.run_pending() == 1
    done = _status(api, kicked["Content-Location"])
    assert done.status_code == 200, done.content
    return done.json()


def _files(api, manifest):
    return {entry["type"]: _lines(api, entry["url"]) for entry in manifest["output"]}


def test_a_caseload_is_a_group_that_is_read_and_searched(gp, caseload):
    api = api_for(gp, "user/*.rs")
    read = api.get(f"/fhir/Group/{caseload.group}")
    assert read.status_code == 200, read.content
    group = read.json()
    get_fhir_model_class("Group").model_validate(group)
    assert group["actual"] is False
    assert "member" not in group
    assert "quantity" not in group
    assert group["name"] == "Caseload of Talking Therapies North"
    [characteristic] = group["characteristic"]
    assert (
        characteristic["valueReference"]["reference"] == f"HealthcareService/{caseload.service.pk}"
    )
    assert group["managingEntity"]["reference"] == (
        f"Organization/{caseload.service.organisation.ods_code}"
    )
    ods = caseload.service.organisation.ods_code
    searches = {
        f"/fhir/Group?_id={caseload.group}": 1,
        f"/fhir/Group?managing-entity=Organization/{ods}": 1,
        f"/fhir/Group?managing-entity=Organization/{ods}&code=caseload": 1,
        f"/fhir/Group?_id={caseload.group}&code=other": 0,
        "/fhir/Group?_id=caseload-x,other-1": 0,
        "/fhir/Group?_id=caseload-²": 0,
        f"/fhir/Group?_id=caseload-{'9' * 40}": 0,
    }
    for url, total in searches.items():
        found = api.get(url)
        assert found.status_code == 200, (url, found.content)
        assert found.json()["total"] == total, url
    for missing in ("caseload-999999", "caseload-x", "something"):
        assert api.get(f"/fhir/Group/{missing}").status_code == 404
    included = api.get(f"/fhir/Group?_id={caseload.group}&_include=Group:managing-entity").json()
    assert [e["resource"]["resourceType"] for e in included["entry"]] == ["Group", "Organization"]
    history = api.get(f"/fhir/Group/{caseload.group}/_history").json()
    assert history["total"] == 1
    writer = api_for(gp)
    for method in ("put", "delete"):
        refused = getattr(writer.client, method)(
            f"/fhir/Group/{caseload.group}", headers=writer.headers
        )
        assert refused.status_code == 405, (method, refused.content)
    assert "caseload exists while its service does" in json.dumps(refused.json())


def test_a_group_export_holds_the_members_the_client_may_open(gp, caseload, no_thread):
    api = api_for(gp, "user/*.rs")
    manifest = _export(api, f"/fhir/Group/{caseload.group}/$export")
    assert manifest["request"].endswith(f"/fhir/Group/{caseload.group}/$export")
    files = _files(api, manifest)
    assert [p["id"] for p in files["Patient"]] == [str(caseload.known.public_id)]
    subjects = {c["subject"]["reference"] for c in files["Condition"]}
    assert subjects == {f"Patient/{caseload.known.public_id}"}
    assert "Encounter" not in files  # the one encounter is sensitive, withheld from the GP
    [withheld] = manifest["error"]
    outcome = _lines(api, withheld["url"])[0]
    assert outcome["issue"][0]["code"] == "suppressed"
    assert "1 Encounter" in outcome["issue"][0]["diagnostics"]
    others = (caseload.unknown, caseload.closed, caseload.elsewhere)
    text = json.dumps(files)
    for person in others:
        assert str(person.public_id) not in text
        assert not AuditEvent.objects.filter(person_id=person.pk, action="export").exists()
    exported = AuditEvent.objects.get(person_id=caseload.known.pk, action="export")
    assert "1 Condition, 1 Patient" in exported.what
    assert AuditEvent.objects.filter(
        person_id=None, action="export", what__contains=f"Group/{caseload.group}/$export requested"
    ).exists()


def test_the_services_own_staff_export_its_whole_caseload_with_labels(caseload, no_thread):
    api = api_for(caseload.worker, "user/*.rs")
    manifest = _export(api, f"/fhir/Group/{caseload.group}/$export")
    files = _files(api, manifest)
    assert {p["id"] for p in files["Patient"]} == {
        str(caseload.known.public_id),
        str(caseload.unknown.public_id),
    }
    assert len(files["ServiceRequest"]) == 2
    [encounter] = files["Encounter"]  # a mental health discipline reads it, labelled
    codes = {label["code"] for label in encounter["meta"]["security"]}
    assert {"R", "PSY"} <= codes
    assert manifest["error"] == []
    for entry in manifest["output"]:
        for resource in _lines(api, entry["url"]):
            get_fhir_model_class(entry["type"]).model_validate(resource)


def test_membership_is_read_when_the_job_runs(caseload, no_thread):
    api = api_for(caseload.worker, "user/*.rs")
    kicked = api.get(f"/fhir/Group/{caseload.group}/$export?_type=Patient", **ASYNC)
    Referral.objects.filter(person=caseload.unknown).update(
        status=Referral.Status.CLOSED,
        closed_date=dt.date(2026, 3, 1),
        outcome=Referral.Outcome.DISCHARGED,
    )
    bulk_export.run_pending()
    manifest = _status(api, kicked["Content-Location"]).json()
    assert [p["id"] for p in _files(api, manifest)["Patient"]] == [str(caseload.known.public_id)]


def test_a_group_export_with_patient_parameters_is_held_to_them(gp, caseload, no_thread):
    api = api_for(caseload.worker, "user/*.rs")
    body: dict[str, Any] = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "patient",
                "valueReference": {"reference": f"Patient/{caseload.unknown.public_id}"},
            },
            {"name": "_type", "valueString": "Patient,Condition"},
        ],
    }
    kicked = api.post(f"/fhir/Group/{caseload.group}/$export", body, **ASYNC)
    assert kicked.status_code == 202, kicked.content
    assert ExportJob.objects.get().patients == [caseload.unknown.pk]
    bulk_export.run_pending()
    files = _files(api, _status(api, kicked["Content-Location"]).json())
    assert [p["id"] for p in files["Patient"]] == [str(caseload.unknown.public_id)]
    assert [c["subject"]["reference"] for c in files["Condition"]] == [
        f"Patient/{caseload.unknown.public_id}"
    ]
    # Someone the client may open who is not a member, and a member it may not open: refused
    # alike.
    gp_api = api_for(gp, "user/*.rs")
    for person in (caseload.elsewhere, caseload.unknown):
        body["parameter"][0]["valueReference"]["reference"] = f"Patient/{person.public_id}"
        refused = gp_api.post(f"/fhir/Group/{caseload.group}/$export", body, **ASYNC)
        assert refused.status_code == 400
        assert (
            f"not a Patient in Group/{caseload.group}" in refused.json()["issue"][0]["diagnostics"]
        )
    assert AuditEvent.objects.filter(person_id=caseload.unknown.pk, action="denied").count() == 1
    assert not AuditEvent.objects.filter(person_id=caseload.elsewhere.pk, action="denied").exists()
    assert ExportJob.objects.count() == 1


def test_a_group_export_is_refused_clearly(gp, caseload, no_thread):
    api = api_for(gp, "user/*.rs")
    cases = {
        "/fhir/Group/caseload-999999/$export": (ASYNC, 404, "Group/caseload-999999"),
        "/fhir/Group/nothing/$export": (ASYNC, 404, "Group/nothing"),
        f"/fhir/Group/{caseload.group}/$export": ({}, 400, "Prefer: respond-async"),
        f"/fhir/Group/{caseload.group}/$export?_type=Organization": (ASYNC, 400, "cannot be"),
        f"/fhir/Group/{caseload.group}/$export?patient=Patient/x": (ASYNC, 400, "POST"),
    }
    for url, (headers, status, words) in cases.items():
        response = api.get(url, **headers)
        assert response.status_code == status, (url, response.content)
        assert words in response.json()["issue"][0]["diagnostics"], url
    narrow = api_for(gp, "user/Patient.rs user/Condition.rs")
    refused = narrow.get(f"/fhir/Group/{caseload.group}/$export", **ASYNC)
    assert refused.status_code == 403
    assert "Group" in refused.json()["issue"][0]["diagnostics"]
    assert (
        api.client.put(
            f"/fhir/Group/{caseload.group}/$export", "{}", headers={**api.headers, **ASYNC}
        ).status_code
        == 405
    )
    assert not ExportJob.objects.exists()


def test_a_patient_scoped_token_exports_only_its_patient_from_a_group(gp, caseload, no_thread):
    api = api_for(gp, "patient/*.rs", patient=caseload.known)
    files = _files(api, _export(api, f"/fhir/Group/{caseload.group}/$export?_type=Patient"))
    assert [p["id"] for p in files["Patient"]] == [str(caseload.known.public_id)]


def test_the_capability_statement_lists_the_group_and_its_export(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    group = next(r for r in rest["resource"] if r["type"] == "Group")
    assert {"read", "search-type"} <= {i["code"] for i in group["interaction"]}
    assert {p["name"] for p in group["searchParam"]} >= {"_id", "managing-entity", "code"}
    assert group["operation"] == [
        {
            "name": "export",
            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
        }
    ]
    assert "Group/<id>/$export" in rest["operation"][0]["documentation"]


def test_since_a_group_export_holds_all_the_data_of_members_who_joined_since(caseload, no_thread):
    api = api_for(caseload.worker, "user/*.rs")
    _export(api, f"/fhir/Group/{caseload.group}/$export?_type=Patient,Condition")
    # Everything was last changed two days ago; `unknown` was referred yesterday.
    Resource.objects.update(last_updated=timezone.now() - dt.timedelta(days=2))
    Referral.objects.filter(person=caseload.unknown).update(
        received_date=timezone.localdate() - dt.timedelta(days=1)
    )
    since = (timezone.now() - dt.timedelta(days=1, hours=1)).isoformat().replace("+", "%2B")
    manifest = _export(
        api, f"/fhir/Group/{caseload.group}/$export?_type=Patient,Condition&_since={since}"
    )
    files = _files(api, manifest)
    assert [p["id"] for p in files["Patient"]] == [str(caseload.unknown.public_id)]
    assert [c["subject"]["reference"] for c in files["Condition"]] == [
        f"Patient/{caseload.unknown.public_id}"
    ]


def test_a_caseload_larger_than_a_batch_is_exported_whole(caseload, no_thread, monkeypatch):
    monkeypatch.setattr(bulk_export, "PEOPLE_AT_ONCE", 1)
    more = [factories.PersonFactory() for _ in range(2)]
    for person in more:
        factories.ReferralFactory(person=person, service=caseload.service)
    api = api_for(caseload.worker, "user/*.rs")
    files = _files(api, _export(api, f"/fhir/Group/{caseload.group}/$export?_type=Patient"))
    expected = {str(p.public_id) for p in (caseload.known, caseload.unknown, *more)}
    assert sorted(p["id"] for p in files["Patient"]) == sorted(expected)
