"""Medicines other systems send (MedicationStatement, MedicationRequest), kept whole and shown
on the person summary and on the person's own record under the sharing rule (decision 0037)."""

import datetime as dt
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.mappers.medication import REVIEW_GROUP
from wholecare.fhir.models import SearchToken
from wholecare.medicines import selectors
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db

DMD = "https://dmd.nhs.uk"
PSY = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"},
]


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _statement(person: Person, name: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": status,
        "medicationCodeableConcept": {"coding": [{"system": DMD, "code": "1", "display": name}]},
        "subject": {"reference": f"Patient/{person.public_id}"},
        "effectivePeriod": {"start": "2024-03-01"},
        **extra,
    }


def _sent(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = api.post(f"/fhir/{body['resourceType']}", body)
    assert created.status_code == 201, created.content
    found: dict[str, Any] = created.json()
    return found


def test_a_medication_statement_is_kept_whole_read_and_searched(gp_api, mine) -> None:
    sent = _sent(
        gp_api,
        _statement(
            mine,
            "Sertraline 50mg tablets",
            dosage=[{"text": "One each morning"}],
            category={"coding": [{"code": "community"}]},
        ),
    )
    assert gp_api.get(f"/fhir/MedicationStatement/{sent['id']}").json() == sent
    for query, total in [
        (f"patient={mine.public_id}", 1),
        (f"code={DMD}|1", 1),
        (f"code={DMD}|2", 0),
        ("status=active", 1),
        ("status=stopped", 0),
        ("category=community", 1),
        ("effective=ge2024-03-01", 1),
        ("effective=gt2024-03-01", 0),
    ]:
        found = gp_api.get(f"/fhir/MedicationStatement?{query}").json()
        assert found["total"] == total, query
    included = gp_api.get(
        f"/fhir/MedicationStatement?patient={mine.public_id}&_include=MedicationStatement:patient"
    ).json()
    assert [e["resource"]["resourceType"] for e in included["entry"]] == [
        "MedicationStatement",
        "Patient",
    ]
    bad = gp_api.post("/fhir/MedicationStatement", _statement(mine, "X", status="taking"))
    assert bad.status_code == 422
    assert bad.json()["issue"][0]["expression"] == ["MedicationStatement.status"]


def test_a_medication_request_is_kept_whole_and_searched_by_when_it_was_written(
    gp_api, mine
) -> None:
    sent = _sent(
        gp_api,
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": DMD, "code": "7", "display": "M"}]},
            "subject": {"reference": f"Patient/{mine.public_id}"},
            "authoredOn": "2026-10-01",
        },
    )
    assert gp_api.get(f"/fhir/MedicationRequest/{sent['id']}").json() == sent
    assert gp_api.get("/fhir/MedicationRequest?authoredon=2026-10-01").json()["total"] == 1
    assert gp_api.get("/fhir/MedicationRequest?authoredon=lt2026-10-01").json()["total"] == 0
    assert gp_api.get(f"/fhir/MedicationRequest?code={DMD}|7").json()["total"] == 1
    no_intent = {k: v for k, v in sent.items() if k not in {"id", "meta", "intent"}}
    assert gp_api.post("/fhir/MedicationRequest", no_intent).status_code in {400, 422}


def test_the_care_team_reads_what_the_person_takes_and_lately_stopped(gp, gp_api, mine) -> None:
    today = timezone.localdate()
    _sent(
        gp_api,
        _statement(
            mine,
            "Metformin 500mg tablets",
            dosage=[{"text": "One twice a day with food"}],
            reasonCode=[{"text": "Type 2 diabetes"}],
        ),
    )
    _sent(gp_api, _statement(mine, "Amlodipine 5mg tablets", status="on-hold"))
    _sent(
        gp_api,
        _statement(
            mine,
            "Amoxicillin 250mg capsules",
            effectivePeriod={"start": "2020-01-01", "end": "2020-01-08"},
        ),
    )
    recent_end = (today - dt.timedelta(days=10)).isoformat()
    _sent(
        gp_api,
        _statement(
            mine,
            "Citalopram 20mg tablets",
            status="stopped",
            effectivePeriod={"start": "2023-01-01", "end": recent_end},
        ),
    )
    _sent(
        gp_api,
        _statement(
            mine,
            "Ramipril 2.5mg capsules",
            status="stopped",
            effectivePeriod={"start": "2020-01-01", "end": "2021-01-01"},
        ),
    )
    wrong = _sent(gp_api, _statement(mine, "Warfarin 1mg tablets"))
    gp_api.put(f"/fhir/MedicationStatement/{wrong['id']}", {**wrong, "status": "entered-in-error"})
    _, nurse = on_care_team(Discipline.DISTRICT_NURSE, mine)

    page = nurse.get(reverse("web:person", args=[mine.public_id])).content.decode()

    current = page[page.index('id="medicines-heading"') : page.index("Stopped in the last 90 days")]
    assert current.index("Amlodipine") < current.index("Amoxicillin") < current.index("Metformin")
    assert "One twice a day with food" in current
    assert "Since 1 Mar 2024 · For Type 2 diabetes · From" in current
    assert gp.display_name in current
    assert "Paused" in current
    assert current.count("Past its end date") == 1
    ended = page[page.index("Stopped in the last 90 days") :]
    assert "Citalopram 20mg tablets: stopped" in ended
    assert "Ramipril" not in page
    assert "Warfarin" not in page
    assert "Wholecare does not prescribe" in page


