"""A district nurse writes one note the person may read and withholds another that holds a
neighbour's information; the GP then withholds a third; the person reads only the first in "My
notes and letters". Then the GP stops showing all her notes online, and she reads none
(decision 0040)."""

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


def test_the_person_reads_their_notes_but_not_those_withheld(
    page: Page, sign_in, live_server
) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-tre")
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="gp-rowe")
    account = factories.UserFactory(username="morwenna")
    person = factories.PersonFactory(given_name="Morwenna", family_name="Tregear", user=account)
    factories.CareTeamMembershipFactory(person=person, staff=nurse)
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    services.entry_create(
        by=gp.user,
        person=person,
        kind="note",
        title="Telephone review: new worry",
        text="Possible relapse; discuss at next visit before telling her.",
    )

    sign_in(page, "dn-tre", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role("link", name="Add an entry").click()
    page.get_by_label("Kind of entry").select_option(label="Encounter")
    page.get_by_label("Title", exact=True).fill("Home visit: leg ulcer dressed")
    page.get_by_label("Entry", exact=True).fill("Healing well. Next visit Tuesday.")
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("The entry has been added to the timeline.")).to_be_visible()
    page.get_by_role("link", name="Add an entry").click()
    page.get_by_label("Kind of entry").select_option(label="Note")
    page.get_by_label("Title", exact=True).fill("Call from neighbour")
    page.get_by_label("Entry", exact=True).fill("Neighbour worried about visitors late at night.")
    page.get_by_label(re.compile(r"^No: it holds information about someone else")).check()
    assert violations(page) == [], "the entry form asking whether the person may read it"
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("Withheld from Morwenna", exact=True)).to_be_visible()
    expect(page.get_by_text("Morwenna can read this online")).to_have_count(2)
    assert violations(page) == [], "the summary tagging what the person reads"
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "gp-rowe", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role(
        "link", name=re.compile(r"^Withhold from Morwenna\W+Telephone review: new worry$")
    ).click()
    expect(page.get_by_text("Possible relapse; discuss at next visit")).to_be_visible()
    page.get_by_role("button", name="Withhold from Morwenna").click()
    expect(
        page.get_by_role("link", name="Choose why the person should not read this entry")
    ).to_be_visible()
    assert violations(page) == [], "the withholding form with an error"
    page.get_by_label("It could cause serious harm to the person or someone else").check()
    page.get_by_role("button", name="Withhold from Morwenna").click()
    expect(page.get_by_text("is withheld from Morwenna Tregear's own record")).to_be_visible()
    expect(page.get_by_text("Withheld from Morwenna", exact=True)).to_have_count(2)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "morwenna", factories.PASSWORD)
    menu = page.get_by_role("navigation", name="Menu")
    menu.get_by_role("link", name="My notes and letters").click()
    expect(page.get_by_role("heading", name="Home visit: leg ulcer dressed")).to_be_visible()
    expect(page.get_by_text("Healing well. Next visit Tuesday.")).to_be_visible()
    expect(page.get_by_role("heading", name="Call from neighbour")).to_have_count(0)
    expect(page.get_by_role("heading", name="Telephone review: new worry")).to_have_count(0)
    assert violations(page) == [], "the person's notes and letters"
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "gp-rowe", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role("link", name="Stop showing all their notes online").click()
    page.get_by_label("Why should their notes not be shown online?").fill(
        "She says her son uses her phone"
    )
    assert violations(page) == [], "the form stopping notes being shown online"
    page.get_by_role("button", name="Stop showing notes online").click()
    expect(page.get_by_text("Morwenna does not read these notes online.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "morwenna", factories.PASSWORD)
    page.goto(f"{live_server.url}/my-record/notes/")
    expect(page.get_by_text("not shown online at the moment")).to_be_visible()
    expect(page.get_by_role("heading", name="Home visit: leg ulcer dressed")).to_have_count(0)
