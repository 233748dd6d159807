"""Thin views: parse the request, call a selector or service, render. No rules live here."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wholecare.access import permissions
from wholecare.access import selectors as access_selectors
from wholecare.access import services as access_services
from wholecare.access.models import SharingConsent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.fhir import received
from wholecare.medicines import selectors as medicines_selectors
from wholecare.medicines import services as medicines_services
from wholecare.record import aggregates, exports, selectors, services
from wholecare.record.models import CarePlan, CarePlanAction, Condition, Person
from wholecare.record.vocabulary import Sensitivity
from wholecare.web.forms import (
    AlertEndForm,
    AlertForm,
    BreakGlassForm,
    CarePlanEndForm,
    CarePlanForm,
    CareTeamAddForm,
    ConditionForm,
    ConditionStatusForm,
    ContactForm,
    EnteredInErrorForm,
    EntryForm,
    FindPersonForm,
    IdentityForm,
    MedicationReviewForm,
    MedicinesReconciliationForm,
    NeedStatusForm,
    NotesOnlinePauseForm,
    ProxyEndForm,
    ProxyGrantForm,
    ReferralCloseForm,
    ReferralForm,
    RequestAnswerForm,
    RequestWithdrawForm,
    ReviewForm,
    SharingDecisionForm,
    SignInForm,
    SocialCareNeedForm,
    WithholdFromPersonForm,
    posted,
    show_errors,
)
from wholecare.web.types import AuthenticatedHttpRequest

Found = TypeVar("Found")


class SignInView(auth_views.LoginView):
    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


def _no_access(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The same page for a record that does not exist and one the user may not open."""
    access_services.refusal_record(by=request.user, public_id=public_id)
    staff = getattr(request.user, "staff", None)
    may_break_glass = staff is not None and permissions.can_break_glass(staff)
    return render(
        request,
        "record/no_access.html",
        {"public_id": public_id, "may_break_glass": may_break_glass},
        status=403,
    )


@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    staff = getattr(request.user, "staff", None)
    if staff is None:
        if hasattr(request.user, "person"):
            return redirect("web:my-record")
        if access_selectors.people_i_help(by=request.user):
            return redirect("web:people-i-help")
        return render(request, "web/no_role.html", status=403)
    if permissions.can_review_break_glass(staff):
        return redirect("web:review-queue")
    if not permissions.can_break_glass(staff):
        return redirect("web:aggregates")
    return redirect("web:caseload")


@require_GET
def caseload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """`?page=<n>` pages through the people and `?name=<words>` narrows them; the lists of what
    waits on the user (care plans to review, needs to assess, referrals they made) head the first
    page of the whole caseload only."""
    page = request.GET.get("page", "1")
    listed = selectors.caseload(
        by=request.user,
        page=int(page) if page.isdigit() else 1,
        name=request.GET.get("name", ""),
    )
    first = listed.page == 1 and not listed.name
    plans, plans_total = selectors.care_plans_to_review(by=request.user) if first else ([], 0)
    reviews = (
        medicines_selectors.medication_reviews_to_consider(
            by=request.user, per_page=REVIEWS_ON_CASELOAD
        )
        if first
        else None
    )
    follow_ups, follow_ups_total = (
        medicines_selectors.to_follow_up(by=request.user) if first else ([], 0)
    )
    requests, requests_total = (
        medicines_selectors.requests_to_answer(by=request.user) if first else ([], 0)
    )
    return render(
        request,
        "record/caseload.html",
        {
            "caseload": listed,
            "plans_to_review": plans,
            "plans_to_review_total": plans_total,
            "needs": selectors.needs_awaiting_assessment(by=request.user) if first else [],
            "medicines_to_follow_up": follow_ups,
            "medicines_to_follow_up_total": follow_ups_total,
            "prescriber_requests": requests,
            "prescriber_requests_total": requests_total,
            "reviews": reviews,
            "made": selectors.my_referrals(by=request.user) if first else None,
            "my_requests": medicines_selectors.my_requests(by=request.user) if first else None,
            "name_length": selectors.CASELOAD_NAME_LENGTH,
        },
    )


#: How many of the people to consider for a structured medication review the caseload shows;
#: the rest are a page of their own.
REVIEWS_ON_CASELOAD = 10


