"""A GP files a blood pressure reading their practice system sent without saying whose it was."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.models import Resource


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_gp_files_a_result_that_came_without_a_patient(page: Page, sign_in, live_server) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-osei")
    person = factories.PersonFactory(given_name="Ada", family_name="Quayle")
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    sent = api_for(gp).post(
        "/fhir/Observation",
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {
                "coding": [{"system": "http://loinc.org", "code": "85354-9"}],
                "text": "Blood pressure",
            },
            "component": [
                {"code": {"text": "Systolic"}, "valueQuantity": {"value": 150, "unit": "mmHg"}},
                {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 95, "unit": "mmHg"}},
            ],
            "effectiveDateTime": "2026-11-20",
        },
    )
    assert sent.status_code == 201, sent.content
    sign_in(page, "dr-osei", factories.PASSWORD)
    page.goto(f"{live_server.url}/caseload/")
    expect(page.get_by_text("1 result your systems sent is on nobody's record")).to_be_visible()
    assert violations(page) == [], "caseload with results waiting"

    page.get_by_role("link", name="File it on the right person's record").click()
    expect(page.get_by_role("heading", name="Results waiting to be filed")).to_be_visible()
    expect(page.get_by_text("Systolic 150 mmHg; Diastolic 95 mmHg")).to_be_visible()
    assert violations(page) == [], "results waiting"

    page.get_by_role("link", name="File Blood pressure").click()
    page.get_by_label("NHS number of the person the result is about").fill("123")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    assert violations(page) == [], "filing form with errors"

    page.get_by_label("NHS number of the person the result is about").fill(person.nhs_number)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check this is the right person")).to_be_visible()
    expect(page.get_by_text("Ada Quayle").first).to_be_visible()
    assert violations(page) == [], "check the person"

    page.get_by_role("button", name="File on Ada Quayle's record").click()
    expect(
        page.get_by_text("Blood pressure has been filed on the record of Ada Quayle")
    ).to_be_visible()
    expect(page.get_by_text("No results are waiting to be filed.")).to_be_visible()
    assert Resource.objects.get(resource_type="Observation").person == person
