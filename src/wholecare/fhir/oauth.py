"""SMART App Launch 2 (decision 0012): the discovery document under the FHIR base, the
authorization endpoint (a web page: the member of staff signs in, sees in plain English what the
app asks for, and allows or refuses it), and the token endpoint for every grant.

The authorization endpoint lives at /oauth/authorize, outside /fhir/, because it needs the browser
session and CSRF protection of the web UI, while /fhir/ takes bearer tokens only.
"""

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wholecare.access.addresses import client_hash
from wholecare.access.permissions import people_openable_q, staff_of
from wholecare.directory.models import Staff
from wholecare.fhir.auth import (
    Issued,
    TokenError,
    approval_revoke,
    approvals_live,
    authorization_refusal_record,
    client_authenticate,
    client_credentials,
    code_exchange,
    code_issue,
    pkce_challenge_check,
    public,
    refresh_exchange,
    token_issue,
    token_refusal_record,
    token_revoke,
    token_throttle,
)
from wholecare.fhir.models import ApiClient
from wholecare.fhir.scopes import (
    LAUNCH_SCOPES,
    InvalidScope,
    Requested,
    describe,
    parse_requested,
    parse_scopes,
    within,
)
from wholecare.record.models import Person
from wholecare.web.forms import NHSNumberField, posted
from wholecare.web.types import AuthenticatedHttpRequest

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CAPABILITIES = [
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


@public
@require_http_methods(["GET"])
def smart_configuration(request: HttpRequest) -> JsonResponse:
    """`/fhir/.well-known/smart-configuration` (SMART App Launch 2, section 2.0.7)."""
    base = fhir_base(request)
    return JsonResponse(
        {
            "authorization_endpoint": request.build_absolute_uri(reverse("oauth:authorize")),
            "token_endpoint": f"{base}/token",
            "revocation_endpoint": f"{base}/revoke",
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": [
                "patient/*.rs",
                "patient/*.cruds",
                "user/*.rs",
                "user/*.cruds",
                "system/*.rs",
                "system/*.cruds",
                *LAUNCH_SCOPES,
            ],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": CAPABILITIES,
        }
    )


