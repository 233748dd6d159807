"""OAuth2 for the FHIR API (decisions 0007 and 0012): registered clients; the client credentials
grant for back-end services; the SMART App Launch authorization code grant (PKCE S256) and
rotating refresh tokens; and the middleware that turns a token into the member of staff it acts as.

A token acts as one member of staff (the client's own for client credentials, the signed-in person
who approved the app for an authorization code), so the web UI's rules (legitimate relationship,
sensitivity, consent) apply unchanged to every request; SMART scopes can only narrow them, and a
token with `patient/` scopes is further held to one person.
"""

import base64
import binascii
import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils import timezone

from wholecare.access.audit import Actor, audit
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied, staff_of
from wholecare.directory.models import Staff
from wholecare.fhir.errors import FhirError, Issue
from wholecare.fhir.models import (
    AccessToken,
    ApiClient,
    AuthorizationCode,
    RefreshToken,
    TokenRefusal,
)
from wholecare.fhir.prepared import PreparedQuery, Slot
from wholecare.fhir.scopes import (
    Context,
    InvalidScope,
    Permission,
    Requested,
    Scope,
    parse_requested,
    parse_scopes,
    within,
)
from wholecare.record.models import Person

TOKEN_LIFETIME = dt.timedelta(hours=1)
CODE_LIFETIME = dt.timedelta(seconds=60)
REFRESH_LIFETIMES = {
    "online_access": dt.timedelta(hours=12),
    "offline_access": dt.timedelta(days=30),
}
"""How long a family of refresh tokens lives, from the approval: rotation never extends it."""
TOKEN_REFUSAL_WINDOW = dt.timedelta(minutes=15)
TOKEN_REFUSALS_PER_CLIENT = 10
"""Refusals for one client from one address, within the window, before the address must wait."""
TOKEN_REFUSALS_PER_ADDRESS = 50
"""Refusals for any clients from one address, within the window."""
PREFIX = "/fhir/"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


@dataclass(frozen=True)
class Grant:
    """What one request may do: the member of staff it acts as, and its token's scopes."""

    staff: Staff
    client: ApiClient
    scopes: tuple[Scope, ...]
    patient: Person | None

    @property
    def user(self) -> AbstractBaseUser:
        return self.staff.user

    def allows(self, resource_type: str, permission: Permission) -> bool:
        return any(scope.allows(resource_type, permission) for scope in self.scopes)

    def check(self, resource_type: str, permission: Permission) -> None:
        if not self.allows(resource_type, permission):
            raise FhirError(
                403,
                [
                    Issue(
                        "forbidden",
                        f"The access token's scopes do not allow {permission.name.lower()} of"
                        f" {resource_type}",
                    )
                ],
            )

    def only_patient(self, resource_type: str, permission: Permission) -> Person | None:
        """The one person this access is held to, when only `patient/` scopes allow it. Fails
        closed: no scope allowing it is a 403 here too, not "no restriction"."""
        self.check(resource_type, permission)
        allowing = [s for s in self.scopes if s.allows(resource_type, permission)]
        if all(s.context is Context.PATIENT for s in allowing):
            return self.patient
        return None


