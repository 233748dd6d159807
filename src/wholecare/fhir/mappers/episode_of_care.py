"""EpisodeOfCare (UK Core), kept whole by the FHIR edge: a period of care by one organisation."""

from typing import ClassVar

from wholecare.fhir.base import Include, StoredType, reference_ids
from wholecare.fhir.search import Param

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-EpisodeOfCare"


class EpisodeOfCareType(StoredType):
    name = "EpisodeOfCare"
    profile = PROFILE
    statuses = frozenset(
        {"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"}
    )
    subject_element = "patient"
    date_element = "period"
    token_elements: ClassVar[dict[str, str]] = {"type": "type"}
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The episode's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "date": Param("date", "date", "Start of the period, with prefixes"),
        "status": Param("status", "token", "active, finished, ..."),
        "type": Param("type", "token", "Type of episode"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "EpisodeOfCare:patient": Include(
            "Patient", reference_ids(lambda r: r.get("patient"), "Patient")
        ),
    }
    documentation = "Episodes of care, kept whole by the FHIR edge (decision 0006)."
