"""Thin views for the pathway: parse the request, call one selector or service, render."""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wholecare import measures
from wholecare.access import services as access_services
from wholecare.access.addresses import client_hash
from wholecare.access.permissions import (
    AccessDenied,
    can_break_glass,
    note_reading_proxies,
    notes_read_online_since,
    staff_of,
)
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.fhir import received
from wholecare.record import vocabulary
from wholecare.record.models import Person
from wholecare.record.selectors import person_header
from wholecare.talking_therapies import forms, selectors, services
from wholecare.talking_therapies.engine import ENTERED_TREATMENT, Period
from wholecare.talking_therapies.models import TTReferral
from wholecare.web.forms import posted, show_errors
from wholecare.web.types import AuthenticatedHttpRequest


def _no_access(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The record's own refusal: the same page whether or not the person exists."""
    access_services.refusal_record(by=request.user, public_id=public_id)
    staff = getattr(request.user, "staff", None)
    return render(
        request,
        "record/no_access.html",
        {"public_id": public_id, "may_break_glass": staff is not None and can_break_glass(staff)},
        status=403,
    )


@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    if staff.discipline == Discipline.SERVICE_MANAGER:
        return redirect("talking_therapies:overview")
    if selectors.is_tt_staff(staff):
        return redirect("talking_therapies:caseload")
    return redirect("talking_therapies:case-finding")


# Caseload, overview, case-finding --------------------------------------------------------------


@require_GET
def caseload(request: AuthenticatedHttpRequest) -> HttpResponse:
    found = selectors.caseload(by=request.user)
    template = (
        "talking_therapies/_risks.html"
        if request.headers.get("HX-Request")
        else "talking_therapies/caseload.html"
    )
    return render(
        request,
        template,
        {"caseload": found, "risks": found.risks, "services": selectors.tt_services(found.staff)},
    )


@require_GET
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "talking_therapies/overview.html",
        {"overviews": selectors.manager_overview(by=request.user)},
    )


@require_GET
def case_finding(request: AuthenticatedHttpRequest) -> HttpResponse:
    practice = request.GET.get("practice", "")
    register = request.GET.get("register", "")
    if register not in dict(selectors.LTC_REGISTERS):
        register = ""
    found = selectors.case_finding(
        by=request.user,
        practice_id=int(practice) if practice.isdigit() else None,
        register=register,
    )
    return render(request, "talking_therapies/case_finding.html", {"found": found})


# The person's page and what is done from it ----------------------------------------------------


def _person_page(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, **bound: Any
) -> HttpResponse:
    page = selectors.person_page(by=request.user, public_id=public_id)
    context: dict[str, Any] = {
        "page": page,
        "person": page.person,
        "marker_form": forms.MarkerForm(initial={"observed_on": timezone.localdate().isoformat()}),
        "invite_form": forms.InviteForm(initial={"measures": ["PHQ9", "GAD7"]}),
        "screening_measures": selectors.SCREENING_MEASURES,
        "medicines": received.medicines_of(
            staff_of(request.user), page.person, timezone.localdate()
        ),
        **bound,
    }
    return render(
        request,
        "talking_therapies/person.html",
        context,
        status=400 if bound else 200,
    )