class NotRedirectable(Exception):
    """A request whose client or redirect URI cannot be trusted: shown to the person, never sent
    to the redirect URI (RFC 6749 4.1.2.1)."""

    def __init__(self, message: str, client: ApiClient | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.client = client


class Redirectable(Exception):
    """An OAuth error for the app, sent to its registered redirect URI with the state."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Return:
    """Where the app is sent back to, once its client and redirect URI are known to be good."""

    client: ApiClient
    redirect_uri: str
    state: str

    def redirect(self, **params: str) -> HttpResponseRedirect:
        parts = urlsplit(self.redirect_uri)
        query = [*parse_qsl(parts.query), *params.items()]
        if self.state:
            query.append(("state", self.state))
        return HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query))))

    def error(self, error: str, description: str) -> HttpResponseRedirect:
        return self.redirect(error=error, error_description=description)


@dataclass(frozen=True)
class Ask:
    """A checked authorization request (RFC 6749 4.1.1 with SMART's aud and RFC 7636's PKCE)."""

    back: Return
    requested: Requested
    code_challenge: str

    @property
    def client(self) -> ApiClient:
        return self.back.client


def return_check(params: QueryDict) -> Return:
    """The client and redirect URI of an authorization request, or NotRedirectable."""
    client = ApiClient.objects.filter(client_id=params.get("client_id", ""), active=True).first()
    if client is None:
        raise NotRedirectable("The app is not registered with Wholecare, or has been switched off")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uri_list:
        raise NotRedirectable(
            "The app asked to return to an address that is not registered for it", client
        )
    return Return(client, redirect_uri, params.get("state", ""))


def ask_check(back: Return, params: QueryDict, base: str) -> Ask:
    """The rest of an authorization request, once `back` is known to be good; Redirectable."""
    client = back.client
    if params.get("response_type") != "code":
        raise Redirectable("unsupported_response_type", "Only response_type=code is supported")
    if not params.get("state"):
        raise Redirectable("invalid_request", "state is required")
    if "launch" in params:
        raise Redirectable("invalid_request", "EHR launch is not supported; use standalone launch")
    if params.get("aud", "").rstrip("/") != base:
        raise Redirectable("invalid_request", f"aud must be this FHIR server's base URL, {base}")
    if params.get("code_challenge_method") != "S256":
        raise Redirectable(
            "invalid_request", "PKCE is required with code_challenge_method=S256 (not plain)"
        )
    try:
        challenge = pkce_challenge_check(params.get("code_challenge", ""))
        requested = parse_requested(params.get("scope", ""))
    except InvalidScope as problem:
        raise Redirectable("invalid_scope", str(problem)) from None
    except ValueError as problem:
        raise Redirectable("invalid_request", str(problem)) from None
    if not within(requested.scopes, parse_scopes(client.allowed_scopes)):
        raise Redirectable("invalid_scope", "The app is not allowed some of these scopes")
    return Ask(back, requested, challenge)


class PatientChoiceForm(forms.Form):
    nhs_number = NHSNumberField(
        error_messages={"required": "Enter the NHS number of the person the app is for"}
    )


def _problem(
    request: HttpRequest, title: str, message: str, status: int, back: str = ""
) -> HttpResponse:
    return render(
        request,
        "oauth/problem.html",
        {"title": title, "message": message, "back": back},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def authorize(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The authorization endpoint. GET shows the consent page; POST (the same URL, so the request
    is checked again) carries the person's decision and, for patient/ scopes, the person chosen."""
    try:
        back = return_check(request.GET)
    except NotRedirectable as problem:
        authorization_refusal_record(by=request.user, client=problem.client, what=problem.message)
        return _problem(request, "This app cannot be connected", problem.message, 400)
    try:
        ask = ask_check(back, request.GET, fhir_base(request))
    except Redirectable as problem:
        authorization_refusal_record(by=request.user, client=back.client, what=problem.description)
        return back.error(problem.error, problem.description)
    staff: Staff | None = getattr(request.user, "staff", None)
    if staff is None:
        what = "only members of staff can connect apps to Wholecare"
        authorization_refusal_record(by=request.user, client=ask.client, what=what)
        denied = back.error("access_denied", "Only members of staff can approve apps")
        return _problem(
            request,
            "Apps cannot be connected to your account",
            f"Only members of staff can connect apps such as {ask.client.name} to Wholecare.",
            403,
            back=denied["Location"],
        )
    form = PatientChoiceForm(posted(request))
    if request.method == "POST":
        if request.POST.get("decision") != "allow":
            authorization_refusal_record(by=request.user, client=ask.client, what="not allowed")
            return back.error("access_denied", "The person did not allow the app")
        patient = None
        if ask.requested.needs_patient and form.is_valid():
            patient = _patient_choose(request, ask, staff, form.cleaned_data["nhs_number"])
            if patient is None:
                form.add_error(
                    "nhs_number",
                    "You can only choose a person whose record you may open: check the NHS number",
                )
        if not ask.requested.needs_patient or patient is not None:
            code = code_issue(
                by=request.user,
                client=ask.client,
                redirect_uri=back.redirect_uri,
                requested=ask.requested,
                code_challenge=ask.code_challenge,
                patient=patient,
            )
            return back.redirect(code=code)
    response = render(
        request,
        "oauth/consent.html",
        {
            "app": ask.client,
            "form": form,
            "needs_patient": ask.requested.needs_patient,
            "meanings": meanings(ask.requested),
        },
    )
    # The decision is answered with a redirect to the app, which CSP's form-action must allow.
    target = urlsplit(back.redirect_uri)
    response._csp_update = {"form-action": [f"{target.scheme}://{target.netloc}"]}  # type: ignore[attr-defined]
    return response


def _patient_choose(
    request: AuthenticatedHttpRequest, ask: Ask, staff: Staff, number: str
) -> Person | None:
    """The person with this NHS number if the member of staff may open their record; a refusal is
    recorded against the person (if there is one), as in the web UI."""
    chosen = Person.objects.filter(Q(nhs_number=number), people_openable_q(staff)).first()
    if chosen is None:
        authorization_refusal_record(
            by=request.user,
            client=ask.client,
            what="patient chosen without a care relationship",
            person=Person.objects.filter(nhs_number=number).first(),
        )
    return chosen


def meanings(requested: Requested) -> list[str]:
    """What an app may do, in plain English: each resource scope, then refresh and its limit."""
    return [describe(scope) for scope in requested.scopes] + [
        LAUNCH_SCOPES[word] for word in requested.launch if word != "launch/patient"
    ]


@require_http_methods(["GET", "POST"])
def apps(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The apps the signed-in member of staff has allowed that can still act for them; POST
    `family` disconnects one."""
    staff = staff_of(request.user)
    if request.method == "POST":
        try:
            family = uuid.UUID(request.POST.get("family", ""))
        except ValueError:
            family = None
        if family is not None:
            approval_revoke(by=request.user, family=family)
            messages.success(request, "The app has been disconnected: it can no longer act for you")
        return redirect("oauth:apps")
    approvals = [(approval, meanings(approval.requested)) for approval in approvals_live(staff)]
    return render(request, "oauth/apps.html", {"approvals": approvals})


@public
@csrf_exempt
def token(request: HttpRequest) -> JsonResponse:
    """The token endpoint: client credentials (RFC 6749 4.4), authorization code with PKCE
    (4.1.3, RFC 7636) and refresh token with rotation (6). Every refusal is audited."""
    client_id = request.POST.get("client_id", "")
    address = client_hash(request)
    try:
        if request.method != "POST":
            raise TokenError("invalid_request", "Use POST")
        client_id, secret = client_credentials(request)
        token_throttle(client_id=client_id, address=address)
        client = client_authenticate(client_id, secret)
        issued = _grant(request, client)
    except TokenError as problem:
        return _refused(client_id, address, problem)
    return JsonResponse(issued.response(), headers=NO_STORE)


def _refused(client_id: str, address: str, problem: TokenError) -> JsonResponse:
    """An RFC 6749 section 5.2 error body, audited and counted (`token_throttle`)."""
    token_refusal_record(client_id=client_id, address=address, problem=problem)
    headers = dict(NO_STORE)
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="fhir"'
    if problem.retry_after is not None:
        headers["Retry-After"] = str(problem.retry_after)
    return JsonResponse(
        {"error": problem.error, "error_description": problem.description},
        status=problem.status,
        headers=headers,
    )


@public
@csrf_exempt
def revoke(request: HttpRequest) -> HttpResponse:
    """Token revocation (RFC 7009): the client authenticates as at the token endpoint; the answer
    is 200 whether or not the token was known."""
    client_id = request.POST.get("client_id", "")
    address = client_hash(request)
    try:
        if request.method != "POST":
            raise TokenError("invalid_request", "Use POST")
        client_id, secret = client_credentials(request)
        token_throttle(client_id=client_id, address=address)
        client = client_authenticate(client_id, secret)
        token_revoke(client=client, token=_required(request, "token"))
    except TokenError as problem:
        return _refused(client_id, address, problem)
    return HttpResponse(status=200, headers=NO_STORE)


def _required(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if not value:
        raise TokenError("invalid_request", f"{name} is required")
    return value


def _grant(request: HttpRequest, client: ApiClient) -> Issued:
    grant_type = request.POST.get("grant_type", "")
    if grant_type == "authorization_code":
        return code_exchange(
            client=client,
            code=_required(request, "code"),
            redirect_uri=_required(request, "redirect_uri"),
            code_verifier=_required(request, "code_verifier"),
        )
    if grant_type == "refresh_token":
        return refresh_exchange(
            client=client,
            refresh_token=_required(request, "refresh_token"),
            scope=request.POST.get("scope", ""),
        )
    if grant_type == "client_credentials":
        if client.public:
            raise TokenError(
                "unauthorized_client", "A public client cannot use the client credentials grant"
            )
        patient = None
        if request.POST.get("patient"):
            patient = _launch_patient(client.staff, request.POST["patient"])
        access_token, record = token_issue(
            client=client, scope=request.POST.get("scope", ""), patient=patient
        )
        return Issued(access_token, record)
    raise TokenError(
        "unsupported_grant_type",
        "grant_type must be authorization_code, refresh_token or client_credentials",
    )


def _launch_patient(staff: Staff, fhir_id: str) -> Person:
    try:
        public_id = uuid.UUID(fhir_id)
    except ValueError:
        raise TokenError("invalid_request", "patient must be a Patient id") from None
    person = Person.objects.filter(Q(public_id=public_id), people_openable_q(staff)).first()
    if person is None:
        raise TokenError("invalid_request", "No such patient that this client may open")
    return person
