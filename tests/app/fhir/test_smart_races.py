"""Two requests racing with the same authorization code or refresh token: exactly one wins.
Each thread has its own database connection, as two server processes would."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests import factories
from tests.app.fhir.test_smart_launch import challenge_for, make_app
from wholecare.fhir.auth import (
    Issued,
    TokenError,
    code_exchange,
    code_issue,
    refresh_exchange,
)
from wholecare.fhir.models import AccessToken, RefreshToken
from wholecare.fhir.scopes import parse_requested

RACERS = 4


def _race(attempt: Callable[[], Issued]) -> list[Issued | TokenError]:
    barrier = threading.Barrier(RACERS)
    results: list[Issued | TokenError] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome: Issued | TokenError = attempt()
        except TokenError as problem:
            outcome = problem
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def approved(allow_audit_reset: None):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises by locking the file)")
    gp = factories.StaffFactory()
    app = make_app(factories.StaffFactory(), "user/*.rs")
    code = code_issue(
        by=gp.user,
        client=app.client,
        redirect_uri="https://app.example.org/callback",
        requested=parse_requested("user/*.rs offline_access"),
        code_challenge=challenge_for(app.verifier),
        patient=None,
    )
    return app, code


def test_a_code_raced_by_several_requests_gives_tokens_once(approved) -> None:
    app, code = approved
    results = _race(
        lambda: code_exchange(
            client=app.client,
            code=code,
            redirect_uri="https://app.example.org/callback",
            code_verifier=app.verifier,
        )
    )
    won = [r for r in results if isinstance(r, Issued)]
    assert len(won) == 1
    assert all(r.error == "invalid_grant" for r in results if isinstance(r, TokenError))
    # The row lock makes the losers wait for the winner: they count as replays and revoke what
    # the winner got.
    assert not AccessToken.objects.filter(expires_at__gt=timezone.now()).exists()
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()


def test_a_refresh_token_raced_by_several_requests_rotates_once(approved) -> None:
    app, code = approved
    first = code_exchange(
        client=app.client,
        code=code,
        redirect_uri="https://app.example.org/callback",
        code_verifier=app.verifier,
    )
    results = _race(
        lambda: refresh_exchange(client=app.client, refresh_token=first.refresh_token, scope="")
    )
    assert len([r for r in results if isinstance(r, Issued)]) == 1
    assert all(r.error == "invalid_grant" for r in results if isinstance(r, TokenError))
    assert not AccessToken.objects.filter(expires_at__gt=timezone.now()).exists()
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
