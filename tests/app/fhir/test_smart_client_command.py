"""`wholecare fhir-client`: registering, listing and switching off API clients."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import factories
from wholecare.fhir.models import ApiClient


def _run(*args: str) -> str:
    out = StringIO()
    call_command("fhir-client", *args, stdout=out)
    return out.getvalue()


def test_register_list_and_deactivate(db: None) -> None:
    factories.StaffFactory(user__username="app-owner")
    printed = _run(
        "register",
        "--name",
        "Diabetes Helper",
        "--as",
        "app-owner",
        "--scopes",
        "user/*.rs patient/*.rs",
        "--redirect-uri",
        "https://app.example.org/callback",
        "--redirect-uri",
        "http://localhost:8765/cb",
    )
    client = ApiClient.objects.get()
    lines = dict(line.split(": ", 1) for line in printed.splitlines())
    assert lines["client_id"] == client.client_id
    secret = lines["client_secret"].removesuffix("  (shown only this once)")
    assert secret not in client.secret_hash
    assert check_password(secret, client.secret_hash)
    assert client.redirect_uri_list == [
        "https://app.example.org/callback",
        "http://localhost:8765/cb",
    ]
    listed = _run("list")
    assert f"{client.client_id}\tDiabetes Helper\tconfidential\tuser/*.rs patient/*.rs" in listed
    assert listed.rstrip().endswith("active")
    assert _run("deactivate", client.client_id).strip() == f"Switched off {client.client_id}"
    client.refresh_from_db()
    assert not client.active
    assert _run("list").rstrip().endswith("switched off")


def test_a_public_client_gets_no_secret(db: None) -> None:
    factories.StaffFactory(user__username="app-owner")
    printed = _run(
        "register",
        "--name",
        "Phone app",
        "--as",
        "app-owner",
        "--scopes",
        "patient/*.rs",
        "--redirect-uri",
        "https://app.example.org/callback",
        "--public",
    )
    assert "client_secret" not in printed
    assert ApiClient.objects.get().public


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "nobody", "--scopes", "user/*.rs"], "--as nobody: there is no member of staff"),
        (["--as", "app-owner", "--scopes", "user/*.zz"], "is not a SMART scope"),
        (
            ["--as", "app-owner", "--scopes", "user/*.rs", "--redirect-uri", "http://x.org/"],
            "not a usable redirect URI",
        ),
        (["--as", "app-owner", "--scopes", "user/*.rs", "--public"], "give its redirect URIs"),
    ],
)
def test_bad_registrations_say_why(db: None, args: list[str], message: str) -> None:
    factories.StaffFactory(user__username="app-owner")
    with pytest.raises(CommandError, match=message):
        _run("register", "--name", "x", *args)
    assert not ApiClient.objects.exists()


def test_deactivating_an_unknown_client_says_so(db: None) -> None:
    with pytest.raises(CommandError, match="There is no client nope"):
        _run("deactivate", "nope")
