"""The web interface: every URL, walked as someone with no relationship to a person, leaks nothing
of
them; every access that succeeds is audited; security headers, CSRF, throttling and error pages."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from tests import factories
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent, ProxyAccess
from wholecare.directory.disciplines import Discipline
from wholecare.medicines.models import PrescriberRequest
from wholecare.medicines.requests import Kind
from wholecare.record.models import Alert
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db


def _patterns() -> list[URLPattern]:
    resolver = get_resolver()
    found = []
    for entry in [e for e in resolver.url_patterns if getattr(e, "namespace", None) == "web"]:
        for pattern in getattr(entry, "url_patterns", [entry]):
            found.append(pattern)
    return found


def _url(pattern: URLPattern, person, break_glass_pk: int) -> str:
    kwargs = {}
    route = str(pattern.pattern)
    if "<uuid:public_id>" in route:
        kwargs["public_id"] = person.public_id
    if "<int:pk>" in route:
        kwargs["pk"] = break_glass_pk
    if "<int:condition_id>" in route:
        kwargs["condition_id"] = person.conditions.values_list("pk", flat=True).first() or 0
    if "<int:need_id>" in route:
        kwargs["need_id"] = person.social_care_needs.values_list("pk", flat=True).first() or 0
    if "<int:membership_id>" in route:
        kwargs["membership_id"] = person.care_team.values_list("pk", flat=True).first() or 0
    if "<int:entry_id>" in route:
        kwargs["entry_id"] = person.entries.values_list("pk", flat=True).first() or 0
    if "<int:alert_id>" in route:
        kwargs["alert_id"] = person.alerts.values_list("pk", flat=True).first() or 0
    if "<int:referral_id>" in route:
        kwargs["referral_id"] = person.referrals.values_list("pk", flat=True).first() or 0
    if "<int:proxy_id>" in route:
        kwargs["proxy_id"] = person.proxies.values_list("pk", flat=True).get()
    if "<uuid:plan_id>" in route:
        kwargs["plan_id"] = person.care_plans.values_list("public_id", flat=True).get()
    if "<uuid:request_id>" in route:
        kwargs["request_id"] = person.prescriber_requests.values_list("public_id", flat=True).get()
    return reverse(f"web:{pattern.name}", kwargs=kwargs)


@pytest.fixture
def subject():
    person = factories.PersonFactory(
        given_name="Zebedee", family_name="Quartermaine", postcode="TQ9 9ZZ"
    )
    factories.ConditionFactory(person=person, snomed_code="13645005")
    factories.SocialCareNeedFactory(person=person, need_code="carer-support")
    factories.ReferralFactory(person=person, reason="Wound review for the leg ulcer")
    Alert.objects.create(
        person=person, category=Alert.Category.SAFETY, text="Dog", raised_at=timezone.now()
    )
    factories.RecordEntryFactory(person=person, title="Pulmonary rehab letter", text="FEV1 48%")
    plan = factories.CarePlanFactory(person=person, what_matters="Walking the dog on Dartmoor")
    plan.actions.create(position=1, what="Blue badge application", who="Social worker")
    factories.RecordEntryFactory(
        person=person, title="Therapy session", sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY
    )
    asking = factories.RecordEntryFactory(person=person, title="Medicines reconciled")
    PrescriberRequest.objects.create(
        person=person,
        kind=Kind.CORRECTION,
        asked_in=asking,
        asked_by=asking.author,
        asked_at=timezone.now(),
        asked_of=asking.author.organisation,
        medicine="Furosemide 40mg tablets",
        asked="The clinic doubled it on Tuesday",
    )
    ProxyAccess.objects.create(
        person=person,
        proxy=factories.UserFactory(),
        relationship="Son",
        basis=ProxyAccess.Basis.PERSON_AGREED,
        granted_by=factories.StaffFactory(),
        granted_at=timezone.now(),
    )
    return person


def _identifying(person) -> list[str]:
    return [
        person.given_name,
        person.family_name,
        person.family_name.upper(),
        person.nhs_number,
        f"{person.nhs_number[:3]} {person.nhs_number[3:6]} {person.nhs_number[6:]}",
        person.postcode,
        person.date_of_birth.strftime("%-d %B %Y"),
        "Chronic obstructive",
        "Pulmonary rehab letter",
        "FEV1 48%",
        "Therapy session",
        "Wound review for the leg ulcer",
        "Walking the dog on Dartmoor",
        "Blue badge application",
        "Furosemide 40mg tablets",
        "The clinic doubled it on Tuesday",
    ]


@pytest.mark.parametrize(
    "discipline",
    [Discipline.GP, Discipline.SOCIAL_WORKER, Discipline.HOMECARE_WORKER, Discipline.ANALYST],
)
def test_every_url_leaks_nothing_without_a_relationship(client, subject, discipline):
    outsider = factories.StaffFactory(discipline=discipline)
    # Another member of staff broke glass for the same person: their access must not extend to
    # others.
    other = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    access = access_services.break_glass_open(
        by=other.user, person=subject, reason="Out-of-hours visit, no handover"
    )
    client.force_login(outsider.user)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    walked = 0
    for pattern in _patterns():
        if pattern.name in {"sign-out"}:
            continue
        url = _url(pattern, subject, access.pk)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            body = response.content.decode()
            for text in _identifying(subject):
                assert text not in body, f"{method.upper()} {url} shows {text!r}"
            walked += 1
    assert walked >= 2 * 15
    new_events = AuditEvent.objects.exclude(pk__in=before)
    # Nothing was opened; refused attempts on the person are recorded as such.
    assert set(new_events.values_list("action", flat=True)) <= {
        AuditEvent.Action.DENIED,
        AuditEvent.Action.AGGREGATE,
    }


def test_every_successful_person_url_is_audited(client, subject):
    gp = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=subject, staff=gp)
    client.force_login(gp.user)
    for pattern in _patterns():
        if "<uuid:public_id>" not in str(pattern.pattern) or pattern.name == "break-glass":
            continue
        url = _url(pattern, subject, 0)
        count = AuditEvent.objects.filter(person_id=subject.pk).count()
        response = client.get(url)
        if response.status_code == 200:
            assert AuditEvent.objects.filter(person_id=subject.pk).count() == count + 1, url


def test_person_summary_shows_ltc_and_mental_health_side_by_side(client, subject, gp):
    factories.CareTeamMembershipFactory(person=subject, staff=gp)
    factories.ConditionFactory(person=subject, snomed_code="35489007")
    client.force_login(gp.user)
    response = client.get(reverse("web:person", kwargs={"public_id": subject.public_id}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Chronic obstructive lung disease" in body
    assert "Depressive disorder" in body
    assert "Pulmonary rehab letter" in body
    assert "Therapy session" not in body
    assert "1 sensitive entry is withheld" in body


def test_a_person_with_unknown_details_and_an_unclassified_condition_is_shown(client, gp):
    person = factories.PersonFactory(
        nhs_number=None, given_name="", family_name="", date_of_birth=None
    )
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.ConditionFactory(person=person, snomed_code="26322001", display="Bleeding from ear")
    client.force_login(gp.user)
    body = client.get(reverse("web:person", kwargs={"public_id": person.public_id})).content
    text = re.sub(r"\s+", " ", body.decode())
    assert "NHS number not known" in text
    assert "Name not known" in text
    assert "Not known" in text
    other = text.partition("Other conditions")[2]
    assert "Bleeding from ear" in other
    assert "SNOMED CT 26322001 · since Jan 2015" in other
    assert "No long-term conditions recorded." in text
    caseload = client.get(reverse("web:caseload")).content.decode()
    assert "NHS number not known" in caseload


def test_timeline_filters_by_discipline(client, subject, gp):
    factories.CareTeamMembershipFactory(person=subject, staff=gp)
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    factories.RecordEntryFactory(person=subject, author=social_worker, title="Care Act assessment")
    client.force_login(gp.user)
    url = reverse("web:person-timeline", kwargs={"public_id": subject.public_id})
    body = client.get(url, {"discipline": "social-worker"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Care Act assessment" in body
    assert "Pulmonary rehab letter" not in body


def test_search_is_exact_and_audited(client, subject, gp):
    client.force_login(gp.user)
    url = reverse("web:find-person")
    partial = client.post(
        url,
        {
            "family_name": "Quarter",
            "date_of_birth_0": "12",
            "date_of_birth_1": "4",
            "date_of_birth_2": "1958",
        },
    )
    assert "Zebedee" not in partial.content.decode()
    exact = client.post(url, {"nhs_number": subject.nhs_number}).content.decode()
    assert "Zebedee" in exact
    assert "break glass" in exact
    assert f'href="/people/{subject.public_id}/"' not in exact
    assert (
        AuditEvent.objects.filter(person_id=subject.pk, action=AuditEvent.Action.SEARCH).count()
        == 1
    )


def test_search_explains_bad_input(client, gp):
    client.force_login(gp.user)
    body = client.post(reverse("web:find-person"), {"nhs_number": "123"}).content.decode()
    assert "There is a problem" in body
    assert "must be 10 digits long" in body
    body = client.post(reverse("web:find-person"), {"family_name": "Smith"}).content.decode()
    assert "Enter an NHS number, or a family name and a date of birth" in body
    body = client.post(
        reverse("web:find-person"),
        {
            "family_name": "Smith",
            "date_of_birth_0": "31",
            "date_of_birth_1": "2",
            "date_of_birth_2": "1970",
        },
    ).content.decode()
    assert "must be a real date" in body


@pytest.mark.parametrize(
    "name",
    [
        "find-person",
        "entry-new",
        "condition-new",
        "condition-status",
        "need-new",
        "care-team-add",
        "referral-new",
        "referral-close",
        "alert-new",
        "alert-end",
    ],
)
def test_an_empty_form_sent_is_refused_saying_why(client, subject, name):
    """A POST with no fields at all (a client that sends none) is a form with every field
    missing, never a blank form shown again without a word."""
    gp = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=subject, staff=gp)
    client.force_login(gp.user)
    url = next(_url(p, subject, 0) for p in _patterns() if p.name == name)
    body = client.post(url, {}).content.decode()
    assert "There is a problem" in body, url


def test_break_glass_journey_reaches_privacy_officer(client, subject):
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    client.force_login(social_worker.user)
    person_url = reverse("web:person", kwargs={"public_id": subject.public_id})
    refused = client.get(person_url)
    assert refused.status_code == 403
    glass_url = reverse("web:break-glass", kwargs={"public_id": subject.public_id})
    assert "at least 10 characters" in client.post(glass_url, {"reason": "x"}).content.decode()
    response = client.post(glass_url, {"reason": "Urgent home visit after a fall"})
    assert response.status_code == 302
    assert client.get(person_url).status_code == 200

    officer = factories.StaffFactory(discipline=Discipline.PRIVACY_OFFICER)
    client.force_login(officer.user)
    queue = client.get(reverse("web:review-queue")).content.decode()
    assert "Urgent home visit after a fall" in queue


def test_unknown_url_is_a_plain_404(client, gp):
    client.force_login(gp.user)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_signed_out_users_are_sent_to_sign_in(subject):
    response = Client().get(reverse("web:person", kwargs={"public_id": subject.public_id}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:sign-in"))


def test_security_headers(client, gp):
    client.force_login(gp.user)
    response = client.get(reverse("web:caseload"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert not re.search(r"https?://", csp)


def test_csrf_is_enforced(gp, subject):
    factories.CareTeamMembershipFactory(person=subject, staff=gp)
    client = Client(enforce_csrf_checks=True)
    client.force_login(gp.user)
    url = reverse("web:entry-new", kwargs={"public_id": subject.public_id})
    assert client.post(url, {"kind": "note", "title": "x"}).status_code == 403


def test_sign_in_is_throttled_after_repeated_failures(gp):
    client = Client()
    url = reverse("web:sign-in")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "gp", "password": "wrong"})
        assert "Enter a correct username and password" in response.content.decode()
    client.post(url, {"username": "gp", "password": "wrong"})
    locked = client.post(url, {"username": "gp", "password": factories.PASSWORD})
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_works_and_passwords_are_argon2(gp):
    assert gp.user.password.startswith("argon2")
    client = Client()
    response = client.post(
        reverse("web:sign-in"), {"username": "gp", "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def test_idle_sessions_expire():
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_analyst_sees_suppressed_aggregates_only(client, subject):
    analyst = factories.StaffFactory(discipline=Discipline.ANALYST)
    client.force_login(analyst.user)
    body = client.get(reverse("web:aggregates")).content.decode()
    assert "COPD" in body
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">*</td>' in body
    assert subject.family_name not in body
    gp = factories.StaffFactory(discipline=Discipline.GP)
    client.force_login(gp.user)
    assert client.get(reverse("web:aggregates")).status_code == 403
