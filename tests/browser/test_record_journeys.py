"""What people click: the journeys that issue 2 names, in a real browser."""

import re

from playwright.sync_api import Page, expect

from tests import factories
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.record.vocabulary import Sensitivity


def _person_with_ltc_and_depression():
    person = factories.PersonFactory(given_name="Marjorie", family_name="Penhaligon")
    factories.ConditionFactory(person=person, snomed_code="44054006")  # type 2 diabetes
    factories.ConditionFactory(person=person, snomed_code="13645005")  # COPD
    factories.ConditionFactory(person=person, snomed_code="35489007")  # depression
    factories.ConditionFactory(person=person, snomed_code="21897009")  # GAD
    return person


def test_gp_finds_a_person_and_sees_ltc_and_mental_health_together(
    page: Page, sign_in, live_server
):
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-ross")
    person = _person_with_ltc_and_depression()
    factories.CareTeamMembershipFactory(person=person, staff=gp, role="Named GP")
    sign_in(page, "dr-ross", factories.PASSWORD)
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()

    page.get_by_role("link", name="Find a person").click()
    page.get_by_label("NHS number").fill(person.nhs_number)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("Marjorie PENHALIGON")).click()

    expect(page.get_by_role("heading", name="Marjorie PENHALIGON")).to_be_visible()
    ltc = page.locator("section", has=page.get_by_role("heading", name="Long-term conditions"))
    mental_health = page.locator("section", has=page.get_by_role("heading", name="Mental health"))
    expect(ltc).to_contain_text("Type 2 diabetes mellitus")
    expect(ltc).to_contain_text("Chronic obstructive lung disease")
    expect(mental_health).to_contain_text("Depressive disorder")
    expect(mental_health).to_contain_text("Generalised anxiety disorder")
    ltc_box, mh_box = ltc.bounding_box(), mental_health.bounding_box()
    assert ltc_box is not None
    assert mh_box is not None
    assert abs(ltc_box["y"] - mh_box["y"]) < 2, "shown side by side"
    assert AuditEvent.objects.filter(
        person_id=person.pk, actor_username="dr-ross", action=AuditEvent.Action.VIEW
    ).exists()


def test_social_worker_breaks_glass_and_privacy_officer_sees_it(page: Page, sign_in, live_server):
    factories.StaffFactory(
        discipline=Discipline.SOCIAL_WORKER,
        user__username="sw-ali",
        user__first_name="Sam",
        user__last_name="Ali",
    )
    factories.StaffFactory(discipline=Discipline.PRIVACY_OFFICER, user__username="po-kent")
    person = _person_with_ltc_and_depression()

    sign_in(page, "sw-ali", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    expect(page.get_by_role("heading", name="You cannot open this record")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Penhaligon")

    page.get_by_role("link", name="Break glass").click()
    page.get_by_role("button", name="Break glass and open the record").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Give the reason")
    page.get_by_label("Why do you need this record?").fill(
        "Emergency placement tonight after carer admitted to hospital"
    )
    page.get_by_role("button", name="Break glass and open the record").click()
    expect(page.get_by_role("heading", name="Marjorie PENHALIGON")).to_be_visible()
    expect(page.get_by_text("You opened this record by breaking glass")).to_be_visible()

    page.get_by_role("link", name="My access history").click()
    history = page.locator("table")
    expect(history).to_contain_text("Broke glass")
    expect(history).to_contain_text("Emergency placement tonight")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "po-kent", factories.PASSWORD)
    expect(page.get_by_role("heading", name="Break-glass accesses to review")).to_be_visible()
    queue = page.locator("table")
    expect(queue).to_contain_text("Sam Ali")
    expect(queue).to_contain_text("Emergency placement tonight after carer admitted to hospital")
    page.get_by_role("link", name=re.compile("Review")).click()
    page.get_by_label("Appropriate", exact=True).check()
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_text("There are no break-glass accesses waiting for review")).to_be_visible()


def test_therapist_sees_therapy_note_that_gp_without_consent_cannot(
    page: Page, sign_in, live_server
):
    person = _person_with_ltc_and_depression()
    therapist = factories.StaffFactory(
        discipline=Discipline.HIGH_INTENSITY_THERAPIST, user__username="hit-osei"
    )
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-ross")
    factories.CareTeamMembershipFactory(person=person, staff=therapist, role="Therapist")
    factories.CareTeamMembershipFactory(person=person, staff=gp, role="Named GP")
    factories.RecordEntryFactory(
        person=person,
        author=therapist,
        title="CBT session 3",
        text="Worked on catastrophic thoughts about hypoglycaemia.",
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
    )
    factories.RecordEntryFactory(person=person, author=gp, title="Diabetes review")

    sign_in(page, "hit-osei", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    expect(page.locator("#timeline")).to_contain_text("Worked on catastrophic thoughts")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "dr-ross", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Diabetes review")
    expect(timeline).to_contain_text("1 sensitive entry is withheld")
    expect(timeline).not_to_contain_text("CBT session 3")
    expect(timeline).not_to_contain_text("catastrophic")
    timeline.get_by_role("link", name="who may read sensitive notes").click()
    gp_row = page.get_by_role("table", name="Who may read psychological therapy notes").get_by_role(
        "row", name="GP"
    )
    expect(gp_row).to_contain_text("The usual rule")
    assert not SharingConsent.objects.exists()


def test_timeline_filter_updates_in_place(page: Page, sign_in, live_server):
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-ross")
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    person = _person_with_ltc_and_depression()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.RecordEntryFactory(person=person, author=gp, title="Diabetes review")
    factories.RecordEntryFactory(person=person, author=social_worker, title="Care Act assessment")
    sign_in(page, "dr-ross", factories.PASSWORD)
    page.goto(f"{live_server.url}/people/{person.public_id}/")
    page.get_by_label("Show entries from").select_option("social-worker")
    timeline = page.locator("#timeline")
    expect(timeline).not_to_contain_text("Diabetes review")
    expect(timeline).to_contain_text("Care Act assessment")
    expect(page).to_have_url(re.compile(rf"/people/{person.public_id}/$"))
