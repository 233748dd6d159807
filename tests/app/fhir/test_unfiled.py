"""An Observation that names no Patient is held unfiled (decision 0013): on nobody's record,
readable only by the member of staff whose client sent it, never shown to anyone else, and filed
by an update that names the Patient, through the API or the web page of results waiting to be
filed; a subject that is given must still resolve."""

import json
from typing import Any

import pytest
from django.urls import reverse

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.fhir import unfiled
from wholecare.fhir.bulk_import import Importer
from wholecare.fhir.models import Resource

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"


def _finding(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": SNOMED, "code": "298167002", "display": "Finger joint inflamed"}]
        },
        **extra,
    }


@pytest.fixture
def colleague(person):
    """Someone on the person's care team, who may read everything filed on their record."""
    staff = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=person, staff=staff)
    return staff


def test_held_unfiled_only_its_sender_reads_it(gp, gp_api, colleague, person):
    created = gp_api.post("/fhir/Observation", _finding())
    assert created.status_code == 201, created.content
    fhir_id = created.json()["id"]
    assert Resource.objects.get(fhir_id=fhir_id).person is None
    assert gp_api.get(f"/fhir/Observation/{fhir_id}").status_code == 200
    assert gp_api.get("/fhir/Observation?code=298167002").json()["total"] == 1
    other = api_for(colleague)
    assert other.get(f"/fhir/Observation/{fhir_id}").status_code == 404
    assert other.get("/fhir/Observation?code=298167002").json()["total"] == 0


def test_an_update_naming_the_patient_files_it_and_it_cannot_be_taken_off(
    gp, gp_api, colleague, person
):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    fhir_id = gp_api.post("/fhir/Observation", _finding()).json()["id"]
    filed = gp_api.put(
        f"/fhir/Observation/{fhir_id}",
        _finding(id=fhir_id, subject={"reference": f"Patient/{person.public_id}"}),
    )
    assert filed.status_code == 200, filed.content
    assert Resource.objects.get(fhir_id=fhir_id).person == person
    assert api_for(colleague).get(f"/fhir/Observation/{fhir_id}").status_code == 200
    off = gp_api.put(f"/fhir/Observation/{fhir_id}", _finding(id=fhir_id))
    assert off.status_code == 422
    assert off.json()["issue"][0]["expression"] == ["Observation.subject"]
    assert Resource.objects.get(fhir_id=fhir_id).person == person


def test_filing_needs_a_relationship_with_the_patient(gp_api, person):
    fhir_id = gp_api.post("/fhir/Observation", _finding()).json()["id"]
    refused = gp_api.put(
        f"/fhir/Observation/{fhir_id}",
        _finding(id=fhir_id, subject={"reference": f"Patient/{person.public_id}"}),
    )
    assert refused.status_code == 422
    assert Resource.objects.get(fhir_id=fhir_id).person is None


def test_only_its_sender_can_mark_it_entered_in_error(gp_api, colleague):
    fhir_id = gp_api.post("/fhir/Observation", _finding()).json()["id"]
    assert api_for(colleague).delete(f"/fhir/Observation/{fhir_id}").status_code == 404
    assert gp_api.delete(f"/fhir/Observation/{fhir_id}").status_code in {200, 204}
    assert gp_api.get(f"/fhir/Observation/{fhir_id}").status_code == 410


def test_a_subject_that_is_given_must_still_be_a_patient_on_the_record(gp_api):
    for subject in ({"display": "Mr Smith"}, {"reference": "Patient/not-on-the-record"}):
        refused = gp_api.post("/fhir/Observation", _finding(subject=subject))
        assert refused.status_code == 422
    assert not Resource.objects.filter(resource_type="Observation").exists()


