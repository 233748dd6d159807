"""$export kick-off and status as the FHIR Bulk Data Access IG (v2) describes them: GET or POST
with a Parameters body, `Prefer: respond-async`, `_outputFormat`, `_typeFilter`, `patient`; the
status URL (202 with X-Progress, then the manifest), files for the requesting client's bearer
token only, DELETE; and every refusal a 400/403/404 OperationOutcome saying what."""

import datetime as dt
import json
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.access.models import AuditEvent
from wholecare.fhir import bulk_export
from wholecare.fhir.errors import FhirError
from wholecare.fhir.models import ExportJob

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
ASTHMA = "195967001"
DIABETES = "44054006"
SNOMED = "http://snomed.info/sct"


@pytest.fixture
def no_thread(monkeypatch):
    """Jobs wait in the table until the test runs them."""
    monkeypatch.setattr(bulk_export, "start_worker", lambda: None)


@pytest.fixture
def people(db, gp):
    """Two people on the GP's care team, one with asthma and diabetes, one with diabetes; and a
    person the GP has no relationship with."""
    first, second, stranger = (factories.PersonFactory() for _ in range(3))
    for person in (first, second):
        factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.ConditionFactory(person=first, snomed_code=ASTHMA)
    for person in (first, second, stranger):
        factories.ConditionFactory(person=person, snomed_code=DIABETES)
    return first, second, stranger


def _parameters(*parameters):
    return {"resourceType": "Parameters", "parameter": list(parameters)}


def _patient(person):
    return {"name": "patient", "valueReference": {"reference": f"Patient/{person.public_id}"}}


def _run(api, kicked):
    assert kicked.status_code == 202, kicked.content
    bulk_export.run_pending()
    done = api.get(kicked["Content-Location"].removeprefix("http://testserver"))
    assert done.status_code == 200, done.content
    return done.json()


def _lines(api, url):
    response = api.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def _files(api, manifest):
    return {entry["type"]: _lines(api, entry["url"]) for entry in manifest["output"]}


def test_a_post_kick_off_takes_its_parameters_from_the_body(gp, people, no_thread):
    first, second, _ = people
    api = api_for(gp, "user/*.rs")
    body = _parameters(
        {"name": "_type", "valueString": "Patient"},
        {"name": "_type", "valueString": "Condition"},
        {"name": "_outputFormat", "valueString": "application/fhir+ndjson"},
        {"name": "_since", "valueInstant": "2020-01-01T00:00:00Z"},
        _patient(first),
    )
    kicked = api.post("/fhir/Patient/$export", body, **ASYNC)
    job = ExportJob.objects.get()
    assert job.patients == [first.pk]
    assert job.since == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    files = _files(api, _run(api, kicked))
    assert list(files) == ["Patient", "Condition"]
    assert [p["id"] for p in files["Patient"]] == [str(first.public_id)]
    assert {c["subject"]["reference"] for c in files["Condition"]} == {f"Patient/{first.public_id}"}
    assert len(files["Condition"]) == 2
    assert not AuditEvent.objects.filter(person_id=second.pk, action="export").exists()
    kick_off_event = AuditEvent.objects.get(what__contains="Patient/$export requested")
    assert "1 patient(s) named" in kick_off_event.what
    assert kick_off_event.person_id is None


def test_a_post_kick_off_without_parameters_exports_everything_the_client_may(
    gp, people, no_thread
):
    api = api_for(gp, "user/*.rs")
    files = _files(api, _run(api, api.post("/fhir/Patient/$export", _parameters(), **ASYNC)))
    assert len(files["Patient"]) == 2


