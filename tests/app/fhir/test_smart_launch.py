"""SMART App Launch: discovery, the authorization endpoint and consent page, and the token
endpoint's authorization code and refresh token grants, end to end with Django's test client."""

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import Api
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.auth import InvalidClient, client_register
from wholecare.fhir.models import AccessToken, ApiClient, AuthorizationCode, RefreshToken

CALLBACK = "https://app.example.org/callback"
BASE = "http://testserver/fhir"


def challenge_for(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class App:
    """A registered SMART app and what it needs to run the flow."""

    client: ApiClient
    secret: str
    verifier: str

    def authorize_url(self, **overrides: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": CALLBACK,
            "scope": "user/*.rs offline_access",
            "state": "s-123",
            "aud": BASE,
            "code_challenge": challenge_for(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }
        return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v != "-"})

    def token(self, **form: str) -> Any:
        auth = base64.b64encode(f"{self.client.client_id}:{self.secret}".encode()).decode()
        headers = {"Authorization": f"Basic {auth}"} if self.secret else {}
        if not self.secret:
            form = {"client_id": self.client.client_id, **form}
        return Client().post("/fhir/token", form, headers=headers)

    def exchange(self, code: str, **overrides: str) -> Any:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": self.verifier,
            **overrides,
        }
        return self.token(**form)


def make_app(
    owner: Any, scopes: str = "user/*.rs patient/*.rs", *, public: bool = False, uris=(CALLBACK,)
) -> App:
    client, secret = client_register(
        name="Diabetes Helper",
        staff=owner,
        allowed_scopes=scopes,
        redirect_uris=uris,
        public=public,
    )
    return App(client, secret, secrets.token_urlsafe(48))


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    gp = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-smart")
    mine = factories.PersonFactory(family_name="Mine")
    other = factories.PersonFactory(family_name="Stranger")
    also_mine = factories.PersonFactory(family_name="Alsomine")
    factories.CareTeamMembershipFactory(person=mine, staff=gp)
    factories.CareTeamMembershipFactory(person=also_mine, staff=gp)
    service_account = factories.StaffFactory(discipline=Discipline.GP, user__username="app-owner")
    browser = Client()
    browser.force_login(gp.user)
    return {
        "gp": gp,
        "mine": mine,
        "other": other,
        "also_mine": also_mine,
        "app": make_app(service_account),
        "browser": browser,
    }


def approve(browser: Client, url: str, **form: str) -> dict[str, list[str]]:
    """Allow the app on the consent page; the query of the redirect back to the app."""
    response = browser.post(url, {"decision": "allow", **form})
    assert response.status_code == 302, response.content.decode()[:2000]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return parse_qs(location.query)


def code_for(world: dict[str, Any], app: App | None = None, **overrides: str) -> str:
    app = app or world["app"]
    returned = approve(world["browser"], app.authorize_url(**overrides))
    assert returned["state"] == ["s-123"]
    return returned["code"][0]


