"""CarePlan (UK Core), kept whole by the FHIR edge."""

from typing import Any, ClassVar

from wholecare.fhir.base import Ctx, Include, StoredType, reference_ids
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.search import Param

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-CarePlan"
INTENTS = frozenset({"proposal", "plan", "order", "option"})


class CarePlanType(StoredType):
    name = "CarePlan"
    profile = PROFILE
    statuses = frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    )
    date_element = "period"
    token_elements: ClassVar[dict[str, str]] = {"category": "category"}
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The care plan's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "date": Param("date", "date", "Start of the period, with prefixes"),
        "status": Param("status", "token", "active, completed, ..."),
        "category": Param("category", "token", "Kind of plan"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "CarePlan:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    documentation = "Care plans, kept whole by the FHIR edge (decision 0006)."

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        if content.get("intent") not in INTENTS:
            raise unprocessable(
                "code-invalid",
                f"CarePlan.intent must be one of {', '.join(sorted(INTENTS))}",
                "CarePlan.intent",
            )