class TokenError(Exception):
    """An OAuth2 token endpoint error (RFC 6749 section 5.2); `retry_after`, in seconds, when
    the request was refused for coming too often."""

    def __init__(
        self, error: str, description: str, status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after


class InvalidClient(ValueError):
    """A client registration that cannot be accepted (the message says why)."""


def redirect_uri_check(uri: str) -> str:
    """A redirect URI apps may be sent back to: absolute, https (or http to this computer, for
    native apps, RFC 8252), without a fragment."""
    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not parts.netloc or parts.fragment or not (parts.scheme == "https" or loopback):
        raise InvalidClient(
            f"{uri!r} is not a usable redirect URI: give an absolute https URI (or http to"
            " localhost) without a fragment"
        )
    return uri


@transaction.atomic
def client_register(
    *,
    name: str,
    staff: Staff,
    allowed_scopes: str,
    redirect_uris: Sequence[str] = (),
    public: bool = False,
) -> tuple[ApiClient, str]:
    """Register a client acting as `staff`; returns it with its secret, shown only this once (an
    empty secret for a public client, which needs redirect URIs and authenticates with PKCE)."""
    parse_scopes(allowed_scopes)
    uris = [redirect_uri_check(uri) for uri in redirect_uris]
    if public and not uris:
        raise InvalidClient(
            "A public client is only for the authorization code flow: give its redirect URIs"
        )
    secret = "" if public else secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        client_id=secrets.token_hex(16),
        secret_hash=make_password(secret) if secret else "",
        name=name,
        staff=staff,
        allowed_scopes=allowed_scopes,
        redirect_uris="\n".join(uris),
        public=public,
        created_at=timezone.now(),
    )
    return client, secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    """A token response (RFC 6749 section 5.1, with SMART's `patient`)."""

    access_token: str
    record: AccessToken
    refresh_token: str = ""

    def response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": int((self.record.expires_at - self.record.issued_at).total_seconds()),
            "scope": self.record.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.record.patient is not None:
            body["patient"] = str(self.record.patient.public_id)
        return body


def _issue(
    *,
    client: ApiClient,
    staff: Staff | None,
    scope: str,
    patient: Person | None,
    family: uuid.UUID | None,
    grant_type: str,
    refresh_until: dt.datetime | None = None,
) -> Issued:
    """Create an access token (and a refresh token when `refresh_until` is given) and audit the
    issue, in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    record = AccessToken.objects.create(
        digest=_digest(token),
        client=client,
        scope=scope,
        patient=patient,
        issued_at=now,
        expires_at=now + TOKEN_LIFETIME,
        staff=staff,
        family=family,
    )
    refresh = ""
    if refresh_until is not None and staff is not None and family is not None:
        refresh = secrets.token_urlsafe(32)
        RefreshToken.objects.create(
            digest=_digest(refresh),
            client=client,
            staff=staff,
            scope=scope,
            patient=patient,
            family=family,
            issued_at=now,
            expires_at=refresh_until,
        )
    audit(
        by=(staff or client.staff).user,
        action=AuditEvent.Action.CREATE,
        person=patient,
        what=f"FHIR access token issued ({grant_type}) to {client.name}: {scope}",
        why=f"API client: {client.name}",
    )
    return Issued(token, record, refresh)


@transaction.atomic
def token_issue(
    *, client: ApiClient, scope: str, patient: Person | None = None
) -> tuple[str, AccessToken]:
    """The client credentials grant: a token acting as the client's own member of staff."""
    try:
        requested = parse_scopes(scope)
    except InvalidScope as problem:
        raise TokenError("invalid_scope", str(problem)) from None
    if not requested:
        raise TokenError("invalid_scope", "Ask for at least one SMART scope, such as user/*.rs")
    if not within(requested, parse_scopes(client.allowed_scopes)):
        raise TokenError("invalid_scope", "The client is not allowed some of these scopes")
    if any(s.context is Context.PATIENT for s in requested) and patient is None:
        raise TokenError("invalid_request", "patient/ scopes need a patient to be chosen")
    issued = _issue(
        client=client,
        staff=None,
        scope=" ".join(str(s) for s in requested),
        patient=patient,
        family=None,
        grant_type="client_credentials",
    )
    return issued.access_token, issued.record


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 S256: BASE64URL(SHA-256(ASCII(code_verifier))) equals the code challenge."""
    if not _VERIFIER.match(verifier):
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return secrets.compare_digest(computed, challenge)


def pkce_challenge_check(challenge: str) -> str:
    if not _CHALLENGE.match(challenge):
        raise ValueError("code_challenge must be the 43-character BASE64URL of a SHA-256 digest")
    return challenge


@transaction.atomic
def code_issue(
    *,
    by: AbstractBaseUser,
    client: ApiClient,
    redirect_uri: str,
    requested: Requested,
    code_challenge: str,
    patient: Person | None,
) -> str:
    """The signed-in member of staff approves the app: a single-use code for its token request."""
    staff = staff_of(by)
    code = secrets.token_urlsafe(32)
    now = timezone.now()
    AuthorizationCode.objects.create(
        digest=_digest(code),
        client=client,
        staff=staff,
        redirect_uri=redirect_uri,
        scope=str(requested),
        patient=patient,
        code_challenge=pkce_challenge_check(code_challenge),
        family=uuid.uuid4(),
        issued_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    audit(
        by=by,
        action=AuditEvent.Action.CREATE,
        person=patient,
        what=f"SMART app {client.name} approved: {requested}",
        why=f"API client: {client.name}",
    )
    return code


def authorization_refusal_record(
    *, by: Actor, client: ApiClient | None, what: str, person: Person | None = None
) -> None:
    """An app's authorisation refused (by the person, or for a bad request), recorded."""
    name = client.name if client is not None else "unknown app"
    audit(
        by=by,
        action=AuditEvent.Action.DENIED,
        person=person,
        what=f"SMART app {name} not authorised: {what}",
        why=f"API client: {name}",
    )


