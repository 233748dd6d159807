"""The SMART App Launch pages in a real browser: sign in on the way, choose the person, allow,
land back at the app with a code that buys a working token, then disconnect the app; WCAG 2.2 AA
with axe on every page."""

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.axe import violations
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.auth import client_register


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """axe-core is injected as a script, which the app's own CSP rightly refuses."""
    return {**browser_context_args, "bypass_csp": True}


def test_gp_allows_an_app_for_one_patient(
    page: Page, live_server: Any, allow_audit_reset: None
) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-okafor")
    person = factories.PersonFactory(given_name="Marjorie", family_name="Penhaligon")
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    callback = f"{live_server.url}/app-callback"
    client, secret = client_register(
        name="Diabetes Helper",
        staff=factories.StaffFactory(),
        allowed_scopes="patient/*.rs",
        redirect_uris=[callback],
    )
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": callback,
            "scope": "patient/*.rs launch/patient",
            "state": "journey-1",
            "aud": f"{live_server.url}/fhir",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )

    page.goto(f"{live_server.url}/oauth/authorize?{query}")
    page.get_by_label("Username").fill("dr-okafor")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(
        page.get_by_role("heading", name="Allow Diabetes Helper to use Wholecare as you?")
    ).to_be_visible()
    expect(
        page.get_by_text("See and search everything in the record for the person")
    ).to_be_visible()
    assert violations(page) == [], "consent page"

    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert violations(page) == [], "consent page with an error"

    page.get_by_label("NHS number of the person the app is for").fill(person.nhs_number)
    page.get_by_role("button", name="Allow", exact=True).click()
    page.wait_for_url(f"{callback}?*")
    returned = parse_qs(urlsplit(page.url).query)
    assert returned["state"] == ["journey-1"]

    issued = Client().post(
        "/fhir/token",
        {
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": callback,
            "code_verifier": verifier,
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert issued.status_code == 200, issued.content
    assert issued.json()["patient"] == str(person.public_id)
    read = Client().get(
        f"/fhir/Patient/{person.public_id}",
        headers={"Authorization": f"Bearer {issued.json()['access_token']}"},
    )
    assert read.status_code == 200
    assert AuditEvent.objects.filter(
        actor_username="dr-okafor", person_id=person.pk, what__contains="approved"
    ).exists()

    page.goto(f"{live_server.url}/oauth/apps")
    expect(page.get_by_role("heading", name="Diabetes Helper")).to_be_visible()
    assert violations(page) == [], "apps page"
    page.get_by_role("button", name="Disconnect Diabetes Helper").click()
    expect(page.get_by_text("The app has been disconnected")).to_be_visible()
    assert violations(page) == [], "apps page after disconnecting"
    again = Client().get(
        f"/fhir/Patient/{person.public_id}",
        headers={"Authorization": f"Bearer {issued.json()['access_token']}"},
    )
    assert again.status_code == 401


def test_a_bad_redirect_uri_page_is_accessible(page: Page, live_server: Any, sign_in: Any) -> None:
    factories.StaffFactory(user__username="dr-lowe")
    client, _ = client_register(
        name="Diabetes Helper",
        staff=factories.StaffFactory(),
        allowed_scopes="user/*.rs",
        redirect_uris=["https://app.example.org/callback"],
    )
    sign_in(page, "dr-lowe", factories.PASSWORD)
    query = urlencode({"client_id": client.client_id, "redirect_uri": "https://evil.example.org/"})
    page.goto(f"{live_server.url}/oauth/authorize?{query}")
    expect(page.get_by_role("heading", name="This app cannot be connected")).to_be_visible()
    assert violations(page) == [], "error page"
