"""The UK Core conformance corpus: every example goes through bulk import; what is imported reads
back valid against the FHIR R4 model with every element not reported as not kept; every refusal
says why; and docs/fhir-conformance.md is what the code produces now."""

from pathlib import Path

import pytest

from wholecare.fhir import conformance

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).parents[3] / "docs" / "fhir-conformance.md"
REFUSALS = {
    # The single exception to "every example of a supported type imports" (decision 0013): its
    # NHS number's check digit is wrong, and invalid NHS numbers are refused.
    "UKCore-Patient-BabyPatient-Example": "check digit does not match",
    "UKCore-QuestionnaireResponse-BabyPatientSurvey-Example": "that Patient example was refused",
    # Examples about a Patient the corpus does not hold, or no Patient at all.
    "UKCore-Bundle-NEWS2Observations-Example": "the corpus holds no such Patient",
    "UKCore-Observation-Lab-Albumin-Example": "the corpus holds no such Patient",
    "UKCore-Observation-FingerJointInflamed-Example": "needs a reference to the Patient",
    # Wholecare's Consent is a sharing decision; this one is not.
    "UKCore-Consent-ForInformationAccess-Example": "not a sharing decision",
}


def test_the_corpus_imports_round_trips_and_the_committed_table_is_current():
    examples = conformance.run()
    assert len({e.where.partition(" entry[")[0] for e in examples}) == 142
    imported = [e for e in examples if e.imported == "yes"]
    assert len(imported) >= 48
    refused = {
        e.where.removesuffix(".xml").partition(".xml entry")[0]: e.imported
        for e in examples
        if e.support == "yes" and e.imported != "yes"
    }
    assert set(refused) == set(REFUSALS)
    for where, why in REFUSALS.items():
        assert why in refused[where], (where, refused[where])
    assert [e.where for e in imported if e.round_trip != "yes"] == []
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
