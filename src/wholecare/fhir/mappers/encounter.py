"""Encounter (UK Core), kept whole by the FHIR edge: contacts between the person and a service."""

from typing import Any, ClassVar

from wholecare.fhir.base import Ctx, Include, StoredType, reference_ids
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.search import Param

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLASSES = frozenset(
    {"AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"}
)


class EncounterType(StoredType):
    name = "Encounter"
    profile = PROFILE
    statuses = frozenset(
        {
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    )
    date_element = "period"
    token_elements: ClassVar[dict[str, str]] = {"type": "type"}
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The encounter's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "date": Param("date", "date", "Start of the period, with prefixes"),
        "status": Param("status", "token", "planned, finished, ..."),
        "type": Param("type", "token", "Type of encounter"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Encounter:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    documentation = "Contacts with services, kept whole by the FHIR edge (decision 0006)."

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        klass = content.get("class", {})
        if klass.get("system") != ACT_CODE or klass.get("code") not in CLASSES:
            raise unprocessable(
                "code-invalid",
                f"Encounter.class must be one of {', '.join(sorted(CLASSES))} from {ACT_CODE}",
                "Encounter.class",
            )
