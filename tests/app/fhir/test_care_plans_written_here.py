"""Care plans written with the person on Wholecare's pages (decision 0031) are served as UK Core
CarePlans beside those other systems send: read, searched and included like them; changed and
ended only on Wholecare's pages; under the same access rule as the record."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import services
from wholecare.record.models import CarePlan, Person

pytestmark = pytest.mark.django_db

ACTIONS = [
    services.PlannedAction("Dress the leg ulcer twice a week", "District nurse", "in-progress"),
    services.PlannedAction("Ring every evening", "Daughter"),
]


def _caring(person: Person, discipline: str = Discipline.DISTRICT_NURSE) -> Staff:
    staff = factories.StaffFactory(discipline=discipline)
    factories.CareTeamMembershipFactory(person=person, staff=staff)
    return staff


def _written(person: Person, by: Staff, **changes: Any) -> CarePlan:
    values: dict[str, Any] = {
        "title": "Staying well at home",
        "what_matters": "Staying at home with my cat.",
        "actions": ACTIONS,
        "if_things_change": "If she falls, press the pendant alarm.",
        "review_date": timezone.localdate() + dt.timedelta(days=60),
        "agreed_with_person": True,
        "lead": by,
        **changes,
    }
    return services.care_plan_write(by=by.user, person=person, **values)


def _kept(person: Person, title: str) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "title": title,
        "subject": {"reference": f"Patient/{person.public_id}"},
        "period": {"start": "2026-09-01"},
    }


def test_a_plan_written_here_is_read_as_a_uk_core_care_plan(person: Person) -> None:
    nurse = _caring(person)
    social_worker = _caring(person, Discipline.SOCIAL_WORKER)
    plan = _written(person, nurse)
    plan = services.care_plan_write(
        by=social_worker.user,
        person=person,
        plan=plan,
        version=1,
        title=plan.title,
        what_matters=plan.what_matters,
        actions=ACTIONS,
        if_things_change=plan.if_things_change,
        review_date=plan.review_date,
        agreed_with_person=True,
        lead=social_worker,
    )
    api = api_for(_caring(person, Discipline.GP))

    found = api.get(f"/fhir/CarePlan?patient=Patient/{person.public_id}").json()
    assert found["total"] == 1
    rendered = found["entry"][0]["resource"]
    get_fhir_model_class("CarePlan").model_validate(rendered)
    assert rendered["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-CarePlan"
    ]
    assert (rendered["status"], rendered["intent"], rendered["title"]) == (
        "active",
        "plan",
        "Staying well at home",
    )
    assert rendered["description"] == "What matters to the person: Staying at home with my cat."
    assert rendered["subject"]["reference"] == f"Patient/{person.public_id}"
    assert rendered["author"] == {
        "reference": f"Practitioner/{social_worker.pk}",
        "display": social_worker.display_name,
    }, "the coordinator, who is responsible for the plan"
    assert rendered["contributor"] == [
        {"reference": f"Practitioner/{nurse.pk}", "display": nurse.display_name}
    ], "who wrote it; the coordinator changed it last"
    assert [
        (a["detail"]["description"], a["detail"]["status"], a["detail"]["performer"])
        for a in rendered["activity"]
    ] == [
        ("Dress the leg ulcer twice a week", "in-progress", [{"display": "District nurse"}]),
        ("Ring every evening", "not-started", [{"display": "Daughter"}]),
    ]
    assert [n["text"] for n in rendered["note"]] == [
        f"Review by {plan.review_date.isoformat()}.",
        "Agreed with the person.",
        "If things change: If she falls, press the pendant alarm.",
    ]
    read = api.get(f"/fhir/CarePlan/{rendered['id']}")
    assert read.status_code == 200
    assert read.json()["title"] == "Staying well at home"

    person.user = factories.UserFactory()
    person.save()
    services.care_plan_progress(by=person.user, plan=plan, statuses={2: "completed"}, version=2)
    progressed = api.get(f"/fhir/CarePlan/{rendered['id']}").json()
    get_fhir_model_class("CarePlan").model_validate(progressed)
    assert progressed["meta"]["versionId"] == "2"
    assert progressed["activity"][1]["detail"]["status"] == "completed"
    assert progressed["activity"][1]["detail"]["statusReason"] == {
        "text": f"Recorded by the person on {timezone.localdate().isoformat()}"
    }
    assert "statusReason" not in progressed["activity"][0]["detail"]


def test_an_ended_plan_says_when_and_why_and_searches_find_it_by_status(person: Person) -> None:
    nurse = _caring(person)
    plan = _written(person, nurse)
    services.care_plan_end(
        by=nurse.user, plan=plan, status="completed", end_reason="Ulcer healed", version=1
    )
    api = api_for(nurse)
    assert api.get(f"/fhir/CarePlan?patient={person.public_id}&status=active").json()["total"] == 0
    ended = api.get(f"/fhir/CarePlan?patient={person.public_id}&status=completed").json()
    rendered = ended["entry"][0]["resource"]
    assert rendered["period"]["end"] == timezone.localdate().isoformat()
    assert rendered["note"][-1] == {"text": "Why it ended: Ulcer healed"}


def test_searches_find_both_sources_and_each_kept_plan_is_still_changed_through_the_api(
    person: Person,
) -> None:
    nurse = _caring(person)
    _written(person, nurse)
    api = api_for(nurse)
    created = api.post("/fhir/CarePlan", _kept(person, "Falls prevention"))
    assert created.status_code == 201
    kept = created.json()

    found = api.get(f"/fhir/CarePlan?patient={person.public_id}").json()
    assert [e["resource"]["title"] for e in found["entry"]] == [
        "Staying well at home",
        "Falls prevention",
    ]
    assert (
        api.get(f"/fhir/CarePlan?patient={person.public_id}&date=ge2026-10-01").json()["total"] == 1
    ), "the plan written here started today; the one kept whole on 1 September"
    assert api.get(f"/fhir/CarePlan?_id={kept['id']}").json()["total"] == 1
    included = api.get(f"/fhir/CarePlan?patient={person.public_id}&_include=CarePlan:patient")
    assert [e["resource"]["resourceType"] for e in included.json()["entry"]].count("Patient") == 1

    changed = api.put(f"/fhir/CarePlan/{kept['id']}", {**kept, "status": "completed"})
    assert changed.status_code == 200
    assert api.delete(f"/fhir/CarePlan/{kept['id']}").status_code in {200, 204}


def test_a_sort_pages_through_both_sources_in_one_order(person: Person) -> None:
    """Plans written here (by when written) and those kept whole (by the start of their period)
    in one order, a plan with no date last either way, the same across pages."""
    nurse = _caring(person)
    api = api_for(nurse)
    for title, written in (("Here in August", "2026-08-15"), ("Here in October", "2026-10-10")):
        CarePlan.objects.filter(pk=_written(person, nurse, title=title).pk).update(
            written_at=dt.datetime.fromisoformat(f"{written}T10:00+01:00")
        )
    _written(person, nurse, title="Here today")
    for title, start in (("Sent for September", "2026-09-01"), ("Sent for November", "2026-11-01")):
        kept = {**_kept(person, title), "period": {"start": start}}
        assert api.post("/fhir/CarePlan", kept).status_code == 201
    undated = {
        key: value for key, value in _kept(person, "Sent undated").items() if key != "period"
    }
    assert api.post("/fhir/CarePlan", undated).status_code == 201

    def titles(query: str) -> list[str]:
        found: list[str] = []
        url: str | None = f"/fhir/CarePlan?patient={person.public_id}&{query}&_count=2"
        while url:
            page = api.get(url).json()
            assert page["total"] == 6
            found += [e["resource"]["title"] for e in page["entry"]]
            url = next(
                (
                    link["url"].split("testserver", 1)[1]
                    for link in page["link"]
                    if link["relation"] == "next"
                ),
                None,
            )
        return found

    oldest_first = [
        "Here in August",
        "Sent for September",
        "Here in October",
        "Sent for November",
        "Here today",
        "Sent undated",
    ]
    assert titles("_sort=date") == oldest_first
    assert titles("_sort=-date") == [*reversed(oldest_first[:-1]), "Sent undated"]
    assert titles("_sort=-_lastUpdated")[:3] == [
        "Sent undated",
        "Sent for November",
        "Sent for September",
    ]
    assert api.get("/fhir/CarePlan?_sort=status").status_code == 400


def test_a_plan_written_here_is_changed_and_ended_only_on_wholecares_pages(
    person: Person,
) -> None:
    nurse = _caring(person)
    _written(person, nurse)
    api = api_for(nurse)
    rendered = api.get(f"/fhir/CarePlan?patient={person.public_id}").json()["entry"][0]["resource"]

    changed = api.put(f"/fhir/CarePlan/{rendered['id']}", {**rendered, "title": "Changed"})
    assert changed.status_code == 405
    assert "changed there, not through the API" in changed.json()["issue"][0]["diagnostics"]
    deleted = api.delete(f"/fhir/CarePlan/{rendered['id']}")
    assert deleted.status_code == 405
    assert "it is ended there" in deleted.json()["issue"][0]["diagnostics"]
    assert CarePlan.objects.get().title == "Staying well at home"


def test_without_a_relationship_a_plan_is_neither_read_nor_found(person: Person) -> None:
    nurse = _caring(person)
    _written(person, nurse)
    rendered = api_for(nurse).get(f"/fhir/CarePlan?patient={person.public_id}").json()
    fhir_id = rendered["entry"][0]["resource"]["id"]
    stranger = api_for(factories.StaffFactory(discipline=Discipline.GP))
    assert stranger.get(f"/fhir/CarePlan/{fhir_id}").status_code == 404
    assert stranger.get(f"/fhir/CarePlan?patient={person.public_id}").json()["total"] == 0