def test_a_post_kick_off_is_refused_clearly(gp, people, no_thread):
    first, _, stranger = people
    api = api_for(gp, "user/*.rs")
    cases = [
        ("/fhir/Patient/$export", _parameters(_patient(first)), {}, 400, "respond-async"),
        (
            "/fhir/Patient/$export",
            _parameters({"name": "_since", "valueString": "2020-01-01"}),
            ASYNC,
            400,
            "_since takes a valueInstant or valueDateTime",
        ),
        (
            "/fhir/Patient/$export",
            _parameters({"name": "patient", "valueString": "Patient/x"}),
            ASYNC,
            400,
            "valueReference",
        ),
        (
            "/fhir/Patient/$export",
            _parameters(
                {"name": "includeAssociatedData", "valueCode": "LatestProvenanceResources"}
            ),
            ASYNC,
            400,
            "no parameter 'includeAssociatedData'",
        ),
        (
            "/fhir/Patient/$export",
            _parameters({"name": "_elements", "valueString": "id"}),
            ASYNC,
            400,
            "no parameter '_elements'",
        ),
        (
            "/fhir/Patient/$export",
            _parameters(_patient(stranger)),
            ASYNC,
            400,
            "not a Patient whose record you may open",
        ),
        (
            "/fhir/Patient/$export",
            _parameters({"name": "patient", "valueReference": {"reference": "Patient/not-a-uuid"}}),
            ASYNC,
            400,
            "not a Patient",
        ),
        (
            "/fhir/Patient/$export",
            {"resourceType": "Patient"},
            ASYNC,
            400,
            "takes a Parameters",
        ),
        (
            "/fhir/Patient/$export",
            _parameters({"name": "_outputFormat", "valueString": "text/csv"}),
            ASYNC,
            400,
            "_outputFormat 'text/csv' is not supported",
        ),
    ]
    for url, body, headers, status, words in cases:
        response = api.post(url, body, **headers)
        assert response.status_code == status, (body, response.content)
        assert words in json.dumps(response.json()["issue"]), (body, response.json())
    system = api_for(gp, "system/*.rs")
    refused = system.post("/fhir/$export", _parameters(_patient(first)), **ASYNC)
    assert refused.status_code == 400
    assert "Patient- and Group-level" in refused.json()["issue"][0]["diagnostics"]
    empty = api.client.post(
        "/fhir/Patient/$export",
        "",
        content_type="application/fhir+json",
        headers={**api.headers, **ASYNC},
    )
    assert empty.status_code == 400
    assert not ExportJob.objects.exists()
    # Naming someone the client may not open is a refused attempt on their access history.
    assert AuditEvent.objects.filter(person_id=stranger.pk, action="denied").count() == 1


@given(
    name=st.text(min_size=1, max_size=20).filter(
        lambda n: n not in {"_type", "_since", "_outputFormat", "_typeFilter", "patient"}
    )
)
def test_parameters_other_than_those_of_the_ig_are_refused(name):
    body = _parameters({"name": name, "valueString": "x"})
    with pytest.raises(FhirError) as refused:
        bulk_export.parameters(body)
    assert refused.value.status == 400
    assert repr(name) in refused.value.issues[0].diagnostics


@given(
    name=st.sampled_from(["_type", "_since", "_outputFormat", "_typeFilter", "patient"]),
    value_type=st.sampled_from(
        ["valueBoolean", "valueInteger", "valueCode", "valueUri", "valueDate"]
    ),
)
def test_a_parameter_with_the_wrong_kind_of_value_is_refused(name, value_type):
    with pytest.raises(FhirError) as refused:
        bulk_export.parameters(_parameters({"name": name, value_type: "x"}))
    assert refused.value.status == 400
    assert refused.value.issues[0].expression == ("Parameters.parameter[0]",)


def test_the_ndjson_output_formats_are_accepted_and_nothing_else(gp, people, no_thread):
    api = api_for(gp, "user/*.rs")
    for accepted in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        encoded = accepted.replace("+", "%2B")
        kicked = api.get(f"/fhir/Patient/$export?_outputFormat={encoded}", **ASYNC)
        assert kicked.status_code == 202, (accepted, kicked.content)
    for refused in ("application/fhir+json", "text/csv", "application/x-parquet", ""):
        encoded = refused.replace("+", "%2B")
        response = api.get(f"/fhir/Patient/$export?_outputFormat={encoded}", **ASYNC)
        assert response.status_code == 400, refused
        assert "_outputFormat" in response.json()["issue"][0]["diagnostics"]
    assert ExportJob.objects.count() == 3


def test_type_filter_keeps_what_matches_one_of_its_queries(gp, people, no_thread):
    _, second, _ = people
    api = api_for(gp, "user/*.rs")
    asthma = api.get(f"/fhir/Patient/$export?_typeFilter=Condition%3Fcode%3D{ASTHMA}", **ASYNC)
    files = _files(api, _run(api, asthma))
    assert [c["code"]["coding"][0]["code"] for c in files["Condition"]] == [ASTHMA]
    assert len(files["Patient"]) == 2  # a type without a filter is exported whole
    # Two queries are alternatives; a resource matching both is written once.
    body = _parameters(
        {"name": "_type", "valueString": "Condition"},
        {"name": "_typeFilter", "valueString": f"Condition?code={SNOMED}|{ASTHMA}"},
        {"name": "_typeFilter", "valueString": f"Condition?code={DIABETES}%2C{ASTHMA}"},
    )
    conditions = _files(api, _run(api, api.post("/fhir/Patient/$export", body, **ASYNC)))
    assert len(conditions["Condition"]) == 3
    assert len({c["id"] for c in conditions["Condition"]}) == 3
    # Comma-separated queries in one parameter, held to one patient.
    body = _parameters(
        _patient(second),
        {"name": "_typeFilter", "valueString": f"Condition?code={ASTHMA},Patient?gender=female"},
    )
    kicked = api.post("/fhir/Patient/$export", body, **ASYNC)
    held = _files(api, _run(api, kicked))
    assert "Condition" not in held  # the second person has no asthma
    job = kicked["Content-Location"].rpartition("/")[2]
    assert not AuditEvent.objects.filter(
        person_id=second.pk, action="export", what__contains=f"{job}: 1 Condition"
    ).exists()