def test_discovery_document_lists_endpoints_grants_and_pkce(client: Client, db: None) -> None:
    response = client.get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["authorization_endpoint"] == "http://testserver/oauth/authorize"
    assert config["token_endpoint"] == f"{BASE}/token"
    assert config["revocation_endpoint"] == f"{BASE}/revoke"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert set(config["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert {"launch-standalone", "permission-v2", "client-public"} <= set(config["capabilities"])
    assert "offline_access" in config["scopes_supported"]
    assert client.post("/fhir/.well-known/smart-configuration").status_code == 405


def test_capability_statement_points_to_the_oauth_endpoints(client: Client, db: None) -> None:
    security = client.get("/fhir/metadata").json()["rest"][0]["security"]
    codes = [c["code"] for s in security["service"] for c in s["coding"]]
    assert "SMART-on-FHIR" in codes
    (uris,) = [
        e
        for e in security["extension"]
        if e["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    ]
    found = {e["url"]: e["valueUri"] for e in uris["extension"]}
    assert found == {
        "authorize": "http://testserver/oauth/authorize",
        "token": f"{BASE}/token",
        "revoke": f"{BASE}/revoke",
    }


def test_full_flow_authorize_consent_token_read_refresh_and_replay(world: dict[str, Any]) -> None:
    app, browser, mine, other = world["app"], world["browser"], world["mine"], world["other"]
    page = browser.get(app.authorize_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "Allow Diabetes Helper to use Wholecare as you?" in text
    assert "See and search everything in the record for the people whose records you may open" in (
        text
    )
    assert "Keep working when you are not using it, for up to 30 days" in text
    assert "form-action 'self' https://app.example.org" in page["Content-Security-Policy"]

    code = code_for(world)
    issued = app.exchange(code)
    assert issued.status_code == 200, issued.content
    assert issued["Cache-Control"] == "no-store"
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "user/*.rs offline_access"
    assert "patient" not in body

    api = Api(body["access_token"])
    assert api.get(f"/fhir/Patient/{mine.public_id}").status_code == 200
    assert api.get(f"/fhir/Patient/{other.public_id}").status_code == 404
    read = AuditEvent.objects.filter(person_id=mine.pk, action="view").first()
    assert read is not None
    assert read.actor_username == "dr-smart"

    refreshed = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    second = refreshed.json()
    assert second["refresh_token"] != body["refresh_token"]
    assert Api(second["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 200

    replayed = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    # The whole family is revoked: the newest access token and refresh token stop working.
    assert Api(second["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 401
    assert Api(body["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 401
    again = app.token(grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert again.json()["error"] == "invalid_grant"
    flagged = AuditEvent.objects.filter(action="denied", flagged_for_review=True).get()
    assert "refresh token used twice" in flagged.what
    assert flagged.actor_username == "dr-smart"


def test_every_grant_and_token_issue_is_audited(world: dict[str, Any]) -> None:
    app = world["app"]
    code = code_for(world)
    body = app.exchange(code).json()
    app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    events = list(AuditEvent.objects.filter(actor_username="dr-smart").order_by("id"))
    assert [(e.action, e.what.split(":")[0]) for e in events] == [
        ("create", "SMART app Diabetes Helper approved"),
        ("create", "FHIR access token issued (authorization_code) to Diabetes Helper"),
        ("create", "FHIR access token issued (refresh_token) to Diabetes Helper"),
    ]


def test_tokens_are_stored_only_as_digests(world: dict[str, Any]) -> None:
    app = world["app"]
    code = code_for(world)
    body = app.exchange(code).json()
    stored = {
        *AuthorizationCode.objects.values_list("digest", flat=True),
        *AccessToken.objects.values_list("digest", flat=True),
        *RefreshToken.objects.values_list("digest", flat=True),
    }
    for secret in (code, body["access_token"], body["refresh_token"]):
        assert secret not in stored
        assert hashlib.sha256(secret.encode()).hexdigest() in stored


def test_patient_scopes_hold_the_token_to_the_person_chosen(world: dict[str, Any]) -> None:
    app, browser, mine, also_mine = (
        world["app"],
        world["browser"],
        world["mine"],
        world["also_mine"],
    )
    url = app.authorize_url(scope="patient/*.rs launch/patient")
    page = browser.get(url).content.decode()
    assert "NHS number of the person the app is for" in page
    assert "See and search everything in the record for the person you choose" in page
    missing = browser.post(url, {"decision": "allow", "nhs_number": ""})
    assert missing.status_code == 200
    assert "Enter the NHS number of the person the app is for" in missing.content.decode()
    badly = browser.post(url, {"decision": "allow", "nhs_number": "123"})
    assert "An NHS number must be 10 digits long" in badly.content.decode()

    code = approve(browser, url, nhs_number=mine.nhs_number)["code"][0]
    body = app.exchange(code).json()
    assert body["patient"] == str(mine.public_id)
    assert body["scope"] == "patient/*.rs launch/patient"
    assert "refresh_token" not in body
    api = Api(body["access_token"])
    assert api.get(f"/fhir/Patient/{mine.public_id}").status_code == 200
    assert api.get(f"/fhir/Patient/{also_mine.public_id}").status_code == 404
    found = api.get("/fhir/Patient").json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [str(mine.public_id)]


def test_a_patient_without_a_relationship_cannot_be_chosen(world: dict[str, Any]) -> None:
    app, browser, other = world["app"], world["browser"], world["other"]
    url = app.authorize_url(scope="patient/*.rs")
    refused = browser.post(url, {"decision": "allow", "nhs_number": other.nhs_number})
    assert refused.status_code == 200
    assert "You can only choose a person whose record you may open" in refused.content.decode()
    assert not AuthorizationCode.objects.exists()
    event = AuditEvent.objects.get(action="denied", person_id=other.pk)
    assert "patient chosen without a care relationship" in event.what


def test_the_person_can_refuse(world: dict[str, Any]) -> None:
    app, browser = world["app"], world["browser"]
    response = browser.post(app.authorize_url(), {"decision": "deny"})
    returned = parse_qs(urlsplit(response["Location"]).query)
    assert returned["error"] == ["access_denied"]
    assert returned["state"] == ["s-123"]
    assert not AuthorizationCode.objects.exists()
    assert AuditEvent.objects.filter(action="denied", what__contains="not allowed").exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": "-", "code_challenge_method": "-"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "user/*.rs openid fhirUser"}, "invalid_scope"),
        ({"scope": "user/*.cruds"}, "invalid_scope"),
        ({"scope": "user/Condition.rs user/*.c"}, "invalid_scope"),
        ({"scope": "system/*.rs"}, "invalid_scope"),
        ({"scope": "offline_access"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"aud": "https://elsewhere.example.org/fhir"}, "invalid_request"),
        ({"aud": "-"}, "invalid_request"),
        ({"launch": "xyz"}, "invalid_request"),
    ],
)
def test_bad_requests_go_back_to_the_app_with_an_oauth_error(
    world: dict[str, Any], overrides: dict[str, str], error: str
) -> None:
    app, browser = world["app"], world["browser"]
    for method in (browser.get, browser.post):
        response = method(app.authorize_url(**overrides))
        assert response.status_code == 302
        assert response["Location"].startswith(CALLBACK + "?")
        returned = parse_qs(urlsplit(response["Location"]).query)
        assert returned["error"] == [error]
        assert returned["state"] == ["s-123"]
        assert returned["error_description"]
    assert not AuthorizationCode.objects.exists()
    assert AuditEvent.objects.filter(action="denied", what__contains="not authorised").count() == 2


def test_missing_state_is_refused(world: dict[str, Any]) -> None:
    response = world["browser"].get(world["app"].authorize_url(state="-"))
    returned = parse_qs(urlsplit(response["Location"]).query)
    assert returned == {"error": ["invalid_request"], "error_description": ["state is required"]}


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example.org/callback"},
        {"redirect_uri": CALLBACK + "/"},
        {"redirect_uri": CALLBACK + "?extra=1"},
        {"redirect_uri": "-"},
        {"client_id": "not-a-client"},
        {"client_id": "-"},
    ],
)
def test_bad_client_or_redirect_uri_is_shown_not_redirected(
    world: dict[str, Any], overrides: dict[str, str]
) -> None:
    response = world["browser"].get(world["app"].authorize_url(**overrides))
    assert response.status_code == 400
    assert "Location" not in response
    text = response.content.decode()
    assert "This app cannot be connected" in text
    assert 'class="nhsuk-header"' in text
    assert AuditEvent.objects.filter(action="denied", actor_username="dr-smart").exists()


def test_a_switched_off_client_cannot_start(world: dict[str, Any]) -> None:
    app = world["app"]
    ApiClient.objects.filter(pk=app.client.pk).update(active=False)
    assert world["browser"].get(app.authorize_url()).status_code == 400


def test_signing_in_comes_first(world: dict[str, Any]) -> None:
    url = world["app"].authorize_url()
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=/oauth/authorize")


def test_people_without_a_staff_role_cannot_connect_apps(world: dict[str, Any]) -> None:
    person_user = factories.UserFactory(username="a-patient")
    factories.PersonFactory(user=person_user)
    browser = Client()
    browser.force_login(person_user)
    response = browser.get(world["app"].authorize_url())
    assert response.status_code == 403
    text = response.content.decode()
    assert "Only members of staff can connect apps such as Diabetes Helper" in text
    assert "error=access_denied" in text
    assert browser.post(world["app"].authorize_url(), {"decision": "allow"}).status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_wrong_verifier_is_refused_and_spends_the_code(world: dict[str, Any]) -> None:
    app = world["app"]
    code = code_for(world)
    wrong = app.exchange(code, code_verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge",
    }
    assert app.exchange(code).json()["error"] == "invalid_grant"
    assert AuditEvent.objects.filter(what__startswith="FHIR token refused").count() == 2


@pytest.mark.parametrize("verifier", ["", "short", "x" * 129, "é" * 50])
def test_malformed_verifiers_are_refused(world: dict[str, Any], verifier: str) -> None:
    code = code_for(world)
    response = world["app"].exchange(code, code_verifier=verifier)
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_grant", "invalid_request"}
    assert not AccessToken.objects.exists()


def test_reused_code_is_refused_and_revokes_what_it_gave(world: dict[str, Any]) -> None:
    app, mine = world["app"], world["mine"]
    code = code_for(world)
    first = app.exchange(code).json()
    second = app.exchange(code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert "already been used" in second.json()["error_description"]
    assert Api(first["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 401
    refresh = app.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
    assert AuditEvent.objects.filter(flagged_for_review=True, what__contains="code used twice")


def test_expired_code_is_refused(world: dict[str, Any]) -> None:
    app = world["app"]
    code = code_for(world)
    AuthorizationCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = app.exchange(code)
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code has expired; start again",
    }


def test_code_lives_about_a_minute(world: dict[str, Any]) -> None:
    code_for(world)
    stored = AuthorizationCode.objects.get()
    assert stored.expires_at - stored.issued_at == dt.timedelta(seconds=60)


def test_code_is_bound_to_redirect_uri_and_client(world: dict[str, Any]) -> None:
    app = world["app"]
    code = code_for(world)
    another = make_app(world["gp"])
    stolen = another.exchange(code, code_verifier=app.verifier)
    assert stolen.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown authorization code",
    }
    # The other client's attempt did not spend it; a wrong redirect URI does.
    moved = app.exchange(code, redirect_uri="https://app.example.org/other")
    assert (
        moved.json()["error_description"] == "redirect_uri differs from the authorization request"
    )
    assert app.exchange(code).json()["error"] == "invalid_grant"


def test_token_requests_need_the_right_secret_and_parameters(world: dict[str, Any]) -> None:
    app = world["app"]
    code = code_for(world)
    wrong_secret = App(app.client, "not-the-secret", app.verifier).exchange(code)
    assert wrong_secret.status_code == 401
    assert wrong_secret["WWW-Authenticate"] == 'Basic realm="fhir"'
    missing = app.token(grant_type="authorization_code", code=code, redirect_uri=CALLBACK)
    assert missing.json() == {
        "error": "invalid_request",
        "error_description": "code_verifier is required",
    }
    unknown = app.token(grant_type="password")
    assert unknown.json()["error"] == "unsupported_grant_type"
    assert app.exchange(code).status_code == 200


def test_refresh_cannot_widen_the_scopes(world: dict[str, Any]) -> None:
    app = world["app"]
    body = app.exchange(code_for(world)).json()
    wider = app.token(
        grant_type="refresh_token", refresh_token=body["refresh_token"], scope="user/*.cruds"
    )
    assert wider.json()["error"] == "invalid_scope"
    # The refused attempt spent the token (rotation): a narrower request with it is a replay.
    narrower = app.token(
        grant_type="refresh_token", refresh_token=body["refresh_token"], scope="user/Patient.r"
    )
    assert narrower.json()["error"] == "invalid_grant"


def test_refresh_may_narrow_the_scopes(world: dict[str, Any]) -> None:
    app, mine = world["app"], world["mine"]
    body = app.exchange(code_for(world)).json()
    narrow = app.token(
        grant_type="refresh_token",
        refresh_token=body["refresh_token"],
        scope="user/Patient.r offline_access",
    ).json()
    assert narrow["scope"] == "user/Patient.r offline_access"
    api = Api(narrow["access_token"])
    assert api.get(f"/fhir/Patient/{mine.public_id}").status_code == 200
    assert api.get("/fhir/Condition").status_code == 403


def test_refresh_tokens_keep_the_family_expiry(world: dict[str, Any]) -> None:
    app = world["app"]
    body = app.exchange(code_for(world)).json()
    first = RefreshToken.objects.get()
    app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    newest = RefreshToken.objects.get(used_at__isnull=True)
    assert newest.expires_at == first.expires_at
    assert first.expires_at - first.issued_at <= dt.timedelta(days=30)


def test_expired_refresh_token_is_refused(world: dict[str, Any]) -> None:
    app = world["app"]
    body = app.exchange(code_for(world)).json()
    RefreshToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert response.json()["error"] == "invalid_grant"


def test_a_narrowed_client_cannot_refresh_into_old_scopes(world: dict[str, Any]) -> None:
    app = world["app"]
    body = app.exchange(code_for(world)).json()
    ApiClient.objects.filter(pk=app.client.pk).update(allowed_scopes="patient/*.rs")
    response = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert response.json()["error"] == "invalid_scope"


def test_tokens_stop_when_the_person_who_approved_is_switched_off(world: dict[str, Any]) -> None:
    app, gp, mine = world["app"], world["gp"], world["mine"]
    body = app.exchange(code_for(world)).json()
    gp.user.is_active = False
    gp.user.save()
    assert Api(body["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 401
    refreshed = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


def test_token_acts_as_the_signed_in_person_not_the_client_owner(world: dict[str, Any]) -> None:
    """The app's owner has no relationship with anyone: what the token may open is the
    signed-in GP's, and losing the GP's relationship closes it at once."""
    app, mine = world["app"], world["mine"]
    body = app.exchange(code_for(world)).json()
    api = Api(body["access_token"])
    assert api.get(f"/fhir/Patient/{mine.public_id}").status_code == 200
    mine.care_team.update(end_date=timezone.localdate() - dt.timedelta(days=1))
    assert api.get(f"/fhir/Patient/{mine.public_id}").status_code == 404


def test_public_client_uses_pkce_without_a_secret(world: dict[str, Any]) -> None:
    app = make_app(world["gp"], public=True)
    assert app.secret == ""
    code = code_for(world, app)
    issued = app.exchange(code)
    assert issued.status_code == 200, issued.content
    with_secret = App(app.client, "made-up", app.verifier).exchange(code_for(world, app))
    assert with_secret.status_code == 401
    refused = app.token(grant_type="client_credentials", scope="user/*.rs")
    assert refused.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.org/callback",
        "https://app.example.org/callback#fragment",
        "/callback",
        "app.example.org/callback",
        "javascript:alert(1)",
    ],
)
def test_unsafe_redirect_uris_cannot_be_registered(db: None, uri: str) -> None:
    owner = factories.StaffFactory()
    with pytest.raises(InvalidClient, match="not a usable redirect URI"):
        client_register(name="x", staff=owner, allowed_scopes="user/*.rs", redirect_uris=[uri])


def test_loopback_redirect_uris_may_use_http(db: None) -> None:
    owner = factories.StaffFactory()
    for uri in ("http://localhost:8765/cb", "http://127.0.0.1/cb", "http://[::1]:9000/cb"):
        client, _ = client_register(
            name="x", staff=owner, allowed_scopes="user/*.rs", redirect_uris=[uri]
        )
        assert client.redirect_uri_list == [uri]


def test_a_public_client_needs_redirect_uris(db: None) -> None:
    with pytest.raises(InvalidClient, match="redirect URIs"):
        client_register(
            name="x", staff=factories.StaffFactory(), allowed_scopes="user/*.rs", public=True
        )


def test_client_credentials_still_work_and_are_audited(world: dict[str, Any]) -> None:
    owner = factories.StaffFactory(user__username="backend")
    client, secret = client_register(name="Back end", staff=owner, allowed_scopes="system/*.rs")
    response = Client().post(
        "/fhir/token",
        {
            "grant_type": "client_credentials",
            "scope": "system/*.rs",
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "system/*.rs"
    assert "refresh_token" not in response.json()
    assert AuditEvent.objects.filter(
        actor_username="backend", what__startswith="FHIR access token issued (client_credentials)"
    ).exists()


def test_an_export_runs_as_the_person_who_approved_and_is_theirs_alone(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's owner cares for the stranger, the GP does not: the export holds the GP's people,
    and another GP using the same app cannot poll it."""
    from wholecare.fhir import bulk_export

    monkeypatch.setattr(bulk_export, "start_worker", lambda: None)
    app, mine, other = world["app"], world["mine"], world["other"]
    factories.CareTeamMembershipFactory(person=other, staff=app.client.staff)
    api = Api(app.exchange(code_for(world)).json()["access_token"])
    kicked = api.get("/fhir/Patient/$export", Prefer="respond-async")
    assert kicked.status_code == 202, kicked.content
    status = kicked["Content-Location"].removeprefix("http://testserver")
    assert bulk_export.run_pending() == 1
    manifest = api.get(status).json()
    patients_file = next(f["url"] for f in manifest["output"] if f["type"] == "Patient")
    exported = b"".join(api.get(patients_file.removeprefix("http://testserver")).streaming_content)
    assert str(mine.public_id).encode() in exported
    assert str(other.public_id).encode() not in exported

    colleague = factories.StaffFactory(discipline=Discipline.GP, user__username="dr-other")
    browser = Client()
    browser.force_login(colleague.user)
    returned = approve(browser, app.authorize_url())
    theirs = Api(app.exchange(returned["code"][0]).json()["access_token"])
    assert theirs.get(status).status_code == 404


def test_the_person_sees_the_apps_they_allowed_and_can_disconnect_one(
    world: dict[str, Any],
) -> None:
    app, browser, mine = world["app"], world["browser"], world["mine"]
    assert "No app can use Wholecare as you" in browser.get("/oauth/apps").content.decode()
    body = app.exchange(code_for(world)).json()
    page = browser.get("/oauth/apps").content.decode()
    assert "Diabetes Helper" in page
    assert "Keep working when you are not using it, for up to 30 days" in page
    family = str(AuthorizationCode.objects.get().family)
    assert family in page

    colleague = factories.StaffFactory(user__username="dr-colleague")
    other_browser = Client()
    other_browser.force_login(colleague.user)
    assert "Diabetes Helper" not in other_browser.get("/oauth/apps").content.decode()
    assert other_browser.post("/oauth/apps", {"family": family}).status_code == 403
    assert Api(body["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 200

    response = browser.post("/oauth/apps", {"family": family})
    assert response.status_code == 302
    assert Api(body["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 401
    refreshed = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"
    assert "No app can use Wholecare as you" in browser.get("/oauth/apps").content.decode()
    event = AuditEvent.objects.get(action="update", actor_username="dr-smart")
    assert event.what == "SMART app Diabetes Helper disconnected: its tokens revoked"


def test_apps_whose_tokens_have_lapsed_are_not_listed(world: dict[str, Any]) -> None:
    app, browser = world["app"], world["browser"]
    app.exchange(code_for(world))
    past = timezone.now() - dt.timedelta(seconds=1)
    AccessToken.objects.update(expires_at=past)
    assert "Diabetes Helper" in browser.get("/oauth/apps").content.decode()
    RefreshToken.objects.update(expires_at=past)
    assert "Diabetes Helper" not in browser.get("/oauth/apps").content.decode()


def test_only_members_of_staff_have_an_apps_page(world: dict[str, Any]) -> None:
    person_user = factories.UserFactory(username="a-person")
    factories.PersonFactory(user=person_user)
    browser = Client()
    browser.force_login(person_user)
    assert browser.get("/oauth/apps").status_code == 403


def _revoke(app: App, token: str) -> Any:
    auth = base64.b64encode(f"{app.client.client_id}:{app.secret}".encode()).decode()
    return Client().post(
        "/fhir/revoke", {"token": token}, headers={"Authorization": f"Basic {auth}"}
    )


def test_an_app_revoking_a_refresh_token_ends_the_approval(world: dict[str, Any]) -> None:
    app, mine = world["app"], world["mine"]
    body = app.exchange(code_for(world)).json()
    response = _revoke(app, body["refresh_token"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert Api(body["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 401
    refreshed = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"
    event = AuditEvent.objects.get(action="update", what__startswith="FHIR token revoked")
    assert event.actor_username == "dr-smart"


def test_an_app_revoking_an_access_token_ends_the_approval_too(world: dict[str, Any]) -> None:
    app = world["app"]
    body = app.exchange(code_for(world)).json()
    assert _revoke(app, body["access_token"]).status_code == 200
    refreshed = app.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


def test_revoking_unknown_or_other_clients_tokens_changes_nothing(world: dict[str, Any]) -> None:
    app, mine = world["app"], world["mine"]
    body = app.exchange(code_for(world)).json()
    another = make_app(world["gp"])
    assert _revoke(another, body["access_token"]).status_code == 200
    assert _revoke(app, "not-a-token").status_code == 200
    assert Api(body["access_token"]).get(f"/fhir/Patient/{mine.public_id}").status_code == 200
    assert not AuditEvent.objects.filter(what__startswith="FHIR token revoked").exists()
    wrong = App(app.client, "wrong", app.verifier)
    assert _revoke(wrong, body["access_token"]).status_code == 401
    assert Client().get("/fhir/revoke").json()["error"] == "invalid_request"


def test_a_client_credentials_token_is_revoked_alone(world: dict[str, Any]) -> None:
    owner = factories.StaffFactory()
    client, secret = client_register(name="Back end", staff=owner, allowed_scopes="user/*.rs")
    backend = App(client, secret, "")
    first = backend.token(grant_type="client_credentials", scope="user/*.rs").json()
    second = backend.token(grant_type="client_credentials", scope="user/*.rs").json()
    assert _revoke(backend, first["access_token"]).status_code == 200
    assert Api(first["access_token"]).get("/fhir/Patient").status_code == 401
    assert Api(second["access_token"]).get("/fhir/Patient").status_code == 200
