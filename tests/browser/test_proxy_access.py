"""A care coordinator lets a daughter read her mother's record and notes on her behalf; the
daughter reads them; the mother sees that she did and ends it (decision 0041)."""

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


def test_a_daughter_reads_her_mothers_record_and_her_mother_ends_it(
    page: Page, sign_in, live_server
) -> None:
    coordinator = factories.StaffFactory(
        discipline=Discipline.CARE_COORDINATOR, user__username="cc-lowen"
    )
    mother = factories.PersonFactory(
        given_name="Elowen",
        family_name="Pascoe",
        user=factories.UserFactory(username="elowen"),
    )
    factories.UserFactory(
        username="tamsin", email="tamsin@example.org", first_name="Tamsin", last_name="Pascoe"
    )
    factories.CareTeamMembershipFactory(person=mother, staff=coordinator)
    factories.ConditionFactory(person=mother, snomed_code="84114007")

    sign_in(page, "cc-lowen", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{mother.public_id}/")
    page.get_by_role("link", name="Who can act for Elowen").click()
    page.get_by_label("Email address they sign in with").fill("tamsin@example.org")
    page.get_by_label("Who they are to the person").fill("Daughter")
    page.get_by_role("button", name="Give access").click()
    expect(
        page.get_by_role("link", name="Check who they are before they can act for the person")
    ).to_be_visible()
    assert violations(page) == [], "the form with errors"
    page.get_by_label(re.compile(r"^Yes: notes and letters too")).check()
    page.get_by_label(re.compile(r"^The person agreed")).check()
    page.get_by_label("I have checked who they are").check()
    page.get_by_role("button", name="Give access").click()
    expect(page.get_by_text("Tamsin Pascoe can now read Elowen PASCOE's record")).to_be_visible()
    assert violations(page) == [], "who can act for the person"
    services.entry_create(
        by=coordinator.user,
        person=mother,
        kind="note",
        title="Care review at home",
        text="Managing well with twice-daily calls.",
    )
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "tamsin", factories.PASSWORD)
    expect(page.get_by_role("heading", name="People I help")).to_be_visible()
    page.get_by_role("link", name="Elowen PASCOE").click()
    expect(page.get_by_text("You are reading Elowen PASCOE's record on their")).to_be_visible()
    expect(page.get_by_text("Heart failure")).to_be_visible()
    assert violations(page) == [], "the record read by a proxy"
    page.get_by_role("link", name="their notes and letters").click()
    expect(page.get_by_text("Managing well with twice-daily calls.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "elowen", factories.PASSWORD)
    page.get_by_role("main").get_by_role("link", name="Who has looked at my record").click()
    expect(page.get_by_text("notes and letters, read by their proxy (Daughter)")).to_be_visible()
    page.get_by_role("link", name="Back to my record").click()
    page.get_by_role("main").get_by_role("link", name="Who can act for me").click()
    assert violations(page) == [], "who can act for me"
    page.get_by_role("button", name="Stop Tamsin Pascoe reading my record").click()
    expect(page.get_by_text("Tamsin Pascoe can no longer read your record.")).to_be_visible()
    expect(page.get_by_text("Nobody can read your record on your behalf.")).to_be_visible()
