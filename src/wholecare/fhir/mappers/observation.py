"""Observation (UK Core), kept whole by the FHIR edge: any coded observation about a person, with
its value (a quantity with its unit, a coded value, components or members) or the reason it is
absent. Questionnaire totals (PHQ-9, GAD-7 and the other instruments) are usually produced by
scoring a QuestionnaireResponse; vital signs, NEWS2 parts and laboratory results come from other
systems. An Observation whose code has no coding with a system and a code is refused with 422;
one with no subject at all is held unfiled (`StoredType.held_unfiled`)."""

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
    held_unfiled = True
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
        "Any coded observation (questionnaire totals scored from QuestionnaireResponses, vital"
        " signs, laboratory results), kept whole by the FHIR edge (decision 0006). One that names"
        " no subject at all is held unfiled: on nobody's record and readable only by the member"
        " of staff whose client sent it, until an update naming the Patient files it."
    )

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        codings = (content.get("code") or {}).get("coding", [])
        if not any(c.get("system") and c.get("code") for c in codings):
            raise unprocessable(
                "code-invalid",
                "Observation.code needs a coding with a system and a code (LOINC, SNOMED CT or"
                " another code system)",
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
