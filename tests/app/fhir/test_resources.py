"""Every resource type: what it maps, how it is searched, and the 422s for content the record
refuses (unknown codes, references to resources that do not exist)."""

import pytest

from tests import factories
from tests.app.fhir.conftest import sharing_decision
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.models import Resource
from wholecare.record.models import Alert, Condition, Referral

pytestmark = pytest.mark.django_db
SNOMED = "http://snomed.info/sct"


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _ref(person) -> dict[str, str]:
    return {"reference": f"Patient/{person.public_id}"}


def _condition(person, code="44054006", **extra):
    return {
        "resourceType": "Condition",
        "subject": _ref(person),
        "code": {"coding": [{"system": SNOMED, "code": code}]},
        "onsetDateTime": "2019-05-01",
        **extra,
    }


def test_condition_round_trip_search_by_code_and_include_patient(gp_api, mine):
    created = gp_api.post("/fhir/Condition", _condition(mine))
    assert created.status_code == 201, created.content
    condition = created.json()
    assert {"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11"} in condition["code"][
        "coding"
    ]
    assert Condition.objects.get(person=mine).snomed_code == "44054006"
    found = gp_api.get(
        f"/fhir/Condition?patient={mine.public_id}&code={SNOMED}|44054006"
        "&onset-date=ge2019-01&_include=Condition:patient"
    ).json()
    assert found["total"] == 1
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in found["entry"]]
    assert modes == [("Condition", "match"), ("Patient", "include")]
    assert gp_api.get("/fhir/Condition?onset-date=lt2019-05-01").json()["total"] == 0
    assert gp_api.get("/fhir/Condition?onset-date=eb2019-05-02").json()["total"] == 1
    icd = gp_api.get("/fhir/Condition?code=http://hl7.org/fhir/sid/icd-10|E11").json()
    assert icd["total"] == 1

    resolved = {
        **condition,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved",
                }
            ]
        },
    }
    updated = gp_api.put(f"/fhir/Condition/{condition['id']}", resolved, **{"If-Match": 'W/"1"'})
    assert updated.status_code == 200, updated.content
    assert updated.json()["meta"]["versionId"] == "2"
    assert Condition.objects.get(person=mine).clinical_status == "resolved"


def test_condition_code_that_is_not_a_snomed_ct_concept_is_422(gp_api, mine):
    response = gp_api.post("/fhir/Condition", _condition(mine, code="22298006999"))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["Condition.code"]
    assert not Condition.objects.exists()


VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("provisional", "confirmed conditions only"),
        ("differential", "confirmed conditions only"),
        ("unconfirmed", "confirmed conditions only"),
        ("refuted", "confirmed conditions only"),
        ("entered-in-error", "nothing on the record to withdraw"),
    ],
)
def test_a_condition_that_is_not_confirmed_is_refused_never_kept_as_a_diagnosis(
    gp_api, mine, status, says
):
    verification = {"coding": [{"system": VERIFICATION, "code": status}]}
    refused = gp_api.post("/fhir/Condition", _condition(mine, verificationStatus=verification))
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert says in issue["diagnostics"]
    assert issue["expression"] == ["Condition.verificationStatus"]
    assert not Condition.objects.exists()


def test_a_confirmed_condition_may_say_so_a_status_must_be_coded_and_an_update_withdraws_it(
    gp_api, mine
):
    confirmed = {"coding": [{"system": VERIFICATION, "code": "confirmed"}]}
    made = gp_api.post("/fhir/Condition", _condition(mine, verificationStatus=confirmed))
    assert made.status_code == 201, made.content
    uncoded = gp_api.post(
        "/fhir/Condition", _condition(mine, code="13645005", verificationStatus={"text": "?"})
    )
    assert uncoded.status_code == 422
    assert VERIFICATION in uncoded.json()["issue"][0]["diagnostics"]
    marked = {
        **made.json(),
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "entered-in-error"}]},
    }
    withdrawn = gp_api.put(f"/fhir/Condition/{made.json()['id']}", marked)
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert not Condition.objects.filter(person=mine).exists()
    assert gp_api.get(f"/fhir/Condition/{made.json()['id']}").status_code == 410


def test_condition_for_a_patient_that_does_not_exist_is_422(gp_api, person):
    unknown = {"reference": "Patient/0d3c1f7e-6a4b-4e3f-9a57-1b2c3d4e5f60"}
    for subject in (unknown, _ref(person)):
        response = gp_api.post("/fhir/Condition", {**_condition(person), "subject": subject})
        assert response.status_code == 422
        assert response.json()["issue"][0]["code"] == "not-found"


def test_practitioner_role_includes_practitioner_and_organization(gp_api, gp):
    found = gp_api.get(
        f"/fhir/PractitionerRole?practitioner=Practitioner/{gp.pk}"
        "&_include=PractitionerRole:practitioner&_include=PractitionerRole:organization"
    ).json()
    types = sorted(e["resource"]["resourceType"] for e in found["entry"])
    assert types == ["Organization", "Practitioner", "PractitionerRole"]
    organisation = gp_api.get(f"/fhir/Organization/{gp.organisation.ods_code}").json()
    assert organisation["identifier"][0] == {
        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
        "value": gp.organisation.ods_code,
    }


