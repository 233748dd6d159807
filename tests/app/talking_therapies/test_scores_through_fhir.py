"""Questionnaire totals recorded on the Talking Therapies pages are served as UK Core
Observations (decision 0033): read-only, under the sharing rule the pages apply, and searched and
sorted with the Observations other systems send."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.talking_therapies.conftest import (
    GAD7_MODERATE,
    PHQ9_SEVERE,
    PHQ9_WELL,
    Setting,
    days_ago,
    refer,
    score,
)
from wholecare.access.models import SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record.vocabulary import Sensitivity
from wholecare.talking_therapies import selectors, services
from wholecare.talking_therapies.models import MeasureScore

pytestmark = pytest.mark.django_db

PHQ9_LOINC = "http://loinc.org|44261-6"


def _scored_in_therapy(tt: Setting) -> None:
    referral = refer(tt, received=40)
    score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(30))
    score(tt, referral, "GAD7", GAD7_MODERATE, days_ago(30))
    score(tt, referral, "PHQ9", PHQ9_WELL, days_ago(10))


def _hba1c(tt: Setting, day: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": f"Patient/{tt.person.public_id}"},
        "effectiveDateTime": day,
        "valueQuantity": {"value": 58, "unit": "mmol/mol"},
    }


def _entries(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in found.get("entry", []) if e["search"]["mode"] == "match"]


def test_a_score_recorded_here_is_read_as_a_uk_core_observation(tt: Setting) -> None:
    _scored_in_therapy(tt)
    api = api_for(tt.pwp)

    found = api.get(f"/fhir/Observation?patient={tt.person.public_id}&_sort=date").json()
    assert found["total"] == 3
    first = _entries(found)[0]
    get_fhir_model_class("Observation").model_validate(first)
    assert first["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation"
    ]
    assert {"system": "http://loinc.org", "code": "44261-6"} in first["code"]["coding"]
    assert first["category"][0]["coding"][0]["code"] == "survey"
    assert first["effectiveDateTime"] == days_ago(30).isoformat()
    assert first["valueQuantity"]["value"] == 18
    assert first["interpretation"] == [{"text": "Severity: moderately severe"}]
    assert first["performer"] == [
        {"reference": f"Practitioner/{tt.pwp.pk}", "display": tt.pwp.display_name}
    ]
    security = {s["code"] for s in first["meta"]["security"]}
    assert {"R", "PSY"} <= security
    assert api.get(f"/fhir/Observation/{first['id']}").json()["valueQuantity"]["value"] == 18

    phq9 = api.get(f"/fhir/Observation?code={PHQ9_LOINC}&_sort=-date").json()
    assert [o["valueQuantity"]["value"] for o in _entries(phq9)] == [4, 18]
    by_measure = api.get(
        "/fhir/Observation?code=https://wholecare.example.org/CodeSystem/measure|GAD7"
    )
    assert by_measure.json()["total"] == 1
    recent = api.get(f"/fhir/Observation?date=ge{days_ago(20).isoformat()}").json()
    assert [o["valueQuantity"]["value"] for o in _entries(recent)] == [4]
    assert api.get("/fhir/Observation?category=vital-signs").json()["total"] == 0
    assert api.get("/fhir/Observation?status=preliminary").json()["total"] == 0
    assert api.get("/fhir/Observation?category=survey&status=final").json()["total"] == 3


def test_a_score_measured_in_a_referral_is_based_on_its_service_request(tt: Setting) -> None:
    """Whoever reads the scores pairs a referral's first and last, as NHS England does; a screen
    before any referral is based on none. The ServiceRequest made for the scores is the one the
    referral is then read as, and a page of scores reads the referrals' ids at once, not one a
    score."""
    referral = refer(tt, received=40)
    score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(30))
    services.measure_record(
        by=tt.pwp.user,
        person=tt.person,
        measure="PHQ9",
        answers=PHQ9_SEVERE,
        measured_on=days_ago(35),
    )
    api = api_for(tt.pwp)

    def based_on() -> list[list[dict[str, str]] | None]:
        found = api.get(f"/fhir/Observation?patient={tt.person.public_id}&_sort=date").json()
        return [o.get("basedOn") for o in _entries(found)]

    screen, in_therapy = based_on()
    assert screen is None
    (request,) = _entries(api.get(f"/fhir/ServiceRequest?patient={tt.person.public_id}").json())
    assert in_therapy == [{"reference": f"ServiceRequest/{request['id']}"}]
    for _ in range(2):
        score(tt, referral, "PHQ9", PHQ9_WELL, days_ago(5))
    assert based_on()[1:] == [in_therapy] * 3
    with CaptureQueriesContext(connection) as four_scores:
        based_on()
    score(tt, referral, "GAD7", GAD7_MODERATE, days_ago(25))
    based_on()
    with CaptureQueriesContext(connection) as five_scores:
        based_on()
    assert len(five_scores) == len(four_scores)


def test_a_score_the_person_completed_from_a_link_says_so(tt: Setting) -> None:
    referral = refer(tt, received=40)
    invitation = services.invitation_create(
        by=tt.pwp.user, person=tt.person, referral=referral, measures_wanted=["PHQ9"]
    )
    services.questionnaire_submit(
        code=invitation.code, client="192.0.2.1", answers={"PHQ9": PHQ9_WELL}
    )
    found = _entries(api_for(tt.pwp).get("/fhir/Observation").json())
    assert [(o["performer"][0]["reference"], o["note"]) for o in found] == [
        (
            f"Patient/{tt.person.public_id}",
            [{"text": "Completed by the person from a link"}],
        )
    ]


def test_scores_follow_the_sharing_rule_as_on_the_talking_therapies_pages(tt: Setting) -> None:
    _scored_in_therapy(tt)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=tt.person, staff=gp)
    mental_health_nurse = factories.StaffFactory(discipline=Discipline.MENTAL_HEALTH_NURSE)
    factories.CareTeamMembershipFactory(person=tt.person, staff=mental_health_nurse)
    shown = api_for(tt.therapist).get("/fhir/Observation").json()
    some_id = _entries(shown)[0]["id"]

    for staff, sees in ((tt.nurse, False), (gp, False), (mental_health_nurse, True)):
        found = api_for(staff).get("/fhir/Observation").json()
        assert found["total"] == (3 if sees else 0), staff.discipline
        if not sees:
            assert found["entry"][-1]["resource"]["issue"][0]["code"] == "suppressed"
            withheld = api_for(staff).get(f"/fhir/Observation/{some_id}")
            assert withheld.status_code == 403
        page = selectors.person_page(by=staff.user, public_id=tt.person.public_id)
        assert (page.withheld_scores == 0) is sees, "the pages and the API agree"

    SharingConsent.objects.create(
        person=tt.person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
        recorded_at=timezone.now(),
    )
    assert api_for(gp).get("/fhir/Observation").json()["total"] == 3


def test_who_reads_which_score_on_the_pages_and_through_the_api(tt: Setting) -> None:
    """`scores_readable_q`, the one rule the person's page and the API apply: whoever entered a
    score or sent its link, every member of a service the person is referred to, and otherwise
    the disciplines the sharing rule (and the person's decisions) share therapy entries with."""
    services.measures_record(
        by=tt.nurse.user, person=tt.person, answers={"PHQ9": PHQ9_WELL}, measured_on=days_ago(50)
    )
    invitation = services.invitation_create(
        by=tt.nurse.user, person=tt.person, referral=None, measures_wanted=["GAD7"]
    )
    services.questionnaire_submit(
        code=invitation.code, client="192.0.2.2", answers={"GAD7": GAD7_MODERATE}
    )
    _scored_in_therapy(tt)
    psychiatrist = factories.StaffFactory(discipline=Discipline.PSYCHIATRIST)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    for colleague in (psychiatrist, gp):
        factories.CareTeamMembershipFactory(person=tt.person, staff=colleague)
    screens = ["GAD7 12.0", "PHQ9 4.0"]
    everything = sorted([*screens, "GAD7 12.0", "PHQ9 18.0", "PHQ9 4.0"])
    expected: dict[Staff, list[str]] = {
        tt.nurse: screens,
        tt.pwp: everything,
        tt.manager: everything,
        psychiatrist: everything,
        gp: [],
    }
    for staff, scores in expected.items():
        page = selectors.person_page(by=staff.user, public_id=tt.person.public_id)
        shown = sorted(f"{s.measure} {s.total}" for s in page.scores + page.screens)
        assert shown == scores, staff.discipline
        assert page.withheld_scores == 5 - len(shown)
        found = api_for(staff).get(f"/fhir/Observation?patient={tt.person.public_id}").json()
        assert found["total"] == len(shown), staff.discipline


def test_a_score_recorded_here_is_neither_changed_nor_deleted_through_the_api(tt: Setting) -> None:
    _scored_in_therapy(tt)
    api = api_for(tt.pwp)
    found = _entries(api.get("/fhir/Observation").json())[0]

    changed = api.put(f"/fhir/Observation/{found['id']}", {**found, "status": "amended"})
    assert changed.status_code == 405
    assert (
        "recorded on Wholecare's Talking Therapies pages"
        in changed.json()["issue"][0]["diagnostics"]
    )
    deleted = api.delete(f"/fhir/Observation/{found['id']}")
    assert deleted.status_code == 405
    assert MeasureScore.objects.count() == 3
    assert api.get(f"/fhir/Observation/{found['id']}").status_code == 200


def test_scores_and_observations_other_systems_send_sort_and_page_together(tt: Setting) -> None:
    _scored_in_therapy(tt)
    api = api_for(tt.pwp)
    for day in (days_ago(40), days_ago(20), days_ago(1)):
        assert api.post("/fhir/Observation", _hba1c(tt, day.isoformat())).status_code == 201

    def dates(query: str) -> list[str]:
        seen: list[str] = []
        url: str | None = f"/fhir/Observation?patient={tt.person.public_id}&{query}&_count=2"
        while url:
            page = api.get(url).json()
            assert page["total"] == 6
            seen += [o["effectiveDateTime"] for o in _entries(page)]
            url = next(
                (
                    link["url"].split("testserver", 1)[1]
                    for link in page["link"]
                    if link["relation"] == "next"
                ),
                None,
            )
        return seen

    expected = [days_ago(n).isoformat() for n in (40, 30, 30, 20, 10, 1)]
    assert dates("_sort=date") == expected
    assert dates("_sort=-date") == sorted(expected, reverse=True)
    hba1c = api.get("/fhir/Observation?code=http://loinc.org|4548-4").json()
    assert hba1c["total"] == 3
    sent = _entries(hba1c)[0]
    assert (
        api.put(f"/fhir/Observation/{sent['id']}", {**sent, "status": "amended"}).status_code == 200
    )


def test_without_a_relationship_no_score_is_read_or_found(tt: Setting) -> None:
    _scored_in_therapy(tt)
    known = _entries(api_for(tt.pwp).get("/fhir/Observation").json())[0]["id"]
    outsider = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    api = api_for(outsider)
    assert api.get(f"/fhir/Observation/{known}").status_code == 404
    found = api.get(f"/fhir/Observation?patient={tt.person.public_id}").json()
    assert (found["total"], _entries(found)) == (0, [])
    outcomes = [e["resource"] for e in found.get("entry", [])]
    assert "suppressed" not in [i["code"] for o in outcomes for i in o["issue"]], (
        "nothing withheld is counted for someone whose record the client may not open"
    )
