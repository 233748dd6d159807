"""AllergyIntolerance (UK Core), kept whole by the FHIR edge (decision 0038): the allergies and
intolerances a GP practice's, hospital's or pharmacy's system records. It has no `status`: its
clinical status (active, inactive, resolved) and verification status (confirmed, unconfirmed,
refuted, entered in error) say whether it holds."""

from typing import Any, ClassVar

from wholecare.fhir.base import ENTERED_IN_ERROR, Include, StoredType, reference_ids
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.search import Param

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-AllergyIntolerance"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CLINICAL_STATUSES = frozenset({"active", "inactive", "resolved"})
VERIFICATION_STATUSES = frozenset({"unconfirmed", "confirmed", "refuted", ENTERED_IN_ERROR})


def _code(concept: Any, system: str) -> str | None:
    """The code of the concept's coding in `system`; None when it has none."""
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding", []):
        if isinstance(coding, dict) and coding.get("system") == system:
            return str(coding.get("code", ""))
    return None


class AllergyIntoleranceType(StoredType):
    name = "AllergyIntolerance"
    profile = PROFILE
    statuses = CLINICAL_STATUSES
    subject_element = "patient"
    date_element = "recordedDate"
    token_elements: ClassVar[dict[str, str]] = {
        "code": "code",
        "clinical-status": "clinicalStatus",
        "verification-status": "verificationStatus",
    }
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The allergy's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "code": Param("code", "token", "The substance or product (SNOMED CT)"),
        "clinical-status": Param("clinical-status", "token", "active, inactive, resolved"),
        "verification-status": Param(
            "verification-status", "token", "confirmed, unconfirmed, refuted"
        ),
        "date": Param("date", "date", "When it was recorded, with prefixes"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "AllergyIntolerance:patient": Include(
            "Patient", reference_ids(lambda r: r.get("patient"), "Patient")
        ),
    }
    documentation = (
        "Allergies and intolerances, kept whole (decisions 0006 and 0038); those active and not"
        " refuted are shown first on the person summary and on the person's own record."
    )

    def check_status(self, content: dict[str, Any]) -> None:
        """Each status, when given, from its code system; and, as FHIR's invariants ait-1 and
        ait-2 require, a clinical status exactly when it is not entered in error."""
        clinical = _code(content.get("clinicalStatus"), CLINICAL)
        verification = _code(content.get("verificationStatus"), VERIFICATION)
        if "clinicalStatus" in content and clinical not in CLINICAL_STATUSES:
            raise unprocessable(
                "code-invalid",
                f"AllergyIntolerance.clinicalStatus must be one of"
                f" {', '.join(sorted(CLINICAL_STATUSES))} from {CLINICAL}",
                "AllergyIntolerance.clinicalStatus",
            )
        if "verificationStatus" in content and verification not in VERIFICATION_STATUSES:
            raise unprocessable(
                "code-invalid",
                f"AllergyIntolerance.verificationStatus must be one of"
                f" {', '.join(sorted(VERIFICATION_STATUSES))} from {VERIFICATION}",
                "AllergyIntolerance.verificationStatus",
            )
        if (verification == ENTERED_IN_ERROR) == ("clinicalStatus" in content):
            raise unprocessable(
                "invariant",
                "AllergyIntolerance.clinicalStatus is needed unless verificationStatus is"
                " entered-in-error, and not allowed when it is",
                "AllergyIntolerance.clinicalStatus",
            )

    def status_of(self, content: dict[str, Any]) -> str:
        if _code(content.get("verificationStatus"), VERIFICATION) == ENTERED_IN_ERROR:
            return ENTERED_IN_ERROR
        return _code(content.get("clinicalStatus"), CLINICAL) or ""

    def marked_entered_in_error(self, content: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in content.items() if k != "clinicalStatus"}
        return {
            **kept,
            "verificationStatus": {
                "coding": [
                    {
                        "system": VERIFICATION,
                        "code": ENTERED_IN_ERROR,
                        "display": "Entered in Error",
                    }
                ]
            },
        }