def test_a_medicine_sent_as_sensitive_is_read_only_where_the_sharing_rule_allows(mine, gp) -> None:
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    _sent(
        api_for(therapist),
        _statement(mine, "Mirtazapine 15mg tablets", meta={"security": PSY}),
    )
    _sent(api_for(gp), _statement(mine, "Atorvastatin 20mg tablets"))

    def medicines_seen(staff: Any) -> str:
        page = signed_in(staff).get(reverse("web:person", args=[mine.public_id])).content.decode()
        return page[page.index('id="medicines-heading"') : page.index('id="team-heading"')]

    assert "Mirtazapine" in medicines_seen(therapist)
    assert "Mirtazapine" not in medicines_seen(gp)
    assert "Atorvastatin" in medicines_seen(gp)
    own = signed_in_as_person(mine).get(reverse("web:my-record")).content.decode()
    assert "Mirtazapine 15mg tablets" in own
    assert "Atorvastatin 20mg tablets" in own
    assert "tell your GP practice or pharmacist" in own


def test_medicines_of_other_people_never_show(gp, gp_api, mine) -> None:
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=gp)
    _sent(gp_api, _statement(other, "Lithium carbonate 400mg tablets"))
    own = signed_in_as_person(mine).get(reverse("web:my-record")).content.decode()
    assert "Lithium" not in own
    assert "No system has sent your medicines." in own


def test_the_therapist_reads_what_the_person_takes_beside_their_mood(gp_api, mine) -> None:
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    _sent(
        gp_api,
        _statement(mine, "Amitriptyline 10mg tablets", dosage=[{"text": "One or two at night"}]),
    )
    page = (
        signed_in(therapist)
        .get(reverse("talking_therapies:person", args=[mine.public_id]))
        .content.decode()
    )
    card = page[page.index('id="medicines-heading"') : page.index("Mood and physical health")]
    assert "Amitriptyline 10mg tablets" in card
    assert "One or two at night" in card


def _taking(api: Any, person: Person, count: int, **extra: Any) -> None:
    for n in range(count):
        _sent(api, _statement(person, f"Medicine {n}", **extra))


def test_a_pharmacist_is_shown_whom_to_consider_for_a_medication_review(gp_api, mine) -> None:
    pharmacist = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    factories.CareTeamMembershipFactory(person=mine, staff=pharmacist)
    fewer = factories.PersonFactory()
    stranger = factories.PersonFactory()
    gp = mine.care_team.get(staff__discipline=Discipline.GP).staff
    for person in (fewer, stranger):
        factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.CareTeamMembershipFactory(person=fewer, staff=pharmacist)
    _taking(gp_api, mine, 10)
    _taking(gp_api, mine, 2, status="stopped")
    _taking(gp_api, fewer, 9)
    _taking(gp_api, stranger, 12)

    page = signed_in(pharmacist).get(reverse("web:caseload")).content.decode()

    listed = page[page.index("Structured medication reviews to consider") : page.index("Everyone")]
    assert mine.full_name in listed
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">10</td>' in listed
    assert fewer.full_name not in listed
    assert stranger.full_name not in listed
    assert AuditEvent.objects.filter(
        person_id=mine.pk, what="people to consider for a structured medication review"
    ).exists()
    nurse_page = on_care_team(Discipline.DISTRICT_NURSE, mine)[1].get(reverse("web:caseload"))
    assert "Structured medication reviews" not in nurse_page.content.decode()
    gp_page = signed_in(gp).get(reverse("web:caseload")).content.decode()
    gp_listed = gp_page[gp_page.index("Structured medication reviews") : gp_page.index("Everyone")]
    assert gp_listed.index(stranger.full_name) < gp_listed.index(mine.full_name)


def test_a_second_system_listing_the_same_medicines_is_not_more_medicines(gp_api, mine) -> None:
    pharmacist = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    factories.CareTeamMembershipFactory(person=mine, staff=pharmacist)
    clinic = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    factories.CareTeamMembershipFactory(person=mine, staff=clinic)
    _taking(gp_api, mine, 6)
    _taking(api_for(clinic), mine, 6)
    page = signed_in(pharmacist).get(reverse("web:caseload")).content.decode()
    assert "Structured medication reviews to consider" not in page
    _taking(api_for(clinic), mine, 4)
    page = signed_in(pharmacist).get(reverse("web:caseload")).content.decode()
    listed = page[page.index("Structured medication reviews to consider") : page.index("Everyone")]
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">10</td>' in listed