def token_refusal_record(*, client_id: str, address: str, problem: TokenError) -> None:
    """Audit a refusal, and count it towards slowing down its sender (`token_throttle`); a
    refusal for coming too often is audited but not counted, so waiting is enough to be let in."""
    audit(
        by=AnonymousUser(),
        action=AuditEvent.Action.DENIED,
        person=None,
        what=f"FHIR token refused ({problem.error}) for client {client_id[:64]!r}: "
        f"{problem.description}",
    )
    if problem.retry_after is None:
        now = timezone.now()
        TokenRefusal.objects.filter(
            address_hash=address, at__lt=now - TOKEN_REFUSAL_WINDOW
        ).delete()
        TokenRefusal.objects.create(client_id=client_id[:64], address_hash=address, at=now)


def token_throttle(*, client_id: str, address: str) -> None:
    """Refuse (429, before any secret is checked) a request from an address that has been
    refused too often lately: for this client, or for any. Counting one client's refusals per
    address means nobody can lock a client out by sending its id with wrong secrets from
    elsewhere."""
    now = timezone.now()
    # The address's latest refusals, as many as its own limit: when it has fewer, these are
    # all of them, so the client's are all among them too.
    recent = list(
        TokenRefusal.objects.filter(address_hash=address, at__gte=now - TOKEN_REFUSAL_WINDOW)
        .order_by("-at")
        .values_list("client_id", "at")[:TOKEN_REFUSALS_PER_ADDRESS]
    )
    for times, limit in (
        ([at for client, at in recent if client == client_id[:64]], TOKEN_REFUSALS_PER_CLIENT),
        ([at for _, at in recent], TOKEN_REFUSALS_PER_ADDRESS),
    ):
        if len(times) >= limit:
            until = times[limit - 1] + TOKEN_REFUSAL_WINDOW
            wait = max(1, int((until - now).total_seconds()) + 1)
            raise TokenError(
                "temporarily_unavailable",
                f"Too many refused requests from this address: try again in {wait} seconds",
                429,
                retry_after=wait,
            )


@transaction.atomic
def _family_revoke(
    family: uuid.UUID, *, by: AbstractBaseUser, client: ApiClient, what: str
) -> None:
    """Revoke every token descending from one approval (a code or refresh token was replayed, so
    one of them may be in an attacker's hands); flagged for the privacy officer's review."""
    _tokens_revoke(family)
    audit(
        by=by,
        action=AuditEvent.Action.DENIED,
        person=None,
        what=f"SMART app {client.name}: {what}; every token from this approval revoked",
        why=f"API client: {client.name}",
        flagged_for_review=True,
    )


