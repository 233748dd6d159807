"""Allergies other systems send (AllergyIntolerance), kept whole, and shown first on the person
summary and on the person's own record, saying when nothing is known (decision 0038)."""

import json
from typing import Any

import pytest
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.directory.disciplines import Discipline
from wholecare.fhir import bulk_export
from wholecare.fhir.mappers import flag
from wholecare.fhir.models import ResourceVersion
from wholecare.record import services as record_services
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db

CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
SNOMED = "http://snomed.info/sct"
PSY = [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _allergy(
    person: Person, code: str, what: str, clinical: str = "active", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "code": {"coding": [{"system": SNOMED, "code": code, "display": what}]},
        "patient": {"reference": f"Patient/{person.public_id}"},
        "recordedDate": "2025-06-01",
        **extra,
    }


def _sent(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = api.post("/fhir/AllergyIntolerance", body)
    assert created.status_code == 201, created.content
    found: dict[str, Any] = created.json()
    return found


def _card(page: str) -> str:
    return page[page.index('id="allergies-heading"') : page.index("Raise an alert")]


def test_an_allergy_is_kept_whole_searched_and_deleted_as_fhir_says(gp_api, mine) -> None:
    sent = _sent(gp_api, _allergy(mine, "372687004", "Amoxicillin"))
    assert gp_api.get(f"/fhir/AllergyIntolerance/{sent['id']}").json() == sent
    for query, total in [
        (f"patient={mine.public_id}", 1),
        (f"code={SNOMED}|372687004", 1),
        ("clinical-status=active", 1),
        ("clinical-status=resolved", 0),
        ("verification-status=confirmed", 1),
        ("date=ge2025-06-01", 1),
        ("date=lt2025-06-01", 0),
    ]:
        assert gp_api.get(f"/fhir/AllergyIntolerance?{query}").json()["total"] == total, query

    assert gp_api.delete(f"/fhir/AllergyIntolerance/{sent['id']}").status_code in {200, 204}
    assert gp_api.get(f"/fhir/AllergyIntolerance/{sent['id']}").status_code == 410
    assert gp_api.get("/fhir/AllergyIntolerance").json()["total"] == 0
    last = ResourceVersion.objects.get(resource__fhir_id=sent["id"], version=2).content
    assert "clinicalStatus" not in last
    assert last["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"clinicalStatus": {"coding": [{"system": CLINICAL, "code": "gone"}]}}, "clinicalStatus"),
        (
            {"verificationStatus": {"coding": [{"system": VERIFICATION, "code": "maybe"}]}},
            "verificationStatus must be one of",
        ),
        ({"clinicalStatus": None}, "clinicalStatus is needed"),
        (
            {
                "verificationStatus": {
                    "coding": [{"system": VERIFICATION, "code": "entered-in-error"}]
                }
            },
            "not allowed when it is",
        ),
    ],
)
def test_statuses_that_break_fhirs_rules_are_refused_saying_where(
    gp_api, mine, change: dict[str, Any], says: str
) -> None:
    body = {k: v for k, v in {**_allergy(mine, "1", "X"), **change}.items() if v is not None}
    refused = gp_api.post("/fhir/AllergyIntolerance", body)
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert says in issue["diagnostics"]
    assert issue["expression"][0].startswith("AllergyIntolerance.")


def test_the_care_team_reads_allergies_first_and_when_nothing_is_known(gp, gp_api, mine) -> None:
    _, nurse = on_care_team(Discipline.DISTRICT_NURSE, mine)
    summary = reverse("web:person", args=[mine.public_id])
    nothing = _card(nurse.get(summary).content.decode())
    assert "No allergy information has been sent." in nothing
    assert "This does not mean there are no allergies" in nothing

    _sent(
        gp_api,
        _allergy(
            mine,
            "91936005",
            "Penicillin",
            criticality="high",
            reaction=[{"manifestation": [{"text": "Anaphylaxis"}], "severity": "severe"}],
        ),
    )
    _sent(gp_api, _allergy(mine, "256259004", "Pollen"))
    _sent(gp_api, _allergy(mine, "300916003", "Latex", clinical="resolved"))
    card = _card(nurse.get(summary).content.decode())

    assert card.index("Penicillin") < card.index("High risk") < card.index("Pollen")
    assert "Reaction: Anaphylaxis (severe)" in card
    assert f"From {gp.display_name}" in card
    assert "Latex" not in card
    assert "The records disagree" not in card
    page = nurse.get(summary).content.decode()
    assert page.index('id="allergies-heading"') < page.index('id="ltc-heading"')


def test_no_known_allergies_is_a_statement_and_a_contradiction_is_flagged(gp_api, mine) -> None:
    _sent(gp_api, _allergy(mine, "409137002", "No known drug allergy"))
    own = signed_in_as_person(mine)
    card = _card_own(own.get(reverse("web:my-record")).content.decode())
    assert "No known drug allergy" in card
    assert "No allergy information has been sent" not in card
    assert "<strong>No known drug allergy</strong>" not in card

    _sent(gp_api, _allergy(mine, "372687004", "Amoxicillin"))
    card = _card_own(own.get(reverse("web:my-record")).content.decode())
    assert "The records disagree" in card
    assert "Tell your GP practice which is right." in card


def _card_own(page: str) -> str:
    return page[page.index('id="allergies"') : page.index('id="care-team"')]


def test_an_allergy_sent_as_sensitive_is_read_where_the_sharing_rule_allows(mine, gp) -> None:
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    _sent(
        api_for(therapist),
        _allergy(mine, "387562000", "Sertraline", meta={"security": PSY}),
    )
    therapists = _card(
        signed_in(therapist).get(reverse("web:person", args=[mine.public_id])).content.decode()
    )
    gps = _card(signed_in(gp).get(reverse("web:person", args=[mine.public_id])).content.decode())
    assert "Sertraline" in therapists
    assert "Sertraline" not in gps
    own = signed_in_as_person(mine).get(reverse("web:my-record")).content.decode()
    assert "Sertraline" in _card_own(own)


def test_allergies_and_medicines_leave_in_a_patient_export(gp, gp_api, mine, monkeypatch) -> None:
    monkeypatch.setattr(bulk_export, "start_worker", lambda: None)
    _sent(gp_api, _allergy(mine, "372687004", "Amoxicillin"))
    statement = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"text": "Metformin 500mg tablets"},
        "subject": {"reference": f"Patient/{mine.public_id}"},
    }
    assert gp_api.post("/fhir/MedicationStatement", statement).status_code == 201
    kicked = gp_api.get(
        "/fhir/Patient/$export", Prefer="respond-async", Accept="application/fhir+json"
    )
    assert kicked.status_code == 202, kicked.content
    assert bulk_export.run_pending() == 1
    manifest = gp_api.get(kicked["Content-Location"].removeprefix("http://testserver")).json()
    files = {f["type"]: f for f in manifest["output"]}
    assert files["AllergyIntolerance"]["count"] == 1
    assert files["MedicationStatement"]["count"] == 1
    for kind in ("AllergyIntolerance", "MedicationStatement"):
        response = gp_api.get(files[kind]["url"].removeprefix("http://testserver"))
        for line in b"".join(response.streaming_content).splitlines():
            get_fhir_model_class(kind).model_validate(json.loads(line))


