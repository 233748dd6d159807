"""Social care needs on the shared record (decision 0018): anyone caring for the person records
a need they notice, as awaiting assessment; social workers and occupational therapists, who
assess needs, record one as assessed or met and change its status. The summary puts the needs
awaiting assessment first, with how long they have waited."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import NO_DIRECT_CARE, SOCIAL_CARE_ASSESSORS, Discipline
from wholecare.record import exports, services, vocabulary
from wholecare.record.models import SocialCareNeed

pytestmark = pytest.mark.django_db


def _new(person: Any) -> str:
    return reverse("web:need-new", kwargs={"public_id": person.public_id})


def _status(need: SocialCareNeed) -> str:
    return reverse(
        "web:need-status", kwargs={"public_id": need.person.public_id, "need_id": need.pk}
    )


def _summary(client: Client, person: Any) -> str:
    return client.get(
        reverse("web:person", kwargs={"public_id": person.public_id})
    ).content.decode()


def test_the_assessors_are_social_workers_and_occupational_therapists() -> None:
    assert {Discipline.SOCIAL_WORKER, Discipline.OCCUPATIONAL_THERAPIST} == SOCIAL_CARE_ASSESSORS


def test_a_district_nurse_records_a_need_they_notice_as_awaiting_assessment(person: Any) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    assert _new(person) in _summary(client, person)
    form = client.get(_new(person)).content.decode()
    assert "Help preparing meals or eating." in form
    assert 'name="status"' not in form
    assert "It is recorded as awaiting assessment" in form
    done = client.post(_new(person), {"need_code": "nutrition", "status": "met"}, follow=True)
    assert "Meal preparation and nutrition has been recorded as awaiting assessment." in (
        done.content.decode()
    )
    need = person.social_care_needs.get()
    assert (need.status, need.recorded_by, need.status_changed_by) == ("awaiting", nurse, nurse)
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, person_id=person.pk)
    assert event.what == "social care need: Meal preparation and nutrition (awaiting assessment)"
    summary = _summary(client, person)
    assert "Awaiting assessment</strong>" in summary
    document = exports.person_record(by=nurse.user, public_id=person.public_id)
    assert document["social_care_needs"] == [
        {
            "code": "nutrition",
            "display": "Meal preparation and nutrition",
            "status": "awaiting",
            "status_since": need.status_changed_at.isoformat(),
        }
    ]
    assert _status(need) not in summary, "only an assessor changes a need's status"


def test_a_social_worker_assesses_a_need_then_records_it_met(person: Any) -> None:
    social_worker, client = on_care_team(Discipline.SOCIAL_WORKER, person)
    noticed = factories.SocialCareNeedFactory(
        person=person, recorded_at=timezone.now() - dt.timedelta(days=30)
    )
    assert _status(noticed) in _summary(client, person)
    page = client.get(_status(noticed)).content.decode()
    assert 'value="awaiting" checked' in page
    client.post(_status(noticed), {"status": "assessed"})
    noticed.refresh_from_db()
    assert (noticed.status, noticed.status_changed_by) == ("assessed", social_worker)
    assert noticed.status_changed_at > noticed.recorded_at
    done = client.post(_status(noticed), {"status": "met"}, follow=True)
    assert "Meal preparation and nutrition is now recorded as met, no longer needed." in (
        done.content.decode()
    )
    updates = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, person_id=person.pk)
    assert [e.what for e in updates.order_by("pk")] == [
        "social care need: Meal preparation and nutrition (assessed, support in place)",
        "social care need: Meal preparation and nutrition (met, no longer needed)",
    ]
    client.post(_new(person), {"need_code": "housing", "status": "assessed"})
    assert person.social_care_needs.get(need_code="housing").status == "assessed"


def test_the_summary_lists_needs_awaiting_assessment_first_the_longest_waiting_at_the_top(
    person: Any,
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    now = timezone.now()
    for code, status, days_ago in [
        ("personal-care", "met", 90),
        ("housing", "awaiting", 3),
        ("finance", "assessed", 60),
        ("isolation", "awaiting", 40),
    ]:
        factories.SocialCareNeedFactory(
            person=person,
            need_code=code,
            status=status,
            recorded_at=now - dt.timedelta(days=days_ago),
        )
    summary = _summary(client, person)
    shown = [summary.index(name) for name in ("Social isolation", "Housing", "Managing money")]
    assert shown == sorted(shown)
    assert summary.index("Managing money") < summary.index("Personal care")
    since = timezone.localtime(now - dt.timedelta(days=40)).strftime("%-d %b %Y")
    assert f"since {since}" in summary


def test_a_need_already_on_the_record_is_not_offered_nor_recorded_twice(person: Any) -> None:
    staff, client = on_care_team(Discipline.SOCIAL_WORKER, person)
    factories.SocialCareNeedFactory(person=person, need_code="housing")
    form = client.get(_new(person)).content.decode()
    assert 'value="housing"' not in form
    again = client.post(_new(person), {"need_code": "housing", "status": "awaiting"})
    assert "one already on the record cannot be recorded again" in again.content.decode()
    with pytest.raises(ValidationError, match="already on the record"):
        services.social_care_need_record(by=staff.user, person=person, need_code="housing")
    assert person.social_care_needs.count() == 1


def test_when_every_need_is_recorded_the_page_says_so(person: Any) -> None:
    _, client = on_care_team(Discipline.HOMECARE_WORKER, person)
    for need in vocabulary.SOCIAL_CARE_NEEDS:
        factories.SocialCareNeedFactory(person=person, need_code=need.code)
    page = client.get(_new(person)).content.decode()
    assert "Every social care need Wholecare lists is already on" in page
    assert "<form" not in page.split("<h1")[1]


@pytest.mark.parametrize(
    ("discipline", "data", "message"),
    [
        (Discipline.SOCIAL_WORKER, {"status": "awaiting"}, "Choose the need"),
        (Discipline.DISTRICT_NURSE, {"need_code": "gardening"}, "Choose a need from the list"),
        (Discipline.SOCIAL_WORKER, {"need_code": "housing"}, "Choose awaiting assessment"),
        (
            Discipline.SOCIAL_WORKER,
            {"need_code": "housing", "status": "resolved"},
            "Select a valid choice",
        ),
    ],
)
def test_a_bad_form_says_what_is_wrong_and_records_nothing(
    person: Any, discipline: str, data: dict[str, str], message: str
) -> None:
    _, client = on_care_team(discipline, person)
    page = client.post(_new(person), data)
    assert page.status_code == 200
    assert "There is a problem" in page.content.decode()
    assert message in page.content.decode()
    assert not person.social_care_needs.exists()


@pytest.mark.parametrize(
    "discipline",
    sorted(d for d in Discipline if d not in SOCIAL_CARE_ASSESSORS and d not in NO_DIRECT_CARE),
)
def test_only_an_assessor_records_a_need_as_assessed_or_met_or_changes_its_status(
    person: Any, discipline: str
) -> None:
    staff, client = on_care_team(discipline, person)
    need = factories.SocialCareNeedFactory(person=person)
    page = client.get(_status(need))
    assert page.status_code == 403
    assert "Only a social worker or an occupational therapist" in page.content.decode()
    assert client.post(_status(need), {"status": "met"}).status_code == 403
    with pytest.raises(AccessDenied, match="can change a need's status"):
        services.social_care_need_update(by=staff.user, need=need, status="met")
    with pytest.raises(AccessDenied, match="can record a need as assessed or met"):
        services.social_care_need_record(
            by=staff.user, person=person, need_code="housing", status="assessed"
        )
    need.refresh_from_db()
    assert need.status == "awaiting"
    assert not person.social_care_needs.filter(need_code="housing").exists()


def test_without_a_relationship_nothing_is_shown_or_recorded(person: Any) -> None:
    stranger = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    need = factories.SocialCareNeedFactory(person=person)
    client = signed_in(stranger)
    assert client.get(_new(person)).status_code == 403
    assert client.post(_new(person), {"need_code": "housing"}).status_code == 403
    assert client.post(_status(need), {"status": "met"}).status_code == 403
    assert list(person.social_care_needs.values_list("need_code", "status")) == [
        ("nutrition", "awaiting")
    ]


def test_an_assessors_caseload_lists_the_needs_awaiting_assessment_longest_first(
    person: Any,
) -> None:
    social_worker, client = on_care_team(Discipline.SOCIAL_WORKER, person)
    service = factories.ServiceFactory()
    social_worker.services.add(service)
    referred = factories.PersonFactory(given_name="Rhiannon", family_name="Pryce")
    factories.ReferralFactory(person=referred, service=service)
    elsewhere = factories.PersonFactory(given_name="Oswin", family_name="Elsewhere")
    now = timezone.now()
    for who, code, status, days_ago in [
        (person, "housing", "awaiting", 40),
        (referred, "carer-support", "awaiting", 10),
        (person, "finance", "met", 90),
        (elsewhere, "isolation", "awaiting", 60),
    ]:
        factories.SocialCareNeedFactory(
            person=who, need_code=code, status=status, recorded_at=now - dt.timedelta(days=days_ago)
        )
    page = client.get(reverse("web:caseload")).content.decode()
    worklist = page.split("Social care needs awaiting assessment</h2>")[1].split("</table>")[0]
    assert worklist.index("Housing") < worklist.index("Carer support")
    assert "Managing money" not in worklist
    assert "Elsewhere" not in page
    assert "Social isolation" not in page
    assert AuditEvent.objects.filter(
        what="social care needs awaiting assessment", person_id=referred.pk
    ).exists()
    _, gp_client = on_care_team(Discipline.GP, person)
    assert "Social care needs awaiting assessment" not in (
        gp_client.get(reverse("web:caseload")).content.decode()
    )


def test_the_summary_warns_when_no_assessor_would_see_a_need_until_one_is_involved(
    person: Any,
) -> None:
    _, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    warning = "Nobody will assess these needs"
    factories.SocialCareNeedFactory(person=person, status="assessed")
    assert warning not in _summary(client, person), "no need awaits assessment"
    factories.SocialCareNeedFactory(person=person, need_code="housing")
    summary = _summary(client, person)
    assert warning in summary
    assert reverse("web:referral-new", kwargs={"public_id": person.public_id}) in summary
    adult_social_care = factories.ServiceFactory(kind="adult-social-care")
    factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER).services.add(adult_social_care)
    referral = factories.ReferralFactory(person=person, service=adult_social_care)
    assert warning not in _summary(client, person), "a referral to their service reaches them"
    referral.status, referral.closed_date, referral.outcome = "closed", dt.date.today(), "declined"
    referral.save()
    assert warning in _summary(client, person)
    on_care_team(Discipline.OCCUPATIONAL_THERAPIST, person)
    assert warning not in _summary(client, person), "an assessor on the care team sees it"


def test_the_warning_starts_a_referral_to_adult_social_care_for_the_needs(person: Any) -> None:
    _, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    factories.SocialCareNeedFactory(
        person=person, need_code="housing", status_changed_at=timezone.now() - dt.timedelta(days=3)
    )
    factories.SocialCareNeedFactory(person=person, need_code="carer-support")
    social_care = factories.ServiceFactory(kind="adult-social-care", name="Adult social care")
    link = reverse("web:referral-new", kwargs={"public_id": person.public_id})
    assert f"{link}?for=needs-assessment" in _summary(client, person)
    form = client.get(link, {"for": "needs-assessment"}).content.decode()
    assert f'<option value="{social_care.pk}" selected>' in form
    housing, carer = (
        vocabulary.SOCIAL_CARE_NEEDS_BY_CODE[c].display for c in ("housing", "carer-support")
    )
    assert f"Care Act needs assessment for: {housing}; {carer}</textarea>" in form
    factories.ServiceFactory(kind="adult-social-care", name="Adult social care, east")
    again = client.get(link, {"for": "needs-assessment"}).content.decode()
    assert " selected>" not in again, "two services: the referrer chooses"
    plain = client.get(link).content.decode()
    assert " selected>" not in plain, "a plain referral starts empty"
    assert "Care Act needs assessment" not in plain
