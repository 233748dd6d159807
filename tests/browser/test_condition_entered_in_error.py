"""A GP withdraws a diagnosis recorded on the wrong person, from the person summary, through a
page that says what will happen and asks why; and records that another has eased."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_gp_marks_a_condition_entered_in_error_and_changes_another_status(
    page: Page, sign_in, live_server
) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="gp-nadia")
    person = factories.PersonFactory(given_name="Wendell", family_name="Achterberg")
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.ConditionFactory(person=person, snomed_code="44054006", recorded_by=gp)
    factories.ConditionFactory(person=person, snomed_code="13645005", recorded_by=gp)
    sign_in(page, "gp-nadia", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    expect(page.get_by_text("Chronic obstructive lung disease", exact=True)).to_be_visible()

    page.get_by_role(
        "link", name=re.compile(r"^Mark as entered in error\W+Chronic obstructive lung disease$")
    ).click()
    expect(page.get_by_role("heading", name="Mark a condition entered in error")).to_be_visible()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    assert violations(page) == [], "the form"
    page.get_by_role("button", name="Mark as entered in error").click()
    expect(page.get_by_text("Say why this condition was entered in error").first).to_be_visible()
    assert violations(page) == [], "the form with an error"

    page.get_by_label("Why was it entered in error?").fill("Recorded on the wrong person's record")
    page.get_by_role("button", name="Mark as entered in error").click()
    expect(
        page.get_by_text("Chronic obstructive lung disease has been marked entered in error.")
    ).to_be_visible()
    expect(page.get_by_text("Chronic obstructive lung disease", exact=True)).to_have_count(0)
    expect(page.get_by_text("Type 2 diabetes mellitus", exact=True)).to_be_visible()
    assert violations(page) == [], "the summary afterwards"

    page.get_by_role("link", name=re.compile(r"^Change status\W+Type 2 diabetes mellitus$")).click()
    expect(page.get_by_role("radio", name="Active")).to_be_checked()
    assert violations(page) == [], "the status form"
    page.get_by_role("radio", name="In remission").check()
    page.get_by_role("button", name="Save status").click()
    expect(
        page.get_by_text("Type 2 diabetes mellitus is now recorded as in remission.")
    ).to_be_visible()
    expect(page.get_by_text("In remission", exact=True)).to_be_visible()
