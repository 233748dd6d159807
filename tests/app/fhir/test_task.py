"""Requests to the prescriber are served as UK Core Tasks owned by the organisation asked, so that
a GP practice's own system finds what waits on it, and what became of each (decision 0049)."""

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.app.conftest import asked_of_practice, reconcile_asking
from tests.app.fhir.conftest import Api, api_for
from tests.app.signed_in import on_care_team
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.medicines import services
from wholecare.medicines.models import PrescriberRequest
from wholecare.record.models import Person
from wholecare.record.services import entry_enter_in_error, entry_withhold_from_person
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db

KIND = "https://wholecare.example.org/CodeSystem/prescriber-request"


def _waiting_on(api: Api, gp: Staff) -> list[dict[str, Any]]:
    found = api.get(f"/fhir/Task?owner=Organization/{gp.organisation.ods_code}&status=requested")
    assert found.status_code == 200
    return [e["resource"] for e in found.json().get("entry", [])]


def _task(api: Api, asked: PrescriberRequest) -> dict[str, Any]:
    found = api.get(f"/fhir/Task?patient={asked.person.public_id}&code=correction").json()
    (task,) = [e["resource"] for e in found["entry"]]
    assert isinstance(task, dict)
    return task


def test_the_practice_system_finds_what_waits_on_it(gp: Staff, lists: Person) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    api = api_for(gp)

    (task,) = _waiting_on(api, gp)
    get_fhir_model_class("Task").model_validate(task)
    assert task["meta"]["profile"] == ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task"]
    assert "security" not in task["meta"]
    assert (task["status"], task["intent"]) == ("requested", "order")
    assert task["code"]["coding"] == [
        {"system": KIND, "code": "correction", "display": "Medicines correction"}
    ]
    assert task["description"] == "Medicines correction: Dapagliflozin 10mg tablets"
    assert task["identifier"][0]["value"] == str(asked.public_id)
    assert task["for"]["reference"] == f"Patient/{lists.public_id}"
    assert task["owner"] == {
        "reference": f"Organization/{gp.organisation.ods_code}",
        "display": gp.organisation.name,
    }
    assert task["requester"] == {
        "reference": f"Practitioner/{pharmacist.pk}",
        "display": pharmacist.display_name,
    }
    assert task["authoredOn"] == task["lastModified"] == asked.asked_at.isoformat()
    assert task["input"][-1] == {
        "type": {"text": "What was found"},
        "valueString": "Started in clinic on 2 Nov; not on GP list.",
    }
    assert [i["valueString"] for i in task["input"][:-1]] == asked.as_listed
    assert "note" not in task
    assert api.get(f"/fhir/Task/{task['id']}").json()["id"] == task["id"]
    elsewhere = api.get("/fhir/Task?owner=Organization/Y99999").json()
    assert elsewhere["total"] == 0
    included = api.get(
        f"/fhir/Task?owner={gp.organisation.ods_code}&status=requested&_sort=authored-on"
        "&_include=Task:owner&_include=Task:patient"
    ).json()
    assert {e["resource"]["resourceType"] for e in included["entry"]} == {
        "Task",
        "Organization",
        "Patient",
    }
    assert api.delete(f"/fhir/Task/{task['id']}").status_code == 405


def test_each_answer_and_withdrawal_is_the_task_s_status(gp: Staff, lists: Person) -> None:
    """Not done is `rejected`, with why in the answer's note; an answer entered in error makes
    the task `requested` again; a withdrawal `cancelled`; the asking note entered in error,
    `entered-in-error`. Each change is a new version."""
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    api = api_for(gp)
    first = _task(api, asked)

    answered = services.request_answer(
        by=gp.user, request=asked, answer="not-done", note="Clinic trial only: stops on 30 Nov."
    )
    task = _task(api, asked)
    assert task["status"] == "rejected"
    assert task["businessStatus"] == {"text": "Not corrected: our list stands as it is"}
    assert answered.answer_entry is not None
    (note,) = task["note"]
    assert note["text"] == answered.answer_entry.text
    assert note["text"].endswith("Clinic trial only: stops on 30 Nov.")
    assert note["authorReference"]["reference"] == f"Practitioner/{gp.pk}"
    assert task["lastModified"] == answered.answer_entry.occurred_at.isoformat()
    assert task["meta"]["versionId"] != first["meta"]["versionId"]
    assert _waiting_on(api, gp) == []
    rejected = api.get(f"/fhir/Task?status=rejected&requester=Practitioner/{pharmacist.pk}")
    assert rejected.json()["total"] == 1

    entry_enter_in_error(by=gp.user, entry=answered.answer_entry, reason="Wrong person.")
    assert _task(api, asked)["status"] == "requested"
    assert "note" not in _task(api, asked)
    services.request_answer(by=gp.user, request=asked, answer="done")
    assert _task(api, asked)["status"] == "completed"
    assert api.get("/fhir/Task?status=completed").json()["total"] == 1

    asked.refresh_from_db()
    assert asked.answer_entry is not None
    entry_enter_in_error(by=gp.user, entry=asked.answer_entry, reason="Not yet done.")
    services.request_withdraw(by=pharmacist.user, request=asked, reason="Practice telephoned.")
    task = _task(api, asked)
    assert task["status"] == "cancelled"
    assert "businessStatus" not in task
    assert task["note"][0]["text"].endswith("Practice telephoned.")

    entry_enter_in_error(by=pharmacist.user, entry=asked.asked_in, reason="Wrong person.")
    assert _task(api, asked)["status"] == "entered-in-error"
    assert api.get("/fhir/Task?status=entered-in-error").json()["total"] == 1