def test_an_allergy_alert_is_listed_with_the_allergies(gp, gp_api, mine) -> None:
    """Whoever checks allergies before giving a medicine reads them in one place: an allergy
    alert (a Flag another system sent) is not contradicted by "No allergy information has been
    sent" beneath it."""
    nurse_staff, nurse = on_care_team(Discipline.DISTRICT_NURSE, mine)
    summary = reverse("web:person", args=[mine.public_id])
    sent_flag = {
        "resourceType": "Flag",
        "status": "active",
        "category": [{"coding": [{"system": flag.CATEGORY_SYSTEM, "code": "allergy"}]}],
        "code": {"text": "Reacts to sticking plasters"},
        "subject": {"reference": f"Patient/{mine.public_id}"},
        "period": {"start": "2026-01-10T09:00:00Z"},
        "author": {"reference": f"Practitioner/{gp.pk}", "display": "Dr Paul Rastall"},
    }
    sent = gp_api.post("/fhir/Flag", sent_flag)
    assert sent.status_code == 201, sent.content
    record_services.alert_raise(
        by=nurse_staff.user, person=mine, category="safety", text="Dog at the home"
    )
    card = _card(nurse.get(summary).content.decode())
    assert "Reacts to sticking plasters" in card
    assert "raised by Dr Paul Rastall on 10 Jan 2026, shown above" in card
    assert "Dog at the home" not in card
    assert "No other system has sent allergy information." in card
    assert "This does not mean there are no allergies" not in card
    _sent(gp_api, _allergy(mine, "409137002", "No known drug allergy"))
    card = _card(nurse.get(summary).content.decode())
    assert "The records disagree" in card
    own = signed_in_as_person(mine).get(reverse("web:my-record")).content.decode()
    assert "Reacts to sticking plasters" not in own, "alerts stay off the person's own page"
