"""`wholecare fhir import`: NDJSON and Bundle files, every rejection reported with its place and
reason, everything else loaded, resumable, and readable through the API afterwards."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.app.fhir.conftest import api_for
from wholecare.access.models import AuditEvent
from wholecare.fhir import bulk_import
from wholecare.fhir.models import ImportedId, ImportFile, Resource
from wholecare.record.models import CareTeamMembership, Condition, Person

pytestmark = pytest.mark.django_db
NHS = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def _patient(source_id: str, number: str, gp=None, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": source_id,
        "identifier": [{"system": NHS, "value": number}],
        "name": [{"use": "official", "family": "Importer", "given": [source_id.title()]}],
        "gender": "female",
        "birthDate": "1960-01-02",
        **extra,
    }
    if gp is not None:
        resource["generalPractitioner"] = [{"reference": f"Practitioner/{gp.pk}"}]
    return resource


def _condition(source_id: str, patient: str, code: str = "44054006") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": source_id,
        "subject": {"reference": patient},
        "code": {"coding": [{"system": SNOMED, "code": code}]},
        "onsetDateTime": "2001-02-03",
    }


def _heart_rate(source_id: str, patient: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": source_id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "subject": {"reference": patient},
        "effectiveDateTime": "2024-05-01T10:00:00Z",
        "valueQuantity": {"value": 72, "unit": "/min"},
        **extra,
    }


def _ndjson(path: Path, *lines: Any) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def _report(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


def _import(*paths: Path, report: Path, **options: Any) -> str:
    from io import StringIO

    out = StringIO()
    call_command(
        "fhir",
        "import",
        *map(str, paths),
        "--as",
        "gp",
        "--report",
        str(report),
        stdout=out,
        **options,
    )
    return out.getvalue()


def test_ndjson_loads_the_good_and_reports_the_bad_by_file_and_line(tmp_path, gp, capsys):
    first, second = factories.next_nhs_number(), factories.next_nhs_number()
    # Given in the wrong order: Observations first; they are loaded after the patients.
    observations = _ndjson(
        tmp_path / "Observation.ndjson",
        _heart_rate("o1", "Patient/p2"),
        _heart_rate("o2", "Patient/nobody"),
        {**_heart_rate("o3", "Patient/p1"), "code": {"coding": [{"code": "1-8"}]}},
        _heart_rate("o4", "Patient/p1"),
    )
    patients = _ndjson(
        tmp_path / "Patient.ndjson",
        _patient("p1", first, gp),
        _patient("p2", second, gp, birthDate="1961-13-01"),
        _patient("p3", "1234567890", gp),
        "{not json",
        "",
        _patient("p4", factories.next_nhs_number(), gp, gender="lizard"),
        {"resourceType": "Basic", "id": "b1", "code": {"text": "x"}},
    )
    conditions = _ndjson(
        tmp_path / "Condition.ndjson",
        _condition("c1", "Patient/p1"),
        _condition("c2", "Patient/p1", code="26322"),
        _condition("c3", "Patient/p1"),
    )
    report = tmp_path / "report.tsv"
    out = _import(observations, patients, conditions, report=report)

    assert "13 resources read: 3 loaded, 10 rejected" in out
    assert (
        f"rejected {patients}:3 (Patient/p3): Patient.identifier.value" in capsys.readouterr().err
    )
    person = Person.objects.get(nhs_number=first)
    assert CareTeamMembership.objects.get(person=person, staff=gp).role == "Registered GP"
    assert Condition.objects.get(person=person).snomed_code == "44054006"
    rejected = {
        row[0].rpartition("/")[2]: row[3] for row in _report(report) if row[2] == "rejected"
    }
    assert set(rejected) == {
        "Observation.ndjson:1",
        "Observation.ndjson:2",
        "Observation.ndjson:3",
        "Patient.ndjson:2",
        "Patient.ndjson:3",
        "Patient.ndjson:4",
        "Patient.ndjson:6",
        "Patient.ndjson:7",
        "Condition.ndjson:2",
        "Condition.ndjson:3",
    }
    assert "Patient.birthDate" in rejected["Patient.ndjson:2"]
    assert "check digit" in rejected["Patient.ndjson:3"]
    assert "not valid JSON" in rejected["Patient.ndjson:4"]
    assert "Patient.gender" in rejected["Patient.ndjson:6"]
    assert "does not serve Basic" in rejected["Patient.ndjson:7"]
    assert "Patient/p2 is not on the record" in rejected["Observation.ndjson:1"]
    assert "Patient/nobody" in rejected["Observation.ndjson:2"]
    assert "Observation.code" in rejected["Observation.ndjson:3"]
    assert "not a SNOMED CT identifier" in rejected["Condition.ndjson:2"]
    assert "already has this condition" in rejected["Condition.ndjson:3"]
    assert (
        AuditEvent.objects.filter(
            person_id=person.pk,
            action=AuditEvent.Action.CREATE,
            what__startswith="FHIR bulk import",
        ).count()
        == 3
    )


def test_imported_resources_are_read_through_the_api_with_their_references_mapped(tmp_path, gp):
    number = factories.next_nhs_number()
    files = [
        _ndjson(tmp_path / "Patient.ndjson", _patient("p1", number, gp)),
        _ndjson(
            tmp_path / "Observation.ndjson",
            _heart_rate(
                "o1",
                "Patient/p1",
                performer=[{"reference": "Practitioner/someone-elsewhere"}],
                meta={
                    "security": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                            "code": "PSY",
                        }
                    ],
                    "source": "#gp-system",
                },
            ),
        ),
    ]
    report = tmp_path / "report.tsv"
    _import(*files, report=report)
    person = Person.objects.get(nhs_number=number)
    api = api_for(gp, "user/*.rs")
    found = api.get(f"/fhir/Observation?patient={person.public_id}").json()
    assert found["total"] == 1
    observation = found["entry"][0]["resource"]
    assert observation["subject"] == {"reference": f"Patient/{person.public_id}"}
    assert observation["performer"] == [{"reference": "Practitioner/someone-elsewhere"}]
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"} in (
        observation["meta"]["security"]
    )
    assert api.get(f"/fhir/Patient/{person.public_id}").json()["name"][0]["family"] == "Importer"
    notes = [row[3] for row in _report(report) if row[2] == "not kept"]
    assert any("Practitioner/someone-elsewhere does not resolve" in n for n in notes)
    assert any("meta.source" in n for n in notes)
    assert ImportedId.objects.get(resource_type="Observation", source_id="o1").target == (
        f"Observation/{observation['id']}"
    )


def test_patient_elements_not_kept_are_reported_never_dropped(tmp_path, gp):
    patient = _patient(
        "p1",
        factories.next_nhs_number(),
        gp,
        maritalStatus={"text": "Married"},
        name=[{"use": "official", "family": "Importer", "given": ["Ann"], "prefix": ["Dr"]}],
        telecom=[{"system": "phone", "value": "0113 496 0000", "use": "mobile"}],
    )
    report = tmp_path / "report.tsv"
    _import(_ndjson(tmp_path / "p.ndjson", patient), report=report)
    notes = {row[3].partition(":")[0] for row in _report(report) if row[2] == "not kept"}
    assert notes == {
        "Patient.generalPractitioner",
        "Patient.maritalStatus",
        "Patient.name.prefix",
        "Patient.telecom.use",
    }


def test_a_transaction_bundle_with_urn_uuid_references_loads_in_dependency_order(tmp_path, gp):
    number = factories.next_nhs_number()
    urn = "urn:uuid:5f0bd2a5-3c1a-4bcd-9a3e-3d6a0b7f2a11"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0d5c3e2b-8e7a-4a39-9a71-2b1f6a4c9e01",
                "resource": {
                    "resourceType": "Encounter",
                    "status": "finished",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "AMB",
                    },
                    "subject": {"reference": urn},
                    "period": {"start": "2024-05-01T09:00:00Z"},
                },
                "request": {"method": "POST", "url": "Encounter"},
            },
            {
                "fullUrl": urn,
                "resource": {k: v for k, v in _patient("x", number, gp).items() if k != "id"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {"request": {"method": "GET", "url": "Patient?name=x"}},
        ],
    }
    path = tmp_path / "synthea.json"
    path.write_text(json.dumps(bundle))
    report = tmp_path / "report.tsv"
    out = _import(path, report=report)
    assert "3 resources read: 2 loaded, 1 rejected" in out
    person = Person.objects.get(nhs_number=number)
    encounter = Resource.objects.get(resource_type="Encounter")
    assert encounter.person == person
    assert encounter.content["subject"] == {"reference": f"Patient/{person.public_id}"}
    assert _report(report)[0][:3] == [f"{path} entry[2]", "-", "rejected"]


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_rerun_skips_what_was_loaded_and_carries_on_after_a_crash(
    tmp_path, gp, monkeypatch, jobs
):
    # With jobs, the workers have checked chunks ahead of the crash: none of them is written.
    numbers = [factories.next_nhs_number() for _ in range(5)]
    path = _ndjson(
        tmp_path / "Patient.ndjson", *(_patient(f"p{i}", n, gp) for i, n in enumerate(numbers))
    )
    report = tmp_path / "report.tsv"
    monkeypatch.setattr(bulk_import, "CHUNK", 2)
    real = bulk_import.Importer._chunk
    calls = []

    def crash_on_the_second_chunk(self, chunk, problems):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, chunk, problems)

    monkeypatch.setattr(bulk_import.Importer, "_chunk", crash_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        _import(path, report=report, jobs=jobs)
    assert Person.objects.count() == 2
    assert ImportFile.objects.get().done == 2
    monkeypatch.setattr(bulk_import.Importer, "_chunk", real)
    assert "3 resources read: 3 loaded, 0 rejected" in _import(path, report=report, jobs=jobs)
    assert Person.objects.count() == 5
    again = _import(path, report=report)
    assert "0 resources read" in again
    assert "1 file(s) already imported, skipped" in again
    copy = tmp_path / "copy.ndjson"
    copy.write_text(path.read_text() + "\n")
    _import(copy, report=report)
    assert Person.objects.count() == 5
    assert all("already imported as Patient/" in row[3] for row in _report(report))


def _what_the_import_did(out: str, report: Path) -> dict[str, Any]:
    """What an import wrote, without the ids it made up."""
    numbers = dict(Person.objects.values_list("pk", "nhs_number"))
    return {
        "out": out,
        "report": report.read_text(),
        "people": sorted(Person.objects.values_list("nhs_number", "given_name")),
        "conditions": sorted(Condition.objects.values_list("person__nhs_number", "snomed_code")),
        "resources": sorted(
            (r.resource_type, r.person.nhs_number if r.person else None, r.content.get("status"))
            for r in Resource.objects.select_related("person")
        ),
        "mapped": sorted(ImportedId.objects.values_list("resource_type", "source_id")),
        "files": sorted(ImportFile.objects.values_list("path", "done", "loaded", "rejected")),
        "audit": sorted(
            (numbers.get(person_id or 0), what)
            for person_id, what in AuditEvent.objects.filter(
                what__startswith="FHIR bulk import"
            ).values_list("person_id", "what")
        ),
    }


def test_checking_in_worker_processes_imports_and_reports_exactly_as_one_process(
    tmp_path, gp, monkeypatch
):
    from django.db import transaction

    numbers = [factories.next_nhs_number() for _ in range(4)]
    # Rejections of every kind, each in a chunk (of 2) with a resource that loads.
    patients = _ndjson(
        tmp_path / "Patient.ndjson",
        _patient("p0", numbers[0], gp),
        _patient("not-a-date", factories.next_nhs_number(), gp, birthDate="1961-13-01"),
        _patient("p1", numbers[1], gp),
        _patient("lizard", factories.next_nhs_number(), gp, gender="lizard"),
        _patient("p2", numbers[2], gp),
        "{not json",
        {"resourceType": "Basic", "id": "b1", "code": {"text": "x"}},
        _patient("p3", numbers[3], gp),
    )
    observations = _ndjson(
        tmp_path / "Observation.ndjson",
        *(_heart_rate(f"o{i}", f"Patient/p{i % 5}") for i in range(5)),
        _heart_rate("not-a-number", "Patient/p1", valueQuantity={"value": "lots"}),
        *(_heart_rate(f"o{i}", f"Patient/p{i % 5}") for i in range(5, 9)),
        {**_heart_rate("o-bad", "Patient/p1"), "status": "sort-of"},
    )
    monkeypatch.setattr(bulk_import, "CHUNK", 2)
    report = tmp_path / "report.tsv"
    done = []
    for jobs in (1, 3):
        with transaction.atomic():
            out = _import(patients, observations, report=report, jobs=jobs)
            done.append(_what_the_import_did(out, report))
            transaction.set_rollback(True)
    serial, parallel = done
    assert "19 resources read: 12 loaded, 7 rejected" in serial["out"]
    assert "not the FHIR R4 model: Patient.birthDate" in serial["report"]
    assert "not the FHIR R4 model: Observation.valueQuantity.value" in serial["report"]
    assert "Patient.gender" in serial["report"]
    assert "Observation.status" in serial["report"]
    assert parallel == serial


def test_references_that_do_not_resolve_are_kept_and_reported_those_that_do_are_not(tmp_path, gp):
    patients = _ndjson(tmp_path / "Patient.ndjson", _patient("p1", factories.next_nhs_number(), gp))
    encounters = _ndjson(
        tmp_path / "Encounter.ndjson",
        {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-05-01"},
        },
    )
    observations = _ndjson(
        tmp_path / "Observation.ndjson",
        _heart_rate(
            "o1",
            "Patient/p1",
            encounter={"reference": "Encounter/e1"},
            performer=[{"reference": "Practitioner/424242"}],
            device={"reference": "Device/d1"},
        ),
    )
    report = tmp_path / "report.tsv"
    assert "3 resources read: 3 loaded" in _import(
        patients, encounters, observations, report=report, jobs=1
    )
    notes = [row[3] for row in _report(report) if row[1] == "Observation/o1"]
    assert notes == [
        "Observation.performer[0]: reference Practitioner/424242 does not resolve here;"
        " kept as written",
        "Observation.device: reference Device/d1: a type this server does not serve",
    ]
    observation = Resource.objects.get(resource_type="Observation")
    encounter = Resource.objects.get(resource_type="Encounter")
    assert observation.content["encounter"] == {"reference": f"Encounter/{encounter.fhir_id}"}
    assert observation.content["performer"] == [{"reference": "Practitioner/424242"}]


def test_on_postgresql_the_tables_looked_up_have_statistics_as_they_grow(tmp_path, gp, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans IN-list lookups from statistics; SQLite does not need them")
    monkeypatch.setattr(bulk_import, "CHUNK", 2)
    path = _ndjson(
        tmp_path / "Patient.ndjson",
        *(_patient(f"p{i}", factories.next_nhs_number(), gp) for i in range(3)),
    )
    _import(path, report=tmp_path / "report.tsv", jobs=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE tablename IN"
            " ('fhir_importedid', 'fhir_resource', 'record_person')"
        )
        assert {row[0] for row in cursor.fetchall()} == {
            "fhir_importedid",
            "fhir_resource",
            "record_person",
        }


def test_jobs_below_one_are_refused(tmp_path, gp):
    path = _ndjson(tmp_path / "Patient.ndjson", _patient("p1", factories.next_nhs_number(), gp))
    with pytest.raises(CommandError, match="--jobs: 0"):
        _import(path, report=tmp_path / "report.tsv", jobs=0)
    assert not Person.objects.exists()


def test_bad_paths_or_an_unknown_member_of_staff_write_nothing(tmp_path, gp):
    good = _ndjson(tmp_path / "Patient.ndjson", _patient("p1", factories.next_nhs_number(), gp))
    with pytest.raises(CommandError, match=r"missing\.ndjson: no such file"):
        _import(good, tmp_path / "missing.ndjson", report=tmp_path / "r.tsv")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CommandError, match=r"notes\.txt: not a \.ndjson"):
        _import(good, text, report=tmp_path / "r.tsv")
    with pytest.raises(CommandError, match="no member of staff"):
        call_command("fhir", "import", str(good), "--as", "nobody")
    assert not Person.objects.exists()
    assert not ImportFile.objects.exists()


def test_care_team_role_opens_imported_records_to_the_importer(tmp_path, gp):
    number = factories.next_nhs_number()
    path = _ndjson(tmp_path / "Patient.ndjson", _patient("p1", number))
    _import(path, report=tmp_path / "r.tsv", care_team_role="Data migration")
    membership = CareTeamMembership.objects.get(person__nhs_number=number)
    assert (membership.staff, membership.role) == (gp, "Data migration")


def test_directory_resources_are_matched_and_references_to_them_map(tmp_path, gp):
    practice = factories.OrganisationFactory(ods_code="B82617")
    service = factories.ServiceFactory(organisation=practice, name="Memory clinic")
    number = factories.next_nhs_number()
    organization = {
        "resourceType": "Organization",
        "id": "org-1",
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B82617"}
        ],
        "name": "Somewhere else's name for it",
    }
    unknown = {
        "resourceType": "Practitioner",
        "id": "dr-x",
        "identifier": [{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1"}],
    }
    healthcare = {
        "resourceType": "HealthcareService",
        "id": "hs-1",
        "providedBy": {"reference": "Organization/org-1"},
        "name": "Memory clinic",
    }
    phq9 = {
        "resourceType": "Questionnaire",
        "id": "q",
        "url": "https://wholecare.example.org/Questionnaire/phq9",
        "status": "active",
    }
    referral = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "performer": [{"reference": "HealthcareService/hs-1"}],
        "authoredOn": "2026-01-05",
        "requester": {"reference": "Practitioner/dr-x"},
    }
    files = [
        _ndjson(tmp_path / "directory.ndjson", organization, unknown, healthcare, phq9),
        _ndjson(
            tmp_path / "Patient.ndjson",
            _patient(
                "p1",
                number,
                generalPractitioner=[
                    {"reference": f"Practitioner/{gp.pk}"},
                    {"reference": "Organization/org-1"},
                ],
            ),
        ),
        _ndjson(tmp_path / "ServiceRequest.ndjson", referral),
    ]
    report = tmp_path / "report.tsv"
    out = _import(*files, report=report)
    assert "6 resources read: 6 loaded, 0 rejected" in out
    person = Person.objects.get(nhs_number=number)
    assert person.registered_practice == practice
    assert person.referrals.get().service == service
    targets = dict(ImportedId.objects.values_list("source_id", "target"))
    assert targets["org-1"] == "Organization/B82617"
    assert targets["hs-1"] == f"HealthcareService/{service.pk}"
    assert targets["q"] == "Questionnaire/phq9"
    assert targets["sr-1"].startswith("ServiceRequest/")
    # Not staff: kept as received (decision 0014), so references to it resolve.
    received = Resource.objects.get(resource_type="Practitioner", record_pk__isnull=True)
    assert targets["dr-x"] == f"Practitioner/{received.fhir_id}"
    rows = _report(report)
    assert not [row for row in rows if row[2] == "rejected"]
    notes = {row[3].partition(":")[0] for row in rows if row[1] == "Organization/org-1"}
    assert "Organization.name" in notes


def test_a_patient_scoped_import_of_an_unopenable_record_is_refused(tmp_path, gp):
    stranger = factories.PersonFactory()
    path = _ndjson(
        tmp_path / "Observation.ndjson", _heart_rate("o1", f"Patient/{stranger.public_id}")
    )
    report = tmp_path / "report.tsv"
    assert "1 rejected" in _import(path, report=report)
    assert "no care relationship" in _report(report)[0][3]
    assert not Resource.objects.filter(resource_type="Observation").exists()


def test_batches_hold_unknown_nhs_numbers_and_any_condition_by_the_records_own_rules(tmp_path, gp):
    number = factories.next_nhs_number()
    unknown = {"resourceType": "Patient", "id": "u1", "gender": "male"}
    patients = _ndjson(
        tmp_path / "Patient.ndjson",
        _patient("p1", number, gp),
        _patient("p2", number, gp),
        {**unknown, "generalPractitioner": [{"reference": f"Practitioner/{gp.pk}"}]},
        {**unknown, "id": "u2", "generalPractitioner": [{"reference": f"Practitioner/{gp.pk}"}]},
        {**unknown, "id": "p3", "birthDate": "2999-01-01"},
    )
    bleeding = _condition("c1", "Patient/u1", code="26322001")
    bleeding["code"]["coding"][0]["display"] = "Bleeding from ear"
    conditions = _ndjson(
        tmp_path / "Condition.ndjson",
        bleeding,
        _condition("c2", "Patient/u1", code="26322001"),
    )
    report = tmp_path / "report.tsv"
    out = _import(patients, conditions, report=report)
    assert "7 resources read: 4 loaded, 3 rejected" in out
    rejected = {
        row[0].rpartition("/")[2]: row[3] for row in _report(report) if row[2] == "rejected"
    }
    assert "already on the record" in rejected["Patient.ndjson:2"]
    assert "Patient.birthDate" in rejected["Patient.ndjson:5"]
    assert "already has this condition" in rejected["Condition.ndjson:2"]
    assert Person.objects.filter(nhs_number__isnull=True).count() == 2
    condition = Condition.objects.get()
    assert (condition.display, condition.concept.icd10) == ("Bleeding from ear", "")


def test_a_condition_that_is_not_confirmed_is_rejected_as_through_the_api(tmp_path, gp):
    patients = _ndjson(tmp_path / "Patient.ndjson", _patient("p1", factories.next_nhs_number(), gp))
    provisional = {
        **_condition("c1", "Patient/p1"),
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "provisional",
                }
            ]
        },
    }
    conditions = _ndjson(tmp_path / "Condition.ndjson", provisional)
    report = tmp_path / "report.tsv"
    _import(patients, conditions, report=report)
    rejected = [row for row in _report(report) if row[2] == "rejected"]
    assert len(rejected) == 1
    assert "Condition.verificationStatus provisional" in rejected[0][3]
    assert not Condition.objects.exists()
