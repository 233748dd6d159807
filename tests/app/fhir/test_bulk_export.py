"""$export (FHIR Bulk Data): kick-off, status polling, the manifest and NDJSON files, holding only
what the requester may see, audited per person; _type and _since; DELETE; jobs that survive a
restart and run in a background thread."""

import datetime as dt
import json
import time

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.fhir.test_security import _encounter
from wholecare.access.models import AuditEvent
from wholecare.fhir import bulk_export
from wholecare.fhir.models import ExportJob

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def no_thread(monkeypatch):
    """Jobs wait in the table until the test runs them."""
    monkeypatch.setattr(bulk_export, "start_worker", lambda: None)


@pytest.fixture
def care(db, gp, therapist):
    """A person on the GP's (and a therapist's) care team with a condition, an encounter and a
    psychological therapy encounter the GP may not read; and a person the GP has no
    relationship with."""
    mine = factories.PersonFactory()
    for staff in (gp, therapist):
        factories.CareTeamMembershipFactory(person=mine, staff=staff)
    factories.ConditionFactory(person=mine)
    api_for(therapist).post("/fhir/Encounter", _encounter(mine, sensitive=True))
    api_for(gp).post("/fhir/Encounter", _encounter(mine))
    stranger = factories.PersonFactory()
    factories.ConditionFactory(person=stranger)
    return mine, stranger


def _status(api, location):
    return api.get(location.removeprefix("http://testserver"))


def _lines(api, url):
    response = api.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def test_patient_export_holds_only_what_the_client_may_see(gp, care, no_thread):
    mine, stranger = care
    api = api_for(gp, "user/*.rs")
    kicked = api.get("/fhir/Patient/$export", **ASYNC)
    assert kicked.status_code == 202, kicked.content
    location = kicked["Content-Location"]
    waiting = _status(api, location)
    assert waiting.status_code == 202
    assert waiting["X-Progress"] == "queued"
    assert bulk_export.run_pending() == 1

    done = _status(api, location)
    assert done.status_code == 200
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/Patient/$export")
    counts = {f["type"]: f["count"] for f in manifest["output"]}
    assert counts == {"Patient": 1, "CareTeam": 1, "Condition": 1, "Encounter": 1}
    [withheld] = manifest["error"]
    outcome = _lines(api, withheld["url"])[0]
    assert outcome["issue"][0]["code"] == "suppressed"
    assert "1 Encounter" in outcome["issue"][0]["diagnostics"]
    for entry in manifest["output"]:
        for resource in _lines(api, entry["url"]):
            get_fhir_model_class(entry["type"]).model_validate(resource)
            assert str(stranger.public_id) not in json.dumps(resource)
    [patient] = _lines(api, next(f["url"] for f in manifest["output"] if f["type"] == "Patient"))
    assert patient["id"] == str(mine.public_id)
    exported = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, person_id=mine.pk)
    assert exported.count() == 1
    assert "1 Condition" in exported.get().what
    assert not AuditEvent.objects.filter(person_id=stranger.pk, action="export").exists()


def test_kick_off_refuses_what_cannot_be_exported(gp, care, no_thread):
    api = api_for(gp, "user/*.rs")
    cases = {
        "/fhir/Patient/$export": ({}, 400, "Prefer: respond-async"),
        "/fhir/Patient/$export?_outputFormat=text/csv": (ASYNC, 400, "_outputFormat"),
        "/fhir/Patient/$export?_type=Basic": (ASYNC, 400, "cannot be exported"),
        "/fhir/Patient/$export?_type=Organization": (ASYNC, 400, "cannot be exported"),
        "/fhir/Patient/$export?_since=yesterday": (ASYNC, 400, "date"),
        "/fhir/Patient/$export?_since=2999-01-01": (ASYNC, 400, "future"),
        "/fhir/Patient/$export?_elements=id": (ASYNC, 400, "_elements"),
        "/fhir/$export": (ASYNC, 403, "system/"),
    }
    for url, (headers, status, words) in cases.items():
        response = api.get(url, **headers)
        assert response.status_code == status, (url, response.content)
        assert words in response.json()["issue"][0]["diagnostics"], url
    narrow = api_for(gp, "user/Patient.rs")
    assert narrow.get("/fhir/Patient/$export?_type=Condition", **ASYNC).status_code == 403
    assert not ExportJob.objects.exists()


def test_type_and_since_narrow_the_export(gp, care, no_thread):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export?_type=Condition,Patient", **ASYNC)["Content-Location"]
    bulk_export.run_pending()
    assert [f["type"] for f in _status(api, location).json()["output"]] == ["Patient", "Condition"]
    # Rows of the record the API has not seen before count as changed when first seen: the
    # CareTeam is in a first full export, but not in one since it.
    first = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    bulk_export.run_pending()
    assert "CareTeam" in {f["type"] for f in _status(api, first).json()["output"]}
    since = (timezone.now() + dt.timedelta(seconds=1)).isoformat()
    time.sleep(1.1)
    later = api.get(f"/fhir/Patient/$export?_since={since.replace('+', '%2B')}", **ASYNC)
    assert later.status_code == 202, later.content
    bulk_export.run_pending()
    assert _status(api, later["Content-Location"]).json()["output"] == []


