"""A district nurse cannot accept a GP's referral and says why; she is taken back to her caseload,
and the GP sees the outcome on his caseload and on the person's record."""

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service
from wholecare.record import services


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_nurse_does_not_accept_a_referral_and_the_gp_is_told(
    page: Page, sign_in, live_server
) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="gp-ravi")
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-ola")
    nursing = factories.ServiceFactory(name="District nursing", kind=Service.Kind.DISTRICT_NURSING)
    nurse.services.add(nursing)
    person = factories.PersonFactory(given_name="Agnes", family_name="Whitlow")
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    services.referral_create(
        by=gp.user,
        person=person,
        service=nursing,
        received_date=timezone.localdate(),
        reason="Leg ulcer dressings at home",
    )

    sign_in(page, "dn-ola", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role("link", name=re.compile(r"^Close referral\W+District nursing$")).click()
    expect(page.get_by_text("Leg ulcer dressings at home")).to_be_visible()
    assert violations(page) == [], "the form"
    page.get_by_role("radio", name="Not accepted by the service").check()
    page.get_by_role("button", name="Close referral").click()
    expect(
        page.get_by_role("link", name="Say why the service cannot accept the referral")
    ).to_be_visible()
    assert violations(page) == [], "the form with errors"
    page.get_by_label("What should the referrer know?").fill(
        "Walks to the surgery: the practice nurse can dress it there"
    )
    page.get_by_role("button", name="Close referral").click()
    expect(page.get_by_role("heading", name="My caseload", level=1)).to_be_visible()
    expect(page.get_by_text("You can no longer open Agnes WHITLOW's record")).to_be_visible()
    assert violations(page) == [], "the caseload afterwards"

    page.context.clear_cookies()
    sign_in(page, "gp-ravi", factories.PASSWORD)
    page.goto(f"{live_server.url}/caseload/")
    closed = page.get_by_role("table", name="Your referrals that have closed")
    expect(closed.get_by_text("Not accepted by the service")).to_be_visible()
    assert violations(page) == [], "the GP's caseload"
    closed.get_by_role("link", name="Agnes WHITLOW").click()
    team = page.get_by_role("region", name="Care team")
    expect(team.get_by_text("the practice nurse can dress it there")).to_be_visible()
    expect(
        page.get_by_text("Referral to District nursing: not accepted by the service")
    ).to_be_visible()
    assert violations(page) == [], "the summary with the closed referral"


def test_a_nurse_works_through_the_referrals_received(page: Page, sign_in, live_server) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-iwan")
    nursing = factories.ServiceFactory(name="District nursing", kind=Service.Kind.DISTRICT_NURSING)
    nurse.services.add(nursing)
    for given, priority in (("Rhys", "routine"), ("Una", "urgent")):
        factories.ReferralFactory(
            person=factories.PersonFactory(given_name=given, family_name="Pryce"),
            service=nursing,
            priority=priority,
            reason=f"Catheter care for {given}",
        )

    sign_in(page, "dn-iwan", factories.PASSWORD)
    page.get_by_role("link", name="Referrals received").click()
    rows = page.get_by_role("table", name="Open referrals").get_by_role("row")
    expect(rows.nth(1)).to_contain_text("Una PRYCE")
    expect(rows.nth(1)).to_contain_text("Urgent")
    expect(rows.nth(2)).to_contain_text("Rhys PRYCE")
    assert violations(page) == [], "the referrals received"
    rows.nth(2).get_by_role(
        "button", name=re.compile(r"^Accept\W+the referral of Rhys PRYCE$")
    ).click()
    expect(
        page.get_by_text("Rhys PRYCE's referral to District nursing has been accepted.")
    ).to_be_visible()
    expect(rows.nth(2)).to_contain_text("accepted")
    expect(rows.nth(1)).to_contain_text("Awaiting acceptance")
    assert violations(page) == [], "the referrals received after accepting one"
    rows.nth(1).get_by_role("link", name=re.compile(r"^Close referral\W+Una PRYCE$")).click()
    page.get_by_role("radio", name="Seen and discharged").check()
    page.get_by_role("button", name="Close referral").click()
    expect(page.get_by_role("heading", name="Referrals received", level=1)).to_be_visible()
    expect(page.get_by_text("has been closed: seen and discharged")).to_be_visible()
    expect(page.get_by_role("table", name="Open referrals").get_by_role("row")).to_have_count(2)
    assert violations(page) == [], "the list afterwards"
