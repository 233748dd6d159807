"""OAuth2 bearer tokens for the FHIR API (decision 0007): registered clients, the client
credentials grant, and the middleware that turns a token into the member of staff it acts as.

A token acts as its client's member of staff, so the web UI's rules (legitimate relationship,
sensitivity, consent) apply unchanged; its SMART scopes can only narrow them, and a token with
`patient/` scopes is further held to one person.
"""

import base64
import binascii
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.fhir.errors import FhirError, Issue
from wholecare.fhir.models import AccessToken, ApiClient
from wholecare.fhir.scopes import Context, InvalidScope, Permission, Scope, parse_scopes, within
from wholecare.record.models import Person

TOKEN_LIFETIME = dt.timedelta(hours=1)
PREFIX = "/fhir/"


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
        """The one person this access is held to, when only `patient/` scopes allow it."""
        allowing = [s for s in self.scopes if s.allows(resource_type, permission)]
        if allowing and all(s.context is Context.PATIENT for s in allowing):
            return self.patient
        return None


class TokenError(Exception):
    """An OAuth2 token endpoint error (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@transaction.atomic
def client_register(*, name: str, staff: Staff, allowed_scopes: str) -> tuple[ApiClient, str]:
    """Register a client acting as `staff`; returns it with its secret, shown only this once."""
    parse_scopes(allowed_scopes)
    secret = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        client_id=secrets.token_hex(16),
        secret_hash=make_password(secret),
        name=name,
        staff=staff,
        allowed_scopes=allowed_scopes,
        created_at=timezone.now(),
    )
    return client, secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_issue(
    *, client: ApiClient, scope: str, patient: Person | None = None
) -> tuple[str, AccessToken]:
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
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    record = AccessToken.objects.create(
        digest=_digest(token),
        client=client,
        scope=" ".join(str(s) for s in requested),
        patient=patient,
        issued_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    return token, record


def client_authenticate(request: HttpRequest) -> ApiClient:
    """The client named by HTTP Basic authentication or by client_id and client_secret."""
    client_id = request.POST.get("client_id", "")
    secret = request.POST.get("client_secret", "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise TokenError("invalid_client", "Unreadable Basic credentials", 401) from None
    client = ApiClient.objects.select_related("staff").filter(client_id=client_id).first()
    if client is None or not client.active or not check_password(secret, client.secret_hash):
        raise TokenError("invalid_client", "Unknown client or wrong secret", 401)
    return client


def grant_for(header: str) -> Grant | None:
    """The grant for an `Authorization: Bearer` header; None for no header; FhirError (401) for
    a token that is unknown or expired."""
    if not header:
        return None
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise _unauthorised("Send an OAuth2 bearer token: Authorization: Bearer <token>")
    found = (
        AccessToken.objects.select_related("client__staff__user", "patient")
        .filter(digest=_digest(token.strip()), expires_at__gt=timezone.now())
        .first()
    )
    if found is None or not found.client.active:
        raise _unauthorised("The access token is unknown or has expired")
    return Grant(
        staff=found.client.staff,
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
        try:
            grant = grant_for(request.headers.get("Authorization", ""))
        except FhirError as problem:
            return outcome_response(request, problem)
        if grant is not None:
            request.user = grant.user  # type: ignore[assignment]
            request.fhir_grant = grant  # type: ignore[attr-defined]
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and is_public(match.func):
            # The rest of the chain would send an anonymous request to the sign-in page.
            response: HttpResponseBase = match.func(request, *match.args, **match.kwargs)
            return response
        return outcome_response(
            request, _unauthorised("Send an OAuth2 bearer token: Authorization: Bearer <token>")
        )
