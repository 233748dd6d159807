"""A practice nurse records a long-term condition from the person summary; a social worker is
told to add what they know to the timeline instead (decision 0017)."""

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


def test_a_nurse_records_a_condition_and_a_social_worker_is_pointed_to_the_timeline(
    page: Page, sign_in, live_server
) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.PRACTICE_NURSE, user__username="pn-joy")
    social_worker = factories.StaffFactory(
        discipline=Discipline.SOCIAL_WORKER, user__username="sw-amal"
    )
    person = factories.PersonFactory(given_name="Ottilie", family_name="Brennan")
    for staff in (nurse, social_worker):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    summary = f"{live_server.url}/people/{person.public_id}/"

    sign_in(page, "pn-joy", factories.PASSWORD)
    page.goto(summary)
    page.get_by_role("link", name=re.compile(r"^Record a condition\W+for Ottilie")).click()
    expect(
        page.get_by_role("heading", name="Record a condition for Ottilie BRENNAN")
    ).to_be_visible()
    assert violations(page) == [], "the form"
    page.get_by_role("button", name="Record condition").click()
    expect(page.get_by_role("link", name="Choose the condition")).to_be_visible()
    assert violations(page) == [], "the form with an error"

    page.get_by_label("Condition").select_option(label="Asthma (SNOMED CT 195967001)")
    page.get_by_label("Day").fill("12")
    page.get_by_label("Month").fill("9")
    page.get_by_label("Year").fill("2021")
    page.get_by_role("button", name="Record condition").click()
    expect(page.get_by_text("Asthma has been added to the record.")).to_be_visible()
    long_term = page.get_by_role("region", name="Long-term conditions")
    expect(long_term.get_by_text("Asthma", exact=True)).to_be_visible()
    expect(
        long_term.get_by_text(re.compile(r"since Sep 2021 · recorded by Practice nurse"))
    ).to_be_visible()
    assert violations(page) == [], "the summary afterwards"

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "sw-amal", factories.PASSWORD)
    page.goto(summary)
    expect(page.get_by_role("link", name=re.compile("^Record a condition"))).to_have_count(0)
    page.goto(f"{summary}conditions/new/")
    expect(page.get_by_text("Only clinicians who make diagnoses")).to_be_visible()
    assert violations(page) == [], "the refusal"
    page.get_by_role("link", name="Add an entry to the timeline").click()
    expect(page.get_by_role("heading", name="Add an entry for Ottilie BRENNAN")).to_be_visible()
