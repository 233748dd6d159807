"""Physical markers a GP system sends through the FHIR API are charted on the Talking Therapies
page beside mood, as those recorded here are: the therapist sees the HbA1c wherever it was taken
(HF33)."""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import signed_in
from tests.app.talking_therapies.conftest import Setting, days_ago, refer
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.talking_therapies import selectors, services
from wholecare.talking_therapies.markers import LOINC, SNOMED_CT, UCUM, NotCharted

pytestmark = pytest.mark.django_db


def _observation(tt: Setting, code: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SNOMED_CT, "code": code}]},
        "subject": {"reference": f"Patient/{tt.person.public_id}"},
        "effectiveDateTime": "2026-03-04",
        "valueQuantity": {"value": value, "system": UCUM, "code": unit, "unit": unit},
        **extra,
    }


@pytest.fixture
def gp(tt: Setting) -> Staff:
    gp = factories.StaffFactory(
        discipline=Discipline.GP, user__first_name="Harbour Street", user__last_name="GP system"
    )
    factories.CareTeamMembershipFactory(person=tt.person, staff=gp)
    return gp


def test_a_gp_systems_markers_are_charted_beside_those_recorded_here(
    tt: Setting, gp: Staff
) -> None:
    gp_system = api_for(gp)
    refer(tt)
    services.marker_record(
        by=tt.pwp.user, person=tt.person, code="hba1c", value=64, observed_on=days_ago(30)
    )
    hba1c_in_percent = _observation(tt, "1003671000000109", 7.0, "%")
    blood_pressure = {
        **_observation(tt, "75367002", 0, ""),
        "valueQuantity": None,
        "component": [
            {
                "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                "valueQuantity": {"value": 142, "system": UCUM, "code": "mm[Hg]"},
            }
        ],
    }
    del blood_pressure["valueQuantity"]
    preliminary = _observation(tt, "1003671000000109", 70, "mmol/mol", status="preliminary")
    sexual_health = _observation(
        tt,
        "1003671000000109",
        99,
        "mmol/mol",
        meta={
            "security": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SEX"}
            ]
        },
    )
    withdrawn = _observation(tt, "1003671000000109", 150, "mmol/mol", status="entered-in-error")
    for body in (hba1c_in_percent, blood_pressure, preliminary, sexual_health, withdrawn):
        assert gp_system.post("/fhir/Observation", body).status_code == 201, body

    page = selectors.person_page(by=tt.pwp.user, public_id=tt.person.public_id)
    assert page.chart is not None
    charted = {
        panel.title: [(p.value, p.note) for p in panel.points] for panel in page.chart.panels
    }
    assert charted["HbA1c"] == [
        (53.0, "Sent by Harbour Street GP system, as 7 %"),
        (64.0, ""),
    ], "by date: the GP's in March, then the one recorded here; not the sexual health one"
    assert charted["Systolic blood pressure"] == [(142.0, "Sent by Harbour Street GP system")]
    assert page.markers_not_charted == [
        NotCharted("HbA1c", dt.date(2026, 3, 4), "70 mmol/mol", "a preliminary result")
    ]

    html = (
        signed_in(tt.pwp)
        .get(reverse("talking_therapies:person", args=[tt.person.public_id]))
        .content.decode()
    )
    assert "Sent by Harbour Street GP system, as 7 %" in html
    assert "HbA1c 70 mmol/mol on 4 Mar 2026: a preliminary result" in html
    assert "99 mmol/mol" not in html, "labelled sexual health: the GP's to share, not the PWP's"
    for_the_gp = selectors.person_page(by=gp.user, public_id=tt.person.public_id).chart
    assert for_the_gp is not None
    assert 99.0 in [p.value for panel in for_the_gp.panels for p in panel.points]