def _tokens_revoke(family: uuid.UUID) -> None:
    now = timezone.now()
    RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=now)
    AccessToken.objects.filter(family=family, expires_at__gt=now).update(expires_at=now)


def _refresh_until(requested: Requested, approved_at: dt.datetime) -> dt.datetime | None:
    lifetimes = [REFRESH_LIFETIMES[word] for word in requested.launch if word in REFRESH_LIFETIMES]
    return approved_at + max(lifetimes) if lifetimes else None


def _acting_staff_problem(staff: Staff) -> TokenError | None:
    if staff.user.is_active:
        return None
    return TokenError("invalid_grant", "The person who approved this app can no longer sign in")


def code_exchange(*, client: ApiClient, code: str, redirect_uri: str, code_verifier: str) -> Issued:
    """The authorization code grant (RFC 6749 4.1.3, RFC 7636 4.6). The code row is locked, so
    racing requests take turns; it is spent by the first attempt, right or wrong, and a second use
    revokes what the first one got."""
    with transaction.atomic():
        found = (
            AuthorizationCode.objects.select_for_update(of=("self",))
            .select_related("staff__user", "patient")
            .filter(digest=_digest(code), client=client)
            .first()
        )
        if found is None:
            raise TokenError("invalid_grant", "Unknown authorization code")
        outcome = _code_spend(found, client, redirect_uri, code_verifier)
    if isinstance(outcome, TokenError):
        raise outcome
    return outcome


def _code_spend(
    found: AuthorizationCode, client: ApiClient, redirect_uri: str, code_verifier: str
) -> Issued | TokenError:
    """Inside the lock: spend the code and issue its tokens, or say why not. A refusal is returned
    rather than raised, so that the spending (or the revocation) is committed with it."""
    if found.used_at is not None:
        _family_revoke(
            found.family, by=found.staff.user, client=client, what="authorization code used twice"
        )
        return TokenError("invalid_grant", "The authorization code has already been used")
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    if found.expires_at <= found.used_at:
        return TokenError("invalid_grant", "The authorization code has expired; start again")
    if redirect_uri != found.redirect_uri:
        return TokenError("invalid_grant", "redirect_uri differs from the authorization request")
    if not pkce_matches(code_verifier, found.code_challenge):
        return TokenError("invalid_grant", "code_verifier does not match the code_challenge")
    problem = _acting_staff_problem(found.staff)
    if problem is not None:
        return problem
    return _issue(
        client=client,
        staff=found.staff,
        scope=found.scope,
        patient=found.patient,
        family=found.family,
        grant_type="authorization_code",
        refresh_until=_refresh_until(parse_requested(found.scope), found.issued_at),
    )


def refresh_exchange(*, client: ApiClient, refresh_token: str, scope: str) -> Issued:
    """The refresh token grant (RFC 6749 section 6) with rotation: each refresh token works once
    (its row locked, as for codes); the new one keeps the family's expiry; a replayed one revokes
    the whole family."""
    with transaction.atomic():
        found = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("staff__user", "patient")
            .filter(digest=_digest(refresh_token), client=client)
            .first()
        )
        if found is None:
            raise TokenError("invalid_grant", "Unknown refresh token")
        outcome = _refresh_spend(found, client, scope)
    if isinstance(outcome, TokenError):
        raise outcome
    return outcome