def _phq9(person, answers, status="completed"):
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://wholecare.example.org/Questionnaire/phq9",
        "status": status,
        "subject": _ref(person),
        "authored": "2026-03-02T10:00:00+00:00",
        "item": [
            {"linkId": str(n), "answer": [{"valueInteger": a}]}
            for n, a in enumerate(answers, start=1)
            if a is not None
        ],
    }


def test_phq9_response_is_scored_into_an_observation_and_item9_raises_a_flag(gp_api, mine):
    created = gp_api.post("/fhir/QuestionnaireResponse", _phq9(mine, [2, 2, 1, 1, 1, 1, 1, 1, 2]))
    assert created.status_code == 201, created.content
    response_id = created.json()["id"]
    found = gp_api.get(f"/fhir/Observation?derived-from=QuestionnaireResponse/{response_id}")
    observation = found.json()["entry"][0]["resource"]
    assert observation["valueQuantity"]["value"] == 12
    assert {"system": "http://loinc.org", "code": "44261-6"} in observation["code"]["coding"]
    assert observation["interpretation"] == [{"text": "Severity: moderate"}]
    alert = Alert.objects.get(person=mine)
    assert alert.category == "risk"
    assert "item 9" in alert.text
    flags = gp_api.get(f"/fhir/Flag?patient={mine.public_id}&status=active").json()
    assert flags["total"] == 1
    by_code = gp_api.get("/fhir/Observation?code=http://loinc.org|44261-6&date=ge2026-03").json()
    assert by_code["total"] == 1


def test_missing_item9_raises_a_flag_even_with_a_low_total(gp_api, mine):
    created = gp_api.post(
        "/fhir/QuestionnaireResponse", _phq9(mine, [0, 0, 0, 0, 0, 0, 0, 0, None])
    )
    assert created.status_code == 201
    assert "not answered" in Alert.objects.get(person=mine).text


def test_unscorable_response_is_kept_with_its_flag_but_no_total(gp_api, mine):
    answers = [1, None, None, None, 0, 0, 0, 0, 3]
    created = gp_api.post(
        "/fhir/QuestionnaireResponse", _phq9(mine, answers), Prefer="return=OperationOutcome"
    )
    assert created.status_code == 201
    assert "Not scored" in created.json()["issue"][0]["diagnostics"]
    assert Alert.objects.filter(person=mine).count() == 1
    assert not Resource.objects.filter(resource_type="Observation").exists()


def test_out_of_range_answer_is_422_and_names_the_safety_flag(gp_api, mine):
    response = gp_api.post("/fhir/QuestionnaireResponse", _phq9(mine, [5, 0, 0, 0, 0, 0, 0, 0, 2]))
    assert response.status_code == 422
    issues = response.json()["issue"]
    assert "item 1" in issues[0]["diagnostics"]
    assert "ITEM9_POSITIVE" in issues[1]["diagnostics"]
    assert not Resource.objects.exists()
    assert not Alert.objects.exists()


def test_questionnaires_come_from_the_measures(gp_api):
    phq9 = gp_api.get("/fhir/Questionnaire/phq9").json()
    assert len(phq9["item"]) == 9
    assert phq9["url"] == "https://wholecare.example.org/Questionnaire/phq9"
    assert gp_api.get("/fhir/Questionnaire").json()["total"] == 17


def test_observation_without_a_system_and_code_is_422_and_any_coded_one_is_kept(gp_api, mine):
    body = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": _ref(mine),
        "effectiveDateTime": "2026-02-01",
        "valueQuantity": {
            "value": 81.5,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }
    assert gp_api.post("/fhir/Observation", body).status_code == 201
    lab = {**body, "code": {"coding": [{"system": "http://loinc.org", "code": "1751-7"}]}}
    assert gp_api.post("/fhir/Observation", lab).status_code == 201
    for code in ({"coding": [{"code": "1751-7"}]}, {"text": "albumin"}):
        wrong = gp_api.post("/fhir/Observation", {**body, "code": code})
        assert wrong.status_code == 422
        assert wrong.json()["issue"][0]["expression"] == ["Observation.code"]
    bad_status = {**body, "status": "finalx"}
    assert gp_api.post("/fhir/Observation", bad_status).status_code == 422


