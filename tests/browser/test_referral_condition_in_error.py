"""A GP marks entered in error the diabetes a Talking Therapies referral was about: the
practitioner sees the referral flagged on the caseload, reads the warning and records the
conditions again (HF32)."""

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from tests.browser.test_talking_therapies import ltc_setting
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import services as record_services
from wholecare.talking_therapies import services
from wholecare.talking_therapies.models import TTReferral


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_the_practitioner_checks_a_referrals_conditions(page: Page, sign_in, live_server) -> None:
    person, service = ltc_setting()
    diabetes = person.conditions.get()
    nurse = Staff.objects.get(user__username="nurse-kay")
    services.tt_referral_create(
        by=nurse.user,
        person=person,
        service=service,
        source="A3",
        conditions=[diabetes],
        received_date=dt.date.today() - dt.timedelta(days=5),
    )
    gp = factories.StaffFactory(
        discipline=Discipline.GP, user__first_name="Nia", user__last_name="Okafor"
    )
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    record_services.condition_enter_in_error(
        by=gp.user, condition=diabetes, reason="Recorded on the wrong record"
    )

    sign_in(page, "pwp-lee", factories.PASSWORD)
    page.goto(f"{live_server.url}/talking-therapies/")
    expect(page.get_by_text("Check long-term conditions")).to_be_visible()
    assert violations(page) == [], "the caseload"
    page.get_by_role("link", name="Ada TRELAWNEY").click()
    warning = page.locator("#conditions-to-check")
    expect(warning).to_contain_text("marked entered in error")
    expect(warning).to_contain_text("by Nia Okafor, GP")
    expect(warning).to_contain_text("as not about a long-term condition")
    assert violations(page) == [], "the referral with the warning"
    warning.get_by_role("link", name="record them").click()
    page.get_by_role("button", name="Save conditions").click()
    expect(page.get_by_text("Long-term conditions recorded.")).to_be_visible()
    expect(page.locator("#conditions-to-check")).to_have_count(0)
    assert not TTReferral.conditions.through.objects.filter(condition=diabetes).exists()
