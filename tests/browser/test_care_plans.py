"""A district nurse writes a care plan with the person, naming the social worker as its
coordinator; while she changes it, the social worker changes it first, so her change is refused
until she has seen theirs; the person reads their plan and whom to contact about it, and records
their progress (decisions 0031, 0034)."""

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.record import services
from wholecare.record.models import CarePlan

CHANGE = re.compile(r"^Change plan\W+Staying well at home$")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_nurse_writes_a_plan_a_colleague_changes_it_and_the_person_reads_it(
    page: Page, sign_in, live_server
) -> None:
    person = factories.PersonFactory(
        given_name="Morwenna", family_name="Jago", user=factories.UserFactory(username="morwenna")
    )
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-ellis")
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    for staff in (nurse, social_worker):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    review = timezone.localdate() + dt.timedelta(days=60)
    plans = page.get_by_role("region", name="Care plans")

    sign_in(page, "dn-ellis", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role("link", name="Write a care plan").click()
    page.get_by_label("Title").fill("Staying well at home")
    page.get_by_label("Action 1: what will be done").fill("Dress the leg ulcer twice a week")
    page.get_by_role("button", name="Save care plan").click()
    expect(page.get_by_role("link", name="Enter what matters to the person")).to_be_visible()
    expect(page.get_by_role("link", name="Action 1: say who will do it")).to_be_visible()
    assert violations(page) == [], "the form with errors"
    page.get_by_label("What matters to the person").fill("Staying at home with my cat.")
    page.get_by_label("Action 1: who does it").fill("District nurse")
    page.get_by_label("Action 2: what will be done").fill("Ring every evening")
    page.get_by_label("Action 2: who does it").fill("Daughter")
    page.get_by_label("Day").fill(str(review.day))
    page.get_by_label("Month").fill(str(review.month))
    page.get_by_label("Year").fill(str(review.year))
    page.get_by_label("Morwenna JAGO (or whoever speaks for them) agreed the plan").check()
    page.get_by_label("Who coordinates the plan").select_option(
        label=f"{social_worker.display_name}, Social worker"
    )
    page.get_by_role("button", name="Save care plan").click()
    expect(page.get_by_text("The care plan has been saved: Staying well at home.")).to_be_visible()
    expect(plans).to_contain_text("Ring every evening · Daughter · not started")
    expect(plans).to_contain_text(f"Coordinated by{social_worker.display_name}, Social worker")
    assert violations(page) == [], "the summary with the plan"

    page.get_by_role("link", name=CHANGE).click()
    assert violations(page) == [], "the form on the plan"
    plan = CarePlan.objects.get()
    services.care_plan_write(
        by=social_worker.user,
        person=person,
        plan=plan,
        version=plan.version,
        title=plan.title,
        what_matters=plan.what_matters,
        actions=[services.PlannedAction(a.what, a.who, a.status) for a in plan.actions.all()]
        + [services.PlannedAction("Carer's assessment for her daughter", "Social worker")],
        if_things_change=plan.if_things_change,
        review_date=plan.review_date,
        agreed_with_person=True,
        lead=plan.lead,
    )
    page.get_by_label("Action 1: how far it has got").select_option(label="In progress")
    page.get_by_role("button", name="Save care plan").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"{social_worker.display_name} changed this care plan since you opened it"
    )
    page.get_by_role("link", name=f"Back to {person.full_name}").click()
    expect(plans).to_contain_text("Carer's assessment for her daughter")
    page.get_by_role("link", name=CHANGE).click()
    page.get_by_label("Action 1: how far it has got").select_option(label="In progress")
    page.get_by_role("button", name="Save care plan").click()
    expect(plans).to_contain_text("Dress the leg ulcer twice a week · District nurse · in progress")
    expect(plans).to_contain_text("Carer's assessment for her daughter")
    page.get_by_role("link", name=re.compile(r"^End plan\W+Staying well at home$")).click()
    page.get_by_role("button", name="End care plan").click()
    expect(page.get_by_role("link", name="Say why the plan has ended")).to_be_visible()
    assert violations(page) == [], "the page ending a plan, with errors"
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "morwenna", factories.PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My care plans").click()
    expect(page.get_by_role("heading", name="Staying well at home")).to_be_visible()
    expect(page.get_by_text("Staying at home with my cat.")).to_be_visible()
    expect(page.get_by_text(f"{social_worker.display_name}, Social worker")).to_be_visible()
    assert violations(page) == [], "the person's own page"
    page.get_by_label("Ring every evening").select_option(label="In progress")
    page.get_by_role("button", name="Save my progress").click()
    expect(page.get_by_text("Your progress has been recorded.")).to_be_visible()
    expect(page.get_by_label("Ring every evening")).to_have_value("in-progress")
    assert violations(page) == [], "the person's page after recording progress"
