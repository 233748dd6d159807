"""A person reads their own record, with the medicines another system sent, tells Wholecare how
to contact them and what they need to read what they are sent, and the district nurse caring for
them sees it on the person summary (Accessible Information Standard)."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.browser.axe import violations
from wholecare.directory.disciplines import Discipline
from wholecare.record.models import Person

HL7 = "http://terminology.hl7.org/CodeSystem"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_a_person_tells_us_they_need_large_print_and_their_nurse_sees_it(
    page: Page, sign_in, live_server
) -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE, user__username="dn-hale")
    person = factories.PersonFactory(
        given_name="Ada",
        family_name="Penhallow",
        user=factories.UserFactory(username="ada"),
        contact_method="",
        phone="",
        preferred_written_format="",
    )
    factories.CareTeamMembershipFactory(person=person, staff=nurse)

    factories.ConditionFactory(person=person, snomed_code="44054006")
    sent = api_for(nurse).post(
        "/fhir/MedicationStatement",
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {"text": "Metformin 500mg tablets"},
            "subject": {"reference": f"Patient/{person.public_id}"},
            "dosage": [{"text": "One tablet twice a day with meals"}],
        },
    )
    assert sent.status_code == 201, sent.content
    allergy = api_for(nurse).post(
        "/fhir/AllergyIntolerance",
        {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {
                "coding": [{"system": f"{HL7}/allergyintolerance-clinical", "code": "active"}]
            },
            "criticality": "high",
            "code": {"text": "Peanuts"},
            "patient": {"reference": f"Patient/{person.public_id}"},
            "reaction": [{"manifestation": [{"text": "Swollen throat"}], "severity": "severe"}],
        },
    )
    assert allergy.status_code == 201, allergy.content
    sign_in(page, "ada", factories.PASSWORD)
    expect(page.get_by_role("heading", name="My record", exact=True)).to_be_visible()
    expect(page.get_by_text("the commonest type")).to_be_visible()
    expect(page.get_by_text("Metformin 500mg tablets")).to_be_visible()
    expect(page.get_by_text("Reaction: Swollen throat (severe)")).to_be_visible()
    assert violations(page) == [], "the person's own record"
    menu = page.get_by_role("navigation", name="Menu")
    menu.get_by_role("link", name="How to contact me").click()
    expect(page.get_by_role("heading", name="How to contact me")).to_be_visible()
    assert violations(page) == [], "the person's contact page"

    page.get_by_label("Best way to contact").select_option(label="SMS")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(
        page.get_by_role("link", name="Enter a telephone number to be contacted that way")
    ).to_be_visible()
    assert violations(page) == [], "the person's contact page with errors"
    assert Person.objects.get(pk=person.pk).contact_method == ""

    page.get_by_label("Telephone number (optional)").fill("07700 900 982")
    page.get_by_label("Letters and leaflets in").select_option(label="Large print")
    page.get_by_label("Other communication needs (optional)").fill("Sight loss: ring first.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Everyone caring for you will see this.")).to_be_visible()
    expect(page.get_by_label("Letters and leaflets in")).to_have_value("11")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "dn-hale", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    expect(page.get_by_text("Letters in large print")).to_be_visible()
    allergies = page.get_by_role("region", name="Allergies and adverse reactions")
    expect(allergies).to_contain_text("Peanuts High risk")
    medicines = page.get_by_role("region", name="Medicines")
    expect(medicines).to_contain_text("Metformin 500mg tablets")
    expect(medicines).to_contain_text("One tablet twice a day with meals")
    expect(page.get_by_text("Sight loss: ring first.")).to_be_visible()
    expect(page.get_by_text("Best way to contact: SMS. Telephone 07700 900 982")).to_be_visible()

    page.get_by_role("link", name="Change contact details and communication needs").click()
    page.get_by_label("Needs an interpreter").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Contact details and communication needs saved.")).to_be_visible()
    expect(page.get_by_text("needs an interpreter")).to_be_visible()
    assert violations(page) == [], "the person summary with communication needs"
