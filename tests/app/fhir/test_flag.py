"""Flags from other systems (decision 0013): created, imported, updated (status and end only)
through the API onto record.Alert, held as the sender coded and worded them, shown on the person
summary as from another system; bad input refused with what and where, nothing written; Wholecare's
own risk flags unchanged."""

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for, patient_resource
from wholecare.access.models import AuditEvent
from wholecare.fhir.mappers.flag import CATEGORY_SYSTEM, FLAG_CATEGORY
from wholecare.record import selectors
from wholecare.record.models import Alert, Person

pytestmark = pytest.mark.django_db
SNOMED = "http://snomed.info/sct"


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _peanut_free_diet(person: Person, author: dict[str, str], **extra: Any) -> dict[str, Any]:
    """UKCore-Flag-FoodAllergy-Example, about `person`."""
    return {
        "resourceType": "Flag",
        "identifier": [
            {"system": "https://tools.ietf.org/html/rfc4122", "value": "f4f703a9-ef92-4515"}
        ],
        "status": "active",
        "category": [
            {
                "coding": [{"system": FLAG_CATEGORY, "code": "diet", "display": "Diet"}],
                "text": "Diet",
            }
        ],
        "code": {
            "coding": [{"system": SNOMED, "code": "226201008", "display": "Peanut-free diet"}],
            "text": "Patient has a severe peanut allergy.",
        },
        "subject": {"reference": f"Patient/{person.public_id}"},
        "period": {"start": "2019-12-10T13:00:00Z"},
        "author": author,
        **extra,
    }


def _not_kept(response: Any) -> dict[str, str]:
    return {
        issue["expression"][0]: issue["diagnostics"]
        for issue in response.json()["issue"]
        if issue["severity"] == "warning"
    }


def test_a_flag_from_another_system_is_held_as_sent_and_reads_back(gp, gp_api, mine):
    author = {"reference": f"Practitioner/{gp.pk}", "display": "Dr Paul Rastall"}
    body = _peanut_free_diet(mine, author, encounter={"reference": "Encounter/elsewhere"})
    created = gp_api.post("/fhir/Flag", body, Prefer="return=OperationOutcome")
    assert created.status_code == 201, created.content
    assert set(_not_kept(created)) == {"Flag.identifier", "Flag.encounter"}

    alert = Alert.objects.get(person=mine)
    assert (alert.category, alert.text) == ("diet", "Patient has a severe peanut allergy.")
    assert (alert.code_system, alert.code, alert.code_display) == (
        SNOMED,
        "226201008",
        "Peanut-free diet",
    )
    assert (alert.raised_by, alert.author_display) == (gp, "Dr Paul Rastall")
    assert alert.raised_at == dt.datetime(2019, 12, 10, 13, tzinfo=dt.UTC)
    assert alert.source == f"client for {gp}"

    flag = gp_api.get(created["Location"]).json()
    for element in ("status", "category", "code", "subject", "period", "author"):
        assert flag[element] == body[element], element
    assert flag["meta"]["profile"] == ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag"]
    found = gp_api.get(f"/fhir/Flag?patient={mine.public_id}&category={FLAG_CATEGORY}|diet")
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [flag["id"]]
    for other in (f"{CATEGORY_SYSTEM}|diet", "risk", "https://example.org|diet"):
        assert gp_api.get(f"/fhir/Flag?category={other}").json()["total"] == 0, other
    for same in ("diet", f"{FLAG_CATEGORY}|"):
        assert gp_api.get(f"/fhir/Flag?category={same}").json()["total"] == 1, same
    assert AuditEvent.objects.filter(
        person_id=mine.pk, what__startswith="alert (diet): Patient has a severe peanut allergy."
    ).exists()


