"""What a reader of the shared record sees of a CarePlan another system sent: golden cases, each
citing the FHIR R4 element it reads."""

import datetime as dt
from typing import Any

from wholecare.fhir.care_plans import Activity, CarePlanSummary, summarise

TODAY = dt.date(2026, 11, 24)

# UK Core's own example (UKCore-CarePlan-WellnessPlan-Example), as JSON: no title, a category
# with text only, an end date long past, an author without a display.
WELLNESS_PLAN: dict[str, Any] = {
    "resourceType": "CarePlan",
    "status": "active",
    "intent": "plan",
    "category": [{"text": "Weight management plan"}],
    "description": "Manage obesity and weight loss",
    "subject": {"reference": "Patient/UKCore-Patient-RichardSmith-Example"},
    "period": {"end": "2020-01-01"},
    "created": "2020-02-01",
    "author": {"reference": "Practitioner/UKCore-Practitioner-PaulRastall-Example"},
    "activity": [
        {
            "outcomeCodeableConcept": [
                {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "161832001",
                            "display": "Progressive weight loss",
                        }
                    ]
                }
            ],
            "detail": {
                "code": {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "27113001",
                            "display": "Body weight",
                        }
                    ]
                },
                "status": "completed",
                "statusReason": {"text": "Achieved weight loss to mitigate diabetes risk."},
            },
        }
    ],
}


def test_uk_cores_example() -> None:
    """CarePlan.category names it when it has no title; period.end before today with status
    active is past its end; activity.detail.code names the activity, its status and statusReason
    beside it, activity.outcomeCodeableConcept what came of it."""
    assert summarise(WELLNESS_PLAN, TODAY) == CarePlanSummary(
        title="Weight management plan",
        status="In force",
        in_force=True,
        description="Manage obesity and weight loss",
        starts=None,
        ends=dt.date(2020, 1, 1),
        past_end=True,
        author="",
        addresses=(),
        activities=(
            Activity(
                what="Body weight",
                status="Done",
                note="Achieved weight loss to mitigate diabetes risk.",
                outcome="Progressive weight loss",
            ),
        ),
    )


def test_a_plan_written_for_the_person() -> None:
    """CarePlan.title, period, author.display, addresses[].display and activity.detail.description
    are read as sent; an activity entered in error is left out."""
    plan = {
        "resourceType": "CarePlan",
        "status": "on-hold",
        "intent": "plan",
        "title": "Living well with COPD",
        "description": "Living well with COPD",
        "period": {"start": "2026-09-01", "end": "2027-03-01"},
        "author": {"display": "Dr Nia Okafor"},
        "addresses": [{"display": "Chronic obstructive lung disease"}, {"reference": "x"}],
        "activity": [
            {"detail": {"status": "in-progress", "description": "Pulmonary rehabilitation"}},
            {"detail": {"status": "entered-in-error", "description": "Wrong person's plan"}},
            {"reference": {"display": "Referral to the breathlessness clinic"}},
            {"detail": {"status": "scheduled"}},
        ],
    }
    found = summarise(plan, TODAY)
    assert (found.title, found.status, found.description) == (
        "Living well with COPD",
        "On hold",
        "",
    ), "a description that repeats the title is not shown twice"
    assert (found.starts, found.ends, found.past_end) == (
        dt.date(2026, 9, 1),
        dt.date(2027, 3, 1),
        False,
    )
    assert found.author == "Dr Nia Okafor"
    assert found.addresses == ("Chronic obstructive lung disease",)
    assert [(a.what, a.status) for a in found.activities] == [
        ("Pulmonary rehabilitation", "In progress"),
        ("Referral to the breathlessness clinic", ""),
        ("An activity with no description", "Scheduled"),
    ]


def test_a_plan_with_nothing_but_its_status() -> None:
    found = summarise({"resourceType": "CarePlan", "status": "draft", "intent": "plan"}, TODAY)
    assert (found.title, found.status, found.activities) == (
        "Care plan",
        "Draft, not yet agreed",
        (),
    )