def test_a_type_filter_the_server_cannot_run_is_refused(gp, people, no_thread):
    api = api_for(gp, "user/*.rs")
    cases = {
        "Condition": "not a search",
        "Condition%3F": "not a search",
        "Condition%3Fcolour%3Dred": "no search parameter 'colour'",
        "Condition%3F_count%3D5": "no search parameter '_count'",
        "Condition%3F_sort%3Dcode": "no search parameter '_sort'",
        "Condition%3Fonset-date%3Dyesterday": "not a FHIR date",
        "Organization%3Fname%3DX": "which this export does not hold",
        "Basic%3Fcode%3Dx": "which this export does not hold",
    }
    for value, words in cases.items():
        response = api.get(f"/fhir/Patient/$export?_typeFilter={value}", **ASYNC)
        assert response.status_code == 400, (value, response.content)
        diagnostics = response.json()["issue"][0]["diagnostics"]
        assert words in diagnostics, (value, diagnostics)
        assert "_typeFilter" in diagnostics
    narrowed = api.get(
        "/fhir/Patient/$export?_type=Patient&_typeFilter=Condition%3Fcode%3Dx", **ASYNC
    )
    assert narrowed.status_code == 400
    assert not ExportJob.objects.exists()


def test_get_kick_off_refuses_the_patient_parameter(gp, people, no_thread):
    api = api_for(gp, "user/*.rs")
    response = api.get(f"/fhir/Patient/$export?patient=Patient/{people[0].public_id}", **ASYNC)
    assert response.status_code == 400
    assert "POST" in response.json()["issue"][0]["diagnostics"]


def test_the_status_url_and_manifest_follow_the_ig(gp, people, no_thread):
    api = api_for(gp, "user/*.rs")
    before = timezone.now()
    kicked = api.get("/fhir/Patient/$export?_type=Patient,Condition", **ASYNC)
    assert kicked.status_code == 202
    location = kicked["Content-Location"].removeprefix("http://testserver")
    waiting = api.get(location)
    assert waiting.status_code == 202
    assert waiting["X-Progress"] == "queued"
    assert waiting["Retry-After"]
    ExportJob.objects.update(status=ExportJob.Status.RUNNING, progress="Condition: 2 written")
    running = api.get(location)
    assert running.status_code == 202
    assert running["X-Progress"] == "Condition: 2 written"
    ExportJob.objects.update(status=ExportJob.Status.QUEUED, progress="")
    bulk_export.run_pending()
    done = api.get(location)
    assert done.status_code == 200
    assert done["Content-Type"] == "application/json"
    manifest = done.json()
    assert set(manifest) == {"transactionTime", "request", "requiresAccessToken", "output", "error"}
    # The kick-off's time: everything changed up to it is in the export.
    assert before <= dt.datetime.fromisoformat(manifest["transactionTime"]) <= timezone.now()
    assert manifest["transactionTime"] == ExportJob.objects.get().created_at.isoformat()
    assert manifest["request"] == "http://testserver/fhir/Patient/$export?_type=Patient,Condition"
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [
        ("Patient", 2),
        ("Condition", 3),
    ]
    for entry in manifest["output"]:
        assert entry["url"].startswith("http://testserver/fhir/$export-file/")


def test_files_are_for_the_requesting_clients_bearer_token_only(gp, people, no_thread):
    api = api_for(gp, "user/*.rs")
    manifest = _run(api, api.get("/fhir/Patient/$export?_type=Patient", **ASYNC))
    url = manifest["output"][0]["url"].removeprefix("http://testserver")
    assert api.client.get(url).status_code == 401  # no token
    assert api.client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    same_staff_other_client = api_for(gp, "user/*.rs")
    assert same_staff_other_client.get(url).status_code == 404
    assert len(_lines(api, url)) == 2
    downloads = AuditEvent.objects.filter(what__contains="Patient.ndjson downloaded")
    assert downloads.count() == 1