def test_an_author_not_in_the_directory_keeps_the_name_the_sender_gave(gp_api, mine):
    author = {"reference": "Practitioner/999999", "display": "Dr Paul Rastall"}
    created = gp_api.post(
        "/fhir/Flag", _peanut_free_diet(mine, author), Prefer="return=OperationOutcome"
    )
    assert created.status_code == 201, created.content
    assert "the author's name is kept" in _not_kept(created)["Flag.author.reference"]
    alert = Alert.objects.get(person=mine)
    assert (alert.raised_by, alert.author_display) == (None, "Dr Paul Rastall")
    assert gp_api.get(created["Location"]).json()["author"] == {"display": "Dr Paul Rastall"}


def test_what_is_not_kept_of_a_flag_is_reported_never_dropped(gp_api, mine):
    body = _peanut_free_diet(mine, {"reference": "Organization/X1", "display": "The practice"})
    body["category"][0]["coding"][0]["display"] = "Dietary"
    body["category"][0]["text"] = "Dietary"
    body["category"].append({"coding": [{"system": FLAG_CATEGORY, "code": "safety"}]})
    body["code"]["coding"].insert(0, {"system": "http://read.info/ctv3", "code": "XaB1"})
    body["period"]["start"] = "2019-12-10"
    created = gp_api.post("/fhir/Flag", body, Prefer="return=OperationOutcome")
    assert created.status_code == 201, created.content
    assert set(_not_kept(created)) == {
        "Flag.identifier",
        "Flag.category[0].coding[0].display",
        "Flag.category[0].text",
        "Flag.category[1]",
        "Flag.code.coding[0]",
        "Flag.period.start",
        "Flag.author.reference",
    }
    alert = Alert.objects.get(person=mine)
    assert (alert.category, alert.code, alert.author_display) == (
        "diet",
        "226201008",
        "The practice",
    )


def _bad(person: Person, change: str) -> dict[str, Any]:
    body = _peanut_free_diet(person, {"display": "Dr Paul Rastall"})
    if change == "unknown category system":
        body["category"][0]["coding"][0]["system"] = "https://example.org/categories"
    elif change == "unknown category code":
        body["category"][0]["coding"][0]["code"] = "pets"
    elif change == "no category":
        del body["category"]
    elif change == "unknown code system":
        body["code"]["coding"][0]["system"] = "http://read.info/ctv3"
    elif change == "not a SNOMED CT concept":
        body["code"]["coding"][0]["code"] = "0226201008"
    elif change == "no words":
        body["code"] = {"coding": [{"system": SNOMED, "code": "226201008"}]}
    elif change == "text too long":
        body["code"]["text"] = "x" * 301
    elif change == "no subject":
        del body["subject"]
    elif change == "subject not on the record":
        body["subject"] = {"reference": f"Patient/{factories.PersonFactory().public_id}"}
    elif change == "entered in error":
        body["status"] = "entered-in-error"
    elif change == "ends before it starts":
        body["period"]["end"] = "2019-12-09T13:00:00Z"
    elif change == "restricted":
        body["meta"] = {
            "security": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "PSY",
                }
            ]
        }
    return body


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ("unknown category system", "Flag.category[0]", "is not a code from"),
        ("unknown category code", "Flag.category[0]", "|pets) is not a code from"),
        ("no category", "Flag.category", "Flag.category is needed"),
        ("unknown code system", "Flag.code.coding", "coded in http://read.info/ctv3"),
        ("not a SNOMED CT concept", "Flag.code.coding.code", "SNOMED CT"),
        ("no words", "Flag.code", "needs text"),
        ("text too long", "Flag.code.text", "300"),
        ("no subject", "Flag.subject", "required"),
        ("subject not on the record", "Flag.subject", "no care relationship"),
        ("entered in error", "Flag.status", "set it inactive with period.end"),
        ("ends before it starts", "Flag.period.end", "cannot end before it starts"),
        ("restricted", "Flag.meta.security", "does not hold a restricted Flag"),
    ],
)
def test_bad_flags_are_refused_saying_what_and_where_and_nothing_is_written(
    gp_api, mine, change, where, says
):
    audited = AuditEvent.objects.count()
    refused = gp_api.post("/fhir/Flag", _bad(mine, change))
    assert refused.status_code in {400, 422}, refused.content
    issue = refused.json()["issue"][0]
    assert issue["expression"] == [where]
    assert says in issue["diagnostics"]
    assert not Alert.objects.exists()
    assert AuditEvent.objects.count() == audited


