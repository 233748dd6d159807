"""A nurse on the Home First team sees which of their referrals were sent as urgent."""

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


def test_an_urgent_referral_is_tagged_on_the_caseload_and_the_summary(
    page: Page, sign_in, live_server
) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="nurse-ade")
    home_first = factories.ServiceFactory(name="Home First")
    nurse.services.add(home_first)
    urgent = factories.PersonFactory(given_name="Iris", family_name="Tregunna")
    routine = factories.PersonFactory(given_name="Olu", family_name="Bankole")
    factories.ReferralFactory(person=urgent, service=home_first, priority="urgent")
    factories.ReferralFactory(person=routine, service=home_first)
    sign_in(page, "nurse-ade", factories.PASSWORD)
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("row", name="Iris TREGUNNA")).to_contain_text(
        "referred to Home First (urgent)"
    )
    expect(page.get_by_role("row", name="Olu BANKOLE")).not_to_contain_text("urgent")

    page.get_by_role("link", name="Iris TREGUNNA").click()
    expect(page.get_by_text("Urgent", exact=True)).to_be_visible()
    assert violations(page) == [], "person summary with an urgent referral"