def _refresh_spend(found: RefreshToken, client: ApiClient, scope: str) -> Issued | TokenError:
    """Inside the lock: spend the refresh token and issue the next ones, or say why not."""
    if found.revoked_at is not None:
        return TokenError("invalid_grant", "The refresh token has been revoked")
    if found.used_at is not None:
        _family_revoke(
            found.family, by=found.staff.user, client=client, what="refresh token used twice"
        )
        return TokenError("invalid_grant", "The refresh token has already been used")
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    if found.expires_at <= found.used_at:
        return TokenError("invalid_grant", "The refresh token has expired; ask the person again")
    problem = _acting_staff_problem(found.staff)
    if problem is not None:
        return problem
    granted = parse_requested(found.scope)
    try:
        requested = parse_requested(scope) if scope.strip() else granted
    except InvalidScope as invalid:
        return TokenError("invalid_scope", str(invalid))
    if not within(requested.scopes, granted.scopes) or not set(requested.launch) <= set(
        granted.launch
    ):
        return TokenError("invalid_scope", "A refresh cannot ask for more than was approved")
    if not within(requested.scopes, parse_scopes(client.allowed_scopes)):
        return TokenError("invalid_scope", "The client is no longer allowed some of these scopes")
    return _issue(
        client=client,
        staff=found.staff,
        scope=str(requested),
        patient=found.patient if requested.needs_patient else None,
        family=found.family,
        grant_type="refresh_token",
        refresh_until=found.expires_at if requested.refreshable else None,
    )


@transaction.atomic
def token_revoke(*, client: ApiClient, token: str) -> None:
    """RFC 7009: the app gives up a token. A refresh token, or an access token from a person's
    approval, ends that whole approval; a client credentials token ends alone. Unknown tokens, or
    other clients', are ignored (the answer is the same, so it says nothing)."""
    digest = _digest(token)
    record: AccessToken | RefreshToken | None = (
        RefreshToken.objects.filter(digest=digest, client=client).first()
        or AccessToken.objects.filter(digest=digest, client=client).first()
    )
    if record is None:
        return
    if record.family is not None:
        _tokens_revoke(record.family)
    else:
        AccessToken.objects.filter(pk=record.pk).update(expires_at=timezone.now())
    audit(
        by=(record.staff or client.staff).user,
        action=AuditEvent.Action.UPDATE,
        person=record.patient,
        what=f"FHIR token revoked by {client.name}",
        why=f"API client: {client.name}",
    )


@dataclass(frozen=True)
class Approval:
    """An app a member of staff has allowed that still holds a working token."""

    family: uuid.UUID
    client: ApiClient
    requested: Requested
    patient: Person | None
    approved_at: dt.datetime
    until: dt.datetime


def approvals_live(staff: Staff) -> list[Approval]:
    """The apps this member of staff has allowed whose access or refresh tokens still work,
    newest first, with the last moment any of them could be used."""
    now = timezone.now()
    approvals = []
    codes = (
        AuthorizationCode.objects.filter(staff=staff, used_at__isnull=False)
        .select_related("client", "patient")
        .order_by("-issued_at")
    )
    for code in codes:
        ends = [
            *AccessToken.objects.filter(family=code.family, expires_at__gt=now).values_list(
                "expires_at", flat=True
            ),
            *RefreshToken.objects.filter(
                family=code.family,
                revoked_at__isnull=True,
                used_at__isnull=True,
                expires_at__gt=now,
            ).values_list("expires_at", flat=True),
        ]
        if ends and code.client.active:
            approvals.append(
                Approval(
                    family=code.family,
                    client=code.client,
                    requested=parse_requested(code.scope),
                    patient=code.patient,
                    approved_at=code.issued_at,
                    until=max(ends),
                )
            )
    return approvals


@transaction.atomic
def approval_revoke(*, by: AbstractBaseUser, family: uuid.UUID) -> None:
    """The person withdraws an app's access: every token from that approval stops at once."""
    staff = staff_of(by)
    code = (
        AuthorizationCode.objects.select_related("client", "patient")
        .filter(family=family, staff=staff)
        .first()
    )
    if code is None:
        raise AccessDenied("There is no such app approval of yours")
    _tokens_revoke(family)
    audit(
        by=by,
        action=AuditEvent.Action.UPDATE,
        person=code.patient,
        what=f"SMART app {code.client.name} disconnected: its tokens revoked",
        why=f"API client: {code.client.name}",
    )