def test_a_flag_is_ended_by_update_with_if_match_and_leaves_the_summary(gp, gp_api, mine):
    created = gp_api.post("/fhir/Flag", _peanut_free_diet(mine, {"display": "Dr Rastall"}))
    flag = gp_api.get(created["Location"]).json()
    assert [a.text for a in selectors.person_summary(by=gp.user, public_id=mine.public_id).alerts]
    url = f"/fhir/Flag/{flag['id']}"

    changed = copy.deepcopy(flag)
    changed["code"]["text"] = "Peanuts are fine now"
    refused = gp_api.put(url, changed)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["Flag.code"]

    ended = {
        **flag,
        "status": "inactive",
        "period": {**flag["period"], "end": "2026-01-02T09:00:00Z"},
    }
    assert gp_api.put(url, ended, **{"If-Match": 'W/"0"'}).status_code == 412
    updated = gp_api.put(url, ended, **{"If-Match": f'W/"{flag["meta"]["versionId"]}"'})
    assert updated.status_code == 200, updated.content
    assert updated.json()["status"] == "inactive"
    assert updated.json()["period"]["end"] == "2026-01-02T09:00:00Z"
    assert updated.json()["meta"]["versionId"] == str(int(flag["meta"]["versionId"]) + 1)
    alert = Alert.objects.get(person=mine)
    assert (alert.active, alert.text) == (False, "Patient has a severe peanut allergy.")
    assert selectors.person_summary(by=gp.user, public_id=mine.public_id).alerts == []
    ended_audit = AuditEvent.objects.filter(person_id=mine.pk, what__contains="now inactive, ends")
    assert ended_audit.exists()


def test_an_alert_whose_end_has_passed_is_not_shown_as_current(gp, gp_api, mine):
    body = _peanut_free_diet(mine, {"display": "Dr Rastall"})
    body["period"]["end"] = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    assert gp_api.post("/fhir/Flag", body).status_code == 201
    body["period"].pop("end")
    body["code"]["text"] = "Still current"
    assert gp_api.post("/fhir/Flag", body).status_code == 201
    summary = selectors.person_summary(by=gp.user, public_id=mine.public_id)
    assert [a.text for a in summary.alerts] == ["Still current"]


def test_the_person_summary_shows_the_alert_its_text_and_that_it_came_from_elsewhere(gp, mine):
    api = api_for(gp)
    author = {"reference": f"Practitioner/{gp.pk}", "display": "Dr Paul Rastall"}
    assert api.post("/fhir/Flag", _peanut_free_diet(mine, author)).status_code == 201
    Alert.objects.create(
        person=mine, category=Alert.Category.RISK, text="Raised here", raised_at=timezone.now()
    )
    nobody = _peanut_free_diet(mine, {})
    del nobody["author"]
    nobody["code"]["text"] = "No author given"
    assert api.post("/fhir/Flag", nobody).status_code == 201
    client = Client()
    client.force_login(gp.user)
    page = client.get(reverse("web:person", kwargs={"public_id": mine.public_id})).content
    text = re.sub(r"\s+", " ", page.decode())
    assert (
        'Diet</h2> <p class="nhsuk-card__description">Patient has a severe peanut allergy.</p>'
        in text
    )
    assert (
        f"From another system</strong> client for {gp}, raised by Dr Paul Rastall on 10 Dec 2019"
        " · SNOMED CT 226201008: Peanut-free diet" in text
    )
    assert f"From another system</strong> client for {gp} on 10 Dec 2019 · SNOMED CT" in text
    own = text.partition("Raised here</p>")[2].partition("</div>")[0]
    assert "From another system" not in own


