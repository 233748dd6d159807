"""The UK Core conformance corpus: every example goes through bulk import; what is imported reads
back valid against the FHIR R4 model with every element not reported as not kept; every refusal
says why; and docs/fhir-conformance.md is what the code produces now."""

from collections import Counter
from pathlib import Path

import pytest

from wholecare.fhir import conformance
from wholecare.fhir.bulk_import import Importer, Outcome
from wholecare.fhir.models import ImportedId
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).parents[3] / "docs" / "fhir-conformance.md"
NEWS2 = conformance.CORPUS / "UKCore-Bundle-NEWS2Observations-Example.xml"
ALBUMIN = conformance.CORPUS / "UKCore-Observation-Lab-Albumin-Example.xml"
SUPPLIED = {
    # The Patients NHS England's examples are about but did not publish.
    "Patient/ad2c58ab-ffab-4366-9c76-b0322e22e881": 8,  # the NEWS2 Bundle's Observations
    "urn:uuid:ab87a3f8-1d37-44a9-804e-5e962598a6e4": 1,  # the albumin result, outside a Bundle
}
REFUSALS = {
    # The single exception to "every example of a supported type imports" (decision 0013): its
    # NHS number's check digit is wrong, and invalid NHS numbers are refused.
    "UKCore-Patient-BabyPatient-Example": "check digit does not match",
    "UKCore-QuestionnaireResponse-BabyPatientSurvey-Example": "that Patient example was refused",
}


def test_the_corpus_imports_round_trips_and_the_committed_table_is_current():
    examples = conformance.run()
    assert len({e.where.partition(" entry[")[0] for e in examples}) == 142
    imported = [e for e in examples if e.imported == "yes"]
    assert len(imported) >= 57
    supplied = [e for e in examples if e.supplied]
    assert Counter(e.supplied for e in supplied) == SUPPLIED
    assert all(e.imported == "yes" for e in supplied)
    refused = {
        e.where.removesuffix(".xml").partition(".xml entry")[0]: e.imported
        for e in examples
        if e.support == "yes" and e.imported != "yes"
    }
    assert set(refused) == set(REFUSALS)
    # What Wholecare's own model cannot hold is kept as received (decision 0014), never refused.
    assert [
        e.where
        for e in examples
        if e.support.endswith("or kept as received") and e.imported.startswith("no")
    ] == []
    for where, why in REFUSALS.items():
        assert why in refused[where], (where, refused[where])
    assert [e.where for e in imported if not e.round_trip.startswith("yes")] == []
    # An example sent as entered in error is imported, and then gone, as a DELETE leaves one.
    assert {e.where for e in imported if e.round_trip != "yes"} == {
        "UKCore-AllergyIntolerance-EnteredInError-Example.xml"
    }
    # Only an Observation is held unfiled; a Patient or a Questionnaire has no subject to name.
    assert {e.resource_type for e in examples if e.unfiled} == {"Observation"}
    for example in examples:
        if example.imported.startswith("no"):
            reason = example.imported.removeprefix("no: ")
            assert reason, example.where
            assert not reason.startswith(("not the FHIR R4 model", "the database refused")), (
                example.where,
                reason,
            )
    assert {e.resource_type for e in examples if e.support == "yes"} >= {
        "Patient",
        "Observation",
        "Encounter",
        "EpisodeOfCare",
        "Appointment",
        "CarePlan",
    }
    assert conformance.table(examples) == DOCS.read_text(encoding="utf-8"), (
        "docs/fhir-conformance.md is out of date: run"
        " `wholecare fhir conformance --out docs/fhir-conformance.md`"
    )


def test_the_harness_supplies_a_synthetic_patient_under_each_reference(gp):
    conformance.supply_patients(gp, set(SUPPLIED))
    people = Person.objects.all()
    assert [(p.family_name, p.nhs_number) for p in people] == [
        (conformance.SUPPLIED_NAME, None),
        (conformance.SUPPLIED_NAME, None),
    ]
    targets = set(ImportedId.objects.values_list("resource_type", "source_id"))
    assert ("Patient", "ad2c58ab-ffab-4366-9c76-b0322e22e881") in targets
    assert ("", "urn:uuid:ab87a3f8-1d37-44a9-804e-5e962598a6e4") in targets


def test_without_the_harness_an_import_still_refuses_a_subject_nobody_imported(gp):
    # What the harness supplies is its own: bulk import refuses these examples as it refuses any
    # reference to a Patient that is not on the record, by id and by a bare urn:uuid alike.
    outcomes: list[Outcome] = []
    Importer(gp, report=outcomes.append, care_team_role=conformance.ROLE).run([NEWS2, ALBUMIN])
    assert len(outcomes) == 9
    for outcome in outcomes:
        assert "is not on the record" in outcome.rejected, outcome
    assert not Person.objects.exists()
