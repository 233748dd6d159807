"""Appointment (UK Core), kept whole by the FHIR edge. Its patient is the participant whose actor
is a Patient (exactly one)."""

from typing import Any, ClassVar

from wholecare.fhir.base import Include, StoredType, reference_ids
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.search import Param

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Appointment"


def _patients(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        p["actor"]
        for p in content.get("participant", [])
        if str(p.get("actor", {}).get("reference", "")).startswith("Patient/")
    ]


class AppointmentType(StoredType):
    name = "Appointment"
    profile = PROFILE
    statuses = frozenset(
        {
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        }
    )
    subject_element = "participant"
    date_element = "start"
    token_elements: ClassVar[dict[str, str]] = {"service-type": "serviceType"}
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The appointment's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "date": Param("date", "date", "Start, with prefixes"),
        "status": Param("status", "token", "booked, fulfilled, ..."),
        "service-type": Param("service-type", "token", "Kind of service"),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Appointment:patient": Include(
            "Patient",
            reference_ids(lambda r: [p.get("actor") for p in r.get("participant", [])], "Patient"),
        ),
    }
    documentation = "Appointments, kept whole by the FHIR edge (decision 0006)."

    def subject(self, content: dict[str, Any]) -> dict[str, Any] | None:
        patients = _patients(content)
        if len(patients) != 1:
            raise unprocessable(
                "required",
                "An Appointment needs exactly one participant whose actor is a Patient",
                "Appointment.participant",
            )
        return patients[0]