@pytest.mark.parametrize(
    ("resource_type", "body"),
    [
        (
            "Encounter",
            {
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "HH",
                },
                "period": {"start": "2026-01-10T09:00:00+00:00"},
            },
        ),
        ("EpisodeOfCare", {"status": "active", "period": {"start": "2026-01-10"}}),
        ("CarePlan", {"status": "active", "intent": "plan", "period": {"start": "2026-01-10"}}),
        (
            "Appointment",
            {
                "status": "booked",
                "start": "2026-01-10T09:00:00+00:00",
                "end": "2026-01-10T09:30:00+00:00",
            },
        ),
    ],
)
def test_resources_kept_whole_round_trip_and_search(gp_api, mine, resource_type, body):
    subject = {"EpisodeOfCare": "patient"}.get(resource_type, "subject")
    if resource_type == "Appointment":
        body = {**body, "participant": [{"actor": _ref(mine), "status": "accepted"}]}
    else:
        body = {**body, subject: _ref(mine)}
    created = gp_api.post(f"/fhir/{resource_type}", {"resourceType": resource_type, **body})
    assert created.status_code == 201, created.content
    kept = created.json()
    read = gp_api.get(f"/fhir/{resource_type}/{kept['id']}").json()
    assert read == kept
    found = gp_api.get(f"/fhir/{resource_type}?patient={mine.public_id}&date=ge2026-01-10")
    assert found.json()["total"] == 1
    assert gp_api.get(f"/fhir/{resource_type}?date=gt2026-01-10").json()["total"] == 0
    changed = {**read, "status": "entered-in-error"}
    updated = gp_api.put(f"/fhir/{resource_type}/{kept['id']}", changed)
    assert updated.json()["meta"]["versionId"] == "2"
    history = gp_api.get(f"/fhir/{resource_type}/_history").json()
    assert history["total"] == 2


def test_referral_and_consent_are_written_through_the_record(gp_api, mine):
    service = factories.ServiceFactory()
    created = gp_api.post(
        "/fhir/ServiceRequest",
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "subject": _ref(mine),
            "performer": [{"reference": f"HealthcareService/{service.pk}"}],
            "reasonCode": [{"text": "Low mood"}],
        },
    )
    assert created.status_code == 201, created.content
    assert Referral.objects.get(person=mine).reason == "Low mood"
    consent = gp_api.post("/fhir/Consent", sharing_decision(mine, "gp"))
    assert consent.status_code == 201, consent.content
    assert SharingConsent.objects.get(person=mine).discipline == Discipline.GP
    team = gp_api.get(f"/fhir/CareTeam?patient={mine.public_id}").json()
    assert team["entry"][0]["resource"]["participant"][0]["role"] == [{"text": "Named GP"}]


def test_a_sharing_decision_about_staff_who_give_no_direct_care_is_refused_at_its_actor(
    gp_api, mine
):
    refused = gp_api.post("/fhir/Consent", sharing_decision(mine, "analyst"))
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert issue["expression"] == ["Consent.provision.actor"]
    assert "give no direct care" in issue["diagnostics"]
    assert not SharingConsent.objects.exists()


def test_search_pages_with_links(gp_api, gp):
    for _ in range(5):
        factories.CareTeamMembershipFactory(staff=gp)
    first = gp_api.get("/fhir/Patient?_count=2").json()
    assert first["total"] == 5
    relations = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in relations
    seen = [e["resource"]["id"] for e in first["entry"]]
    url = relations["next"]
    while url:
        page = gp_api.get(url.split("testserver", 1)[1]).json()
        seen += [e["resource"]["id"] for e in page["entry"]]
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert "previous" in links
        url = links.get("next")
    assert len(seen) == len(set(seen)) == 5


def test_audit_events_are_the_clients_own_actions(gp_api, mine):
    gp_api.get(f"/fhir/Patient/{mine.public_id}")
    events = gp_api.get("/fhir/AuditEvent?action=view").json()
    assert events["total"] >= 1
    event = events["entry"][0]["resource"]
    assert event["entity"][0]["what"]["reference"] == f"Patient/{mine.public_id}"
    assert gp_api.post("/fhir/AuditEvent", {"resourceType": "AuditEvent"}).status_code == 405


def _referral(person, service, **extra):
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": _ref(person),
        "performer": [{"reference": f"HealthcareService/{service.pk}"}],
        **extra,
    }


def test_an_urgent_referral_stays_urgent_on_the_record_and_in_what_is_read_back(
    gp_api, gp, mine, client
):
    service = factories.ServiceFactory(name="Home First")
    urgent = gp_api.post("/fhir/ServiceRequest", _referral(mine, service, priority="urgent"))
    assert urgent.status_code == 201, urgent.content
    assert urgent.json()["priority"] == "urgent"
    assert Referral.objects.get(person=mine).priority == "urgent"
    assert AuditEvent.objects.filter(what="referral to Home First (Urgent)").exists()
    routine = gp_api.post(
        "/fhir/ServiceRequest",
        _referral(mine, factories.ServiceFactory(), code={"text": "x"}, priority="routine"),
    )
    assert routine.status_code == 201, routine.content
    assert "priority" not in routine.json(), "no priority is FHIR's routine"
    client.force_login(gp.user)
    summary = client.get(f"/people/{mine.public_id}/").content.decode()
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Urgent</strong>' in summary
    gp.services.add(service)
    assert "Home First (urgent)" in client.get("/caseload/").content.decode()


def test_a_priority_fhir_does_not_define_is_refused_at_its_element(gp_api, mine):
    service = factories.ServiceFactory()
    refused = gp_api.post("/fhir/ServiceRequest", _referral(mine, service, priority="soonish"))
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert issue["expression"] == ["ServiceRequest.priority"]
    assert "'soonish' is not one of routine, urgent, asap, stat" in issue["diagnostics"]
    assert not Referral.objects.exists()