def test_system_export_is_for_system_scopes_and_includes_the_directory(gp, care, no_thread):
    api = api_for(gp, "system/*.rs")
    location = api.get("/fhir/$export", **ASYNC)["Content-Location"]
    bulk_export.run_pending()
    types = {f["type"] for f in _status(api, location).json()["output"]}
    assert {"Organization", "Practitioner", "Patient", "Condition"} <= types


def test_delete_cancels_and_only_the_requesting_client_sees_a_job(gp, care, no_thread):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    other = api_for(gp, "user/*.rs")
    assert _status(other, location).status_code == 404
    assert other.client.delete(location, headers=other.headers).status_code == 404
    bulk_export.run_pending()
    manifest = _status(api, location).json()
    folder = bulk_export.folder(location.rpartition("/")[2])
    assert folder.is_dir()
    assert other.get(
        manifest["output"][0]["url"].removeprefix("http://testserver")
    ).status_code == (404)
    assert api.client.delete(location, headers=api.headers).status_code == 202
    assert _status(api, location).status_code == 404
    assert not folder.exists()
    assert api.get(manifest["output"][0]["url"].removeprefix("http://testserver")).status_code == (
        404
    )


def test_a_job_cancelled_while_running_stops_and_leaves_no_files(gp, care, no_thread, monkeypatch):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    job_id = location.rpartition("/")[2]
    real = bulk_export._write_type

    def cancel_midway(job, *args):
        ExportJob.objects.filter(pk=job.pk).delete()
        return real(job, *args)

    monkeypatch.setattr(bulk_export, "_write_type", cancel_midway)
    bulk_export.run_pending()
    assert not ExportJob.objects.filter(pk=job_id).exists()
    assert not bulk_export.folder(job_id).exists()


def test_the_export_jobs_command_runs_what_waits(gp, care, no_thread):
    from io import StringIO

    from django.core.management import call_command

    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    out = StringIO()
    call_command("fhir", "export-jobs", stdout=out)
    assert out.getvalue().strip() == "1 export job(s) run"
    assert _status(api, location).status_code == 200


def test_the_capability_statement_offers_export(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    assert [o["name"] for o in rest["operation"]] == ["export"]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert [o["name"] for o in patient["operation"]] == ["export"]


def test_a_failed_job_is_reported(gp, care, no_thread, monkeypatch):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(bulk_export, "_write_type", broken)
    bulk_export.run_pending()
    failed = _status(api, location)
    assert failed.status_code == 500
    assert "disk full" in failed.json()["issue"][0]["diagnostics"]


def test_a_job_of_a_client_deactivated_since_fails(gp, care, no_thread):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    job = ExportJob.objects.select_related("client").get()
    job.client.active = False
    job.client.save(update_fields=["active"])
    bulk_export.run_pending()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "deactivated" in job.error
    assert not bulk_export.folder(job.pk).exists()
    assert _status(api, location).status_code == 401  # its tokens stop at once too


def test_finished_jobs_expire_after_a_day(gp, care, no_thread):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export", **ASYNC)["Content-Location"]
    bulk_export.run_pending()
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - bulk_export.KEEP_FOR - dt.timedelta(minutes=1)
    )
    bulk_export.expire_old()
    assert _status(api, location).status_code == 404
    assert not bulk_export.folder(job.pk).exists()


@pytest.mark.usefixtures("allow_audit_reset")
def test_a_job_left_running_by_a_restart_is_run_by_a_background_thread(gp, care):
    api = api_for(gp, "user/*.rs")
    location = api.get("/fhir/Patient/$export?_type=Patient", **ASYNC)["Content-Location"]
    deadline = time.monotonic() + 30
    while _status(api, location).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _status(api, location).status_code == 200
    # A process stopped while running a job: the job stays "running" and stops moving on.
    ExportJob.objects.update(
        status=ExportJob.Status.RUNNING,
        updated_at=timezone.now() - bulk_export.STALE - dt.timedelta(seconds=1),
        finished_at=None,
    )
    assert _status(api, location).status_code == 202  # the poll starts a worker
    deadline = time.monotonic() + 30
    while _status(api, location).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _status(api, location).status_code == 200


def test_a_patient_scoped_token_exports_only_its_patient(gp, care, no_thread):
    mine, _ = care
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=gp)
    api = api_for(gp, "patient/*.rs", patient=mine)
    location = api.get("/fhir/Patient/$export?_type=Patient", **ASYNC)["Content-Location"]
    bulk_export.run_pending()
    [patients] = _status(api, location).json()["output"]
    assert [p["id"] for p in _lines(api, patients["url"])] == [str(mine.public_id)]
