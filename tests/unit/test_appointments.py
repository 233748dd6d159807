"""An Appointment another system sent, read as a person reads it (decision 0039)."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import given

from tests.unit.fhir.kept_content import kept_content
from wholecare.fhir import appointments

#: UK Core's own example, UKCore-Appointment-OrthopaedicSurgery-Example, in JSON (abridged to the
#: elements a reader sees).
ORTHOPAEDICS: dict[str, Any] = {
    "resourceType": "Appointment",
    "extension": [
        {
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BookingOrganization",
            "valueReference": {
                "reference": "Organization/UKCore-Organization-WhiteRoseMedicalCentre-Example"
            },
        },
        {
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeliveryChannel",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeliveryChannel",
                        "code": "In-person",
                        "display": "In person",
                    }
                ]
            },
        },
    ],
    "status": "booked",
    "serviceType": [{"coding": [{"code": "218", "display": "Orthopaedic Surgery"}]}],
    "description": "Appointment to investigate the pain in both hips",
    "start": "2022-03-11T10:46:00+00:00",
    "end": "2022-03-11T13:20:00+00:00",
    "comment": "Further expand on the results of the X-ray.",
    "patientInstruction": "Please do not eat anything for 1 hour prior to the appointment.",
    "participant": [
        {
            "actor": {
                "reference": "Patient/UKCore-Patient-RichardSmith-Example",
                "display": "Richard Smith",
            },
            "status": "accepted",
        },
        {
            "actor": {
                "reference": "Practitioner/UKCore-Practitioner-ConsultantSandraGose-Example",
                "display": "Dr Sandra Gose",
            },
            "status": "accepted",
        },
        {"actor": {"display": "Fracture clinic, St Elsewhere's"}, "status": "accepted"},
    ],
}


def test_uk_cores_example_reads_as_its_sender_wrote_it() -> None:
    utc = dt.UTC
    assert appointments.summarise(ORTHOPAEDICS) == appointments.AppointmentSummary(
        what="Appointment to investigate the pain in both hips",
        status="Booked",
        starts=dt.datetime(2022, 3, 11, 10, 46, tzinfo=utc),
        ends=dt.datetime(2022, 3, 11, 13, 20, tzinfo=utc),
        with_whom=("Dr Sandra Gose", "Fracture clinic, St Elsewhere's"),
        channel="In person",
        instructions="Please do not eat anything for 1 hour prior to the appointment.",
        comment="Further expand on the results of the X-ray.",
    )


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({}, "Appointment to investigate the pain in both hips"),
        ({"description": None}, "Orthopaedic Surgery"),
        (
            {"description": None, "serviceType": None, "specialty": [{"text": "Rheumatology"}]},
            "Rheumatology",
        ),
        (
            {"description": None, "serviceType": None, "appointmentType": {"text": "Follow-up"}},
            "Follow-up",
        ),
        ({"description": None, "serviceType": None}, "Appointment"),
    ],
)
def test_what_it_is_for_is_the_senders_best_description(change: dict[str, Any], what: str) -> None:
    content = {k: v for k, v in {**ORTHOPAEDICS, **change}.items() if v is not None}
    assert appointments.summarise(content).what == what


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("booked", "Booked"),
        ("pending", "Not yet confirmed"),
        ("proposed", "Offered, not yet booked"),
        ("waitlist", "On the waiting list"),
        ("cancelled", "Cancelled"),
        ("noshow", "Noshow"),
    ],
)
def test_each_status_is_said_in_words(status: str, label: str) -> None:
    assert appointments.summarise({**ORTHOPAEDICS, "status": status}).status == label


@pytest.mark.parametrize("start", ["2022-03-11", "2022-03-11T10:46:00", "soon", 20220311, None])
def test_a_start_without_a_time_zone_is_no_instant(start: Any) -> None:
    assert appointments.summarise({**ORTHOPAEDICS, "start": start}).starts is None


@given(
    kept_content(
        "status",
        "description",
        "serviceType",
        "specialty",
        "appointmentType",
        "start",
        "end",
        "participant",
        "extension",
        "patientInstruction",
        "comment",
    )
)
def test_whatever_was_kept_an_appointment_reads_without_error(content: dict[str, Any]) -> None:
    read = appointments.summarise(content)
    assert read.what
    assert all(read.with_whom)
    assert read.starts is None or read.starts.tzinfo is not None
