"""A district nurse, warned that nobody will assess a need she recorded, refers the person
urgently from the person summary; the referral shows there at once, tagged."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_nurse_refers_to_home_first_urgently(page: Page, sign_in, live_server) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-kit")
    factories.ServiceFactory(name="Home First", kind=Service.Kind.RAPID_RESPONSE)
    person = factories.PersonFactory(given_name="Moira", family_name="Castellanos")
    factories.CareTeamMembershipFactory(person=person, staff=nurse)
    factories.SocialCareNeedFactory(person=person, need_code="personal-care")

    sign_in(page, "dn-kit", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    expect(page.get_by_text("Nobody will assess these needs")).to_be_visible()
    assert violations(page) == [], "the summary warning that nobody will assess a need"
    page.get_by_role("link", name="Refer Moira CASTELLANOS to adult social care").click()
    assert violations(page) == [], "the form"
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("link", name="Choose the service to refer to")).to_be_visible()
    assert violations(page) == [], "the form with errors"
    page.get_by_label("Service").select_option(
        label=f"Home First, {Service.objects.get().organisation}"
    )
    page.get_by_role("radio", name="Urgent").check()
    page.get_by_label("Why are you referring?").fill("Two falls this week, not coping at home")
    page.get_by_role("button", name="Send referral").click()
    expect(
        page.get_by_text("Moira CASTELLANOS has been referred to Home First (Urgent).")
    ).to_be_visible()
    team = page.get_by_role("region", name="Care team")
    expect(team.get_by_text("Urgent", exact=True)).to_be_visible()
    assert violations(page) == [], "the summary afterwards"
