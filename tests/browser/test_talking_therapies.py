"""The Talking Therapies LTC pathway in a real browser: case-finding to discharge (issue 5)."""

import datetime as dt
import re

from playwright.sync_api import Browser, Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.talking_therapies import engine, services
from wholecare.talking_therapies.models import RiskTask, TTReferral

MODERATE_PHQ9 = [2, 2, 1, 2, 1, 1, 1, 1, 0]  # 11: at caseness, less severe (step 2)
MODERATE_GAD7 = [2, 2, 2, 2, 1, 1, 2]  # 12: at caseness, not severe
SESSIONS = [  # (days ago, PHQ-9, GAD-7): improving over three sessions
    (40, [2, 1, 1, 1, 1, 1, 1, 1, 0], [2, 1, 2, 1, 1, 1, 1]),
    (30, [1, 1, 1, 1, 0, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 1]),
    (20, [1, 0, 1, 0, 0, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0, 0]),
]


def _ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def _answer(page: Page, code: str, answers: list[int]) -> None:
    for index, value in enumerate(answers):
        page.locator(f"#{code}_{index}-{value}").check()


def ltc_setting():
    """A Talking Therapies service in a GP practice with its PWP (`pwp-lee`), and Ada, who has
    diabetes, on the practice nurse's care team."""
    practice = factories.OrganisationFactory(name="Harbour Street Surgery")
    service = factories.ServiceFactory(
        organisation=practice, name="Harbour Talking Therapies", kind=Service.Kind.TALKING_THERAPIES
    )
    nurse = factories.StaffFactory(
        discipline=Discipline.PRACTICE_NURSE, organisation=practice, user__username="nurse-kay"
    )
    pwp = factories.StaffFactory(
        discipline=Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
        organisation=practice,
        user__username="pwp-lee",
        user__first_name="Robin",
        user__last_name="Lee",
    )
    pwp.services.add(service)
    person = factories.PersonFactory(
        given_name="Ada", family_name="Trelawney", registered_practice=practice
    )
    factories.ConditionFactory(person=person, snomed_code="44054006")
    factories.CareTeamMembershipFactory(person=person, staff=nurse, role="Practice nurse")
    return person, service


def _record(page: Page, code: str, answers: list[int], day: str) -> None:
    page.get_by_role("link", name=f"Record {code}", exact=True).click()
    page.get_by_label("Date completed").fill(day)
    _answer(page, code, answers)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"{code} recorded")).to_be_visible()


def _contact(page: Page, day: str, kind: str) -> None:
    form = page.locator("form", has=page.get_by_role("button", name="Save contact"))
    form.get_by_label("Date", exact=True).fill(day)
    form.get_by_label("Time").fill("10:00")
    form.get_by_label("Kind of contact").select_option(kind)
    form.get_by_label("How").select_option(label="In person at a GP surgery")
    form.get_by_label("Integrated with long-term condition care").check()
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Care contact recorded.")).to_be_visible()


