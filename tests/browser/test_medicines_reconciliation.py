"""A pharmacist reconciles the GP practice's and the heart failure clinic's lists with the
person (decision 0042)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation
from wholecare.medicines.models import MedicinesReconciliation


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_pharmacist_reconciles_the_gp_and_clinic_lists(page: Page, sign_in, live_server) -> None:
    person = factories.PersonFactory(given_name="Morwenna", family_name="Trelawny")
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="gp-kernow")
    clinic = factories.StaffFactory(
        discipline=Discipline.ADMINISTRATOR,
        organisation=factories.OrganisationFactory(
            name="Torvale Hospital", kind=Organisation.Kind.ACUTE_TRUST
        ),
    )
    pharmacist = factories.StaffFactory(
        discipline=Discipline.PHARMACIST, user__username="ph-kernow"
    )
    for staff in (gp, clinic, pharmacist):
        factories.CareTeamMembershipFactory(person=person, staff=staff)
    send_as(gp, medicine_taken(person, "Furosemide 40mg tablets", dosage="One each morning"))
    send_as(gp, medicine_taken(person, "Ramipril 2.5mg capsules", dosage="One a day"))
    send_as(clinic, medicine_taken(person, "Furosemide 40mg tablets", dosage="Two each morning"))
    send_as(clinic, medicine_taken(person, "Ramipril 2.5mg capsules", dosage="One a day"))
    send_as(clinic, medicine_taken(person, "Dapagliflozin 10mg tablets", dosage="One a day"))

    sign_in(page, "ph-kernow", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_role("link", name=re.compile("^Reconcile medicines")).click()
    expect(page.get_by_role("heading", name=re.compile("Reconcile Morwenna"))).to_be_visible()
    furosemide = page.get_by_role("group", name="2. Furosemide 40mg tablets")
    expect(furosemide.get_by_text("Dosage differs")).to_be_visible()
    dapagliflozin = page.get_by_role("group", name="1. Dapagliflozin 10mg tablets")
    expect(dapagliflozin.get_by_text("not listed")).to_be_visible()
    assert violations(page) == [], "the lists side by side"

    page.get_by_role("button", name="Save reconciliation").click()
    expect(page.get_by_role("link", name="Dapagliflozin 10mg tablets: choose what")).to_be_visible()
    assert violations(page) == [], "the form with errors"

    dapagliflozin.get_by_label("Not intended: prescriber asked to correct it").check()
    dapagliflozin.get_by_label("What you found").fill("Started in clinic; asked the practice.")
    dapagliflozin.get_by_label("Whose prescriber did you ask").select_option(gp.organisation.name)
    furosemide.get_by_label("To follow up").check()
    furosemide.get_by_label("What you found").fill("Takes one; clinic says two. Ringing them.")
    page.get_by_label("The person", exact=True).check()
    page.get_by_label("Medicines taken that no list has (optional)").fill("Senna 7.5mg tablets")
    page.get_by_role("button", name="Save reconciliation").click()

    expect(page.get_by_text("The medicines reconciliation has been saved")).to_be_visible()
    reconciled = page.locator("#medicines-reconciled")
    expect(reconciled).to_contain_text("2 differences, 1 to follow up")
    expect(
        page.get_by_role("heading", name="Medicines reconciled: 2 differences, 1 to follow up")
    ).to_be_visible()
    assert violations(page) == [], "the summary after reconciling"
    assert MedicinesReconciliation.objects.get().others == ["Senna 7.5mg tablets"]

    expect(page.locator("#prescriber-requests")).to_contain_text(
        f"Dapagliflozin 10mg tablets: to correct the list, asked of {gp.organisation.name}"
    )
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "gp-kernow", factories.PASSWORD)
    page.goto(f"{live_server.url}/caseload/")
    page.get_by_role("link", name=re.compile("^Dapagliflozin 10mg tablets")).click()
    expect(page.get_by_role("heading", name=re.compile("Correct Morwenna"))).to_be_visible()
    expect(page.get_by_text("Started in clinic; asked the practice.")).to_be_visible()
    assert violations(page) == [], "the correction to answer"
    page.get_by_label("Not corrected: our list stands as it is").check()
    page.get_by_role("button", name="Save answer").click()
    expect(page.get_by_role("link", name=re.compile("say why your list stands"))).to_be_visible()
    page.get_by_label("What you did, or why it stands").fill("Added it to repeats: see note.")
    page.get_by_label("Corrected: our list now says what the person should take").check()
    page.get_by_role("button", name="Save answer").click()
    expect(
        page.get_by_text("Your answer about Dapagliflozin 10mg tablets has been saved")
    ).to_be_visible()
    expect(page.locator("#prescriber-requests")).to_have_count(0)
    expect(
        page.get_by_role(
            "heading", name="Medicines correction: Dapagliflozin 10mg tablets corrected"
        )
    ).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "ph-kernow", factories.PASSWORD)
    page.goto(f"{live_server.url}/caseload/")
    answered = page.get_by_role("table", name="Your requests to prescribers, answered")
    expect(answered).to_contain_text("Dapagliflozin 10mg tablets")
    expect(answered).to_contain_text("Corrected: our list now says what the person should take")
    assert violations(page) == [], "the pharmacist's caseload with the answer"
