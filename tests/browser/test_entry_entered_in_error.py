"""A district nurse who wrote a visit on the wrong person's timeline marks it entered in error
from the timeline; it leaves the record (decision 0024)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.record import services


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_nurse_marks_her_entry_on_the_wrong_record(page: Page, sign_in, live_server) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-kerra")
    person = factories.PersonFactory(given_name="Jenifer", family_name="Rowse")
    factories.CareTeamMembershipFactory(person=person, staff=nurse)
    services.entry_create(
        by=nurse.user,
        person=person,
        kind="encounter",
        title="Home visit: catheter changed",
        text="Catheter changed; no problems.",
    )

    sign_in(page, "dn-kerra", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role(
        "link", name=re.compile(r"^Mark as entered in error\W+Home visit: catheter changed$")
    ).click()
    expect(page.get_by_text("Catheter changed; no problems.")).to_be_visible()
    assert violations(page) == [], "the form"
    page.get_by_role("button", name="Mark as entered in error").click()
    expect(page.get_by_role("link", name="Say why this entry was entered in error")).to_be_visible()
    assert violations(page) == [], "the form with an error"
    page.get_by_label("Why was it entered in error?").fill("Written on the wrong person's record")
    page.get_by_role("button", name="Mark as entered in error").click()
    expect(page.get_by_text("has been marked entered in error")).to_be_visible()
    expect(page.get_by_role("heading", name="Home visit: catheter changed")).to_have_count(0)
    assert violations(page) == [], "the summary afterwards"
