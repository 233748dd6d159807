"""A district nurse raises a safety alert on the person summary; the GP sees it first and, when
it no longer applies, ends it saying why (decision 0023)."""

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


def test_a_nurse_raises_an_alert_and_the_gp_ends_it(page: Page, sign_in, live_server) -> None:
    nurse = factories.StaffFactory(
        discipline=Discipline.DISTRICT_NURSE, user__username="dn-tamsin", user__last_name="Hext"
    )
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="gp-jago")
    person = factories.PersonFactory(given_name="Loveday", family_name="Trethewey")
    for staff in (nurse, gp):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    summary = f"{live_server.url}/people/{person.public_id}/"

    sign_in(page, "dn-tamsin", factories.PASSWORD)
    page.goto(summary)
    page.get_by_role("link", name=re.compile(r"^Raise an alert\W+for Loveday TRETHEWEY$")).click()
    assert violations(page) == [], "the alert form"
    page.get_by_role("button", name="Raise alert").click()
    expect(page.get_by_role("link", name="Choose what kind of alert it is")).to_be_visible()
    assert violations(page) == [], "the alert form with errors"
    page.get_by_role("radio", name="Safety").check()
    page.get_by_label("What must everyone know?").fill("Dog at the home: visit in pairs")
    page.get_by_role("button", name="Raise alert").click()
    expect(page.get_by_text("The safety alert has been raised.")).to_be_visible()
    expect(page.get_by_text("Dog at the home: visit in pairs", exact=True)).to_be_visible()
    assert violations(page) == [], "the summary with the alert"
    page.goto(f"{live_server.url}/caseload/")
    caseload = page.get_by_role("table", name="People on my caseload")
    expect(caseload.get_by_text("Dog at the home: visit in pairs")).to_be_visible()
    assert violations(page) == [], "the caseload with the alert"

    page.context.clear_cookies()
    sign_in(page, "gp-jago", factories.PASSWORD)
    page.goto(summary)
    expect(page.get_by_text(re.compile(r"Raised by .*Hext, District nurse, on"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^End alert\W+safety")).click()
    page.get_by_label("Why does it no longer apply?").fill("The dog has been rehomed")
    assert violations(page) == [], "the end form"
    page.get_by_role("button", name="End alert").click()
    expect(page.get_by_text("The safety alert has been ended.")).to_be_visible()
    page.get_by_text("Alerts that have ended").click()
    expect(page.get_by_text(re.compile(r"The dog has been rehomed$"))).to_be_visible()
    assert violations(page) == [], "the summary with the ended alert"
