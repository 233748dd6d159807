"""A district nurse records a need she notices on a visit; the social worker finds it on her
caseload, assesses it and records the support put in place (decision 0018)."""

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


def test_a_nurse_records_a_need_and_the_social_worker_assesses_it(
    page: Page, sign_in, live_server
) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-ola")
    social_worker = factories.StaffFactory(
        discipline=Discipline.SOCIAL_WORKER, user__username="sw-ben"
    )
    person = factories.PersonFactory(given_name="Iris", family_name="Okonkwo")
    for staff in (nurse, social_worker):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    summary = f"{live_server.url}/people/{person.public_id}/"
    needs = page.get_by_role("region", name="Social care needs")

    sign_in(page, "dn-ola", factories.PASSWORD)
    page.goto(summary)
    needs.get_by_role("link", name=re.compile(r"^Record a social care need\W+for Iris")).click()
    expect(page.get_by_text("It is recorded as awaiting assessment")).to_be_visible()
    assert violations(page) == [], "the form"
    page.get_by_role("button", name="Record need").click()
    expect(page.get_by_role("link", name="Choose the need")).to_be_visible()
    assert violations(page) == [], "the form with an error"
    page.get_by_role("radio", name="Meal preparation and nutrition").check()
    page.get_by_role("button", name="Record need").click()
    expect(
        page.get_by_text("Meal preparation and nutrition has been recorded as awaiting assessment.")
    ).to_be_visible()
    expect(needs.get_by_text("Awaiting assessment", exact=True)).to_be_visible()
    expect(needs.get_by_role("link", name=re.compile("^Change status"))).to_have_count(0)
    assert violations(page) == [], "the summary afterwards"

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "sw-ben", factories.PASSWORD)
    page.goto(f"{live_server.url}/caseload/")
    worklist = page.get_by_role("table", name="Social care needs awaiting assessment")
    expect(worklist.get_by_text("Meal preparation and nutrition")).to_be_visible()
    assert violations(page) == [], "the caseload with needs awaiting assessment"
    worklist.get_by_role("link", name="Iris OKONKWO").click()
    needs.get_by_role(
        "link", name=re.compile(r"^Change status\W+Meal preparation and nutrition$")
    ).click()
    expect(page.get_by_role("radio", name="Awaiting assessment")).to_be_checked()
    assert violations(page) == [], "the status form"
    page.get_by_role("radio", name="Assessed, support in place").check()
    page.get_by_role("button", name="Save status").click()
    expect(
        page.get_by_text(
            "Meal preparation and nutrition is now recorded as assessed, support in place."
        )
    ).to_be_visible()
    expect(needs.get_by_text("Awaiting assessment", exact=True)).to_have_count(0)
    expect(needs.get_by_text(re.compile(r"^Assessed, support in place · since"))).to_be_visible()
