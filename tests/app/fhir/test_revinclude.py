"""`_revinclude`: a Patient search brings the Conditions, Observations, ServiceRequests and Flags
about the patients found (search mode include), each through the same access and sensitivity
rules as a search of its own type, so nothing the user may not see is ever included."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.fhir.test_delete import PSY, observation
from wholecare.fhir.interactions import revincludes
from wholecare.fhir.registry import registered
from wholecare.record.models import Alert

pytestmark = pytest.mark.django_db
COMMON = ["Condition:subject", "Observation:subject", "ServiceRequest:subject", "Flag:subject"]


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _entries(bundle: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == mode]


def _outcome(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    outcomes = _entries(bundle, "outcome")
    return outcomes[0]["issue"] if outcomes else []


def _about(person: Any) -> None:
    factories.ConditionFactory(person=person)
    factories.ReferralFactory(person=person)
    Alert.objects.create(
        person=person, category=Alert.Category.RISK, text="Risk", raised_at=timezone.now()
    )


def _search(api: Any, query: str) -> dict[str, Any]:
    url = f"/fhir/Patient?{query}&" + "&".join(f"_revinclude={name}" for name in COMMON)
    found = api.get(url)
    assert found.status_code == 200, found.content
    result: dict[str, Any] = found.json()
    return result


def test_patient_search_includes_what_refers_to_the_patients_found(gp_api, mine):
    _about(mine)
    assert gp_api.post("/fhir/Observation", observation(mine)).status_code == 201
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=mine.care_team.first().staff)
    _about(other)

    found = _search(gp_api, f"_id={mine.public_id}")
    assert found["total"] == 1
    assert [r["id"] for r in _entries(found, "match")] == [str(mine.public_id)]
    included = _entries(found, "include")
    assert sorted(r["resourceType"] for r in included) == [
        "Condition",
        "Flag",
        "Observation",
        "ServiceRequest",
    ]
    assert {r["subject"]["reference"] for r in included} == {f"Patient/{mine.public_id}"}
    as_xml = gp_api.get(f"/fhir/Patient?_id={mine.public_id}&_revinclude=Flag:subject&_format=xml")
    assert as_xml.status_code == 200
    assert b'<mode value="include"/>' in as_xml.content


def test_a_patient_the_user_cannot_open_brings_nothing(gp_api, mine):
    stranger = factories.PersonFactory()
    _about(stranger)
    found = _search(gp_api, f"_id={stranger.public_id}")
    assert found["total"] == 0
    assert _entries(found, "include") == []


def test_a_sensitive_observation_is_never_included_for_those_it_is_withheld_from(
    gp_api, mine, therapist
):
    factories.CareTeamMembershipFactory(person=mine, staff=therapist)
    therapist_api = api_for(therapist)
    sensitive = therapist_api.post("/fhir/Observation", observation(mine, meta={"security": PSY}))
    assert sensitive.status_code == 201, sensitive.content
    normal = gp_api.post("/fhir/Observation", observation(mine)).json()["id"]

    found = _search(gp_api, f"_id={mine.public_id}")
    included = [r["id"] for r in _entries(found, "include") if r["resourceType"] == "Observation"]
    assert included == [normal]
    assert sensitive.json()["id"] not in str(found)
    issue = next(i for i in _outcome(found) if i["code"] == "suppressed")
    assert "1 Observation (Observation:subject)" in issue["diagnostics"]

    as_therapist = _search(therapist_api, f"_id={mine.public_id}")
    assert (
        len([r for r in _entries(as_therapist, "include") if r["resourceType"] == "Observation"])
        == 2
    )
    assert not any(i["code"] == "suppressed" for i in _outcome(as_therapist))


def test_a_patient_scoped_token_includes_only_its_patient(gp, mine):
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=gp)
    _about(mine)
    _about(other)
    found = _search(api_for(gp, "patient/*.rs", mine), "_count=10")
    assert {r["subject"]["reference"] for r in _entries(found, "include")} == {
        f"Patient/{mine.public_id}"
    }


def test_types_the_token_may_not_read_are_left_out_and_reported(gp, mine):
    _about(mine)
    found = _search(api_for(gp, "user/Patient.rs user/Condition.rs"), f"_id={mine.public_id}")
    assert {r["resourceType"] for r in _entries(found, "include")} == {"Condition"}
    refused = [i for i in _outcome(found) if i["code"] == "forbidden"]
    assert len(refused) == 3
    assert any("Flag:subject" in i["diagnostics"] for i in refused)


def test_deleted_resources_are_not_included(gp_api, mine):
    kept = gp_api.post("/fhir/Observation", observation(mine)).json()["id"]
    gp_api.delete(f"/fhir/Observation/{kept}")
    found = _search(gp_api, f"_id={mine.public_id}")
    assert kept not in str(found)


def test_unsupported_revinclude_is_400_naming_it(gp_api):
    refused = gp_api.get("/fhir/Patient?_revinclude=Observation:performer")
    assert refused.status_code == 400
    assert "_revinclude=Observation:performer" in refused.json()["issue"][0]["diagnostics"]


def test_included_resources_are_audited_against_their_people(gp_api, mine):
    from wholecare.access.models import AuditEvent

    _about(mine)
    before = AuditEvent.objects.count()
    _search(gp_api, f"_id={mine.public_id}")
    assert AuditEvent.objects.filter(person_id=mine.pk).count() > 0
    assert AuditEvent.objects.count() == before + 1


def test_common_pairs_are_offered_for_patient():
    assert set(COMMON) <= set(revincludes("Patient"))


@pytest.mark.parametrize(
    ("target", "name"),
    sorted((target, name) for target in registered() for name in revincludes(target)),
)
def test_every_offered_revinclude_answers(gp_api, mine, target, name):
    """Every pair the CapabilityStatement offers runs (for a resource of that type there is)."""
    statement = gp_api.get("/fhir/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == target)
    assert name in entry["searchRevInclude"]
    found = gp_api.get(f"/fhir/{target}?_revinclude={name}&_count=5")
    assert found.status_code == 200, found.content


def test_a_page_brings_only_what_refers_to_that_page(gp_api, gp):
    people = [factories.PersonFactory(date_of_birth=dt.date(1960 + n, 1, 1)) for n in range(3)]
    for person in people:
        factories.CareTeamMembershipFactory(person=person, staff=gp)
        factories.ConditionFactory(person=person)
    found = gp_api.get("/fhir/Patient?_sort=birthdate&_count=2&_revinclude=Condition:subject")
    bundle = found.json()
    assert bundle["total"] == 3
    subjects = {r["subject"]["reference"] for r in _entries(bundle, "include")}
    assert subjects == {f"Patient/{p.public_id}" for p in people[:2]}


def test_a_read_only_patient_scope_does_not_widen_through_an_include(gp, mine):
    """`patient/*.r` (no search) beside `user/Patient.rs`: Observations of other patients the
    user could search for must not arrive through `_revinclude`."""
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=gp)
    assert api_for(gp).post("/fhir/Observation", observation(other)).status_code == 201
    api = api_for(gp, "patient/*.r user/Patient.rs", mine)
    found = api.get("/fhir/Patient?_revinclude=Observation:subject").json()
    assert found["total"] == 2
    assert _entries(found, "include") == []
    assert any(i["code"] == "forbidden" for i in _outcome(found))
