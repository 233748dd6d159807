"""Behind trusted reverse proxies, sign-in lockout and the token throttle count the client's own
address (from X-Forwarded-For), not the proxy's: one person's failures do not lock out everyone
behind the same proxy, and nobody escapes the count by writing the header themselves."""

from typing import Any

import pytest
from django.conf import LazySettings
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests import factories
from wholecare.access.forwarding import trusted_networks
from wholecare.fhir.auth import TOKEN_REFUSALS_PER_CLIENT, client_register

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
ATTACKER = "203.0.113.9"
COLLEAGUE = "198.51.100.20"


@pytest.fixture(autouse=True)
def behind_a_proxy(settings: LazySettings) -> None:
    settings.TRUSTED_PROXIES = trusted_networks("10.0.0.0/24")


def _through_proxy(client_address: str, spoofed: str = "") -> Client:
    forwarded = ", ".join(a for a in (spoofed, client_address) if a)
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def _sign_in(client: Client, password: str) -> str:
    response = client.post(reverse("web:sign-in"), {"username": "gp", "password": password})
    return response.content.decode() if response.status_code != 302 else "signed in"


def _lock_out(client: Client) -> None:
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "wrong")


def test_failures_behind_a_proxy_lock_out_only_their_own_address(gp: Any) -> None:
    _lock_out(_through_proxy(ATTACKER))
    assert "Too many sign-in attempts" in _sign_in(_through_proxy(ATTACKER), factories.PASSWORD)
    assert _sign_in(_through_proxy(COLLEAGUE), factories.PASSWORD) == "signed in"


def test_a_spoofed_header_does_not_escape_the_lockout(gp: Any) -> None:
    _lock_out(_through_proxy(ATTACKER, spoofed="192.0.2.1"))
    retry = _through_proxy(ATTACKER, spoofed="192.0.2.77")
    assert "Too many sign-in attempts" in _sign_in(retry, factories.PASSWORD)


def test_an_untrusted_peer_cannot_claim_another_address(gp: Any) -> None:
    direct = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=COLLEAGUE)
    _lock_out(direct)
    assert _sign_in(_through_proxy(COLLEAGUE), factories.PASSWORD) == "signed in"
    assert "Too many sign-in attempts" in _sign_in(Client(REMOTE_ADDR=ATTACKER), factories.PASSWORD)


def test_token_refusals_behind_a_proxy_count_against_the_client_address(gp: Any) -> None:
    client, secret = client_register(name="GP system", staff=gp, allowed_scopes="system/*.rs")

    def token(address: str, guess: str) -> int:
        response = _through_proxy(address).post(
            "/fhir/token",
            {
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": guess,
                "scope": "system/Patient.rs",
            },
        )
        return int(response.status_code)

    for _ in range(TOKEN_REFUSALS_PER_CLIENT):
        assert token(ATTACKER, "guess") == 401
    assert token(ATTACKER, secret) == 429
    assert token(COLLEAGUE, secret) == 200