def test_a_risk_flag_raised_by_wholecare_reads_as_before_and_a_clinician_can_close_it(
    gp, gp_api, mine
):
    alert = Alert.objects.create(
        person=mine,
        category=Alert.Category.RISK,
        text="PHQ-9 item 9 positive",
        raised_by=gp,
        raised_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
    )
    flag = gp_api.get(f"/fhir/Flag?patient={mine.public_id}").json()["entry"][0]["resource"]
    assert flag["category"] == [
        {"coding": [{"system": CATEGORY_SYSTEM, "code": "risk", "display": "Risk"}]}
    ]
    assert flag["code"] == {"text": "PHQ-9 item 9 positive"}
    assert flag["author"] == {"reference": f"Practitioner/{gp.pk}"}
    assert flag["period"] == {"start": "2026-03-02T10:00:00Z"}
    closed = gp_api.put(f"/fhir/Flag/{flag['id']}", {**flag, "status": "inactive"})
    assert closed.status_code == 200, closed.content
    alert.refresh_from_db()
    assert (alert.active, alert.source, alert.ended_at) == (False, "", None)


def test_a_transaction_with_a_bad_flag_writes_nothing(gp, gp_api):
    urn = "urn:uuid:8f0a2a4e-6d1b-4b63-9b1e-6f1f0c8e2a11"
    flag = _peanut_free_diet(Person(), {"display": "Dr Rastall"})
    flag["subject"] = {"reference": urn}
    flag["category"][0]["coding"][0]["code"] = "pets"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": urn,
                "resource": patient_resource(
                    factories.next_nhs_number(),
                    generalPractitioner=[{"reference": f"Practitioner/{gp.pk}"}],
                ),
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": flag, "request": {"method": "POST", "url": "Flag"}},
        ],
    }
    refused = gp_api.post("/fhir/", bundle)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.Flag.category[0]"]
    assert not Person.objects.exists()
    assert not Alert.objects.exists()
    flag["category"][0]["coding"][0]["code"] = "diet"
    landed = gp_api.post("/fhir/", bundle)
    assert landed.status_code == 200, landed.content
    assert Alert.objects.get().code == "226201008"


def test_bulk_import_loads_flags_and_reports_what_it_does_not_keep(tmp_path: Path, gp):
    number = factories.next_nhs_number()
    patient = {**patient_resource(number), "id": "p1"}
    patient["generalPractitioner"] = [{"reference": f"Practitioner/{gp.pk}"}]
    person = Person(public_id="00000000-0000-0000-0000-000000000000")
    good = {**_peanut_free_diet(person, {"display": "Dr Rastall"}), "id": "f1"}
    good["subject"] = {"reference": "Patient/p1"}
    bad = {**copy.deepcopy(good), "id": "f2"}
    bad["code"]["coding"][0]["system"] = "http://read.info/ctv3"
    source = tmp_path / "Flag.ndjson"
    source.write_text("\n".join(json.dumps(r) for r in (patient, good, bad)) + "\n")
    report = tmp_path / "report.tsv"
    call_command("fhir", "import", str(source), "--as", "gp", "--report", str(report))
    rows = [line.split("\t") for line in report.read_text().splitlines()]
    rejected = [row for row in rows if row[2] == "rejected"]
    assert [row[0].rpartition(":")[2] for row in rejected] == ["3"]
    assert "coded in http://read.info/ctv3" in rejected[0][3]
    assert any(row[2] == "not kept" and "Flag.identifier" in row[3] for row in rows), rows
    alert = Alert.objects.get(person__nhs_number=number)
    assert (alert.category, alert.code, alert.source) == (
        "diet",
        "226201008",
        "FHIR bulk import of Flag.ndjson",
    )


def test_the_capability_statement_offers_flag_create_and_update_but_not_delete(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    flag = next(r for r in rest["resource"] if r["type"] == "Flag")
    assert {i["code"] for i in flag["interaction"]} >= {"create", "update", "read"}
    assert "delete" not in {i["code"] for i in flag["interaction"]}
    assert "DELETE: Flag" in flag["documentation"]
