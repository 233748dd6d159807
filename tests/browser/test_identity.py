"""A GP records the NHS number allocated to a newborn, whose record was made before it was."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.record.models import Person


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_gp_records_a_newborns_nhs_number(page: Page, sign_in, live_server) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-ross")
    baby = factories.PersonFactory(
        nhs_number=None, given_name="", family_name="Trelawny", date_of_birth=None
    )
    factories.CareTeamMembershipFactory(person=baby, staff=gp)
    sign_in(page, "dr-ross", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{baby.public_id}/")
    expect(page.get_by_text("Not known").first).to_be_visible()

    page.get_by_role("link", name="Record details that were not known").click()
    expect(page.get_by_role("heading", name="Record details that were not known")).to_be_visible()
    expect(page.get_by_label("Family name")).to_have_count(0)
    assert violations(page) == [], "identity form"

    page.get_by_label("NHS number").fill("999 000 0010")
    page.get_by_role("button", name="Record details").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    assert violations(page) == [], "identity form with errors"

    page.get_by_label("NHS number").fill("999 000 0026")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Record details").click()
    expect(page.get_by_text("The details have been recorded.")).to_be_visible()
    expect(page.get_by_text("999 000 0026")).to_be_visible()
    assert Person.objects.get(pk=baby.pk).nhs_number == "9990000026"
