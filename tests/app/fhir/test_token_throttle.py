"""The token and revocation endpoints slow down an address that keeps being refused (a secret
being guessed, or secrets checked over and over to load the server), without letting anyone lock
a client out from elsewhere, and let it in again once it has waited."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from wholecare.access.models import AuditEvent
from wholecare.fhir.auth import (
    TOKEN_REFUSAL_WINDOW,
    TOKEN_REFUSALS_PER_ADDRESS,
    TOKEN_REFUSALS_PER_CLIENT,
    client_register,
)
from wholecare.fhir.models import TokenRefusal

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
ELSEWHERE = "198.51.100.20"


def _token(client_id: str, secret: str, address: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/fhir/token",
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "system/Patient.rs",
        },
    )


@pytest.fixture
def registered(gp: Any) -> tuple[str, str]:
    client, secret = client_register(name="GP system", staff=gp, allowed_scopes="system/*.rs")
    return client.client_id, secret


def test_guessing_a_secret_is_slowed_down_before_any_secret_is_checked(registered):
    client_id, secret = registered
    for _ in range(TOKEN_REFUSALS_PER_CLIENT):
        assert _token(client_id, "guess", ATTACKER).status_code == 401
    slowed = _token(client_id, secret, ATTACKER)
    assert slowed.status_code == 429, "even the right secret waits: it is not checked"
    assert slowed.json()["error"] == "temporarily_unavailable"
    wait = int(slowed.headers["Retry-After"])
    assert 0 < wait <= TOKEN_REFUSAL_WINDOW.total_seconds() + 1
    assert AuditEvent.objects.filter(what__contains="(temporarily_unavailable)").exists()


def test_nobody_can_lock_a_client_out_from_another_address(registered):
    client_id, secret = registered
    for _ in range(TOKEN_REFUSALS_PER_CLIENT + 2):
        _token(client_id, "guess", ATTACKER)
    assert _token(client_id, secret, ELSEWHERE).status_code == 200


def test_an_address_refused_for_many_clients_is_slowed_down_for_all(registered):
    client_id, secret = registered
    for n in range(TOKEN_REFUSALS_PER_ADDRESS):
        assert _token(f"made-up-{n}", "guess", ATTACKER).status_code == 401
    assert _token(client_id, secret, ATTACKER).status_code == 429
    assert _token(client_id, secret, ELSEWHERE).status_code == 200


def test_waiting_is_enough_and_old_refusals_are_not_kept(registered):
    client_id, secret = registered
    for _ in range(TOKEN_REFUSALS_PER_CLIENT):
        _token(client_id, "guess", ATTACKER)
    for _ in range(3):  # refused for coming too often: audited, but not counted
        assert _token(client_id, secret, ATTACKER).status_code == 429
    assert TokenRefusal.objects.count() == TOKEN_REFUSALS_PER_CLIENT
    TokenRefusal.objects.update(at=timezone.now() - TOKEN_REFUSAL_WINDOW - dt.timedelta(1))
    assert _token(client_id, secret, ATTACKER).status_code == 200
    assert _token(client_id, "guess", ATTACKER).status_code == 401
    assert TokenRefusal.objects.count() == 1, "the address's refusals older than the window go"


def test_revocation_is_slowed_down_alike(registered):
    client_id, secret = registered
    for _ in range(TOKEN_REFUSALS_PER_CLIENT):
        _token(client_id, "guess", ATTACKER)
    revoked = Client(REMOTE_ADDR=ATTACKER).post(
        "/fhir/revoke", {"client_id": client_id, "client_secret": secret, "token": "x"}
    )
    assert revoked.status_code == 429
    assert "Retry-After" in revoked.headers
