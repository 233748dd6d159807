"""The timeline's entries are served as UK Core DocumentReferences, read-only, so that other
systems read what was written in Wholecare, under the same sharing rule as the timeline."""

import base64
import datetime as dt

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.access.models import SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import services
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db

KIND = "https://wholecare.example.org/CodeSystem/timeline-entry-kind"


def _caring(person: Person, discipline: str) -> Staff:
    staff = factories.StaffFactory(discipline=discipline)
    factories.CareTeamMembershipFactory(person=person, staff=staff)
    return staff


def test_a_visit_note_is_read_by_the_gp_system_as_written(person: Person) -> None:
    nurse = _caring(person, Discipline.DISTRICT_NURSE)
    service = factories.ServiceFactory(name="District nursing")
    happened = timezone.now() - dt.timedelta(hours=3)
    entry = services.entry_create(
        by=nurse.user,
        person=person,
        kind="encounter",
        title="Home visit: leg ulcer dressing",
        text="Ulcer smaller, no sign of infection. Next visit Thursday.",
        occurred_at=happened,
        service=service,
    )
    api = api_for(_caring(person, Discipline.GP))

    found = api.get(f"/fhir/DocumentReference?patient={person.public_id}").json()
    assert found["total"] == 1
    document = found["entry"][0]["resource"]
    get_fhir_model_class("DocumentReference").model_validate(document)
    assert document["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-DocumentReference"
    ]
    assert "security" not in document["meta"]
    assert document["status"] == "current"
    assert document["type"]["coding"] == [
        {"system": KIND, "code": "encounter", "display": "Encounter"}
    ]
    assert document["description"] == "Home visit: leg ulcer dressing"
    assert document["subject"]["reference"] == f"Patient/{person.public_id}"
    assert document["author"] == [
        {"reference": f"Practitioner/{nurse.pk}", "display": nurse.display_name}
    ]
    assert document["context"]["practiceSetting"] == {"text": "District nurse"}
    assert document["context"]["period"]["start"] == happened.isoformat()
    assert document["custodian"] == {"display": service.organisation.name}
    attachment = document["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]).decode() == entry.text
    assert attachment["contentType"] == "text/plain"
    read = api.get(f"/fhir/DocumentReference/{document['id']}")
    assert read.status_code == 200
    assert read.json()["description"] == entry.title


def test_a_therapy_note_is_labelled_and_withheld_as_on_the_timeline(person: Person) -> None:
    therapist = _caring(person, Discipline.HIGH_INTENSITY_THERAPIST)
    gp = _caring(person, Discipline.GP)
    services.entry_create(
        by=therapist.user,
        person=person,
        kind="note",
        title="Session 3: worry diary",
        text="Worry time practised daily.",
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
    )
    services.entry_create(by=gp.user, person=person, kind="note", title="Review", text="Well.")
    therapist_api, gp_api = api_for(therapist), api_for(gp)

    mine = therapist_api.get(f"/fhir/DocumentReference?patient={person.public_id}").json()
    assert mine["total"] == 2
    therapy = next(
        e["resource"] for e in mine["entry"] if e["resource"]["description"].startswith("Session")
    )
    security = {(s["system"].rsplit("/", 1)[1], s["code"]) for s in therapy["meta"]["security"]}
    assert {("v3-Confidentiality", "R"), ("v3-ActCode", "PSY")} <= security

    withheld = gp_api.get(f"/fhir/DocumentReference/{therapy['id']}")
    assert withheld.status_code == 403
    assert withheld.json()["issue"][0]["code"] == "suppressed"
    found = gp_api.get(f"/fhir/DocumentReference?patient={person.public_id}").json()
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["description"] == "Review"
    assert found["entry"][-1]["resource"]["issue"][0]["code"] == "suppressed"

    SharingConsent.objects.create(
        person=person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
        recorded_at=timezone.now(),
    )
    assert gp_api.get(f"/fhir/DocumentReference/{therapy['id']}").status_code == 200


def test_an_entry_withheld_from_the_person_is_labelled_nopat_for_other_systems(
    person: Person,
) -> None:
    """Decision 0040: what the person is not to read is not shown to them by another system
    either; GP Connect labels such documents NOPAT (HL7 v3 ActCode)."""
    gp = _caring(person, Discipline.GP)
    entry = services.entry_create(
        by=gp.user, person=person, kind="letter", title="Referral letter", text="Suspected cancer."
    )
    api = api_for(gp)
    url = f"/fhir/DocumentReference?patient={person.public_id}"
    assert "securityLabel" not in api.get(url).json()["entry"][0]["resource"]
    services.entry_withhold_from_person(by=gp.user, entry=entry, reason="serious-harm")
    document = api.get(url).json()["entry"][0]["resource"]
    get_fhir_model_class("DocumentReference").model_validate(document)
    nopat = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "NOPAT",
        "display": "no disclosure to patient, family or caregivers without attending"
        " provider's authorization",
    }
    assert document["meta"]["security"] == [nopat]
    assert document["securityLabel"] == [{"coding": [nopat]}]
    assert document["meta"]["versionId"] == "2"
    services.entry_show_to_person(by=gp.user, entry=entry)
    shown = api.get(f"/fhir/DocumentReference/{document['id']}").json()
    assert ("security" not in shown["meta"], "securityLabel" not in shown) == (True, True)
    assert shown["meta"]["versionId"] == "3"


