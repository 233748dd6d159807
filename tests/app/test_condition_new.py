"""Recording a condition from the person summary (decision 0017): clinicians who make diagnoses
choose one of Wholecare's long-term or mental health conditions; everyone else is told to add
what they know to the timeline, and the record refuses them whichever way they ask."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import DIAGNOSING, NO_DIRECT_CARE, Discipline
from wholecare.record import services
from wholecare.record.models import Condition

pytestmark = pytest.mark.django_db

T2DM = "44054006"
DEPRESSION = "35489007"

#: Who may record a diagnosis, every discipline named: a new discipline must be placed here.
MAY_RECORD = {
    Discipline.GP: True,
    Discipline.PRACTICE_NURSE: True,
    Discipline.DISTRICT_NURSE: True,
    Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER: True,
    Discipline.HIGH_INTENSITY_THERAPIST: True,
    Discipline.PSYCHIATRIST: True,
    Discipline.MENTAL_HEALTH_NURSE: True,
    Discipline.OCCUPATIONAL_THERAPIST: True,
    Discipline.PHYSIOTHERAPIST: True,
    Discipline.PHARMACIST: True,
    Discipline.SOCIAL_WORKER: False,
    Discipline.HOMECARE_WORKER: False,
    Discipline.PEER_SUPPORT_WORKER: False,
    Discipline.CARE_COORDINATOR: False,
    Discipline.VOLUNTARY_SECTOR_WORKER: False,
    Discipline.SERVICE_MANAGER: False,
    Discipline.ANALYST: False,
    Discipline.ADMINISTRATOR: False,
    Discipline.PRIVACY_OFFICER: False,
}


def _new(person: Any) -> str:
    return reverse("web:condition-new", kwargs={"public_id": person.public_id})


def _summary(client: Client, person: Any) -> str:
    return client.get(
        reverse("web:person", kwargs={"public_id": person.public_id})
    ).content.decode()


def test_every_discipline_is_placed_as_diagnosing_or_not() -> None:
    assert set(MAY_RECORD) == set(Discipline)
    assert {d for d, may in MAY_RECORD.items() if may} == DIAGNOSING


def test_a_gp_records_a_long_term_condition_from_the_summary(person: Any) -> None:
    gp, client = on_care_team(Discipline.GP, person)
    assert _new(person) in _summary(client, person)
    form = client.get(_new(person)).content.decode()
    assert '<optgroup label="Long-term conditions">' in form
    assert "Type 2 diabetes mellitus (SNOMED CT 44054006)" in form
    assert 'value="active" checked' in form
    done = client.post(
        _new(person),
        {
            "snomed_code": T2DM,
            "onset_date_0": "3",
            "onset_date_1": "2",
            "onset_date_2": "2019",
            "clinical_status": "active",
        },
        follow=True,
    )
    body = done.content.decode()
    assert "Type 2 diabetes mellitus has been added to the record." in body
    long_term = body.split('id="ltc-heading"')[1].split('id="mh-heading"')[0]
    assert "Type 2 diabetes mellitus" in long_term
    condition = person.conditions.get()
    assert (condition.snomed_code, condition.onset_date, condition.clinical_status) == (
        T2DM,
        dt.date(2019, 2, 3),
        "active",
    )
    assert (condition.recorded_by, condition.recorded_by_discipline) == (gp, Discipline.GP)
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, person_id=person.pk)
    assert event.what == "condition: Type 2 diabetes mellitus"


def test_a_therapist_records_a_mental_health_condition_without_an_onset(person: Any) -> None:
    _, client = on_care_team(Discipline.HIGH_INTENSITY_THERAPIST, person)
    client.post(_new(person), {"snomed_code": DEPRESSION, "clinical_status": "remission"})
    condition = person.conditions.get()
    assert (condition.onset_date, condition.clinical_status) == (None, "remission")
    assert condition.recorded_by_discipline == Discipline.HIGH_INTENSITY_THERAPIST


def test_a_condition_already_on_the_record_is_not_offered_nor_recorded_twice(
    person: Any,
) -> None:
    gp, client = on_care_team(Discipline.GP, person)
    factories.ConditionFactory(person=person, snomed_code=T2DM, recorded_by=gp)
    form = client.get(_new(person)).content.decode()
    assert f'value="{T2DM}"' not in form
    assert f'value="{DEPRESSION}"' in form
    again = client.post(_new(person), {"snomed_code": T2DM, "clinical_status": "active"})
    assert "one already on the record cannot be recorded again" in again.content.decode()
    assert person.conditions.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"clinical_status": "active"}, "Choose the condition"),
        ({"snomed_code": "12345", "clinical_status": "active"}, "Choose a condition from the list"),
        ({"snomed_code": T2DM}, "Choose whether the condition is active, in remission or resolved"),
        (
            {"snomed_code": T2DM, "clinical_status": "active", "onset_date_2": "2019"},
            "Onset date must include a day, month and year",
        ),
        (
            {
                "snomed_code": T2DM,
                "clinical_status": "active",
                "onset_date_0": "30",
                "onset_date_1": "2",
                "onset_date_2": "2019",
            },
            "Onset date must be a real date",
        ),
        (
            {
                "snomed_code": T2DM,
                "clinical_status": "active",
                "onset_date_0": "1",
                "onset_date_1": "1",
                "onset_date_2": str(timezone.localdate().year + 1),
            },
            "Onset date must be today or in the past",
        ),
        (
            {
                "snomed_code": T2DM,
                "clinical_status": "active",
                "onset_date_0": "1",
                "onset_date_1": "1",
                "onset_date_2": "1901",
            },
            "Onset date is before the person&#x27;s date of birth",
        ),
    ],
)
def test_a_bad_form_says_what_is_wrong_and_records_nothing(
    person: Any, data: dict[str, str], message: str
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    page = client.post(_new(person), data)
    assert page.status_code == 200
    body = page.content.decode()
    assert "There is a problem" in body
    assert message in body
    assert not person.conditions.exists()


@pytest.mark.parametrize(
    "discipline", sorted(d for d, may in MAY_RECORD.items() if not may and d not in NO_DIRECT_CARE)
)
def test_staff_who_do_not_diagnose_are_told_to_add_to_the_timeline_instead(
    person: Any, discipline: str
) -> None:
    staff, client = on_care_team(discipline, person)
    assert _new(person) not in _summary(client, person)
    page = client.get(_new(person))
    assert page.status_code == 403
    assert "Only clinicians who make diagnoses" in page.content.decode()
    assert reverse("web:entry-new", kwargs={"public_id": person.public_id}) in (
        page.content.decode()
    )
    refused = client.post(_new(person), {"snomed_code": T2DM, "clinical_status": "active"})
    assert refused.status_code == 403
    with pytest.raises(AccessDenied, match="Only clinicians who make diagnoses"):
        services.condition_record(by=staff.user, person=person, snomed_code=T2DM)
    assert not person.conditions.exists()


def test_without_a_relationship_the_page_is_refused_like_the_record(person: Any) -> None:
    stranger = factories.StaffFactory(discipline=Discipline.GP)
    client = signed_in(stranger)
    assert client.get(_new(person)).status_code == 403
    assert client.post(_new(person), {"snomed_code": T2DM}).status_code == 403
    assert not Condition.objects.exists()
    assert AuditEvent.objects.filter(
        actor_user_id=stranger.user.pk, action=AuditEvent.Action.DENIED, person_id=person.pk
    ).exists()


def _condition_resource(person: Any, code: str = T2DM) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{person.public_id}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
    }


def test_through_the_api_only_a_diagnosing_disciplines_client_records_a_condition(
    person: Any,
) -> None:
    social_worker, _ = on_care_team(Discipline.SOCIAL_WORKER, person)
    refused = api_for(social_worker).post("/fhir/Condition", _condition_resource(person))
    assert refused.status_code == 403
    issue = refused.json()["issue"][0]
    assert issue["code"] == "forbidden"
    assert "Only clinicians who make diagnoses" in issue["diagnostics"]
    assert not person.conditions.exists()
    nurse, _ = on_care_team(Discipline.PRACTICE_NURSE, person)
    assert api_for(nurse).post("/fhir/Condition", _condition_resource(person)).status_code == 201
    assert person.conditions.get().recorded_by == nurse


def test_a_bulk_import_as_staff_who_do_not_diagnose_rejects_each_condition_saying_why(
    tmp_path: Path, person: Any
) -> None:
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER, user__username="sw")
    factories.CareTeamMembershipFactory(person=person, staff=social_worker)
    conditions = tmp_path / "Condition.ndjson"
    conditions.write_text(json.dumps(_condition_resource(person)) + "\n")
    report = tmp_path / "report.tsv"
    call_command(
        "fhir", "import", str(conditions), "--as", "sw", "--report", str(report), stdout=StringIO()
    )
    rows = [line.split("\t") for line in report.read_text().splitlines()]
    assert [(row[2], "Only clinicians who make diagnoses" in row[3]) for row in rows] == [
        ("rejected", True)
    ]
    assert not person.conditions.exists()
