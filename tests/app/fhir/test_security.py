"""Security at the API the same as in the app: SMART scopes narrow access, no relationship means
no data (and no sign of existence, in reads, searches, totals or pages), sensitive resources are
labelled and withheld with `suppressed`, every interaction is audited, tokens expire."""

import datetime as dt

import pytest
from django.db.models import Q
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests import factories
from tests.app.fhir.conftest import Api, api_for
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.access.permissions import sensitive_access
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.access import openable_people, readable_q
from wholecare.fhir.auth import Grant, TokenError, client_register, token_issue
from wholecare.fhir.errors import FhirError
from wholecare.fhir.models import AccessToken, Resource
from wholecare.fhir.scopes import Permission, parse_scopes
from wholecare.record.models import RecordEntry
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db
PSY = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"},
]


def _encounter(person, sensitive=False):
    body = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{person.public_id}"},
        "period": {"start": "2026-02-01T10:00:00+00:00"},
    }
    if sensitive:
        body["meta"] = {"security": PSY}
    return body


def test_no_relationship_no_data_and_no_sign_of_existence(gp_api, person):
    factories.ConditionFactory(person=person)
    assert gp_api.get(f"/fhir/Patient/{person.public_id}").status_code == 404
    found = gp_api.get(f"/fhir/Patient?identifier={person.nhs_number}").json()
    assert found["total"] == 0
    assert found["entry"] == []
    assert gp_api.get("/fhir/Condition").json()["total"] == 0
    assert gp_api.get(f"/fhir/Patient/{person.public_id}/_history").status_code == 404
    # The refusal is on the person's access history, as in the web UI.
    assert AuditEvent.objects.filter(person_id=person.pk, action="denied").count() == 2


def test_scopes_narrow_what_a_token_may_do(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    reader = api_for(gp, "user/Patient.rs")
    assert reader.get(f"/fhir/Patient/{person.public_id}").status_code == 200
    refused = reader.get("/fhir/Condition")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert reader.post("/fhir/Patient", {"resourceType": "Patient"}).status_code == 403


def test_patient_scope_holds_the_token_to_one_person(gp, person):
    other = factories.PersonFactory()
    for someone in (person, other):
        factories.CareTeamMembershipFactory(person=someone, staff=gp)
    api = api_for(gp, "patient/*.rs", patient=person)
    assert api.get(f"/fhir/Patient/{person.public_id}").status_code == 200
    assert api.get(f"/fhir/Patient/{other.public_id}").status_code == 404
    assert api.get("/fhir/Patient").json()["total"] == 1


def test_token_endpoint_client_credentials(client, gp):
    registered, secret = client_register(name="GP system", staff=gp, allowed_scopes="system/*.rs")
    refused = client.post(
        "/fhir/token",
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": "wrong",
            "scope": "system/*.rs",
        },
    )
    assert refused.status_code == 401
    too_much = client.post(
        "/fhir/token",
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": secret,
            "scope": "system/*.cruds",
        },
    )
    assert too_much.json()["error"] == "invalid_scope"
    issued = client.post(
        "/fhir/token",
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": secret,
            "scope": "system/Patient.rs",
        },
    )
    assert issued.status_code == 200
    token = issued.json()["access_token"]
    assert Api(token).get("/fhir/Patient").status_code == 200
    assert Api(token).get("/fhir/Condition").status_code == 403


