"""An Observation that names no Patient is held unfiled (decision 0013): on nobody's record,
readable only by the member of staff whose client sent it, never shown to anyone else, and filed
by an update that names the Patient; a subject that is given must still resolve."""

import json
from typing import Any

import pytest

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.directory.disciplines import Discipline
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
