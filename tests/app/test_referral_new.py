"""Referring a person to a service from the person summary: the service's staff can then open
the record, and a referral asking for more than routine comes first on their caseload."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import can_open_record
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service
from wholecare.record.models import Referral

pytestmark = pytest.mark.django_db


def _new(person: Any) -> str:
    return reverse("web:referral-new", kwargs={"public_id": person.public_id})


@pytest.fixture
def home_first() -> Service:
    return factories.ServiceFactory(name="Home First", kind=Service.Kind.RAPID_RESPONSE)


def test_a_nurse_refers_urgently_and_the_service_sees_the_person_first(
    person: Any, home_first: Service
) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    factories.ServiceFactory(name="TT North", kind=Service.Kind.TALKING_THERAPIES)
    factories.ServiceFactory(name="BI team", kind=Service.Kind.ANALYTICS)
    responder = factories.StaffFactory(discipline=Discipline.OCCUPATIONAL_THERAPIST)
    responder.services.add(home_first)
    assert not can_open_record(responder, person)
    summary = client.get(reverse("web:person", kwargs={"public_id": person.public_id}))
    assert _new(person) in summary.content.decode()
    form = client.get(_new(person)).content.decode()
    assert '<optgroup label="Home First rapid response">' in form
    assert "TT North" not in form
    assert "BI team" not in form
    done = client.post(
        _new(person),
        {
            "service": str(home_first.pk),
            "priority": "urgent",
            "reason": " Two falls this week, not coping at home ",
        },
        follow=True,
    )
    assert f"{person.full_name} has been referred to Home First (Urgent)." in done.content.decode()
    referral = person.referrals.get()
    assert (referral.service, referral.priority, referral.referred_by) == (
        home_first,
        "urgent",
        nurse,
    )
    assert (referral.reason, referral.received_date) == (
        "Two falls this week, not coping at home",
        timezone.localdate(),
    )
    assert can_open_record(responder, person)
    assert AuditEvent.objects.filter(
        person_id=person.pk, what="referral to Home First (Urgent)"
    ).exists()
    caseload = signed_in(responder).get(reverse("web:caseload")).content.decode()
    assert "Home First (urgent)" in caseload


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"priority": "routine", "reason": "Falls"}, "Choose the service to refer to"),
        ({"service": "ANALYTICS", "priority": "routine", "reason": "x"}, "Choose a service from"),
        ({"service": "HOME_FIRST", "priority": "routine"}, "Say why you are referring"),
        ({"service": "HOME_FIRST", "priority": "routine", "reason": "x" * 301}, "300 characters"),
        ({"service": "HOME_FIRST", "priority": "soon", "reason": "x"}, "Select a valid choice"),
    ],
)
def test_a_bad_referral_says_what_is_wrong_and_sends_nothing(
    person: Any, home_first: Service, data: dict[str, str], message: str
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    analytics = factories.ServiceFactory(kind=Service.Kind.ANALYTICS)
    ids = {"HOME_FIRST": str(home_first.pk), "ANALYTICS": str(analytics.pk)}
    page = client.post(_new(person), {key: ids.get(value, value) for key, value in data.items()})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not Referral.objects.exists()


def test_a_second_open_referral_to_the_same_service_is_refused_at_the_field(
    person: Any, home_first: Service
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    factories.ReferralFactory(person=person, service=home_first)
    page = client.post(
        _new(person), {"service": str(home_first.pk), "priority": "routine", "reason": "Again"}
    )
    assert "already has an open referral to Home First" in page.content.decode()
    assert person.referrals.count() == 1


def test_in_an_emergency_staff_who_broke_glass_may_refer(person: Any, home_first: Service) -> None:
    out_of_hours = factories.StaffFactory(discipline=Discipline.GP)
    access_services.break_glass_open(
        by=out_of_hours.user, person=person, reason="Out-of-hours visit, deteriorating at home"
    )
    signed_in(out_of_hours).post(
        _new(person), {"service": str(home_first.pk), "priority": "stat", "reason": "Collapse"}
    )
    assert person.referrals.get().priority == "stat"


def test_without_a_relationship_nothing_is_shown_or_sent(person: Any, home_first: Service) -> None:
    client = signed_in(factories.StaffFactory(discipline=Discipline.GP))
    assert client.get(_new(person)).status_code == 403
    posted = {"service": str(home_first.pk), "priority": "routine", "reason": "x"}
    assert client.post(_new(person), posted).status_code == 403
    assert not Referral.objects.exists()
