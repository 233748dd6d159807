"""Appointments other systems send, shown as coming appointments on the person summary and on the
person's own record, under the sharing rule (decision 0039)."""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.received import APPOINTMENTS_SHOWN
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db

PSY = [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _appointment(person: Person, days: int, what: str, **extra: Any) -> dict[str, Any]:
    day = timezone.localdate() + dt.timedelta(days=days)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 30)))
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "description": what,
        "start": starts.isoformat(),
        "end": (starts + dt.timedelta(minutes=30)).isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{person.public_id}"}, "status": "accepted"},
            {"actor": {"display": "Dr Asha Rao"}, "status": "accepted"},
        ],
        **extra,
    }


def _sent(api: Any, body: dict[str, Any]) -> None:
    created = api.post("/fhir/Appointment", body)
    assert created.status_code == 201, created.content


def _card(page: str) -> str:
    return page[page.index('id="appointments-heading"') : page.index('id="needs-heading"')]


def _own_card(page: str) -> str:
    return page[page.index('id="appointments"') : page.index('id="care-team"')]


def test_the_care_team_reads_coming_appointments_soonest_first(gp, gp_api, mine) -> None:
    _sent(gp_api, _appointment(mine, 14, "Diabetes eye screening"))
    _sent(
        gp_api,
        _appointment(
            mine,
            2,
            "Respiratory clinic",
            status="pending",
            comment="Bring the inhaler diary.",
            patientInstruction="Do not use your inhaler for 4 hours before.",
        ),
    )
    _sent(gp_api, _appointment(mine, -3, "Last week's review"))
    _sent(gp_api, _appointment(mine, 5, "Cancelled clinic", status="cancelled"))
    _, nurse = on_care_team(Discipline.DISTRICT_NURSE, mine)

    card = _card(nurse.get(reverse("web:person", args=[mine.public_id])).content.decode())

    assert card.index("Respiratory clinic") < card.index("Diabetes eye screening")
    in_two_days = timezone.localdate() + dt.timedelta(days=2)
    assert f"{in_two_days:%A} {in_two_days.day} {in_two_days:%B %Y}, 10:30" in card
    assert "Not yet confirmed" in card
    assert "with Dr Asha Rao" in card
    assert "The person is asked: Do not use your inhaler for 4 hours before." in card
    assert "Bring the inhaler diary." in card
    assert f"From {gp.display_name}" in card
    assert "Last week" not in card
    assert "Cancelled clinic" not in card

    own = _own_card(signed_in_as_person(mine).get(reverse("web:my-record")).content.decode())
    assert "Before it: Do not use your inhaler for 4 hours before." in own
    assert "Bring the inhaler diary." not in own


def test_only_so_many_are_listed_and_the_rest_counted(gp_api, mine) -> None:
    for days in range(APPOINTMENTS_SHOWN + 2):
        _sent(gp_api, _appointment(mine, days + 1, f"Session {days + 1}"))
    own = _own_card(signed_in_as_person(mine).get(reverse("web:my-record")).content.decode())
    assert f"Session {APPOINTMENTS_SHOWN}, with" in own
    assert f"Session {APPOINTMENTS_SHOWN + 1}, with" not in own
    assert "And 2 later." in own


def test_an_appointment_sent_as_sensitive_is_read_where_the_sharing_rule_allows(mine, gp) -> None:
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    _sent(api_for(therapist), _appointment(mine, 3, "Therapy session", meta={"security": PSY}))
    summary = reverse("web:person", args=[mine.public_id])
    assert "Therapy session" in _card(signed_in(therapist).get(summary).content.decode())
    gps = _card(signed_in(gp).get(summary).content.decode())
    assert "Therapy session" not in gps
    assert "No coming appointments have been sent." in gps
    own = signed_in_as_person(mine).get(reverse("web:my-record")).content.decode()
    assert "Therapy session" in _own_card(own)


def test_one_on_a_waiting_list_with_no_date_yet_comes_last(gp_api, mine) -> None:
    _sent(gp_api, _appointment(mine, 30, "Memory clinic"))
    waiting = _appointment(mine, 0, "Pain management programme", status="waitlist")
    del waiting["start"], waiting["end"]
    _sent(gp_api, waiting)
    own = _own_card(signed_in_as_person(mine).get(reverse("web:my-record")).content.decode())
    assert own.index("Memory clinic") < own.index("Date not yet set")
    assert own.index("Date not yet set") < own.index("On the waiting list")
    assert own.index("On the waiting list") < own.index("Pain management programme")
