"""A pharmacist reviews a person's medicines with them from the structured medication review
list, and the person leaves the list (decisions 0043 and 0045)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_pharmacist_reviews_the_medicines_of_someone_on_an_opioid(
    page: Page, sign_in, live_server
) -> None:
    person = factories.PersonFactory(given_name="Jory", family_name="Penhallow")
    gp = factories.StaffFactory(discipline=Discipline.GP)
    pharmacist = factories.StaffFactory(discipline=Discipline.PHARMACIST, user__username="ph-jory")
    for staff in (gp, pharmacist):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    send_as(
        gp, medicine_taken(person, "Co-codamol 30mg/500mg tablets", dosage="Two four times a day")
    )
    send_as(gp, medicine_taken(person, "Sertraline 50mg tablets"))

    sign_in(page, "ph-jory", factories.PASSWORD)
    page.get_by_role("link", name="My caseload").first.click()
    reviews = page.get_by_role(
        "table", name="People to consider for a structured medication review"
    )
    expect(reviews.get_by_text("Potentially addictive: an opioid")).to_be_visible()
    reviews.get_by_role("link", name=re.compile("Jory PENHALLOW")).click()
    page.get_by_role("link", name=re.compile("^Record a structured medication review")).click()
    expect(
        page.get_by_role("heading", name=re.compile("Structured medication review with"))
    ).to_be_visible()
    assert violations(page) == [], "the review form"

    page.get_by_role("button", name="Save review").click()
    expect(
        page.get_by_role("link", name="Say what matters to the person about their medicines")
    ).to_be_visible()
    assert violations(page) == [], "the review form with errors"

    page.get_by_label("What matters to them about their medicines").fill(
        "Fewer tablets; the co-codamol makes me constipated."
    )
    codamol = page.get_by_role("group", name="1. Co-codamol 30mg/500mg tablets")
    codamol.get_by_label("Reduce the dose").check()
    codamol.get_by_label(re.compile("^How, and who makes the change")).fill(
        "Two at night only for a month; GP to change the repeat"
    )
    page.get_by_label(re.compile("^Yes: the person")).check()
    page.get_by_role("button", name="Save review").click()

    expect(page.get_by_text("The structured medication review has been saved")).to_be_visible()
    expect(page.locator("#medication-reviewed")).to_contain_text("Structured medication review on")
    expect(
        page.get_by_role("heading", name="Structured medication review: 1 to reduce, 1 to continue")
    ).to_be_visible()
    page.get_by_role("link", name="My caseload").first.click()
    expect(page.get_by_text("Structured medication reviews to consider")).to_have_count(0)
