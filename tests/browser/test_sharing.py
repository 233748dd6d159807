"""A person decides, from their own sign-in, that their GP may read their therapy notes; the
therapist records another decision with them (decision 0029)."""

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


def test_the_person_and_their_therapist_record_who_may_read_therapy_notes(
    page: Page, sign_in, live_server
) -> None:
    person = factories.PersonFactory(
        given_name="Rosa", family_name="Tregear", user=factories.UserFactory(username="rosa")
    )
    therapist = factories.StaffFactory(
        discipline=Discipline.HIGH_INTENSITY_THERAPIST, user__username="hit-kim"
    )
    factories.CareTeamMembershipFactory(person=person, staff=therapist)
    gp_row = page.get_by_role("table", name="Who may read psychological therapy notes").get_by_role(
        "row", name="GP"
    )

    sign_in(page, "rosa", factories.PASSWORD)
    page.get_by_role("main").get_by_role("link", name="Who may read my notes").click()
    expect(gp_row).to_contain_text("No")
    assert violations(page) == [], "the person's own page"
    page.get_by_role("button", name="Record decision").click()
    expect(
        page.get_by_role("link", name="Choose which notes the decision is about")
    ).to_be_visible()
    assert violations(page) == [], "the form with errors"
    page.get_by_role("radio", name="Psychological therapy notes").check()
    page.get_by_label("Who is the decision about?").select_option(label="GP")
    page.get_by_role("radio", name="Share", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Recorded: GP may read psychological therapy notes.")).to_be_visible()
    expect(gp_row).to_contain_text("Yes")
    expect(gp_row).to_contain_text("You decided")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "hit-kim", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role("link", name="Who may read sensitive notes").click()
    expect(gp_row).to_contain_text("Rosa TREGEAR decided")
    assert violations(page) == [], "the page staff see"
    page.get_by_role("radio", name="Sexual health entries").check()
    page.get_by_label("Who is the decision about?").select_option(label="Practice nurse")
    page.get_by_role("radio", name="Share", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    nurse_row = page.get_by_role("table", name="Who may read sexual health entries").get_by_role(
        "row", name="Practice nurse"
    )
    expect(nurse_row).to_contain_text("recorded by")