def test_potentially_addictive_and_error_prone_medicines_are_reasons_for_a_review(
    gp, gp_api, mine
) -> None:
    pharmacist = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    factories.CareTeamMembershipFactory(person=mine, staff=pharmacist)
    both = factories.PersonFactory()
    for person in (both,):
        factories.CareTeamMembershipFactory(person=person, staff=gp)
        factories.CareTeamMembershipFactory(person=person, staff=pharmacist)
    pain = _sent(
        gp_api,
        {
            **_statement(mine, "x"),
            "medicationCodeableConcept": {"text": "Co-codamol 30mg/500mg tablets"},
        },
    )
    _sent(
        gp_api,
        {
            **_statement(both, "x"),
            "medicationCodeableConcept": {"text": "Pregabalin 75mg capsules"},
        },
    )
    _sent(
        gp_api,
        {**_statement(both, "x"), "medicationCodeableConcept": {"text": "Warfarin 1mg tablets"}},
    )
    _sent(
        gp_api,
        {
            **_statement(both, "x"),
            "medicationCodeableConcept": {
                "text": "Buprenorphine 5micrograms/hour transdermal patches"
            },
            "status": "stopped",
        },
    )

    page = signed_in(pharmacist).get(reverse("web:caseload")).content.decode()
    listed = page[page.index("Structured medication reviews to consider") : page.index("Everyone")]
    assert listed.index(both.full_name) < listed.index(mine.full_name)
    assert "<li>Potentially addictive: a gabapentinoid</li>" in listed
    assert "<li>Often involved in errors: an anticoagulant</li>" in listed
    assert "<li>Potentially addictive: an opioid</li>" in listed

    changed = {**pain, "medicationCodeableConcept": {"text": "Paracetamol 500mg tablets"}}
    assert gp_api.put(f"/fhir/MedicationStatement/{pain['id']}", changed).status_code == 200
    page = signed_in(pharmacist).get(reverse("web:caseload")).content.decode()
    listed = page[page.index("Structured medication reviews to consider") : page.index("Everyone")]
    assert mine.full_name not in listed
    assert both.full_name in listed


def test_statements_sent_before_the_groups_existed_are_indexed_by_the_migration(
    gp_api, mine
) -> None:
    _sent(
        gp_api,
        {
            **_statement(mine, "x"),
            "medicationCodeableConcept": {
                "text": "Lithium carbonate 400mg modified-release tablets"
            },
        },
    )
    indexed = SearchToken.objects.filter(param=REVIEW_GROUP)
    assert list(indexed.values_list("value", flat=True)) == ["lithium"]
    migration = import_module("wholecare.fhir.migrations.0008_medication_review_groups")
    migration.unindex(apps, None)
    assert not indexed.exists()
    migration.index(apps, None)
    assert list(indexed.values_list("value", flat=True)) == ["lithium"]


def test_the_caseload_shows_the_first_ten_and_a_page_lists_everyone_to_consider(gp, gp_api) -> None:
    pharmacist = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    people = [factories.PersonFactory() for _ in range(12)]
    for person in people:
        factories.CareTeamMembershipFactory(person=person, staff=gp)
        factories.CareTeamMembershipFactory(person=person, staff=pharmacist)
        body = _statement(person, "x")
        _sent(gp_api, {**body, "medicationCodeableConcept": {"text": "Tramadol 50mg capsules"}})
    client = signed_in(pharmacist)
    caseload = client.get(reverse("web:caseload")).content.decode()
    listed = caseload[caseload.index("Structured medication reviews") : caseload.index("Everyone")]
    assert listed.count("<li>Potentially addictive: an opioid</li>") == 10
    assert "See all 12 people to consider for a review" in listed
    page = client.get(reverse("web:medication-reviews"))
    assert page.content.decode().count("<li>Potentially addictive: an opioid</li>") == 12
    assert {row.person for row in page.context["reviews"].rows} == set(people)
    second = selectors.medication_reviews_to_consider(by=pharmacist.user, page=2, per_page=5)
    assert (len(second.rows), second.page, second.pages, second.total) == (5, 2, 3, 12)
    audited = AuditEvent.objects.filter(
        what="people to consider for a structured medication review",
        actor_user_id=pharmacist.user.pk,
    )
    before = audited.count()
    last = selectors.medication_reviews_to_consider(by=pharmacist.user, page=99, per_page=5)
    assert (len(last.rows), last.page) == (2, 3)
    assert audited.count() == before + 2
    nurse = on_care_team(Discipline.DISTRICT_NURSE, people[0])[1]
    refused = nurse.get(reverse("web:medication-reviews")).content.decode()
    assert "Structured medication reviews are carried out by pharmacists and GPs" in refused
    assert people[0].full_name not in refused