def test_expired_or_unknown_token_is_401(gp):
    registered, _ = client_register(name="x", staff=gp, allowed_scopes="user/*.rs")
    token, record = token_issue(client=registered, scope="user/*.rs")
    AccessToken.objects.filter(pk=record.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert Api(token).get("/fhir/Patient").status_code == 401
    assert Api("made-up").get("/fhir/Patient").status_code == 401
    with pytest.raises(TokenError):
        token_issue(client=registered, scope="patient/*.rs")


def test_sensitive_resource_is_labelled_and_withheld_as_suppressed(person, therapist, gp):
    for staff in (therapist, gp):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    therapist_api, gp_api = api_for(therapist), api_for(gp)
    created = therapist_api.post("/fhir/Encounter", _encounter(person, sensitive=True))
    assert created.status_code == 201, created.content
    security = {
        (s["system"].rsplit("/", 1)[1], s["code"]) for s in created.json()["meta"]["security"]
    }
    assert {("v3-Confidentiality", "R"), ("v3-ActCode", "PSY"), ("v3-ActCode", "MH")} <= security
    gp_api.post("/fhir/Encounter", _encounter(person))

    withheld = gp_api.get(f"/fhir/Encounter/{created.json()['id']}")
    assert withheld.status_code == 403
    assert withheld.json()["issue"][0]["code"] == "suppressed"
    found = gp_api.get(f"/fhir/Encounter?patient={person.public_id}").json()
    assert found["total"] == 1
    outcome = found["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert outcome["resource"]["issue"][0]["code"] == "suppressed"
    assert therapist_api.get(f"/fhir/Encounter?patient={person.public_id}").json()["total"] == 2

    SharingConsent.objects.create(
        person=person,
        sensitivity="psychological-therapy",
        discipline="gp",
        decision="permit",
        recorded_at=timezone.now(),
    )
    assert gp_api.get(f"/fhir/Encounter/{created.json()['id']}").status_code == 200


def test_every_interaction_is_audited_in_the_same_transaction(gp_api, gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    for url in (f"/fhir/Patient/{person.public_id}", "/fhir/Patient", "/fhir/Organization"):
        before = AuditEvent.objects.count()
        assert gp_api.get(url).status_code == 200
        assert AuditEvent.objects.count() == before + 1, url
        latest = AuditEvent.objects.first()
        assert latest is not None
        assert latest.what.startswith("FHIR ")


class CrossPersonSharingRule(TestCase):
    """The sharing rule compiled for searches across people agrees with the record's own
    per-person rule, for every discipline and every consent decision, on kept resources and on
    the timeline's entries alike."""

    @settings(max_examples=40, deadline=None)
    @given(
        discipline=st.sampled_from(list(Discipline)),
        sensitivity=st.sampled_from(list(Sensitivity)),
        decision=st.sampled_from(["permit", "deny", None]),
        own=st.booleans(),
    )
    def test_readable_q_matches_sensitive_access(self, discipline, sensitivity, decision, own):
        person = factories.PersonFactory()
        staff = factories.StaffFactory(discipline=discipline)
        author = staff if own else factories.StaffFactory()
        if decision and sensitivity is not Sensitivity.NORMAL:
            SharingConsent.objects.create(
                person=person,
                sensitivity=sensitivity,
                discipline=discipline,
                decision=decision,
                recorded_at=timezone.now(),
            )
        resource = Resource.objects.create(
            resource_type="Encounter",
            fhir_id=f"r{Resource.objects.count()}",
            version=1,
            last_updated=timezone.now(),
            person=person,
            sensitivity=sensitivity,
            author=author,
            content={},
        )
        entry = factories.RecordEntryFactory(person=person, author=author, sensitivity=sensitivity)
        expected = sensitive_access(staff, person).may_read(entry)
        found = Resource.objects.filter(Q(pk=resource.pk), readable_q(staff)).exists()
        assert found is expected
        served = RecordEntry.objects.filter(Q(pk=entry.pk), readable_q(staff)).exists()
        assert served is expected, "the timeline's entries, served as DocumentReferences"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scope", "permission"),
    [("patient/Condition.rs", Permission.READ), ("user/Patient.r", Permission.SEARCH)],
)
def test_the_people_a_grant_may_open_fail_closed_for_a_type_its_scopes_do_not_allow(
    gp, person, scope: str, permission: Permission
) -> None:
    """Defence in depth: a caller that forgot `grant.check` still gets a 403, never every
    person the member of staff may open."""
    client, _ = client_register(name="narrow app", staff=gp, allowed_scopes=scope)
    grant = Grant(staff=gp, client=client, scopes=parse_scopes(scope), patient=person)
    with pytest.raises(FhirError) as refused:
        openable_people(grant, "Patient", permission)
    assert refused.value.status == 403