def test_bulk_import_holds_it_unfiled_too(gp, tmp_path):

    source = tmp_path / "observations.ndjson"
    source.write_text(json.dumps(_finding(id="finding-1")) + "\n")
    outcomes: list[Any] = []
    Importer(gp, report=outcomes.append, care_team_role="Import").run([source])
    assert [(o.rejected, o.loaded_as.partition("/")[0]) for o in outcomes] == [("", "Observation")]
    kept = Resource.objects.get(resource_type="Observation")
    assert (kept.person, kept.author) == (None, gp)


# Results waiting to be filed, on the web: a member of staff sees the results their systems sent
# without a Patient (and nobody else's), checks the person an NHS number finds, and files the
# result there through the same FHIR update rules as the API.

VALUE: dict[str, Any] = {
    "valueQuantity": {"value": 142, "unit": "mmHg"},
    "effectiveDateTime": "2026-11-20T09:30:00Z",
}


def _sent(staff: Any, **extra: Any) -> str:
    created = api_for(staff).post("/fhir/Observation", _finding(**{**VALUE, **extra}))
    assert created.status_code == 201, created.content
    return str(created.json()["id"])


def _file_url(fhir_id: str) -> str:
    return reverse("results:file", kwargs={"fhir_id": fhir_id})


def test_only_the_results_my_systems_sent_are_listed_and_the_caseload_says_so(client, gp, person):
    mine = _sent(gp)
    colleague = factories.StaffFactory()
    _sent(colleague, code={"coding": [{"system": SNOMED, "code": "1", "display": "Not mine"}]})
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    _sent(gp, subject={"reference": f"Patient/{person.public_id}"}, id="ignored")
    client.force_login(gp.user)
    page = client.get(reverse("results:waiting")).content.decode()
    assert "Finger joint inflamed" in page
    assert "142 mmHg" in page
    assert "Not mine" not in page
    assert _file_url(mine) in page
    assert [w.fhir_id for w in unfiled.waiting(gp)] == [mine]
    caseload = client.get(reverse("web:caseload")).content.decode()
    assert "1 result your systems sent is on nobody" in caseload


def test_the_menu_leads_anyone_with_results_waiting_to_them(client):
    analyst = factories.StaffFactory(discipline=Discipline.ANALYST)
    client.force_login(analyst.user)
    assert "Results to file" not in client.get(reverse("web:aggregates")).content.decode()
    _sent(analyst)
    menu = client.get(reverse("web:aggregates")).content.decode()
    assert f'href="{reverse("results:waiting")}">Results to file (1)</a>' in menu


def test_no_callout_on_the_caseload_when_nothing_waits(client, gp):
    client.force_login(gp.user)
    assert "Results waiting to be filed" not in client.get(reverse("web:caseload")).content.decode()


def test_filing_checks_the_person_then_files_it_as_a_new_audited_version(client, gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    fhir_id = _sent(gp)
    client.force_login(gp.user)
    check = client.post(_file_url(fhir_id), {"nhs_number": person.nhs_number, "version": 1})
    assert check.status_code == 200
    assert "Check this is the right person" in check.content.decode()
    assert person.full_name in check.content.decode()
    assert Resource.objects.get(fhir_id=fhir_id).person is None, "nothing filed before confirming"
    filed = client.post(
        _file_url(fhir_id), {"nhs_number": person.nhs_number, "version": 1, "confirm": "yes"}
    )
    assert filed.status_code == 302
    resource = Resource.objects.get(fhir_id=fhir_id)
    assert (resource.person, resource.version) == (person, 2)
    assert resource.content["subject"] == {"reference": f"Patient/{person.public_id}"}
    assert AuditEvent.objects.filter(
        person_id=person.pk,
        what=f"FHIR update Observation/{fhir_id}",
        why=f"API client: {unfiled.CLIENT_NAME}",
    ).exists()
    assert unfiled.waiting(gp) == []
    after = client.get(filed.url).content.decode()
    assert f"Finger joint inflamed has been filed on the record of {person.full_name}" in after


def test_filing_needs_a_care_relationship_and_says_why_not(client, gp, person):
    fhir_id = _sent(gp)
    client.force_login(gp.user)
    refused = client.post(
        _file_url(fhir_id), {"nhs_number": person.nhs_number, "version": 1, "confirm": "yes"}
    )
    assert refused.status_code == 200
    assert "The result was not filed." in refused.content.decode()
    assert Resource.objects.get(fhir_id=fhir_id).person is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the NHS number of the person the result is about"),
        ("123", "NHS number"),
        ("999 000 0018", "No one on Wholecare has this NHS number"),
    ],
)
def test_a_missing_bad_or_unknown_nhs_number_is_refused_on_its_field(
    client, gp, typed: str, message: str
):
    fhir_id = _sent(gp)
    client.force_login(gp.user)
    page = client.post(_file_url(fhir_id), {"nhs_number": typed, "version": 1}).content.decode()
    assert "There is a problem" in page
    assert message in page
    assert Resource.objects.get(fhir_id=fhir_id).person is None