def test_an_entry_marked_entered_in_error_is_gone_and_its_history_kept(person: Person) -> None:
    nurse = _caring(person, Discipline.DISTRICT_NURSE)
    entry = services.entry_create(
        by=nurse.user, person=person, kind="note", title="Visit", text="Wrong person."
    )
    api = api_for(nurse)
    fhir_id = api.get(f"/fhir/DocumentReference?patient={person.public_id}").json()["entry"][0][
        "resource"
    ]["id"]
    services.entry_enter_in_error(by=nurse.user, entry=entry, reason="Written on the wrong record")

    assert api.get(f"/fhir/DocumentReference/{fhir_id}").status_code == 410
    assert api.get(f"/fhir/DocumentReference?patient={person.public_id}").json()["total"] == 0
    history = api.get(f"/fhir/DocumentReference/{fhir_id}/_history").json()
    assert [e["resource"]["status"] for e in history["entry"]] == ["entered-in-error", "current"]


def test_searches_by_kind_and_dates_and_the_author_included(person: Person) -> None:
    gp = _caring(person, Discipline.GP)
    for kind, title, days_ago in (("letter", "Clinic letter", 40), ("note", "Phone call", 2)):
        entry = RecordEntry.objects.create(
            person=person,
            kind=kind,
            title=title,
            occurred_at=timezone.now() - dt.timedelta(days=days_ago),
            author=gp,
            discipline=gp.discipline,
        )
        RecordEntry.objects.filter(pk=entry.pk).update(created_at=entry.occurred_at)
    api = api_for(gp)
    base = f"/fhir/DocumentReference?patient={person.public_id}"

    def titles(query: str) -> list[str]:
        found = api.get(f"{base}&{query}").json()
        return [
            e["resource"]["description"]
            for e in found["entry"]
            if e["resource"]["resourceType"] == "DocumentReference"
        ]

    assert titles("type=letter") == ["Clinic letter"]
    assert titles(f"type={KIND}|note") == ["Phone call"]
    assert titles("type=http://snomed.info/sct|note") == []
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert titles(f"period=ge{week_ago}") == ["Phone call"]
    assert titles(f"date=lt{week_ago}") == ["Clinic letter"]
    assert titles("_sort=-period") == ["Phone call", "Clinic letter"]
    included = api.get(f"{base}&_include=DocumentReference:author").json()
    assert [e["resource"]["resourceType"] for e in included["entry"]].count("Practitioner") == 1


def test_entries_are_written_on_wholecares_pages_not_through_the_api(person: Person) -> None:
    gp = _caring(person, Discipline.GP)
    services.entry_create(by=gp.user, person=person, kind="note", title="Review", text="Well.")
    api = api_for(gp)
    document = api.get(f"/fhir/DocumentReference?patient={person.public_id}").json()["entry"][0][
        "resource"
    ]
    assert api.post("/fhir/DocumentReference", {**document, "id": None}).status_code == 405
    assert api.put(f"/fhir/DocumentReference/{document['id']}", document).status_code == 405
    deleted = api.delete(f"/fhir/DocumentReference/{document['id']}")
    assert deleted.status_code == 405
    assert "marks it entered in error there" in deleted.json()["issue"][0]["diagnostics"]


def test_without_a_relationship_nothing_is_read_or_found(person: Person) -> None:
    nurse = _caring(person, Discipline.DISTRICT_NURSE)
    services.entry_create(by=nurse.user, person=person, kind="note", title="Visit", text="x")
    fhir_id = (
        api_for(nurse)
        .get(f"/fhir/DocumentReference?patient={person.public_id}")
        .json()["entry"][0]["resource"]["id"]
    )
    stranger = api_for(factories.StaffFactory(discipline=Discipline.GP))
    assert stranger.get(f"/fhir/DocumentReference/{fhir_id}").status_code == 404
    found = stranger.get(f"/fhir/DocumentReference?patient={person.public_id}").json()
    assert found["total"] == 0
