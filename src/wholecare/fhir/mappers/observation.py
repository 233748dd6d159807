"""Observation (UK Core), kept whole by the FHIR edge: questionnaire totals (PHQ-9, GAD-7 and the
other instruments, usually produced by scoring a QuestionnaireResponse) and physical markers
(vital signs, BMI, HbA1c, cholesterol). A code outside these value sets is refused with 422."""

from functools import cache
from typing import Any, ClassVar

from django.db.models import Q

from wholecare import measures
from wholecare.fhir.base import Ctx, Include, StoredType, reference_ids
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.models import SearchToken
from wholecare.fhir.search import Criterion, Param
from wholecare.record.vocabulary import SNOMED_CT

LOINC = "http://loinc.org"
MEASURE_SYSTEM = f"{WHOLECARE}/CodeSystem/measure"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation"
STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)

PHYSICAL_MARKERS: dict[tuple[str, str], str] = {
    (LOINC, "85354-9"): "Blood pressure panel",
    (LOINC, "8480-6"): "Systolic blood pressure",
    (LOINC, "8462-4"): "Diastolic blood pressure",
    (LOINC, "8867-4"): "Heart rate",
    (LOINC, "9279-1"): "Respiratory rate",
    (LOINC, "2708-6"): "Oxygen saturation in arterial blood",
    (LOINC, "59408-5"): "Oxygen saturation by pulse oximetry",
    (LOINC, "8310-5"): "Body temperature",
    (LOINC, "29463-7"): "Body weight",
    (LOINC, "8302-2"): "Body height",
    (LOINC, "39156-5"): "Body mass index",
    (LOINC, "4548-4"): "Haemoglobin A1c",
    (LOINC, "2093-3"): "Cholesterol",
    (LOINC, "33914-3"): "Estimated glomerular filtration rate",
    (SNOMED_CT, "75367002"): "Blood pressure",
    (SNOMED_CT, "163020007"): "On examination - blood pressure reading",
    (SNOMED_CT, "72313002"): "Systolic arterial pressure",
    (SNOMED_CT, "1091811000000102"): "Diastolic arterial pressure",
    (SNOMED_CT, "364075005"): "Heart rate",
    (SNOMED_CT, "86290005"): "Respiratory rate",
    (SNOMED_CT, "103228002"): "Haemoglobin saturation with oxygen",
    (SNOMED_CT, "276885007"): "Core body temperature",
    (SNOMED_CT, "27113001"): "Body weight",
    (SNOMED_CT, "50373000"): "Body height measure",
    (SNOMED_CT, "60621009"): "Body mass index",
    (SNOMED_CT, "1107481000000106"): "Haemoglobin A1c level (IFCC standardised)",
}


@cache
def known_codes() -> dict[tuple[str, str], str]:
    """Every code an Observation may have: physical markers and questionnaire totals."""
    return {**PHYSICAL_MARKERS, **measure_codes()}


def measure_codes() -> dict[tuple[str, str], str]:
    """Totals of every instrument in `wholecare.measures`, by their LOINC, SNOMED CT and
    Wholecare codes."""
    codes: dict[tuple[str, str], str] = {}
    for instrument in measures.all_instruments():
        label = f"{instrument.name} total score"
        codes[(MEASURE_SYSTEM, instrument.code)] = label
        if instrument.loinc:
            codes[(LOINC, instrument.loinc)] = label
        if instrument.snomed:
            codes[(SNOMED_CT, instrument.snomed)] = label
    return codes


def total_code(instrument: measures.Instrument) -> dict[str, Any]:
    coding = [{"system": MEASURE_SYSTEM, "code": instrument.code, "display": instrument.name}]
    if instrument.loinc:
        coding.append({"system": LOINC, "code": instrument.loinc})
    if instrument.snomed:
        coding.append({"system": SNOMED_CT, "code": instrument.snomed})
    return {"coding": coding, "text": f"{instrument.name} total score"}


class ObservationType(StoredType):
    name = "Observation"
    profile = PROFILE
    statuses = STATUSES
    date_element = "effectiveDateTime"
    token_elements: ClassVar[dict[str, str]] = {"code": "code", "category": "category"}
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The observation's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "code": Param("code", "token", "LOINC, SNOMED CT or Wholecare measure code"),
        "category": Param("category", "token", "vital-signs, survey, laboratory, ..."),
        "date": Param("date", "date", "effectiveDateTime, with prefixes"),
        "status": Param("status", "token", "final, amended, ..."),
        "derived-from": Param(
            "derived-from", "reference", "QuestionnaireResponse/<id> a total was scored from"
        ),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Observation:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "Observation:subject": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    documentation = (
        "Questionnaire totals (scored from QuestionnaireResponses) and physical markers, kept"
        " whole by the FHIR edge (decision 0006)."
    )

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        known = known_codes()
        codings = content.get("code", {}).get("coding", [])
        if not any((c.get("system"), c.get("code")) in known for c in codings):
            shown = ", ".join(f"{c.get('system')}|{c.get('code')}" for c in codings) or "none"
            raise unprocessable(
                "code-invalid",
                f"Observation.code ({shown}) is not a physical marker or questionnaire total"
                " that Wholecare records",
                "Observation.code",
            )

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = super().tokens(content)
        for reference in content.get("derivedFrom", []):
            if str(reference.get("reference", "")).startswith("QuestionnaireResponse/"):
                found.append(("derived-from", "", reference["reference"]))
        return found

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "derived-from":
            values = [
                v if v.startswith("QuestionnaireResponse/") else f"QuestionnaireResponse/{v}"
                for v in criterion.values
            ]
            tokens = SearchToken.objects.filter(param="derived-from", value__in=values)
            return Q(pk__in=tokens.values("resource_id"))
        return super().filter(criterion)