def client_credentials(request: HttpRequest) -> tuple[str, str]:
    """The client id and secret, from HTTP Basic authentication or from client_id and
    client_secret (a public client sends client_id alone)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise TokenError("invalid_client", "Unreadable Basic credentials", 401) from None
        return client_id, secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def client_authenticate(client_id: str, secret: str) -> ApiClient:
    """The client these credentials (`client_credentials`) prove; a public client's proof is
    the PKCE verifier, so it sends no secret."""
    client = ApiClient.objects.select_related("staff").filter(client_id=client_id).first()
    if client is None or not client.active:
        raise TokenError("invalid_client", "Unknown client or wrong secret", 401)
    if client.public:
        if secret:
            raise TokenError("invalid_client", "A public client has no secret", 401)
    elif not check_password(secret, client.secret_hash):
        raise TokenError("invalid_client", "Unknown client or wrong secret", 401)
    return client


# The digest is unique, so no ordering; the patient (only `patient/` tokens have one) is fetched
# by its key when there is one, rather than joined for every token. Prepared, as every API request
# runs it (`wholecare.fhir.prepared`).
_TOKEN = PreparedQuery(
    AccessToken.objects.select_related("client__staff__user", "staff__user").filter(
        digest=Slot("digest", AccessToken._meta.get_field("digest")),
        expires_at__gt=Slot("now", AccessToken._meta.get_field("expires_at")),
    )[:1]
)


def grant_for(header: str) -> Grant | None:
    """The grant for an `Authorization: Bearer` header; None for no header; FhirError (401) for
    a token that is unknown, expired or revoked, or whose client or person has been switched off."""
    if not header:
        return None
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise _unauthorised("Send an OAuth2 bearer token: Authorization: Bearer <token>")
    found = _TOKEN.first(digest=_digest(token.strip()), now=timezone.now())
    staff = None if found is None else found.staff or found.client.staff
    if found is None or staff is None or not found.client.active or not staff.user.is_active:
        raise _unauthorised("The access token is unknown or has expired")
    return Grant(
        staff=staff,
        client=found.client,
        scopes=parse_scopes(found.scope),
        patient=found.patient,
    )


def _unauthorised(diagnostics: str) -> FhirError:
    return FhirError(401, [Issue("login", diagnostics)])


def is_public(view: Callable[..., HttpResponseBase]) -> bool:
    return bool(getattr(view, "fhir_public", False))


def public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a FHIR view that needs no token (the CapabilityStatement, the token endpoint)."""
    view.fhir_public = True  # type: ignore[attr-defined]
    return view


class BearerTokenMiddleware:
    """For /fhir/ only: the request's user is the token's member of staff, never a browser
    session, so the API has no ambient credentials (and so no CSRF). Without a token, only public
    FHIR views answer; everything else gets 401 with an OperationOutcome."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        from wholecare.fhir.http import outcome_response

        request.user = AnonymousUser()
        header = request.headers.get("Authorization", "")
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and is_public(match.func) and not _is_bearer(header):
            # The rest of the chain would send an anonymous request to the sign-in page. The token
            # endpoint's own credentials (HTTP Basic) are the view's to check.
            response: HttpResponseBase = match.func(request, *match.args, **match.kwargs)
            return response
        try:
            grant = grant_for(header)
        except FhirError as problem:
            return outcome_response(request, problem)
        if grant is not None:
            request.user = grant.user  # type: ignore[assignment]
            request.fhir_grant = grant  # type: ignore[attr-defined]
            return self.get_response(request)
        return outcome_response(
            request, _unauthorised("Send an OAuth2 bearer token: Authorization: Bearer <token>")
        )


def _is_bearer(header: str) -> bool:
    return header.partition(" ")[0].lower() == "bearer"