@require_GET
def person(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        return _person_page(request, public_id)
    except AccessDenied:
        return _no_access(request, public_id)


def _referable(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> tuple[Any, Any]:
    page = selectors.person_page(by=request.user, public_id=public_id)
    return page, Service.objects.filter(kind=Service.Kind.TALKING_THERAPIES).select_related(
        "organisation"
    )


@require_http_methods(["GET", "POST"])
def refer(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        page, service_choices = _referable(request, public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    form = forms.ReferForm(
        posted(request),
        services=service_choices,
        conditions=page.long_term_conditions,
        initial={
            "source": services.usual_source(staff_of(request.user)),
            "conditions": page.long_term_conditions,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.tt_referral_create(
                by=request.user, person=page.person, **form.cleaned_data
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request, f"{page.person.full_name} has been referred to {referral.service}."
            )
            return redirect("talking_therapies:person", public_id=public_id)
    return render(request, "talking_therapies/refer.html", {"form": form, "person": page.person})


@require_http_methods(["GET", "POST"])
def referral_start(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, referral_id: int
) -> HttpResponse:
    """Start on the pathway a referral another system sent to the service (decision 0022), then
    open it there."""
    try:
        found = selectors.referral_to_start(
            by=request.user, public_id=public_id, referral_id=referral_id
        )
    except AccessDenied:
        return _no_access(request, public_id)
    if found is None:
        messages.info(request, "That referral has been closed.")
        return redirect("web:person", public_id=public_id)
    referral = found.referral
    context: dict[str, Any] = {"person": referral.person, "referral": referral}
    if not found.startable:
        return render(request, "talking_therapies/referral_start.html", context, status=403)
    form = forms.StartForm(
        posted(request),
        conditions=found.long_term_conditions,
        initial={
            "source": services.usual_source(referral.referred_by),
            "conditions": found.long_term_conditions,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            started = services.referral_start(
                by=request.user, referral=referral, **form.cleaned_data
            )
        except AccessDenied as refusal:
            form.add_error(None, str(refusal))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"{referral.person.full_name}'s referral to {started.service} is on the pathway,"
                " waiting for assessment.",
            )
            return redirect("talking_therapies:referral", public_id=started.public_id)
    return render(
        request,
        "talking_therapies/referral_start.html",
        {**context, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def screen(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A practice nurse records a PHQ-9 and GAD-7 screen, before any referral."""
    try:
        person_ = person_header(by=request.user, public_id=public_id, what="screening form")
    except AccessDenied:
        return _no_access(request, public_id)
    form = forms.ScreenForm(
        posted(request), initial={"measured_on": timezone.localdate().isoformat()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            results = _record_measures(
                request, person_, selectors.SCREENING_MEASURES, form.cleaned_data["measured_on"]
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                "Screen recorded: "
                + ", ".join(
                    f"{s.measure} {s.total:g}" + (" (at caseness)" if s.at_caseness else "")
                    for s in results
                ),
            )
            return redirect("talking_therapies:person", public_id=public_id)
    return render(
        request,
        "talking_therapies/questionnaire_form.html",
        {
            "form": form,
            "person": person_,
            "title": "Screen for anxiety and depression",
            "instruments": _instruments(selectors.SCREENING_MEASURES, request.POST),
            "back": reverse("talking_therapies:person", kwargs={"public_id": public_id}),
            "date_field": form["measured_on"],
        },
        status=400 if request.method == "POST" else 200,
    )


def _instruments(codes_: tuple[str, ...] | list[str], data: Any, prefix: str = "") -> list[Any]:
    return [
        {
            "instrument": measures.instrument(code),
            "items": forms.questionnaire_items(code, data, prefix),
        }
        for code in codes_
    ]


def _record_measures(
    request: AuthenticatedHttpRequest,
    person_: Any,
    codes_: tuple[str, ...] | list[str],
    measured_on: dt.date,
    referral: TTReferral | None = None,
) -> list[Any]:
    """Every questionnaire or none: a refusal of one leaves the others unrecorded."""
    parsed = {}
    problems = []
    for code in codes_:
        answers, wrong = forms.parse_answers(request.POST, code)
        parsed[code] = answers
        problems += wrong
    if problems:
        raise ValidationError({"answers": problems})
    return services.measures_record(
        by=request.user,
        person=person_,
        answers=parsed,
        measured_on=measured_on,
        referral=referral,
    )


@require_POST
def invite(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        page = selectors.person_page(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    form = forms.InviteForm(request.POST)
    if form.is_valid():
        open_referral = next(
            (
                r.referral
                for r in page.referrals
                if r.referral.status != TTReferral.Status.DISCHARGED
                and staff_of(request.user).services.filter(pk=r.referral.service_id).exists()
            ),
            None,
        )
        try:
            new = services.invitation_create(
                by=request.user,
                person=page.person,
                referral=open_referral,
                measures_wanted=form.cleaned_data["measures"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            return render(
                request,
                "talking_therapies/invitation.html",
                {"person": page.person, "new": new, "link": _questionnaire_link(request)},
            )
    return _person_page(request, public_id, invite_form=form)


def _questionnaire_link(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("talking_therapies:public-questionnaire"))


@require_POST
def marker(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        person_ = person_header(by=request.user, public_id=public_id, what="physical marker form")
    except AccessDenied:
        return _no_access(request, public_id)
    form = forms.MarkerForm(request.POST)
    if form.is_valid():
        try:
            services.marker_record(by=request.user, person=person_, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Result recorded.")
            return redirect("talking_therapies:person", public_id=public_id)
    return _person_page(request, public_id, marker_form=form)


# One referral ----------------------------------------------------------------------------------


def _referral(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, **bound: Any
) -> HttpResponse:
    page = selectors.referral_page(by=request.user, public_id=public_id)
    referral = page.referral
    version = {"version": referral.version}
    today = timezone.localdate().isoformat()
    context: dict[str, Any] = {
        "page": page,
        "referral": referral,
        "person": referral.person,
        "more_toxic": _more_toxic(request, referral.person) if page.risks else [],
        "descriptor_form": forms.DescriptorForm(
            initial={**version, "problem_descriptor": referral.problem_descriptor}
        ),
        "conditions_form": forms.ConditionsForm(
            conditions=page.long_term_conditions,
            initial={**version, "conditions": page.conditions},
        ),
        "step_form": forms.StepForm(
            initial={
                **version,
                "step": (page.recommendation.step.value if page.recommendation else ""),
            }
        ),
        "contact_form": forms.ContactForm(
            initial={
                "day": today,
                "time": "10:00",
                "kind": "treatment" if referral.step else "assessment",
                "intensity": "high" if referral.step == "high" else "low",
            }
        ),
        "discharge_form": forms.DischargeForm(initial={**version, "discharge_date": today}),
        "person_online": notes_read_online_since(referral.person) is not None,
        "reading_proxies": note_reading_proxies(referral.person),
        "invite_form": forms.InviteForm(initial={"measures": ["PHQ9", page.anxiety_measures[0]]}),
        "session_measures": list(dict.fromkeys(["PHQ9", "GAD7", "WSAS", *page.anxiety_measures])),
        **bound,
    }
    return render(request, "talking_therapies/referral.html", context, status=400 if bound else 200)


@require_GET
def referral(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _referral(request, public_id)


def _referral_action(
    request: AuthenticatedHttpRequest,
    public_id: uuid.UUID,
    make_form: Callable[[selectors.ReferralPage], Form],
    name: str,
    action: Any,
    done: str,
) -> HttpResponse:
    """A form on the referral's page (`make_form`, from the page as the user sees it): on a
    valid POST, `action` on the referral and back to the page saying `done`; otherwise the page
    with the form and its errors."""
    page = selectors.referral_page(by=request.user, public_id=public_id)
    form = make_form(page)
    if form.is_valid():
        try:
            action(page.referral, form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("talking_therapies:referral", public_id=public_id)
    return _referral(request, public_id, **{name: form})


@require_POST
def referral_descriptor(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _referral_action(
        request,
        public_id,
        lambda _: forms.DescriptorForm(request.POST),
        "descriptor_form",
        lambda r, data: services.problem_descriptor_record(by=request.user, referral=r, **data),
        "Problem descriptor recorded.",
    )


@require_POST
def referral_conditions(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Change the long-term conditions a referral is about: one entered in error replaced by the
    right one, say, so the referral counts as it should in the LTC figures."""
    return _referral_action(
        request,
        public_id,
        lambda page: forms.ConditionsForm(request.POST, conditions=page.long_term_conditions),
        "conditions_form",
        lambda r, data: services.referral_conditions_record(by=request.user, referral=r, **data),
        "Long-term conditions recorded.",
    )


@require_POST
def referral_step(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    def allocate(r: TTReferral, data: dict[str, Any]) -> None:
        clinician = Staff.objects.filter(pk=data["clinician"]).first()
        if clinician is None:
            raise ValidationError({"clinician": "Choose the clinician"})
        services.step_allocate(
            by=request.user,
            referral=r,
            step=data["step"],
            clinician=clinician,
            version=data["version"],
            reason=data["reason"],
        )

    return _referral_action(
        request,
        public_id,
        lambda _: forms.StepForm(request.POST),
        "step_form",
        allocate,
        "Step allocated.",
    )


@require_POST
def referral_contact(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    form = forms.ContactForm(request.POST)

    def record(r: TTReferral, data: dict[str, Any]) -> None:
        services.contact_record(
            by=request.user,
            referral=r,
            starts_at=form.starts_at(),
            **{k: v for k, v in data.items() if k not in {"day", "time"}},
        )

    return _referral_action(
        request, public_id, lambda _: form, "contact_form", record, "Care contact recorded."
    )


@require_POST
def referral_discharge(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _referral_action(
        request,
        public_id,
        lambda _: forms.DischargeForm(request.POST),
        "discharge_form",
        lambda r, data: services.tt_referral_discharge(by=request.user, referral=r, **data),
        "Discharged. A letter to the GP and the long-term condition team is on the timeline.",
    )


@require_POST
def referral_invite(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    page = selectors.referral_page(by=request.user, public_id=public_id)
    form = forms.InviteForm(request.POST)
    if form.is_valid():
        try:
            new = services.invitation_create(
                by=request.user,
                person=page.referral.person,
                referral=page.referral,
                measures_wanted=form.cleaned_data["measures"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            return render(
                request,
                "talking_therapies/invitation.html",
                {"person": page.referral.person, "new": new, "link": _questionnaire_link(request)},
            )
    return _referral(request, public_id, invite_form=form)


@require_http_methods(["GET", "POST"])
def referral_measures(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, code: str
) -> HttpResponse:
    page = selectors.referral_page(by=request.user, public_id=public_id)
    if code not in measures.INSTRUMENT_CODES:
        raise AccessDenied("No such questionnaire")
    form = forms.ScreenForm(
        posted(request), initial={"measured_on": timezone.localdate().isoformat()}
    )
    back = reverse("talking_therapies:referral", kwargs={"public_id": public_id})
    if request.method == "POST" and form.is_valid():
        try:
            results = _record_measures(
                request,
                page.referral.person,
                [code],
                form.cleaned_data["measured_on"],
                page.referral,
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"{code} recorded: {results[0].total:g}.")
            return redirect(back)
    return render(
        request,
        "talking_therapies/questionnaire_form.html",
        {
            "form": form,
            "person": page.referral.person,
            "title": f"Record {measures.instrument(code).name}",
            "instruments": _instruments([code], request.POST),
            "back": back,
            "date_field": form["measured_on"],
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def contact_kind(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_for_change(by=request.user, pk=pk)
    form = forms.ContactKindForm(posted(request), initial={"kind": contact.kind})
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_change_kind(by=request.user, contact=contact, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request, "The kind of contact has been changed and the change recorded."
            )
            return redirect("talking_therapies:referral", public_id=contact.referral.public_id)
    return render(
        request, "talking_therapies/contact_kind.html", {"form": form, "contact": contact}
    )


@require_http_methods(["GET", "POST"])
def _more_toxic(request: AuthenticatedHttpRequest, person: Person) -> list[received.SentMedicine]:
    """The medicines other systems list the person taking that are more toxic in overdose, as
    the user may read them, for whoever reviews a risk of suicide (decision 0044)."""
    staff = staff_of(request.user)
    return received.medicines_of(staff, person, timezone.localdate()).more_toxic_in_overdose


def risk_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.risk_task_for_review(by=request.user, pk=pk)
    form = forms.RiskReviewForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.risk_task_review(by=request.user, task=task, note=form.cleaned_data["note"])
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Risk review recorded.")
            return redirect("talking_therapies:home")
    context = {"form": form, "task": task, "more_toxic": _more_toxic(request, task.person)}
    return render(request, "talking_therapies/risk_review.html", context)


# Self-referral triage --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def self_referral(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    submission = selectors.self_referral_for_triage(by=request.user, pk=pk)
    candidates = services.matching_people(submission)
    error_messages: list[str] = []
    if request.method == "POST":
        chosen = next(
            (p for p in candidates if str(p.public_id) == request.POST.get("person")), None
        )
        try:
            created = services.self_referral_accept(
                by=request.user,
                submission=submission,
                person=chosen,
                nhs_number_text=request.POST.get("nhs_number", ""),
                sex=request.POST.get("sex", "unknown"),
            )
        except ValidationError as error:
            error_messages = error.messages
        else:
            messages.success(request, "Self-referral accepted.")
            return redirect("talking_therapies:referral", public_id=created.public_id)
    return render(
        request,
        "talking_therapies/self_referral_triage.html",
        {"submission": submission, "candidates": candidates, "errors": error_messages},
        status=400 if error_messages else 200,
    )


# Waiting list, dashboard, export ---------------------------------------------------------------


def _service(request: AuthenticatedHttpRequest, pk: int) -> Service:
    return get_object_or_404(Service, pk=pk, kind=Service.Kind.TALKING_THERAPIES)


@require_GET
def waiting_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    step = request.GET.get("step")
    if step is not None and step not in dict(selectors.STEP_FILTERS):
        step = None
    page = request.GET.get("page", "1")
    found = selectors.waiting_list(
        by=request.user,
        service=_service(request, pk),
        step=step,
        page=int(page) if page.isdigit() else 1,
    )
    return render(request, "talking_therapies/waiting_list.html", {"found": found})


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The month asked for (YYYY-MM), else the last 12 months to today."""
    month = request.GET.get("month", "")
    try:
        year, number = (int(part) for part in month.split("-"))
        return Period.month(year, number), month
    except ValueError:
        today = timezone.localdate()
        return Period(today.replace(year=today.year - 1) + dt.timedelta(days=1), today), ""


def _months() -> list[tuple[str, str]]:
    today = timezone.localdate()
    found = []
    year, month = today.year, today.month
    for _ in range(12):
        found.append((f"{year}-{month:02d}", f"{dt.date(year, month, 1):%B %Y}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


COUNTS = (
    ("referrals", "Referrals received"),
    ("first_assessments", "First assessments"),
    (ENTERED_TREATMENT, "Entered treatment (a first treatment session)"),
    ("second_treatments", "Reached a second treatment session"),
    ("ended", "Referrals ended"),
    ("finished", "Finished a course of treatment"),
    ("recovered", "Recovered"),
    ("reliable_improvement", "Reliable improvement"),
    ("reliable_recovery", "Reliable recovery"),
    ("reliable_deterioration", "Reliable deterioration"),
    ("first_assessment_within_28_days", "First assessment within 28 days of referral"),
    ("first_assessment_29_to_56_days", "First assessment in 29 to 56 days"),
    ("first_assessment_57_to_90_days", "First assessment in 57 to 90 days"),
    ("first_assessment_over_90_days", "First assessment after more than 90 days"),
)
RATES = (
    ("recovery", "Recovery rate"),
    ("reliable_improvement", "Reliable improvement rate"),
    ("reliable_recovery", "Reliable recovery rate"),
    ("reliable_deterioration", "Reliable deterioration rate"),
    ("first_treatment_within_6_weeks", "First treatment within 6 weeks"),
    ("first_treatment_within_18_weeks", "First treatment within 18 weeks"),
    ("first_to_second_over_90_days", "First to second treatment over 90 days"),
)
GROUP_COLUMNS = (
    ("counts", "referrals", "Referrals"),
    ("counts", ENTERED_TREATMENT, "Entered treatment"),
    ("counts", "finished", "Finished treatment"),
    ("rates", "recovery", "Recovery"),
    ("rates", "reliable_improvement", "Reliable improvement"),
    ("rates", "reliable_deterioration", "Reliable deterioration"),
    ("rates", "first_treatment_within_6_weeks", "Within 6 weeks"),
)


def _shown(value: object, *, rate: bool) -> str:
    """A figure as published: a rate as a percentage, suppressed figures as *."""
    if value is None or value == "":
        return "\N{EN DASH}"
    if isinstance(value, float) and rate:
        return f"{100 * value:.1f}%"
    if isinstance(value, str) and rate and value != "*":
        return f"{value}%"
    return str(value)


def _group_rows(groups: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (
            name,
            [_shown(figures[part][key], rate=part == "rates") for part, key, _ in GROUP_COLUMNS],
        )
        for name, figures in groups.items()
    ]


@require_GET
def dashboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    period, month = _period(request)
    found = selectors.dashboard(by=request.user, service=_service(request, pk), period=period)
    figures = found.figures
    summary = figures.summary
    overall = figures.overall_counts()
    ethnic = {
        vocabulary.ETHNIC_CATEGORIES.get(k, k): v
        for k, v in figures.grouped("by_ethnic_category").items()
    }
    groups = [
        ("By long-term condition register", figures.by_register),
        ("With and without a long-term condition", figures.grouped("by_ltc")),
        ("By problem descriptor", figures.grouped("by_problem_descriptor_group")),
        ("By ethnic category", ethnic),
        ("By deprivation decile (01 = most deprived)", figures.grouped("by_deprivation_decile")),
    ]
    return render(
        request,
        "talking_therapies/dashboard.html",
        {
            "found": found,
            "counts": [(label, _shown(overall[key], rate=False)) for key, label in COUNTS],
            "rates": [
                (label, _shown(summary["overall"]["rates"][key], rate=True)) for key, label in RATES
            ],
            "columns": [label for _, _, label in GROUP_COLUMNS],
            "groups": [(title, _group_rows(rows)) for title, rows in groups],
            "month": month,
            "months": _months(),
            "may_export": staff_of(request.user).discipline == Discipline.SERVICE_MANAGER,
        },
    )


@require_GET
def export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    period, _ = _period(request)
    service = _service(request, pk)
    content = selectors.dataset_export(by=request.user, service=service, period=period)
    response = HttpResponse(content, content_type="application/zip")
    name = f"talking-therapies-{service.pk}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


# Public pages: no account ----------------------------------------------------------------------


def _public_services() -> Any:
    return Service.objects.filter(kind=Service.Kind.TALKING_THERAPIES).select_related(
        "organisation"
    )


LTC_CHOICES = [
    (c.snomed, c.display)
    for c in vocabulary.CONDITIONS
    if c.group is vocabulary.ConditionGroup.LONG_TERM and not c.secondary
]


@require_http_methods(["GET", "POST"])
def public_self_referral(request: HttpRequest) -> HttpResponse:
    form = forms.SelfReferralForm(
        posted(request), services=_public_services(), conditions=LTC_CHOICES
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.self_referral_submit(
                service=data["service"],
                client=client_hash(request),
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                postcode=data["postcode"],
                nhs_number_text=data["nhs_number"],
                phone=data["phone"],
                email=data["email"],
                long_term_conditions=data["long_term_conditions"],
                what_would_help=data["what_would_help"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            return render(request, "talking_therapies/public_thanks.html", {"crisis": True})
    return render(
        request,
        "talking_therapies/public_self_referral.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def public_questionnaire(request: HttpRequest) -> HttpResponse:
    """Enter the one-time code, then answer; on submission, the crisis contacts."""
    code_form = forms.CodeForm(posted(request))
    if request.method != "POST" or not code_form.is_valid():
        return render(
            request,
            "talking_therapies/public_code.html",
            {"form": code_form},
            status=400 if request.method == "POST" else 200,
        )
    code = code_form.cleaned_data["code"]
    if "answers" not in request.POST:
        try:
            invitation = services.invitation_for_code(code=code, client=client_hash(request))
        except ValidationError as error:
            show_errors(code_form, error)
            return render(
                request, "talking_therapies/public_code.html", {"form": code_form}, status=400
            )
        return render(
            request,
            "talking_therapies/public_questionnaire.html",
            {"code": code, "instruments": _instruments(invitation.measures, {})},
        )
    wanted = [c for c in request.POST.getlist("measures") if c in measures.INSTRUMENT_CODES]
    answers = {}
    problems: list[str] = []
    for measure in wanted:
        answers[measure], wrong = forms.parse_answers(request.POST, measure)
        problems += wrong
    try:
        if problems:
            raise ValidationError(problems)
        services.questionnaire_submit(code=code, client=client_hash(request), answers=answers)
    except ValidationError as error:
        return render(
            request,
            "talking_therapies/public_questionnaire.html",
            {
                "code": code,
                "instruments": _instruments(wanted, request.POST),
                "errors": error.messages,
            },
            status=400,
        )
    return render(request, "talking_therapies/public_thanks.html", {"questionnaire": True})
