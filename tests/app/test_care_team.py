"""Changing a person's care team from the web (decision 0019): staff caring for the person add
colleagues found in the directory and take them off the team, which gives and takes away their
access at once; access by breaking glass never extends itself this way."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied, can_open_record
from wholecare.directory.disciplines import Discipline
from wholecare.record import selectors, services
from wholecare.record.models import CareTeamMembership

pytestmark = pytest.mark.django_db


def _add(person: Any) -> str:
    return reverse("web:care-team-add", kwargs={"public_id": person.public_id})


def _end(membership: CareTeamMembership) -> str:
    return reverse(
        "web:care-team-end",
        kwargs={"public_id": membership.person.public_id, "membership_id": membership.pk},
    )


def _colleague(first: str, last: str, discipline: str = Discipline.SOCIAL_WORKER) -> Any:
    return factories.StaffFactory(
        discipline=discipline, user__first_name=first, user__last_name=last
    )


def test_a_gp_finds_a_social_worker_and_adds_them_who_can_then_open_the_record(
    person: Any,
) -> None:
    gp, client = on_care_team(Discipline.GP, person)
    amara = _colleague("Amara", "Okafor")
    _colleague("Amara", "Lindqvist", Discipline.ANALYST)
    assert not can_open_record(amara, person)
    summary = client.get(reverse("web:person", kwargs={"public_id": person.public_id}))
    assert _add(person) in summary.content.decode()
    found = client.get(_add(person), {"name": "amara"}).content.decode()
    assert "Amara Okafor" in found
    assert "Lindqvist" not in found, "analysts give no direct care"
    assert "Social worker" in found
    done = client.post(
        _add(person),
        {"name": "amara", "staff": str(amara.pk), "role": " Named social worker "},
        follow=True,
    )
    assert "Amara Okafor has been added to the care team as Named social worker." in (
        done.content.decode()
    )
    membership = person.care_team.get(staff=amara)
    assert (membership.role, membership.start_date) == (
        "Named social worker",
        timezone.localdate(),
    )
    assert can_open_record(amara, person)
    event = AuditEvent.objects.get(what__startswith="care team: Amara Okafor added")
    assert (event.person_id, event.actor_user_id) == (person.pk, gp.user.pk)
    again = client.get(_add(person), {"name": "Okafor"}).content.decode()
    assert "apart from those already on the care team" in again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Okafor", "role": "Key worker"}, "Choose who to add"),
        ({"name": "Okafor", "staff": "999999", "role": "Key worker"}, "Choose someone from"),
        ({"name": "Okafor", "staff": "STAFF"}, "Enter their role in the team"),
        ({"name": "Okafor", "staff": "STAFF", "role": "x" * 61}, "60 characters or fewer"),
        ({"name": "Nobody", "staff": "STAFF", "role": "Key worker"}, "Choose someone from"),
    ],
)
def test_a_bad_choice_says_what_is_wrong_and_adds_nobody(
    person: Any, data: dict[str, str], message: str
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    amara = _colleague("Amara", "Okafor")
    posted = {key: str(amara.pk) if value == "STAFF" else value for key, value in data.items()}
    page = client.post(_add(person), posted)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not person.care_team.filter(staff=amara).exists()


def test_taking_someone_off_the_team_ends_their_access_at_once(person: Any) -> None:
    _, client = on_care_team(Discipline.GP, person)
    nurse = _colleague("Ola", "Nowak", Discipline.DISTRICT_NURSE)
    old = factories.CareTeamMembershipFactory(
        person=person, staff=nurse, start_date=dt.date(2024, 1, 1), role="District nurse"
    )
    page = client.get(_end(old)).content.decode()
    assert "can no longer open" in page
    done = client.post(_end(old), follow=True)
    assert "Ola Nowak has been taken off the care team." in done.content.decode()
    old.refresh_from_db()
    assert old.end_date == timezone.localdate() - dt.timedelta(days=1)
    assert not can_open_record(nurse, person)
    assert AuditEvent.objects.filter(
        what="care team: Ola Nowak (District nurse) taken off the team", person_id=person.pk
    ).exists()
    again = client.post(_end(old), follow=True)
    assert "They are no longer on the care team." in again.content.decode()


def test_someone_added_today_and_taken_off_today_loses_access_too(person: Any) -> None:
    gp, _ = on_care_team(Discipline.GP, person)
    amara = _colleague("Amara", "Okafor")
    added = services.care_team_add(by=gp.user, person=person, staff=amara, role="Key worker")
    services.care_team_end(by=gp.user, membership=added)
    assert not CareTeamMembership.objects.filter(pk=added.pk).exists()
    assert not can_open_record(amara, person)
    assert AuditEvent.objects.filter(what__contains="Amara Okafor").count() == 2


def test_break_glass_cannot_add_anyone_or_take_anyone_off(person: Any) -> None:
    member, _ = on_care_team(Discipline.GP, person)
    membership = person.care_team.get(staff=member)
    intruder = _colleague("Ben", "Hale", Discipline.DISTRICT_NURSE)
    access_services.break_glass_open(
        by=intruder.user, person=person, reason="Out of hours, no handover available"
    )
    client = signed_in(intruder)
    summary = client.get(reverse("web:person", kwargs={"public_id": person.public_id}))
    assert _add(person) not in summary.content.decode()
    refused = client.get(_add(person), {"name": "Hale"})
    assert refused.status_code == 403
    assert "Access by breaking glass cannot change the care team" in refused.content.decode()
    assert client.post(_add(person), {"name": "Hale", "staff": str(intruder.pk)}).status_code == 403
    assert client.post(_end(membership)).status_code == 403
    with pytest.raises(AccessDenied, match="breaking glass"):
        services.care_team_add(by=intruder.user, person=person, staff=intruder, role="Nurse")
    with pytest.raises(AccessDenied, match="breaking glass"):
        services.care_team_end(by=intruder.user, membership=membership)
    assert list(person.care_team.values_list("staff_id", "end_date")) == [(member.pk, None)]


def test_staff_with_a_referral_to_their_service_may_add_themselves(person: Any) -> None:
    therapist = _colleague("Ife", "Adeyemi", Discipline.HIGH_INTENSITY_THERAPIST)
    service = factories.ServiceFactory()
    therapist.services.add(service)
    factories.ReferralFactory(person=person, service=service)
    client = signed_in(therapist)
    client.post(_add(person), {"name": "Adeyemi", "staff": str(therapist.pk), "role": "Therapist"})
    assert person.care_team.filter(staff=therapist, role="Therapist").exists()


def test_the_record_refuses_what_no_care_team_should_hold(person: Any) -> None:
    gp, _ = on_care_team(Discipline.GP, person)
    analyst = _colleague("Ana", "Lyst", Discipline.ANALYST)
    with pytest.raises(ValidationError, match="do not give direct care"):
        services.care_team_add(by=gp.user, person=person, staff=analyst, role="Reviewer")
    with pytest.raises(ValidationError, match="already on the care team"):
        services.care_team_add(by=gp.user, person=person, staff=gp, role="Named GP")
    with pytest.raises(ValidationError):
        services.care_team_add(
            by=gp.user, person=person, staff=_colleague("Amara", "Okafor"), role="   "
        )
    assert person.care_team.count() == 1


def test_without_a_relationship_nothing_is_shown_or_changed(person: Any) -> None:
    member, _ = on_care_team(Discipline.GP, person)
    stranger = _colleague("Sam", "Stone")
    client = signed_in(stranger)
    assert client.get(_add(person), {"name": "Stone"}).status_code == 403
    assert (
        client.post(_add(person), {"name": "Stone", "staff": str(stranger.pk)}).status_code == 403
    )
    assert client.post(_end(person.care_team.get())).status_code == 403
    assert list(person.care_team.values_list("staff_id", flat=True)) == [member.pk]


def test_someone_taken_off_by_a_colleague_meanwhile_is_reported_not_an_error(
    person: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gp, client = on_care_team(Discipline.GP, person)
    nurse = _colleague("Ola", "Nowak", Discipline.DISTRICT_NURSE)
    shown = factories.CareTeamMembershipFactory(
        person=person, staff=nurse, start_date=dt.date(2024, 1, 1)
    )
    services.care_team_end(by=gp.user, membership=shown)
    monkeypatch.setattr(selectors, "membership_for_end", lambda **_: (shown, True))
    page = client.post(_end(shown))
    assert page.status_code == 200
    assert "They are no longer on the care team" in page.content.decode()
