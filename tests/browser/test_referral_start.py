"""A referral another system sent to NHS Talking Therapies: the service's practitioner finds it
among the referrals received, starts it on the pathway (decision 0022), and later changes the
long-term conditions it is about."""

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from tests.browser.test_talking_therapies import ltc_setting
from wholecare.directory.disciplines import Discipline
from wholecare.talking_therapies.models import TTReferral


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_referral_another_system_sent_is_started_on_the_pathway(
    page: Page, sign_in, live_server
) -> None:
    person, service = ltc_setting()
    gp = factories.StaffFactory(discipline=Discipline.GP, user__last_name="Okafor")
    factories.ReferralFactory(
        person=person,
        service=service,
        referred_by=gp,
        received_date=dt.date.today() - dt.timedelta(days=4),
        reason="Low mood and worry since the diabetes diagnosis",
    )

    sign_in(page, "pwp-lee", factories.PASSWORD)
    page.goto(f"{live_server.url}/referrals/")
    expect(page.get_by_text("Awaiting acceptance", exact=True)).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Start on the pathway\W+Ada TRELAWNEY$")).click()
    expect(page.get_by_text("Low mood and worry since the diabetes diagnosis")).to_be_visible()
    expect(page.get_by_label("Source of referral")).to_have_value("A1")
    expect(page.get_by_label("Type 2 diabetes mellitus")).to_be_checked()
    assert violations(page) == [], "the start form"
    page.get_by_label("Problem descriptor (optional)").fill("worry")
    page.get_by_role("button", name="Start on the pathway").click()
    expect(
        page.get_by_role("link", name="Enter the problem descriptor as an ICD-10 code, like F41.1")
    ).to_be_visible()
    assert violations(page) == [], "the start form with an error"
    page.get_by_label("Problem descriptor (optional)").fill("F41.1")
    page.get_by_role("button", name="Start on the pathway").click()
    expect(page.get_by_text("is on the pathway, waiting for assessment")).to_be_visible()
    expect(page.get_by_text("F41.1").first).to_be_visible()
    assert violations(page) == [], "the referral on the pathway"
    assert TTReferral.objects.get(person=person).referred_by == gp

    page.get_by_text("Change the long-term conditions it is about").click()
    page.get_by_label("Type 2 diabetes mellitus").uncheck()
    assert violations(page) == [], "the conditions form"
    page.get_by_role("button", name="Save conditions").click()
    expect(page.get_by_text("Long-term conditions recorded.")).to_be_visible()
    expect(page.get_by_text("No long-term condition recorded")).to_be_visible()
    assert not TTReferral.objects.get(person=person).conditions.exists()