def test_a_result_changed_since_it_was_shown_is_not_filed_unseen(client, gp, gp_api, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    fhir_id = _sent(gp)
    changed = gp_api.put(
        f"/fhir/Observation/{fhir_id}", _finding(id=fhir_id, status="amended", **VALUE)
    )
    assert changed.status_code == 200, changed.content
    client.force_login(gp.user)
    stale = client.post(
        _file_url(fhir_id), {"nhs_number": person.nhs_number, "version": 1, "confirm": "yes"}
    )
    assert "is at version 2, not 1" in stale.content.decode()
    assert Resource.objects.get(fhir_id=fhir_id).person is None


def test_someone_elses_result_cannot_be_opened_or_filed(client, gp, person):
    colleague = factories.StaffFactory()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    theirs = _sent(colleague)
    client.force_login(gp.user)
    assert client.get(_file_url(theirs)).status_code == 404
    posted = client.post(
        _file_url(theirs), {"nhs_number": person.nhs_number, "version": 1, "confirm": "yes"}
    )
    assert posted.status_code == 404
    assert Resource.objects.get(fhir_id=theirs).person is None


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        ({"valueQuantity": {"value": 5.4, "unit": "mmol/L"}}, "5.4 mmol/L"),
        ({"valueQuantity": {"value": 3, "comparator": "<", "code": "mg/L"}}, "<3 mg/L"),
        ({"valueCodeableConcept": {"text": "Positive"}}, "Positive"),
        ({"valueString": "Trace"}, "Trace"),
        (
            {"dataAbsentReason": {"coding": [{"display": "Not performed"}]}},
            "No value: Not performed",
        ),
        (
            {
                "component": [
                    {"code": {"text": "Systolic"}, "valueQuantity": {"value": 120, "unit": "mmHg"}},
                    {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 80, "unit": "mmHg"}},
                ]
            },
            "Systolic 120 mmHg; Diastolic 80 mmHg",
        ),
        ({}, ""),
    ],
)
def test_values_read_as_a_person_would_say_them(content: dict[str, Any], shown: str) -> None:
    assert unfiled.describe_value(content) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2026-11-20T09:30:00Z", "20 Nov 2026, 09:30"),
        ("2026-07-01T09:30:00Z", "1 Jul 2026, 10:30"),
        ("2026-07-01T09:30:00+01:00", "1 Jul 2026, 09:30"),
        ("2026-11-20", "20 Nov 2026"),
        ("2026-11", "2026-11"),
        ("", ""),
    ],
)
def test_when_a_result_was_taken_reads_in_uk_time(text: str, shown: str) -> None:
    assert unfiled.describe_when(text) == shown


def test_a_code_without_text_or_display_shows_its_code_and_system() -> None:
    assert unfiled.describe_code({"coding": [{"system": SNOMED, "code": "1234"}]}) == (
        f"1234 ({SNOMED})"
    )
    assert unfiled.describe_code({}) == "Not coded"