@require_GET
def medication_reviews(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everyone on the user's caseload to consider for a structured medication review, a page at
    a time (decision 0043)."""
    page = request.GET.get("page", "1")
    found = medicines_selectors.medication_reviews_to_consider(
        by=request.user, page=int(page) if page.isdigit() else 1
    )
    return render(request, "medicines/reviews.html", {"reviews": found})


@require_GET
def referrals_received(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The open referrals to the user's services, those awaiting acceptance first;
    `?service=<id>` narrows them to one service."""
    chosen = request.GET.get("service", "")
    try:
        received = selectors.referrals_received(
            by=request.user, service_id=int(chosen) if chosen else None
        )
    except (ValueError, LookupError):
        return HttpResponseBadRequest(
            f"{chosen!r} is not one of the services you work in: choose one from the list on"
            " the referrals page.",
            content_type="text/plain; charset=utf-8",
        )
    return render(request, "record/referrals_received.html", {"received": received})


@require_http_methods(["GET", "POST"])
def find_person(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Searching is a POST, so NHS numbers and names never appear in URLs, history or server
    logs."""
    form = FindPersonForm(posted(request))
    results = None
    if request.method == "POST" and form.is_valid():
        results = selectors.find_people(
            by=request.user,
            nhs_number_text=form.cleaned_data["nhs_number"],
            family_name=form.cleaned_data["family_name"],
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
    return render(request, "record/find_person.html", {"form": form, "results": results})


@require_GET
def person_summary(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    discipline = request.GET.get("discipline", "")
    if discipline not in set(Discipline):
        discipline = ""
    try:
        summary = selectors.person_summary(
            by=request.user, public_id=public_id, discipline=discipline
        )
    except AccessDenied:
        return _no_access(request, public_id)
    staff = permissions.staff_of(request.user)
    return render(
        request,
        "record/person_summary.html",
        {
            "summary": summary,
            "person": summary.person,
            "discipline": discipline,
            "may_reconcile": medicines_selectors.may_reconcile(staff, summary.relationship),
            "last_reconciled": medicines_selectors.last_reconciled(staff, summary.person),
            "requests_waiting": medicines_selectors.requests_waiting(
                staff, summary.person, summary.relationship
            ),
            "may_review_medicines": medicines_selectors.may_review(staff, summary.relationship),
            "last_medication_review": medicines_selectors.last_review(summary.person),
            **_from_other_systems(staff, summary.person),
        },
    )


def _unless_lists_changed(
    request: AuthenticatedHttpRequest, fingerprint: str, context: dict[str, Any]
) -> QueryDict | None:
    """The posted data to bind a form about the medicines lists with; None (a fresh form, and
    `changed_since_opened` in `context`) when it was posted against lists that have changed."""
    data = posted(request)
    if data is not None and data.get("fingerprint") != fingerprint:
        context["changed_since_opened"] = medicines_services.CHANGED_SINCE_OPENED
        return None
    return data


@require_http_methods(["GET", "POST"])
def medicines_reconcile(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Reconcile the medicines lists other systems sent, with the person (decision 0042). A
    form posted against lists that have changed since is not saved: the page shows the lists
    as they now stand, to be checked again."""
    template = "medicines/reconcile.html"
    try:
        found = medicines_selectors.to_reconcile(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    context: dict[str, Any] = {
        "person": found.person,
        "comparison": found.comparison,
        "last": found.last,
        "waiting": found.waiting,
    }
    if not found.may_reconcile:
        return render(request, template, context, status=403)
    form = MedicinesReconciliationForm(
        _unless_lists_changed(request, found.comparison.fingerprint, context),
        fingerprint=found.comparison.fingerprint,
        medicines=found.comparison.medicines,
        prescribers=found.prescribers,
        online=permissions.notes_read_online_since(found.person) is not None,
    )
    context["reading_proxies"] = permissions.note_reading_proxies(found.person)

    def save(data: dict[str, Any]) -> str:
        medicines_services.reconcile(by=request.user, person=found.person, **data)
        return "The medicines reconciliation has been saved on the timeline."

    return _form_page(request, form, save, template, context)


def _waiting_request(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, request_id: uuid.UUID
) -> medicines_selectors.WaitingRequest | HttpResponse:
    """The request to the prescriber a page answers or withdraws, or the page to show instead
    (`_on_record`)."""
    return _on_record(
        request,
        public_id,
        lambda: medicines_selectors.waiting_request(
            by=request.user, public_id=public_id, request=request_id
        ),
        "No request waits there for you: it has been answered or withdrawn, the note that asked"
        " it was entered in error, or the sharing rule keeps it from you.",
    )


@require_http_methods(["GET", "POST"])
def prescriber_request(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, request_id: uuid.UUID
) -> HttpResponse:
    """Answer a request a reconciliation or a medication review made of the user's organisation
    (decision 0046): done, or not and why."""
    template = "medicines/request.html"
    found = _waiting_request(request, public_id, request_id)
    if isinstance(found, HttpResponse):
        return found
    asked = found.request
    context: dict[str, Any] = {
        "person": found.person,
        "asked": asked,
        "may_withdraw": found.may_withdraw,
    }
    if not found.may_answer:
        return render(request, template, context, status=200 if found.may_withdraw else 403)
    form = RequestAnswerForm(
        posted(request),
        kind=asked.kind_enum,
        online=permissions.notes_read_online_since(found.person) is not None,
    )
    context["reading_proxies"] = permissions.note_reading_proxies(found.person)

    def answer(data: dict[str, Any]) -> str:
        medicines_services.request_answer(by=request.user, request=asked, **data)
        return f"Your answer about {asked.medicine} has been saved on the timeline."

    return _form_page(request, form, answer, template, context)


@require_http_methods(["GET", "POST"])
def prescriber_request_withdraw(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, request_id: uuid.UUID
) -> HttpResponse:
    """Withdraw, unanswered, a request the user made of a prescriber (decision 0046), saying
    why."""
    template = "medicines/request_withdraw.html"
    found = _waiting_request(request, public_id, request_id)
    if isinstance(found, HttpResponse):
        return found
    asked = found.request
    context: dict[str, Any] = {"person": found.person, "asked": asked}
    if not found.may_withdraw:
        return render(request, template, context, status=403)

    def withdraw(data: dict[str, Any]) -> str:
        medicines_services.request_withdraw(by=request.user, request=asked, **data)
        return f"Your request about {asked.medicine} has been withdrawn."

    return _form_page(request, RequestWithdrawForm(posted(request)), withdraw, template, context)


@require_http_methods(["GET", "POST"])
def medication_review(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Record a structured medication review made with the person (decision 0045); a form
    posted against lists that have changed since shows them again, as `medicines_reconcile`."""
    template = "medicines/review.html"
    try:
        found = medicines_selectors.to_review(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    context: dict[str, Any] = {"person": found.person, "found": found}
    if not found.may_review:
        return render(request, template, context, status=403)
    form = MedicationReviewForm(
        _unless_lists_changed(request, found.comparison.fingerprint, context),
        fingerprint=found.comparison.fingerprint,
        medicines=found.taking,
        prescribers=found.prescribers,
        online=permissions.notes_read_online_since(found.person) is not None,
    )
    context["reading_proxies"] = permissions.note_reading_proxies(found.person)

    def save(data: dict[str, Any]) -> str:
        medicines_services.medication_review_record(by=request.user, person=found.person, **data)
        return "The structured medication review has been saved on the timeline."

    return _form_page(request, form, save, template, context)


def _older_than(query: QueryDict) -> selectors.EntryMark | None:
    """The last entry a page of the timeline showed, from its "Show older entries" link (`before`,
    its time, and `before_id`); None for the first page; ValueError for anything else."""
    if "before" not in query and "before_id" not in query:
        return None
    when = parse_datetime(query.get("before", ""))
    if when is None:
        raise ValueError("before is not a date and time")
    return when, int(query.get("before_id", ""))


@require_GET
def person_timeline(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The timeline alone, for htmx: filtered by discipline, or the next page."""
    discipline = request.GET.get("discipline", "")
    if discipline not in set(Discipline):
        discipline = ""
    try:
        before = _older_than(request.GET)
    except ValueError:
        return HttpResponseBadRequest(
            "This link to older entries is not one Wholecare wrote: open the person's record"
            " again and use Show older entries there.",
            content_type="text/plain; charset=utf-8",
        )
    try:
        person, timeline = selectors.timeline(
            by=request.user, public_id=public_id, discipline=discipline, before=before
        )
    except AccessDenied:
        return _no_access(request, public_id)
    if not request.headers.get("HX-Request"):
        template = "record/timeline_page.html"
    elif before:
        template = "record/_timeline_entries.html"
    else:
        template = "record/_timeline.html"
    return render(
        request,
        template,
        {"person": person, "timeline": timeline, "discipline": discipline},
    )


@require_http_methods(["GET", "POST"])
def break_glass(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    staff = getattr(request.user, "staff", None)
    if staff is None or not permissions.can_break_glass(staff):
        raise AccessDenied("Your role cannot break glass")
    form = BreakGlassForm(posted(request))
    if request.method == "POST" and form.is_valid():
        person = Person.objects.filter(public_id=public_id).first()
        if person is None:
            return _no_access(request, public_id)
        try:
            access_services.break_glass_open(
                by=request.user, person=person, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error("reason", error.messages[0])
        else:
            messages.success(
                request,
                "You have broken glass. This access is recorded and will be reviewed by a"
                " privacy officer.",
            )
            return redirect("web:person", public_id=public_id)
    return render(request, "record/break_glass.html", {"form": form, "public_id": public_id})


def _on_record(
    request: AuthenticatedHttpRequest,
    public_id: uuid.UUID,
    find: Callable[[], Found | None],
    gone: str,
) -> Found | HttpResponse:
    """What a page changes on the person's record (`find`, an audited selector), or the page to
    show instead: the refusal when the user may not open the record, or the person summary
    saying `gone` when the record holds no such thing (any more)."""
    try:
        found = find()
    except AccessDenied:
        return _no_access(request, public_id)
    if found is None:
        messages.info(request, gone)
        return redirect("web:person", public_id=public_id)
    return found


def _form_page(
    request: AuthenticatedHttpRequest,
    form: forms.Form,
    act: Callable[[dict[str, Any]], str],
    template: str,
    context: dict[str, Any],
    then: Callable[[], HttpResponse] | None = None,
) -> HttpResponse:
    """A form that changes the person's record: on a valid POST, `act` on its data (a record
    service, returning what to tell the user) and go back to the person summary (or `then`);
    otherwise, or when the service refuses (its refusal or errors then on the form), the page
    again."""
    if request.method == "POST" and form.is_valid():
        try:
            done = act(form.cleaned_data)
        except AccessDenied as refusal:
            form.add_error(None, str(refusal))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, done)
            if then is not None:
                return then()
            return redirect("web:person", public_id=context["person"].public_id)
    return render(request, template, {**context, "form": form})


@require_http_methods(["GET", "POST"])
def entry_new(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        person = selectors.person_header(
            by=request.user, public_id=public_id, what="new entry form"
        )
    except AccessDenied:
        return _no_access(request, public_id)

    def add(data: dict[str, Any]) -> str:
        services.entry_create(by=request.user, person=person, **data)
        return "The entry has been added to the timeline."

    online = permissions.notes_read_online_since(person) is not None
    form = EntryForm(posted(request), online=online)
    context = {"person": person, "reading_proxies": permissions.note_reading_proxies(person)}
    return _form_page(request, form, add, "record/entry_new.html", context)


@require_http_methods(["GET", "POST"])
def condition_new(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Record a condition from Wholecare's value sets; only clinicians who make diagnoses may
    (decision 0017), and anyone else is told so."""
    try:
        person, held = selectors.person_for_new_condition(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    context: dict[str, Any] = {"person": person}
    if not services.may_record_condition(permissions.staff_of(request.user)):
        return render(request, "record/condition_new.html", context, status=403)
    form = ConditionForm(posted(request), held=held)

    def record(data: dict[str, Any]) -> str:
        condition = services.condition_record(by=request.user, person=person, **data)
        return f"{condition.concept.display} has been added to the record."

    return _form_page(request, form, record, "record/condition_new.html", context)


@require_http_methods(["GET", "POST"])
def need_new(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Record a social care need: anyone caring for the person, as awaiting assessment; an
    assessor with its status (decision 0018)."""
    try:
        person, held = selectors.person_for_new_need(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    may_assess = services.may_assess_social_care_needs(permissions.staff_of(request.user))
    form = SocialCareNeedForm(posted(request), held=held, may_assess=may_assess)

    def record(data: dict[str, Any]) -> str:
        need = services.social_care_need_record(by=request.user, person=person, **data)
        return f"{need.need.display} has been recorded as {need.get_status_display().lower()}."

    return _form_page(request, form, record, "record/need_new.html", {"person": person})


@require_http_methods(["GET", "POST"])
def need_status(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, need_id: int
) -> HttpResponse:
    """An assessor records that a need is now assessed, met, or awaiting assessment again."""
    need = _on_record(
        request,
        public_id,
        lambda: selectors.need_for_change(by=request.user, public_id=public_id, need_id=need_id),
        "That social care need is not on the record.",
    )
    if isinstance(need, HttpResponse):
        return need
    context: dict[str, Any] = {"person": need.person, "need": need}
    if not services.may_assess_social_care_needs(permissions.staff_of(request.user)):
        return render(request, "record/need_status.html", context, status=403)
    form = NeedStatusForm(posted(request), initial={"status": need.status})

    def change(data: dict[str, Any]) -> str:
        changed = services.social_care_need_update(
            by=request.user, need=need, status=data["status"]
        )
        status = changed.get_status_display().lower()
        return f"{changed.need.display} is now recorded as {status}."

    return _form_page(request, form, change, "record/need_status.html", context)


@require_http_methods(["GET", "POST"])
def alert_new(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Raise an alert that everyone caring for the person sees first (decision 0023)."""
    try:
        person = selectors.person_header(by=request.user, public_id=public_id, what="alert form")
    except AccessDenied:
        return _no_access(request, public_id)

    def raise_(data: dict[str, Any]) -> str:
        alert = services.alert_raise(by=request.user, person=person, **data)
        return f"The {alert.get_category_display().lower()} alert has been raised."

    form = AlertForm(posted(request))
    return _form_page(request, form, raise_, "record/alert_new.html", {"person": person})


@require_http_methods(["GET", "POST"])
def alert_end(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, alert_id: int
) -> HttpResponse:
    """End an alert that no longer applies, saying why (decision 0023)."""
    found = _on_record(
        request,
        public_id,
        lambda: selectors.alert_to_end(by=request.user, public_id=public_id, alert_id=alert_id),
        "That alert has already ended.",
    )
    if isinstance(found, HttpResponse):
        return found
    alert = found.alert
    context: dict[str, Any] = {"person": alert.person, "alert": alert}
    if not found.endable:
        return render(request, "record/alert_end.html", context, status=403)

    def end(data: dict[str, Any]) -> str:
        ended = services.alert_end(by=request.user, alert=alert, reason=data["reason"])
        return f"The {ended.get_category_display().lower()} alert has been ended."

    form = AlertEndForm(posted(request))
    return _form_page(request, form, end, "record/alert_end.html", context)


@require_http_methods(["GET", "POST"])
def care_team_add(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Find a colleague in the directory by name and put them on the care team (decision 0019):
    the search is a GET, the choice and their role a POST carrying the same search."""
    name = (request.POST if request.method == "POST" else request.GET).get("name", "")[:100]
    try:
        person, candidates, may_change = selectors.care_team_candidates(
            by=request.user, public_id=public_id, name=name
        )
    except AccessDenied:
        return _no_access(request, public_id)
    context: dict[str, Any] = {"person": person, "name": name, "candidates": candidates}
    if not may_change:
        return render(request, "record/care_team_add.html", context, status=403)
    form = CareTeamAddForm(posted(request), candidates=candidates)

    def add(data: dict[str, Any]) -> str:
        added = services.care_team_add(
            by=request.user, person=person, staff=data["staff"], role=data["role"]
        )
        return f"{added.staff.display_name} has been added to the care team as {added.role}."

    return _form_page(request, form, add, "record/care_team_add.html", context)


@require_http_methods(["GET", "POST"])
def care_team_end(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, membership_id: int
) -> HttpResponse:
    """Take someone off the care team, after saying what that means for their access."""
    found = _on_record(
        request,
        public_id,
        lambda: selectors.membership_for_end(
            by=request.user, public_id=public_id, membership_id=membership_id
        ),
        "They are no longer on the care team.",
    )
    if isinstance(found, HttpResponse):
        return found
    membership, may_change = found
    context: dict[str, Any] = {"person": membership.person, "membership": membership}
    if not may_change:
        return render(request, "record/care_team_end.html", context, status=403)

    def end(data: dict[str, Any]) -> str:
        services.care_team_end(by=request.user, membership=membership)
        return f"{membership.staff.display_name} has been taken off the care team."

    confirm = forms.Form(request.POST if request.method == "POST" else None)
    return _form_page(request, confirm, end, "record/care_team_end.html", context)


@require_http_methods(["GET", "POST"])
def care_plan_new(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Write a care plan with the person (decision 0031)."""
    try:
        person, may_write = selectors.person_for_care_plan(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    context: dict[str, Any] = {"person": person}
    if not may_write:
        return render(request, "record/care_plan_form.html", context, status=403)

    def write(data: dict[str, Any]) -> str:
        data.pop("version")
        plan = services.care_plan_write(by=request.user, person=person, **data)
        return f"The care plan has been saved: {plan.title}."

    form = CarePlanForm(
        posted(request), leads=selectors.care_plan_leads(by=request.user, person=person)
    )
    return _form_page(request, form, write, "record/care_plan_form.html", context)


def _plan_to_change(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, plan_id: uuid.UUID, template: str
) -> tuple[CarePlan, dict[str, Any]] | HttpResponse:
    """The care plan in force a page changes or ends, with the page's context; or the page to
    show instead: the refusal, the summary when the plan is no longer in force, or `template`
    saying who may change plans (403)."""
    found = _on_record(
        request,
        public_id,
        lambda: selectors.care_plan_to_change(
            by=request.user, public_id=public_id, plan_id=plan_id
        ),
        "That care plan is no longer in force.",
    )
    if isinstance(found, HttpResponse):
        return found
    context: dict[str, Any] = {"person": found.plan.person, "plan": found.plan}
    if not found.may_write:
        return render(request, template, context, status=403)
    return found.plan, context


@require_http_methods(["GET", "POST"])
def care_plan_change(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, plan_id: uuid.UUID
) -> HttpResponse:
    """Change a care plan in force, as it stood when the form was opened."""
    template = "record/care_plan_form.html"
    found = _plan_to_change(request, public_id, plan_id, template)
    if isinstance(found, HttpResponse):
        return found
    plan, context = found

    def change(data: dict[str, Any]) -> str:
        changed = services.care_plan_write(by=request.user, person=plan.person, plan=plan, **data)
        return f"The care plan has been changed: {changed.title}."

    leads = selectors.care_plan_leads(by=request.user, person=plan.person, plan=plan)
    form = CarePlanForm.for_plan(posted(request), plan, leads)
    return _form_page(request, form, change, template, context)


@require_http_methods(["GET", "POST"])
def care_plan_end(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, plan_id: uuid.UUID
) -> HttpResponse:
    """End a care plan in force: finished or stopped, saying why."""
    template = "record/care_plan_end.html"
    found = _plan_to_change(request, public_id, plan_id, template)
    if isinstance(found, HttpResponse):
        return found
    plan, context = found

    def end(data: dict[str, Any]) -> str:
        ended = services.care_plan_end(by=request.user, plan=plan, **data)
        ending = ended.get_status_display().lower()
        return f"The care plan has been {ending}: {ended.title}."

    form = CarePlanEndForm(posted(request), initial={"version": plan.version})
    return _form_page(request, form, end, template, context)


def _from_other_systems(staff: Staff | None, person: Person) -> dict[str, Any]:
    """The page's `care_plans`, `medicines`, `allergies`, `appointments` and
    `appointments_later`, as `received.from_other_systems` reads them."""
    return dict(vars(received.from_other_systems(staff, person, timezone.localdate())))


@require_GET
def my_record(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _own_record(request, selectors.my_record(by=request.user))


def _own_record(request: AuthenticatedHttpRequest, record: selectors.MyRecord) -> HttpResponse:
    """The person's record as they read it, or as someone acting for them does."""
    context = {
        "record": record,
        "medicines_checked": medicines_selectors.last_checked_for_person(record.person),
        "medicines_reviewed": medicines_selectors.last_reviewed_for_person(record.person),
        "medicines_asked": medicines_selectors.requests_for_person(record.person),
        **_from_other_systems(None, record.person),
    }
    return render(request, "record/my_record.html", context)


@require_GET
def my_notes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The notes and letters the person reads in their own record (decision 0040), a page at a
    time."""
    return _notes_page(request, None)


def _notes_page(request: AuthenticatedHttpRequest, public_id: uuid.UUID | None) -> HttpResponse:
    try:
        before = _older_than(request.GET)
    except ValueError:
        return HttpResponseBadRequest(
            "This link to older notes is not one Wholecare wrote: open the notes and letters"
            " again and use Show older notes there.",
            content_type="text/plain; charset=utf-8",
        )
    notes = selectors.my_notes(by=request.user, before=before, public_id=public_id)
    return render(request, "record/my_notes.html", {"notes": notes})


@require_GET
def people_i_help(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The people whose record the user reads on their behalf (decision 0041)."""
    helped = access_selectors.people_i_help(by=request.user)
    return render(request, "access/people_i_help.html", {"helped": helped})


@require_GET
def proxy_record(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The record of someone the user acts for, as that person reads it (decision 0041)."""
    return _own_record(request, selectors.my_record(by=request.user, public_id=public_id))


@require_GET
def proxy_notes(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The notes and letters of someone the user acts for, when their access includes them."""
    return _notes_page(request, public_id)


@require_POST
def proxy_stop(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The proxy stops acting for the person: their access ends at once."""
    access = permissions.proxy_access(request.user, public_id)
    access_services.proxy_access_end(by=request.user, access=access)
    messages.success(request, f"You no longer read {access.person.full_name}'s record.")
    return redirect("web:people-i-help")


@require_http_methods(["GET", "POST"])
def my_proxies(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who can act for the signed-in person, each of whose access they end with one button."""
    proxies = access_selectors.my_proxies(by=request.user)
    if request.method == "POST":
        chosen = next((p for p in proxies if str(p.pk) == request.POST.get("proxy")), None)
        if chosen is None:
            messages.info(request, "That access has already ended.")
        else:
            access_services.proxy_access_end(by=request.user, access=chosen)
            messages.success(request, f"{chosen.proxy_name} can no longer read your record.")
        return redirect("web:my-proxies")
    return render(request, "access/my_proxies.html", {"proxies": proxies})


@require_http_methods(["GET", "POST"])
def person_proxies(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Who can act for the person; staff caring for them let someone do so (decision 0041)."""
    try:
        found = access_selectors.proxies(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    context: dict[str, Any] = {"person": found.person, "proxies": found}
    if not found.may_change:
        return render(request, "access/proxies.html", context)
    person = found.person

    def grant(data: dict[str, Any]) -> str:
        access = access_services.proxy_access_grant(by=request.user, person=person, **data)
        return f"{access.proxy_name} can now read {person.full_name}'s record online."

    def then() -> HttpResponse:
        return redirect("web:person-proxies", public_id=public_id)

    form = ProxyGrantForm(posted(request))
    return _form_page(request, form, grant, "access/proxies.html", context, then)


@require_http_methods(["GET", "POST"])
def person_proxy_end(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, proxy_id: int
) -> HttpResponse:
    """Staff caring for the person end a proxy's access, saying why."""
    try:
        found = access_selectors.proxies(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    access = next((p for p in found.in_force if p.pk == proxy_id), None)
    if access is None:
        messages.info(request, "That proxy's access has already ended.")
        return redirect("web:person-proxies", public_id=public_id)
    context: dict[str, Any] = {"person": found.person, "access": access}
    if not found.may_change:
        return render(request, "access/proxy_end.html", context, status=403)

    def end(data: dict[str, Any]) -> str:
        access_services.proxy_access_end(by=request.user, access=access, reason=data["reason"])
        return f"{access.proxy_name} can no longer read {found.person.full_name}'s record."

    def then() -> HttpResponse:
        return redirect("web:person-proxies", public_id=public_id)

    return _form_page(
        request, ProxyEndForm(posted(request)), end, "access/proxy_end.html", context, then
    )


@require_GET
def my_care_plans(request: AuthenticatedHttpRequest) -> HttpResponse:
    plans = selectors.my_care_plans(by=request.user)
    return render(
        request,
        "record/my_care_plans.html",
        {"plans": plans, "statuses": CarePlanAction.Status.choices},
    )


@require_POST
def my_care_plan_progress(request: AuthenticatedHttpRequest, plan_id: uuid.UUID) -> HttpResponse:
    """The person records how far the actions of their own plan have got: `action_<n>` gives
    action n's status, `version` the plan's version the page showed."""
    plan = selectors.my_care_plan(by=request.user, plan_id=plan_id)
    if plan is None:
        messages.info(request, "That care plan is no longer in force.")
        return redirect("web:my-care-plans")
    version = request.POST.get("version", "")
    if not version.isdigit():
        return HttpResponseBadRequest(
            "This form is not one Wholecare wrote: open My care plans again and record your"
            " progress there.",
            content_type="text/plain; charset=utf-8",
        )
    statuses = {
        int(key.removeprefix("action_")): request.POST.get(key, "")
        for key in request.POST
        if key.startswith("action_") and key.removeprefix("action_").isdigit()
    }
    try:
        changed = services.care_plan_progress(
            by=request.user, plan=plan, statuses=statuses, version=int(version)
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(
            request,
            "Your progress has been recorded." if changed else "Nothing had changed.",
        )
    return redirect("web:my-care-plans")


#: `?for=` on the referral page: a referral to adult social care for a needs assessment.
NEEDS_ASSESSMENT = "needs-assessment"


@require_http_methods(["GET", "POST"])
def referral_new(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Refer the person to a service, which lets its staff open the record while the referral is
    open; a referral asking for more than routine is put first on their caseload. From the
    summary's warning that nobody will assess their social care needs (`?for=needs-assessment`),
    it starts as a referral to adult social care for that assessment."""
    try:
        person = selectors.person_header(
            by=request.user, public_id=public_id, what="new referral form"
        )
    except AccessDenied:
        return _no_access(request, public_id)
    offered = selectors.services_to_refer_to()
    initial = {}
    if request.GET.get("for") == NEEDS_ASSESSMENT:
        initial = selectors.needs_assessment_referral(person, offered)
    form = ReferralForm(posted(request), offered=offered, initial=initial)

    def refer(data: dict[str, Any]) -> str:
        referral = services.referral_create(
            by=request.user,
            person=person,
            service=data["service"],
            received_date=timezone.localdate(),
            reason=data["reason"].strip(),
            priority=data["priority"],
        )
        return f"{person.full_name} has been referred to {referral.service}{referral.how_soon}."

    return _form_page(request, form, refer, "record/referral_new.html", {"person": person})


def _open_referral(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, referral_id: int, what: str
) -> selectors.OpenReferral | HttpResponse:
    return _on_record(
        request,
        public_id,
        lambda: selectors.open_referral(
            by=request.user, public_id=public_id, referral_id=referral_id, what=what
        ),
        "That referral has been closed.",
    )


def _referral_back(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> tuple[bool, str]:
    """Whether the user came from the referrals received (`?from=referrals`), and the page to go
    back to: that list, or the person summary."""
    if request.GET.get("from") == "referrals":
        return True, reverse("web:referrals-received")
    return False, reverse("web:person", args=[public_id])


@require_POST
def referral_accept(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, referral_id: int
) -> HttpResponse:
    """The service accepts a referral it has triaged (decision 0021), from the referrals
    received or the person summary, and goes back there."""
    found = _open_referral(request, public_id, referral_id, "referral acceptance")
    if isinstance(found, HttpResponse):
        return found
    _, back = _referral_back(request, public_id)
    try:
        accepted = services.referral_accept(by=request.user, referral=found.referral)
    except (AccessDenied, ValidationError) as refusal:
        text = " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
        messages.error(request, text)
    else:
        name = found.referral.person.full_name
        messages.success(request, f"{name}'s referral to {accepted.service} has been accepted.")
    return redirect(back)


@require_http_methods(["GET", "POST"])
def referral_close(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, referral_id: int
) -> HttpResponse:
    """Close an open referral with how it ended, which the referrer is told (decision 0021), then
    go back to the referrals received (`?from=referrals`) or the person summary; staff who lost
    the record with it go to their caseload."""
    found = _open_referral(request, public_id, referral_id, "referral closing form")
    if isinstance(found, HttpResponse):
        return found
    referral = found.referral
    person = referral.person
    from_list, back = _referral_back(request, public_id)
    context: dict[str, Any] = {
        "person": person,
        "referral": referral,
        "back": back,
        "reading_proxies": permissions.note_reading_proxies(person),
    }
    if not found.closings:
        return render(request, "record/referral_close.html", context, status=403)
    form = ReferralCloseForm(
        posted(request),
        closings=found.closings,
        online=permissions.notes_read_online_since(person) is not None,
    )

    def close(data: dict[str, Any]) -> str:
        closed = services.referral_close(by=request.user, referral=referral, **data)
        outcome = closed.get_outcome_display().lower()
        return f"The referral to {closed.service} has been closed: {outcome}."

    def then() -> HttpResponse:
        if permissions.can_open_record(permissions.staff_of(request.user), person):
            return redirect(back)
        messages.info(
            request,
            f"You can no longer open {person.full_name}'s record: it was open to you through"
            " that referral.",
        )
        return redirect("web:referrals-received" if from_list else "web:caseload")

    return _form_page(request, form, close, "record/referral_close.html", context, then)


@require_http_methods(["GET", "POST"])
def condition_status(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, condition_id: int
) -> HttpResponse:
    """Change whether a condition is active, in remission or resolved."""

    def correct(condition: Condition, data: dict[str, Any]) -> str:
        changed = services.condition_update(
            by=request.user,
            condition=condition,
            clinical_status=data["clinical_status"],
            onset_date=condition.onset_date,
        )
        status = changed.get_clinical_status_display().lower()
        return f"{changed.concept.display} is now recorded as {status}."

    return _condition_correction(
        request,
        public_id,
        condition_id,
        form=lambda c: ConditionStatusForm(
            posted(request), initial={"clinical_status": c.clinical_status}
        ),
        correct=correct,
        template="record/condition_status.html",
    )


@require_http_methods(["GET", "POST"])
def condition_entered_in_error(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, condition_id: int
) -> HttpResponse:
    """Mark a condition entered in error, with the reason, after seeing what it is."""

    def correct(condition: Condition, data: dict[str, Any]) -> str:
        services.condition_enter_in_error(
            by=request.user, condition=condition, reason=data["reason"]
        )
        return f"{condition.concept.display} has been marked entered in error."

    return _condition_correction(
        request,
        public_id,
        condition_id,
        form=lambda c: EnteredInErrorForm(posted(request), what="condition"),
        correct=correct,
        template="record/condition_entered_in_error.html",
    )


@require_http_methods(["GET", "POST"])
def entry_entered_in_error(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, entry_id: int
) -> HttpResponse:
    """The author marks a timeline entry entered in error, with the reason, after seeing what
    it is (decision 0024)."""
    entry = _on_record(
        request,
        public_id,
        lambda: selectors.entry_for_correction(
            by=request.user, public_id=public_id, entry_id=entry_id
        ),
        "That entry is not on the record (it may have been marked).",
    )
    if isinstance(entry, HttpResponse):
        return entry
    context: dict[str, Any] = {"person": entry.person, "entry": entry}
    if not services.may_correct_entry(permissions.staff_of(request.user), entry):
        return render(request, "record/entry_entered_in_error.html", context, status=403)

    def mark(data: dict[str, Any]) -> str:
        services.entry_enter_in_error(by=request.user, entry=entry, reason=data["reason"])
        return f"“{entry.title}” has been marked entered in error."

    form = EnteredInErrorForm(posted(request), what="entry")
    return _form_page(request, form, mark, "record/entry_entered_in_error.html", context)


@require_http_methods(["GET", "POST"])
def entry_person_access(
    request: AuthenticatedHttpRequest, public_id: uuid.UUID, entry_id: int
) -> HttpResponse:
    """Withhold a timeline entry from the person's own record, saying on which ground, or let
    them read a withheld one again (decision 0040), after seeing what it is."""
    found = _on_record(
        request,
        public_id,
        lambda: selectors.entry_for_person_access(
            by=request.user, public_id=public_id, entry_id=entry_id
        ),
        "That entry is not on the record (it may have been marked entered in error).",
    )
    if isinstance(found, HttpResponse):
        return found
    entry, caring = found
    staff = permissions.staff_of(request.user)
    context: dict[str, Any] = {
        "person": entry.person,
        "entry": entry,
        "online": permissions.notes_read_online_since(entry.person) is not None,
        "caring": caring,
    }
    template = "record/entry_person_access.html"
    if not caring or (entry.withheld_from_person and not services.may_show_to_person(staff, entry)):
        return render(request, template, context, status=403)
    if entry.withheld_from_person:

        def show(data: dict[str, Any]) -> str:
            services.entry_show_to_person(by=request.user, entry=entry)
            return f"{entry.person.full_name} can now read “{entry.title}” in their record."

        form: forms.Form = forms.Form(posted(request))
        return _form_page(request, form, show, template, context)

    def withhold(data: dict[str, Any]) -> str:
        services.entry_withhold_from_person(by=request.user, entry=entry, reason=data["reason"])
        return f"“{entry.title}” is withheld from {entry.person.full_name}'s own record."

    form = WithholdFromPersonForm(posted(request))
    return _form_page(request, form, withhold, template, context)


@require_http_methods(["GET", "POST"])
def person_notes_online(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Stop showing all the person's notes and letters to them online, saying why, or show them
    again (decision 0040)."""
    try:
        person, relationship = selectors.person_header_and_relationship(
            by=request.user, public_id=public_id, what="notes shown online form"
        )
    except AccessDenied:
        return _no_access(request, public_id)
    staff = permissions.staff_of(request.user)
    caring = services.may_withhold_from_person(relationship)
    paused = person.notes_online_paused_at is not None
    context: dict[str, Any] = {
        "person": person,
        "caring": caring,
        "online": permissions.notes_read_online_since(person) is not None,
    }
    template = "record/notes_online.html"
    if not caring or (paused and not services.may_resume_notes_online(staff, person)):
        return render(request, template, context, status=403)
    if paused:

        def resume(data: dict[str, Any]) -> str:
            services.notes_online_resume(by=request.user, person=person)
            return f"{person.full_name} can read their notes and letters online again."

        form: forms.Form = forms.Form(posted(request))
        return _form_page(request, form, resume, template, context)

    def pause(data: dict[str, Any]) -> str:
        services.notes_online_pause(by=request.user, person=person, reason=data["reason"])
        return f"{person.full_name}'s notes and letters are no longer shown to them online."

    return _form_page(request, NotesOnlinePauseForm(posted(request)), pause, template, context)


def _condition_correction(
    request: AuthenticatedHttpRequest,
    public_id: uuid.UUID,
    condition_id: int,
    *,
    form: Callable[[Condition], forms.Form],
    correct: Callable[[Condition, dict[str, Any]], str],
    template: str,
) -> HttpResponse:
    """A page changing one condition: it shows the condition and, on a valid POST, applies
    `correct` (a record service, returning what to tell the user), whose refusal or errors are
    shown on the form."""
    condition = _on_record(
        request,
        public_id,
        lambda: selectors.condition_for_correction(
            by=request.user, public_id=public_id, condition_id=condition_id
        ),
        "That condition is not on the record (it may have been marked).",
    )
    if isinstance(condition, HttpResponse):
        return condition
    return _form_page(
        request,
        form(condition),
        lambda data: correct(condition, data),
        template,
        {"person": condition.person, "condition": condition},
    )


@require_http_methods(["GET", "POST"])
def person_identity(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Record identity details that were not known (an NHS number allocated to a newborn)."""
    try:
        person = selectors.person_header(
            by=request.user, public_id=public_id, what="identity details form"
        )
    except AccessDenied:
        return _no_access(request, public_id)
    form = IdentityForm(posted(request), person=person)
    if not form.fields:
        messages.info(request, "Every identity detail is known for this person.")
        return redirect("web:person", public_id=public_id)

    def record(data: dict[str, Any]) -> str:
        services.person_record_identity(by=request.user, person=person, **form.known())
        return "The details have been recorded."

    return _form_page(request, form, record, "record/identity.html", {"person": person})


@require_http_methods(["GET", "POST"])
def person_contact(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Change how the person is contacted and what they need to communicate, as they tell us."""
    try:
        person = selectors.person_header(
            by=request.user, public_id=public_id, what="contact details form"
        )
    except AccessDenied:
        return _no_access(request, public_id)

    def change(data: dict[str, Any]) -> str:
        services.person_update_contact(by=request.user, person=person, **data)
        return "Contact details and communication needs saved."

    form = ContactForm.for_person(posted(request), person)
    return _form_page(request, form, change, "record/contact.html", {"person": person})


@require_http_methods(["GET", "POST"])
def my_contact(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in person's own contact details and communication needs, which they change."""
    person = selectors.my_contact_details(by=request.user)

    def change(data: dict[str, Any]) -> str:
        services.own_contact_update(by=request.user, **data)
        return "Saved. Everyone caring for you will see this."

    form = ContactForm.for_person(posted(request), person)
    context = {"person": person, "own": True}
    return _form_page(
        request,
        form,
        change,
        "record/contact.html",
        context,
        then=lambda: redirect("web:my-contact"),
    )


@require_GET
def person_export(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        document = exports.person_record(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="record-{public_id}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def person_audit(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    person, rows = access_selectors.person_audit(by=request.user, public_id=public_id)
    return render(request, "access/person_audit.html", {"person": person, "rows": rows})


@require_GET
def my_audit(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = access_selectors.my_audit(by=request.user)
    return render(request, "access/my_audit.html", {"rows": rows})


@require_GET
def my_record_access(request: AuthenticatedHttpRequest) -> HttpResponse:
    events = access_selectors.who_looked_at_my_record(by=request.user)
    return render(request, "access/my_record_access.html", {"events": events})


@require_http_methods(["GET", "POST"])
def person_sharing(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Who may read the person's sensitive entries; staff caring for them record the person's
    decisions with them (decision 0029)."""
    try:
        shown = access_selectors.sharing(by=request.user, public_id=public_id)
    except AccessDenied:
        return _no_access(request, public_id)
    return _sharing_page(
        request,
        shown,
        [kind.sensitivity for kind in shown.kinds],
        lambda: redirect("web:person-sharing", public_id=public_id),
        own=False,
    )


@require_http_methods(["GET", "POST"])
def my_record_sharing(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who may read the signed-in person's own sensitive entries, and their decisions about
    the kinds they decide themselves (`access.rules.PERSON_DECIDES`)."""
    shown = access_selectors.sharing(by=request.user)
    return _sharing_page(
        request,
        shown,
        [kind.sensitivity for kind in shown.kinds if kind.person_decides],
        lambda: redirect("web:my-record-sharing"),
        own=True,
    )


def _sharing_page(
    request: AuthenticatedHttpRequest,
    shown: access_selectors.Sharing,
    kinds: list[Sensitivity],
    then: Callable[[], HttpResponse],
    *,
    own: bool,
) -> HttpResponse:
    """The sharing page and its form: `own` for the person's own page, else a member of
    staff's."""
    form = SharingDecisionForm(
        posted(request), kinds=kinds, disciplines=access_selectors.DECIDED_FOR
    )

    def record(data: dict[str, Any]) -> str:
        consent = access_services.sharing_consent_record(
            by=request.user,
            person=shown.person,
            sensitivity=Sensitivity(data["sensitivity"]),
            discipline=Discipline(data["discipline"]),
            decision=SharingConsent.Decision(data["decision"]),
        )
        may = "may" if consent.decision == SharingConsent.Decision.PERMIT else "may not"
        kind = Sensitivity(consent.sensitivity)
        return f"Recorded: {Discipline(consent.discipline).label} {may} read {kind.entries}."

    context = {"person": shown.person, "sharing": shown, "own": own}
    return _form_page(request, form, record, "access/sharing.html", context, then=then)


@require_GET
def review_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    accesses = access_selectors.review_queue(by=request.user)
    return render(request, "access/review_queue.html", {"accesses": accesses})


@require_http_methods(["GET", "POST"])
def review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access = access_selectors.break_glass_for_review(by=request.user, pk=pk)
    form = ReviewForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            access_services.break_glass_review(
                by=request.user,
                access=access,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Review recorded.")
            return redirect("web:review-queue")
    return render(request, "access/review.html", {"access": access, "form": form})


@require_GET
def population_figures(request: AuthenticatedHttpRequest) -> HttpResponse:
    total, rows = aggregates.population_figures(by=request.user)
    return render(request, "record/aggregates.html", {"total": total, "rows": rows})


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
