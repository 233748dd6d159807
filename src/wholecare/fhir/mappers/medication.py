"""MedicationStatement and MedicationRequest (UK Core), kept whole by the FHIR edge (decision
0037): the medicines a person takes, as their GP practice's or a hospital's system records them,
and what was prescribed. Wholecare prescribes nothing; it shares what those systems send."""

from typing import Any, ClassVar

from wholecare.fhir.base import Include, StoredType, reference_ids
from wholecare.fhir.medicines import sent_name
from wholecare.fhir.search import Param
from wholecare.medicines import review

REVIEW_GROUP = "review-group"
"""Not a FHIR search parameter: the index of the `medicines.review` groups a statement's medicine
is in, by which the caseload finds whom to consider for a structured medication review
(decision 0043). A change to the groups needs the statements indexed again (as migration
`fhir.0008` did)."""

STATEMENT_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-MedicationStatement"
REQUEST_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-MedicationRequest"
DMD = "https://dmd.nhs.uk"


def _patient(name: str) -> dict[str, Include]:
    subject = Include("Patient", reference_ids(lambda r: r.get("subject"), "Patient"))
    return {f"{name}:patient": subject, f"{name}:subject": subject}


class MedicationStatementType(StoredType):
    name = "MedicationStatement"
    profile = STATEMENT_PROFILE
    statuses = frozenset(
        {
            "active",
            "completed",
            "entered-in-error",
            "intended",
            "stopped",
            "on-hold",
            "unknown",
            "not-taken",
        }
    )
    token_elements: ClassVar[dict[str, str]] = {
        "code": "medicationCodeableConcept",
        "category": "category",
    }
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The statement's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "status": Param("status", "token", "active, completed, stopped, ..."),
        "code": Param("code", "token", f"The medicine, such as {DMD}|<dm+d code>"),
        "category": Param("category", "token", "inpatient, outpatient, community, ..."),
        "effective": Param("effective", "date", "When it was taken, with prefixes"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = _patient("MedicationStatement")
    documentation = (
        "The medicines a person takes or took, as their GP practice's, a hospital's or a"
        " pharmacy's system records them, kept whole (decisions 0006 and 0037) and shown on the"
        " person summary and the person's own record."
    )

    def date_value(self, content: dict[str, Any]) -> Any:
        return content.get("effectivePeriod") or content.get("effectiveDateTime")

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        return super().tokens(content) + review_tokens(content)


def review_tokens(content: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The `REVIEW_GROUP` tokens of a MedicationStatement: the groups its medicine is in."""
    return [(REVIEW_GROUP, "", group.key) for group in review.groups_of(sent_name(content))]


class MedicationRequestType(StoredType):
    name = "MedicationRequest"
    profile = REQUEST_PROFILE
    statuses = frozenset(
        {
            "active",
            "on-hold",
            "cancelled",
            "completed",
            "entered-in-error",
            "stopped",
            "draft",
            "unknown",
        }
    )
    date_element = "authoredOn"
    token_elements: ClassVar[dict[str, str]] = {
        "code": "medicationCodeableConcept",
        "category": "category",
    }
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The request's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "status": Param("status", "token", "active, completed, stopped, ..."),
        "code": Param("code", "token", f"The medicine, such as {DMD}|<dm+d code>"),
        "category": Param("category", "token", "inpatient, outpatient, community, discharge"),
        "authoredon": Param("authoredon", "date", "When it was written, with prefixes"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = _patient("MedicationRequest")
    documentation = (
        "Prescriptions and medication orders other systems send, kept whole (decisions 0006 and"
        " 0037), read through the API only: what the person takes is their MedicationStatements."
    )
