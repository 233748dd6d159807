"""Care plans other systems send through the FHIR API are on the person summary, for every
discipline caring for the person to read (HF34): in force first, with who wrote and sent them,
each activity and its status; ended ones and those the reader may not see are not shown."""

from typing import Any

import pytest
from django.urls import reverse

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import signed_in
from wholecare.directory.disciplines import Discipline
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db


def _plan(person: Person, title: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "status": status,
        "intent": "plan",
        "title": title,
        "subject": {"reference": f"Patient/{person.public_id}"},
        **extra,
    }


def test_a_gp_systems_care_plan_is_read_on_the_summary_by_the_district_nurse() -> None:
    person = factories.PersonFactory()
    gp = factories.StaffFactory(
        discipline=Discipline.GP, user__first_name="Harbour Street", user__last_name="GP system"
    )
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    for staff in (gp, nurse):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    api = api_for(gp)
    living_well = _plan(
        person,
        "Living well with COPD",
        description="Stay out of hospital this winter; walk to the shop and back.",
        period={"start": "2026-09-01", "end": "2027-03-01"},
        author={"display": "Dr Nia Okafor"},
        addresses=[{"display": "Chronic obstructive lung disease"}],
        activity=[
            {"detail": {"status": "in-progress", "description": "Pulmonary rehabilitation"}},
            {
                "detail": {
                    "status": "stopped",
                    "description": "Home oxygen",
                    "statusReason": {"text": "Not needed since rehabilitation"},
                }
            },
        ],
    )
    stale = _plan(person, "Falls prevention", period={"start": "2025-01-01", "end": "2025-06-30"})
    ended = _plan(person, "Weight management", status="completed")
    withheld = _plan(
        person,
        "Sexual health plan",
        meta={
            "security": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SEX"}
            ]
        },
    )
    for body in (living_well, stale, ended, withheld):
        assert api.post("/fhir/CarePlan", body).status_code == 201, body

    html = signed_in(nurse).get(reverse("web:person", args=[person.public_id])).content.decode()
    plans = html.split('id="care-plans-heading"')[1].split("</section>")[0]
    assert plans.index("Living well with COPD") < plans.index("Falls prevention"), "latest first"
    assert "From other services' systems" in plans
    assert "No care plan is in force." not in plans
    assert "Stay out of hospital this winter" in plans
    assert "1 Sep 2026 to 1 Mar 2027" in plans
    assert "written by Dr Nia Okafor" in plans
    assert "sent by Harbour Street GP system" in plans
    assert "about Chronic obstructive lung disease" in plans
    assert "Pulmonary rehabilitation: in progress" in plans
    assert "Home oxygen: stopped (Not needed since rehabilitation)" in plans
    assert "Past its end date" in plans.split("Falls prevention")[1]
    assert "Past its end date" not in plans.split("Falls prevention")[0]
    assert "Weight management" not in html, "a completed plan is not one to follow"
    assert "Sexual health plan" not in html, "labelled: shared with the GP only"
    assert "Sexual health plan" in (
        signed_in(gp).get(reverse("web:person", args=[person.public_id])).content.decode()
    )


def test_no_plans_says_so() -> None:
    person = factories.PersonFactory()
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    factories.CareTeamMembershipFactory(person=person, staff=nurse)
    html = signed_in(nurse).get(reverse("web:person", args=[person.public_id])).content.decode()
    card = html.split('id="care-plans-heading"')[1].split('id="timeline-heading"')[0]
    assert "No care plan is in force." in card
    assert "From other services' systems" not in card
