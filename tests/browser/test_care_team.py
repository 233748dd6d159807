"""A GP adds the social worker to a person's care team, found by name in the directory, and
takes off a nurse who has left (decision 0019)."""

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


def test_a_gp_adds_a_social_worker_and_takes_off_a_nurse_who_left(
    page: Page, sign_in, live_server
) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="gp-rhys")
    nurse = factories.StaffFactory(
        discipline=Discipline.DISTRICT_NURSE, user__first_name="Ola", user__last_name="Nowak"
    )
    factories.StaffFactory(
        discipline=Discipline.SOCIAL_WORKER, user__first_name="Amara", user__last_name="Okafor"
    )
    person = factories.PersonFactory(given_name="Enid", family_name="Marchetti")
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.CareTeamMembershipFactory(person=person, staff=nurse, role="District nurse")
    team = page.get_by_role("region", name="Care team")

    sign_in(page, "gp-rhys", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    team.get_by_role("link", name=re.compile(r"^Add someone to the care team")).click()
    page.get_by_label("Name of the member of staff").fill("okafor")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("radio", name="Amara Okafor")).to_be_visible()
    assert violations(page) == [], "the search results"
    page.get_by_role("button", name="Add to the care team").click()
    expect(page.get_by_role("link", name="Choose who to add")).to_be_visible()
    assert violations(page) == [], "the form with errors"
    page.get_by_role("radio", name="Amara Okafor").check()
    page.get_by_label("Their role in the team").fill("Named social worker")
    page.get_by_role("button", name="Add to the care team").click()
    expect(
        page.get_by_text("Amara Okafor has been added to the care team as Named social worker.")
    ).to_be_visible()
    expect(team.get_by_text("Amara Okafor", exact=True)).to_be_visible()

    team.get_by_role("link", name=re.compile(r"^Take off the care team\W+Ola Nowak$")).click()
    expect(page.get_by_text("can no longer open")).to_be_visible()
    assert violations(page) == [], "the confirmation"
    page.get_by_role("button", name="Take off the care team").click()
    expect(page.get_by_text("Ola Nowak has been taken off the care team.")).to_be_visible()
    expect(team.get_by_text("Ola Nowak", exact=True)).to_have_count(0)
    assert violations(page) == [], "the summary afterwards"
