"""WCAG 2.2 AA checks with axe-core on the pages people use, and a tablet-sized screen."""

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.access import services as access_services
from wholecare.directory.disciplines import Discipline
from wholecare.fhir import registry
from wholecare.fhir.base import Ctx
from wholecare.fhir.bulk_import import import_grant
from wholecare.record import selectors
from wholecare.record.models import Alert
from wholecare.record.vocabulary import Sensitivity


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def record():
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-ross")
    person = factories.PersonFactory(given_name="Marjorie", family_name="Penhaligon")
    for code in ("44054006", "13645005", "35489007"):
        factories.ConditionFactory(person=person, snomed_code=code)
    factories.ConditionFactory(person=person, snomed_code="26322001", display="Bleeding from ear")
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    newborn = factories.PersonFactory(nhs_number=None, given_name="Baby", family_name="Trelawny")
    factories.CareTeamMembershipFactory(person=newborn, staff=gp)
    factories.RecordEntryFactory(person=person, author=gp, title="Diabetes review")
    factories.RecordEntryFactory(
        person=person, title="Therapy", sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY
    )
    Alert.objects.create(
        person=person, category=Alert.Category.RISK, text="PHQ-9 item 9", raised_at=timezone.now()
    )
    Alert.objects.create(
        person=person,
        category=Alert.Category.DIET,
        text="Patient has a severe peanut allergy.",
        code_system="http://snomed.info/sct",
        code="226201008",
        code_display="Peanut-free diet",
        author_display="Dr Paul Rastall",
        raised_at=timezone.now(),
        source="Leeds Road Practice GP system",
    )
    registry.resource_type("CarePlan").create(
        Ctx(grant=import_grant(gp, "Leeds Road Practice GP system"), base=""),
        {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "plan",
            "title": "Living well with COPD",
            "subject": {"reference": f"Patient/{person.public_id}"},
            "period": {"start": "2025-01-06", "end": "2026-01-05"},
            "activity": [{"detail": {"status": "in-progress", "description": "Pulmonary rehab"}}],
        },
    )
    return gp, person


def test_pages_meet_wcag_aa(
    page: Page, sign_in, live_server, record, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, person = record
    monkeypatch.setattr(selectors, "CASELOAD_PAGE", 1)
    officer = factories.StaffFactory(discipline=Discipline.PRIVACY_OFFICER, user__username="po")
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    access_services.break_glass_open(
        by=social_worker.user, person=person, reason="Emergency placement after carer admitted"
    )
    page.goto(f"{live_server.url}/sign-in/")
    assert violations(page) == [], "sign in"
    sign_in(page, "dr-ross", factories.PASSWORD)
    for path in [
        "/caseload/",
        "/referrals/",
        "/people/find/",
        f"/people/{person.public_id}/",
        f"/people/{person.public_id}/entries/new/",
        "/audit/mine/",
    ]:
        page.goto(f"{live_server.url}{path}")
        assert violations(page) == [], path
    page.goto(f"{live_server.url}/caseload/")
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("table", name="People on my caseload, page 2 of 2")).to_contain_text(
        "Baby TRELAWNY"
    )
    assert violations(page) == [], "the caseload's second page"
    page.get_by_label("Find someone on your caseload by name").fill("pen")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_role("table", name="People on my caseload")).to_contain_text(
        "Marjorie PENHALIGON"
    )
    expect(page.get_by_text("1 person on your caseload matches “pen”.")).to_be_visible()
    assert violations(page) == [], "the caseload found by name"
    page.goto(f"{live_server.url}/people/find/")
    page.get_by_role("button", name="Search").click()
    assert violations(page) == [], "search with errors"
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, officer.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/audit/break-glass/")
    assert violations(page) == [], "review queue"


def test_person_summary_fits_a_tablet(page: Page, sign_in, live_server, record) -> None:
    _, person = record
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, "dr-ross", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert re.search("Depressive disorder", page.content())
    other = page.get_by_role("region", name="Other conditions")
    assert "Bleeding from ear" in other.inner_text()
    assert "From another system Leeds Road Practice GP system, raised by Dr Paul Rastall" in (
        page.get_by_text("Patient has a severe peanut allergy.").locator("..").inner_text()
    )
    plans = page.get_by_role("region", name="Care plans")
    assert "Living well with COPD" in plans.inner_text()
    assert "Past its end date" in plans.inner_text()


def test_the_menu_keeps_what_does_not_fit_a_tablet_under_more(
    page: Page, sign_in, live_server
) -> None:
    factories.StaffFactory(discipline=Discipline.SERVICE_MANAGER, user__username="mgr-ash")
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, "mgr-ash", factories.PASSWORD)
    page.goto(f"{live_server.url}/caseload/")
    menu = page.get_by_role("navigation", name="Menu")
    history = menu.get_by_role("link", name="My access history")
    expect(history).to_be_hidden()
    menu.get_by_role("button", name="Browse More").click()
    expect(history).to_be_visible()
    assert violations(page) == [], "the menu open"
    history.click()
    expect(page).to_have_url(re.compile("/audit/mine/$"))


def test_the_checker_finds_a_known_failure(page: Page) -> None:
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert "image-alt" in [v["id"] for v in violations(page)]