def test_ltc_pathway_from_case_finding_to_discharge(
    page: Page, browser: Browser, sign_in, live_server
):
    person, service = ltc_setting()

    # A practice nurse finds Ada, who has diabetes and no screen, screens her and refers.
    sign_in(page, "nurse-kay", factories.PASSWORD)
    page.get_by_role("link", name="Talking Therapies", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Case-finding"))).to_be_visible()
    page.get_by_label("Long-term condition register").select_option(label="Diabetes")
    page.get_by_role("button", name="Show").click()
    unscreened = page.locator("table", has=page.get_by_text("Ada TRELAWNEY"))
    expect(unscreened).to_contain_text("Type 2 diabetes mellitus")
    page.get_by_role("link", name="Record a screen for Ada TRELAWNEY").first.click()
    _answer(page, "PHQ9", MODERATE_PHQ9)
    _answer(page, "GAD7", MODERATE_GAD7)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("PHQ9 11 (at caseness), GAD7 12 (at caseness)")).to_be_visible()
    page.get_by_role("link", name="Talking Therapies", exact=True).click()
    expect(
        page.get_by_role("heading", name="Screened at caseness, not referred (1)")
    ).to_be_visible()
    page.get_by_role("link", name="Refer Ada TRELAWNEY").click()
    expect(page.get_by_label("Type 2 diabetes mellitus")).to_be_checked()
    page.get_by_label("Date received").fill(_ago(60))
    page.get_by_role("button", name="Refer").click()
    expect(page.get_by_text("has been referred to Harbour Talking Therapies")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The PWP assesses, allocates step 2 and records three sessions with measures.
    sign_in(page, "pwp-lee", factories.PASSWORD)
    page.get_by_role("link", name="Talking Therapies", exact=True).click()
    page.get_by_role("link", name="Ada TRELAWNEY").click()
    _contact(page, _ago(50), "assessment")
    _record(page, "PHQ9", MODERATE_PHQ9, _ago(50))
    _record(page, "GAD7", MODERATE_GAD7, _ago(50))
    page.get_by_label("Problem descriptor (ICD-10)").fill("F41.2")
    page.get_by_role("button", name="Save problem descriptor").click()
    expect(page.get_by_text("The assessment points to Step")).to_contain_text("points to Step 2")
    page.get_by_label("Step 2: low intensity").check()
    page.get_by_label("Clinician").select_option(label="Robin Lee")
    page.get_by_role("button", name="Allocate step").click()
    expect(page.get_by_text("Step allocated.")).to_be_visible()
    for days, phq9, gad7 in SESSIONS:
        _contact(page, _ago(days), "treatment")
        _record(page, "PHQ9", phq9, _ago(days))
        _record(page, "GAD7", gad7, _ago(days))
    expect(page.locator("#referral-status")).to_have_text("In treatment")

    # Ada completes a PHQ-9 from a link before her next session, with item 9 = 1.
    page.get_by_text("Send a one-time link").click()
    page.get_by_label("GAD7").uncheck()
    page.get_by_role("button", name="Create a one-time link").click()
    code = page.locator("#one-time-code").inner_text()
    link = page.locator("#questionnaire-link").inner_text()
    public = browser.new_context().new_page()
    public.goto(link)
    public.get_by_label("Your code").fill(code)
    public.get_by_role("button", name="Continue").click()
    _answer(public, "PHQ9", [0, 1, 0, 0, 0, 0, 0, 0, 1])
    public.get_by_role("button", name="Send my answers").click()
    expect(public.get_by_text("Samaritans")).to_be_visible()
    expect(public.get_by_text("116 123")).to_be_visible()
    expect(public.get_by_text("option 2")).to_be_visible()
    public.context.close()

    # The risk task is on the caseload at once, until a named person reviews it.
    page.get_by_role("link", name="Talking Therapies", exact=True).click()
    risks = page.locator("#risk-tasks")
    expect(risks).to_contain_text("Ada TRELAWNEY: PHQ-9 item 9 answered 1")
    task = RiskTask.objects.select_related("assigned_to__user").get()
    assert task.assigned_to is not None
    assert task.assigned_to.user.username == "pwp-lee"
    page.get_by_role("link", name="Record the risk review for Ada TRELAWNEY").click()
    page.get_by_label(re.compile("What you did and decided")).fill(
        "Phoned Ada: fleeting thoughts, no plan; safety plan agreed, crisis numbers given"
    )
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator("#risk-tasks")).to_contain_text("No risk tasks are waiting for you")

    # Discharge: the outcome shown is exactly the engine's.
    page.get_by_role("link", name="Ada TRELAWNEY").click()
    page.get_by_label("Discharge date").fill(_ago(0))
    page.get_by_label("Ending reason").select_option("46")
    page.get_by_role("button", name="Discharge").click()
    expect(page.locator("#referral-status")).to_contain_text("Discharged")
    referral = TTReferral.objects.get(person=person)
    outcome = engine.referral_outcome(referral)
    assert outcome.recovered is True
    assert outcome.reliable_improvement is True
    for label, value in (
        ("Recovered", outcome.recovered),
        ("Reliable improvement", outcome.reliable_improvement),
        ("Reliable recovery", outcome.reliable_recovery),
        ("Reliable deterioration", outcome.reliable_deterioration),
        ("Finished a course of treatment", outcome.finished_treatment),
    ):
        expect(page.locator(f'[data-flag="{label}"]')).to_have_text("Yes" if value else "No")
    assert referral.service == service


def test_pathway_pages_meet_wcag_aa_at_tablet_width(
    browser: Browser, live_server, allow_audit_reset
):
    """axe-core is injected as a script, so this context alone bypasses the app's CSP."""
    person, service = ltc_setting()
    manager = factories.StaffFactory(discipline=Discipline.SERVICE_MANAGER, user__username="mgr")
    manager.services.add(service)
    nurse = Staff.objects.get(user__username="nurse-kay")
    pwp = Staff.objects.get(user__username="pwp-lee")
    referral = services.tt_referral_create(
        by=nurse.user,
        person=person,
        service=service,
        source="A3",
        conditions=list(person.conditions.all()),
        received_date=dt.date.today() - dt.timedelta(days=40),
    )
    services.measures_record(
        by=pwp.user,
        person=person,
        referral=referral,
        answers={"PHQ9": [*MODERATE_PHQ9[:8], 1], "GAD7": MODERATE_GAD7},
        measured_on=dt.date.today() - dt.timedelta(days=30),
    )
    services.marker_record(
        by=nurse.user,
        person=person,
        code="hba1c",
        value=66,
        observed_on=dt.date.today() - dt.timedelta(days=20),
    )
    context = browser.new_context(bypass_csp=True, viewport={"width": 768, "height": 1024})
    page = context.new_page()
    base = live_server.url
    pages = {
        "nurse-kay": [
            "/talking-therapies/case-finding/",
            f"/talking-therapies/people/{person.public_id}/",
        ],
        "pwp-lee": [
            "/talking-therapies/caseload/",
            f"/talking-therapies/referrals/{referral.public_id}/",
            f"/talking-therapies/referrals/{referral.public_id}/measures/PHQ9/",
            f"/talking-therapies/services/{service.pk}/waiting-list/",
            f"/talking-therapies/risks/{RiskTask.objects.get().pk}/review/",
        ],
        "mgr": [
            "/talking-therapies/overview/",
            f"/talking-therapies/services/{service.pk}/dashboard/",
        ],
    }
    for username, paths in pages.items():
        page.goto(f"{base}/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        for path in paths:
            page.goto(f"{base}{path}")
            assert violations(page) == [], path
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways on a tablet"
        page.get_by_role("button", name="Sign out").click()
    for path in [
        "/talking-therapies/public/self-referral/",
        "/talking-therapies/public/questionnaire/",
    ]:
        page.goto(f"{base}{path}")
        assert violations(page) == [], path
    context.close()