def test_delete_cancels_a_queued_job_and_a_finished_one_with_its_files(gp, people, no_thread):
    api = api_for(gp, "user/*.rs")
    queued = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    queued = queued.removeprefix("http://testserver")
    cancelled = api.client.delete(queued, headers=api.headers)
    assert cancelled.status_code == 202
    assert cancelled.json()["resourceType"] == "OperationOutcome"
    assert api.get(queued).status_code == 404
    assert bulk_export.run_pending() == 0
    kicked = api.get("/fhir/Patient/$export", **ASYNC)
    manifest = _run(api, kicked)
    location = kicked["Content-Location"].removeprefix("http://testserver")
    folder = bulk_export.folder(location.rpartition("/")[2])
    assert any(folder.iterdir())
    assert api.client.delete(location, headers=api.headers).status_code == 202
    assert not folder.exists()
    assert api.get(manifest["output"][0]["url"].removeprefix("http://testserver")).status_code == (
        404
    )
    assert api.client.delete(location, headers=api.headers).status_code == 404
    assert AuditEvent.objects.filter(what__contains="cancelled or deleted").count() == 2


TYPE_FILTERS = st.builds(
    lambda kind, param, value: f"{kind}?{param}={value}",
    st.sampled_from(["Condition", "Patient", "Observation", "Organization", "Group", "", "x"]),
    st.sampled_from(["code", "_id", "birthdate", "patient", "status", "_count", "", "colour"]),
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(["ge2024-01-01", "xx2024", "9" * 40, "caseload-²", "a|b", "%2C", "&"]),
    ),
)
VALUES = {
    "_type": st.sampled_from(["Patient", "Condition,Patient", "Basic", "", ","]),
    "_since": st.sampled_from(["2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "yesterday"]),
    "_outputFormat": st.sampled_from(["ndjson", "application/fhir+ndjson", "text/csv", ""]),
    "_typeFilter": TYPE_FILTERS,
    "patient": st.sampled_from(["Patient/x", "Group/1", "", "Patient/" + "0" * 36]),
    "_elements": st.just("id"),
}
KICK_OFF_PARAMETERS = st.lists(
    st.sampled_from(sorted(VALUES)).flatmap(lambda name: st.tuples(st.just(name), VALUES[name])),
    max_size=4,
)


class FuzzTheKickOff(TestCase):
    """Random kick-offs at every level, by GET and POST: never a 500, always FHIR, and a job only
    for a kick-off answered 202."""

    def setUp(self) -> None:
        gp = factories.StaffFactory(discipline="gp")
        membership = factories.CareTeamMembershipFactory(staff=gp)
        factories.ReferralFactory(person=membership.person)
        self.group = f"caseload-{membership.person.referrals.get().service_id}"
        self.api = api_for(gp, "user/*.rs")

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        level=st.sampled_from(["", "Patient/", "Group/{}/", "Group/caseload-0/", "Group/x/"]),
        parameters=KICK_OFF_PARAMETERS,
        post=st.booleans(),
    )
    def test_kick_off(self, level, parameters, post) -> None:
        url = f"/fhir/{level.format(self.group)}$export"
        before = ExportJob.objects.count()
        with mock.patch.object(bulk_export, "start_worker"):
            if post:
                body = _parameters(
                    *(
                        {"name": name, "valueReference": {"reference": value}}
                        if name == "patient"
                        else {
                            "name": name,
                            "valueInstant" if name == "_since" else "valueString": value,
                        }
                        for name, value in parameters
                    )
                )
                response = self.api.post(url, body, **ASYNC)
            else:
                response = self.api.get(f"{url}?{urlencode(parameters)}", **ASYNC)
        assert response.status_code in {202, 400, 403, 404}, response.content[:500]
        assert response["Content-Type"].startswith("application/fhir+json")
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
        assert ExportJob.objects.count() == before + (response.status_code == 202)


def test_a_system_export_by_post_holds_the_directory_and_the_caseloads(gp, people, no_thread):
    service = factories.ServiceFactory()
    api = api_for(gp, "system/*.rs")
    body = _parameters({"name": "_type", "valueString": "Group,HealthcareService"})
    files = _files(api, _run(api, api.post("/fhir/$export", body, **ASYNC)))
    assert f"caseload-{service.pk}" in {g["id"] for g in files["Group"]}
    assert str(service.pk) in {s["id"] for s in files["HealthcareService"]}