def test_a_task_is_shared_as_the_medicine_it_names(
    gp: Staff, person: Person, therapy_medicine: Staff
) -> None:
    """A request about a therapy medicine is withheld from a GP who does not read therapy
    records (403, and counted in searches); the one about an ordinary medicine, asked in the same
    therapy note, is served to them."""
    psychiatrist = therapy_medicine
    reconcile_asking(psychiatrist, person, gp.organisation.ods_code)
    therapy = PrescriberRequest.objects.get(medicine__startswith="Mirtazapine")
    assert therapy.sensitivity == Sensitivity.PSYCHOLOGICAL_THERAPY

    found = api_for(gp).get(f"/fhir/Task?patient={person.public_id}").json()
    tasks = [e["resource"] for e in found["entry"] if e["resource"]["resourceType"] == "Task"]
    assert [t["description"] for t in tasks] == ["Medicines correction: Atorvastatin 20mg tablets"]
    assert found["total"] == 1
    (outcome,) = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["issue"][0]["code"] == "suppressed"
    theirs = api_for(psychiatrist).get(f"/fhir/Task?patient={person.public_id}").json()
    labels = {
        e["resource"]["description"]: [s["code"] for s in e["resource"]["meta"].get("security", [])]
        for e in theirs["entry"]
    }
    assert "PSY" in labels["Medicines correction: Mirtazapine 15mg tablets"]
    assert labels["Medicines correction: Atorvastatin 20mg tablets"] == []
    therapy_id = next(
        e["resource"]["id"]
        for e in theirs["entry"]
        if "Mirtazapine" in e["resource"]["description"]
    )
    withheld = api_for(gp).get(f"/fhir/Task/{therapy_id}")
    assert withheld.status_code == 403
    assert withheld.json()["issue"][0]["code"] == "suppressed"


def test_a_task_whose_note_is_withheld_from_the_person_is_labelled_nopat(
    gp: Staff, lists: Person
) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    entry_withhold_from_person(by=pharmacist.user, entry=asked.asked_in, reason="serious-harm")
    task = _task(api_for(gp), asked)
    assert [s["code"] for s in task["meta"]["security"]] == ["NOPAT"]


def _put(api: Api, task: dict[str, Any], **changes: Any) -> Any:
    return api.put(f"/fhir/Task/{task['id']}", {**task, **changes})


def test_the_practice_answers_through_its_own_system(gp: Staff, lists: Person) -> None:
    """A GP's app answers the Task in the GP's name, as the page would: not done needs why, and
    the answer is a note on the timeline; nothing but the status and why may change."""
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    api = api_for(gp)
    task = _task(api, asked)

    changing: list[tuple[dict[str, Any], str]] = [
        ({"description": "Medicines correction: Aspirin"}, "Task.description"),
        ({"owner": {"reference": "Organization/Y99999"}}, "Task.owner"),
    ]
    for changes, where in changing:
        refused = _put(api, task, status="completed", **changes)
        assert refused.status_code == 422
        assert refused.json()["issue"][0]["expression"] == [where]
    unsaid = _put(api, task, status="rejected")
    assert unsaid.status_code == 422
    assert unsaid.json()["issue"][0]["expression"] == ["Task.statusReason.text"]
    assert "say why your list stands" in unsaid.json()["issue"][0]["diagnostics"]
    assert _put(api, task, status="on-hold").status_code == 422
    unchanged = _put(api, task)
    assert unchanged.status_code == 422
    assert unchanged.json()["issue"][0]["diagnostics"] == "The Task is already requested"
    asked.refresh_from_db()
    assert asked.answer_entry is None

    answered = _put(api, task, status="rejected", statusReason={"text": "Clinic trial only."})
    assert answered.status_code == 200
    assert answered.json()["status"] == "rejected"
    asked.refresh_from_db()
    assert asked.answer == "not-done"
    assert asked.answer_entry is not None
    assert asked.answer_entry.author == gp
    assert asked.answer_entry.text.endswith("Clinic trial only.")
    again = _put(api, answered.json(), status="completed")
    assert again.status_code == 422
    assert "already been answered" in again.json()["issue"][0]["diagnostics"]


def test_the_organisation_asked_answers_and_whoever_asked_withdraws(
    gp: Staff, clinic: Staff, lists: Person
) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    theirs = api_for(clinic)
    task = _task(theirs, asked)
    refused = _put(theirs, task, status="completed")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert (
        _put(api_for(gp), task, status="cancelled", statusReason={"text": "No."}).status_code == 403
    )
    read_only = api_for(gp, scope="user/*.rs")
    assert _put(read_only, task, status="completed").status_code == 403

    mine = api_for(pharmacist)
    assert _put(mine, task, status="cancelled").status_code == 422
    withdrawn = _put(mine, task, status="cancelled", statusReason={"text": "Telephoned."})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "cancelled"
    asked.refresh_from_db()
    assert asked.withdrawal_entry is not None
