"""Closing a referral (decision 0021): the receiving service discharges the person, records that
they declined, or does not accept the referral; the referrer, or the care team, withdraws it. The
referrer and the rest of the record are told how it ended, and the service's access through it
ends."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import signed_in
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied, Relationship, can_open_record
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.record import selectors, services
from wholecare.record.models import RecordEntry, Referral

Outcome = Referral.Outcome
SERVICE = (Outcome.DISCHARGED, Outcome.DECLINED, Outcome.NOT_ACCEPTED)
REFERRER = (Outcome.WITHDRAWN,)
TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("who", "relationship", "pathway", "status", "expected"),
    [
        # The receiving service's staff, however they reach the record: its three endings.
        ("service staff", Relationship.REFERRAL, "", "open", SERVICE),
        ("service staff", Relationship.CARE_TEAM, "", "open", SERVICE + REFERRER),
        # The referrer, and anyone on the care team, may withdraw it.
        ("referrer", Relationship.CARE_TEAM, "", "open", REFERRER),
        ("referrer", Relationship.REFERRAL, "", "open", REFERRER),
        ("care team", Relationship.CARE_TEAM, "", "open", REFERRER),
        (
            "service staff and referrer",
            Relationship.REFERRAL,
            "homecare",
            "open",
            SERVICE + REFERRER,
        ),
        # Staff caring through a referral to another service, or by breaking glass: nothing.
        ("other service", Relationship.REFERRAL, "", "open", ()),
        ("referrer", Relationship.BREAK_GLASS, "", "open", ()),
        ("service staff", Relationship.BREAK_GLASS, "", "open", ()),
        ("referrer", None, "", "open", ()),
        # Talking Therapies closes the referrals on its pathway by discharge on its own pages.
        ("service staff", Relationship.REFERRAL, "talking-therapies", "open", ()),
        ("referrer", Relationship.CARE_TEAM, "talking-therapies", "open", ()),
        # A closed referral closes no further.
        ("service staff", Relationship.REFERRAL, "", "closed", ()),
    ],
)
def test_who_may_close_a_referral_how(
    who: str,
    relationship: Relationship | None,
    pathway: str,
    status: str,
    expected: tuple[Referral.Outcome, ...],
) -> None:
    staff = Staff(pk=1)
    referral = Referral(
        service=Service(pk=10),
        pathway=pathway,
        status=status,
        referred_by_id=1 if "referrer" in who else 2,
    )
    mine = frozenset({10} if "service staff" in who else {11})
    assert services.referral_closings(staff, referral, relationship, mine) == expected


def test_an_accepted_referral_no_longer_ends_as_not_accepted() -> None:
    referral = Referral(service=Service(pk=10), referred_by_id=2, accepted_at=timezone.now())
    closings = services.referral_closings(Staff(pk=1), referral, Relationship.REFERRAL, {10})
    assert closings == (Outcome.DISCHARGED, Outcome.DECLINED)


@pytest.fixture
def referral(db: None) -> Referral:
    gp = factories.StaffFactory(discipline=Discipline.GP)
    person = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    nursing = factories.ServiceFactory(name="District nursing", kind=Service.Kind.DISTRICT_NURSING)
    return services.referral_create(
        by=gp.user,
        person=person,
        service=nursing,
        received_date=timezone.localdate() - dt.timedelta(days=3),
        reason="Leg ulcer dressings at home",
        priority=Referral.Priority.URGENT,
    )


def _nurse(referral: Referral) -> Staff:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    nurse.services.add(referral.service)
    return nurse


def test_a_service_that_cannot_accept_says_why_and_the_referrer_is_told(
    referral: Referral,
) -> None:
    nurse = _nurse(referral)
    with pytest.raises(ValidationError) as missing:
        services.referral_close(by=nurse.user, referral=referral, outcome=Outcome.NOT_ACCEPTED)
    assert missing.value.message_dict == {
        "outcome_note": [services.REASON_NEEDED[Outcome.NOT_ACCEPTED]]
    }
    referral.refresh_from_db()
    assert referral.status == Referral.Status.OPEN
    closed = services.referral_close(
        by=nurse.user,
        referral=referral,
        outcome=Outcome.NOT_ACCEPTED,
        outcome_note="  Walks to the surgery: the practice nurse can dress it there  ",
    )
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.closed_by, referral.closed_date) == (
        Referral.Status.CLOSED,
        Outcome.NOT_ACCEPTED,
        nurse,
        timezone.localdate(),
    )
    assert closed.outcome_note == "Walks to the surgery: the practice nurse can dress it there"
    note = referral.person.entries.get()
    assert (note.kind, note.title, note.author, note.service) == (
        RecordEntry.Kind.NOTE,
        "Referral to District nursing: not accepted by the service",
        nurse,
        referral.service,
    )
    assert referral.referred_by is not None
    assert f"Referred by {referral.referred_by.display_name} on" in note.text
    assert "(Urgent): Leg ulcer dressings at home" in note.text
    assert f"recorded by {nurse.display_name} (District nurse)" in note.text
    assert note.text.endswith("the practice nurse can dress it there")
    assert AuditEvent.objects.filter(
        person_id=referral.person.pk,
        actor_user_id=nurse.user.pk,
        action=AuditEvent.Action.UPDATE,
        what__startswith="referral to District nursing closed on",
    ).exists()
    assert not can_open_record(nurse, referral.person)


def test_the_referrer_withdraws_and_the_sides_keep_to_their_own_endings(
    referral: Referral,
) -> None:
    nurse = _nurse(referral)
    gp = referral.referred_by
    assert gp is not None
    with pytest.raises(AccessDenied, match="Only the referrer, or a member of the care team"):
        services.referral_close(
            by=nurse.user, referral=referral, outcome=Outcome.WITHDRAWN, outcome_note="x"
        )
    with pytest.raises(AccessDenied, match="Only the staff of District nursing can record"):
        services.referral_close(by=gp.user, referral=referral, outcome=Outcome.DISCHARGED)
    with pytest.raises(ValidationError) as missing:
        services.referral_close(by=gp.user, referral=referral, outcome=Outcome.WITHDRAWN)
    assert "Say why the referral is withdrawn" in missing.value.messages
    services.referral_close(
        by=gp.user,
        referral=referral,
        outcome=Outcome.WITHDRAWN,
        outcome_note="Admitted to hospital",
        closed_date=referral.received_date,
    )
    referral.refresh_from_db()
    assert (referral.outcome, referral.closed_date) == (Outcome.WITHDRAWN, referral.received_date)
    with pytest.raises(ValidationError, match="has already been closed"):
        services.referral_close(
            by=gp.user, referral=referral, outcome=Outcome.WITHDRAWN, outcome_note="Again"
        )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"outcome": "finished"}, "outcome", "Outcome 'finished' is not one of"),
        ({"closed_date": TODAY + dt.timedelta(days=400)}, "closed_date", "in the future"),
        ({"closed_date": dt.date(2000, 1, 1)}, "closed_date", "before it was received"),
        ({"outcome_note": "x" * 501}, "outcome_note", "at most 500 characters"),
    ],
)
def test_bad_closings_say_what_is_wrong_and_close_nothing(
    referral: Referral, data: dict[str, Any], field: str, message: str
) -> None:
    nurse = _nurse(referral)
    with pytest.raises(ValidationError) as problem:
        services.referral_close(
            by=nurse.user, referral=referral, **{"outcome": Outcome.DISCHARGED, **data}
        )
    assert message in " ".join(problem.value.message_dict[field])
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.closed_date) == ("open", "", None)
    assert not referral.person.entries.exists()


def test_breaking_glass_closes_no_referral(referral: Referral) -> None:
    colleague = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    colleague.services.add(referral.service)
    out_of_hours = factories.StaffFactory(discipline=Discipline.GP)
    access_services.break_glass_open(
        by=out_of_hours.user, person=referral.person, reason="Out-of-hours visit"
    )
    with pytest.raises(AccessDenied):
        services.referral_close(
            by=out_of_hours.user, referral=referral, outcome=Outcome.WITHDRAWN, outcome_note="x"
        )
    page = signed_in(out_of_hours).get(_close(referral))
    assert page.status_code == 403
    assert "Access by breaking glass closes no referral" in page.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.OPEN


def test_a_talking_therapies_referral_is_closed_on_its_own_pages(db: None) -> None:
    person = factories.PersonFactory()
    therapy = factories.ServiceFactory(kind=Service.Kind.TALKING_THERAPIES)
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    therapist.services.add(therapy)
    referral = factories.ReferralFactory(
        person=person, service=therapy, pathway=Referral.Pathway.TALKING_THERAPIES
    )
    with pytest.raises(AccessDenied, match="discharging the person on the Talking Therapies"):
        services.referral_close(by=therapist.user, referral=referral, outcome=Outcome.DISCHARGED)
    page = signed_in(therapist).get(_close(referral))
    assert page.status_code == 403
    assert reverse("talking_therapies:person", args=[person.public_id]) in page.content.decode()
    # A referral to the service that another system sent, not on the pathway, closes here.
    sent = factories.ReferralFactory(service=therapy, received_date=referral.received_date)
    services.referral_close(
        by=therapist.user, referral=sent, outcome=Outcome.NOT_ACCEPTED, outcome_note="Refer on"
    )
    assert Referral.objects.get(pk=sent.pk).outcome == Outcome.NOT_ACCEPTED


def _close(referral: Referral) -> str:
    return reverse(
        "web:referral-close",
        kwargs={"public_id": referral.person.public_id, "referral_id": referral.pk},
    )


def test_the_service_closes_from_the_summary_and_goes_back_to_its_caseload(
    referral: Referral,
) -> None:
    nurse = _nurse(referral)
    person = referral.person
    client = signed_in(nurse)
    summary = client.get(reverse("web:person", args=[person.public_id])).content.decode()
    assert _close(referral) in summary
    form = client.get(_close(referral)).content.decode()
    assert "Leg ulcer dressings at home" in form
    for label in ("Seen and discharged", "Declined by the person", "Not accepted by the service"):
        assert label in form
    assert "Withdrawn by the referrer" not in form
    refused = client.post(_close(referral), {"outcome": "withdrawn", "outcome_note": "x"})
    assert "Select a valid choice" in refused.content.decode()
    missing = client.post(_close(referral), {"outcome": "not-accepted"})
    assert "Say why the service cannot accept the referral" in missing.content.decode()
    bad_date = client.post(
        _close(referral),
        {
            "outcome": "discharged",
            "closed_date_0": "31",
            "closed_date_1": "2",
            "closed_date_2": "2026",
        },
    )
    assert "The date it closed must be a real date" in bad_date.content.decode()
    done = client.post(
        _close(referral),
        {"outcome": "not-accepted", "outcome_note": "Housebound? No: seen walking to town"},
        follow=True,
    )
    page = done.content.decode()
    assert done.redirect_chain[-1][0] == reverse("web:caseload")
    assert "The referral to District nursing has been closed: not accepted by the service." in page
    assert f"You can no longer open {person.full_name}&#x27;s record" in page
    assert client.get(_close(referral)).status_code == 403

    gp = referral.referred_by
    assert gp is not None
    referrer = signed_in(gp)
    summary = referrer.get(reverse("web:person", args=[person.public_id])).content.decode()
    assert "Recently closed referrals" in summary
    assert "Not accepted by the service" in summary
    assert "seen walking to town" in summary
    caseload = referrer.get(reverse("web:caseload")).content.decode()
    assert "Your referrals that have closed" in caseload
    assert "Not accepted by the service" in caseload
    assert AuditEvent.objects.filter(
        actor_user_id=gp.user.pk, person_id=person.pk, what="referrals I made"
    ).exists()


def test_staff_who_keep_the_record_go_back_to_it(referral: Referral) -> None:
    nurse = _nurse(referral)
    factories.CareTeamMembershipFactory(person=referral.person, staff=nurse)
    done = signed_in(nurse).post(_close(referral), {"outcome": "discharged"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("web:person", args=[referral.person.public_id])
    assert "Seen and discharged" in done.content.decode()


def test_a_closed_referral_page_says_so(referral: Referral) -> None:
    gp = referral.referred_by
    assert gp is not None
    services.referral_close(
        by=gp.user, referral=referral, outcome=Outcome.WITHDRAWN, outcome_note="Moved away"
    )
    done = signed_in(gp).get(_close(referral), follow=True)
    assert "That referral has been closed." in done.content.decode()


def test_a_referral_of_someone_else_is_refused_like_any_record(referral: Referral) -> None:
    stranger = signed_in(factories.StaffFactory(discipline=Discipline.GP))
    page = stranger.post(_close(referral), {"outcome": "discharged"})
    assert page.status_code == 403
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.OPEN


def test_the_caseload_lists_only_my_referrals_closed_lately(db: None) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP)
    recent, old, open_, theirs = (
        factories.ReferralFactory(referred_by=gp, closed=True, closed_date=_days(2)),
        factories.ReferralFactory(referred_by=gp, closed=True, closed_date=_days(31)),
        factories.ReferralFactory(referred_by=gp, accepted_at=timezone.now()),
        factories.ReferralFactory(closed=True, closed_date=timezone.localdate()),
    )
    page = signed_in(gp).get(reverse("web:caseload")).content.decode()
    assert "Your referrals that have closed" in page
    assert recent.person.full_name in page
    for other in (old, open_, theirs):
        assert other.person.full_name not in page


def test_the_referrer_follows_referrals_no_service_has_accepted_yet(db: None) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP)
    routine, urgent, accepted, pathway = (
        factories.ReferralFactory(referred_by=gp, received_date=_days(9)),
        factories.ReferralFactory(referred_by=gp, received_date=_days(1), priority="urgent"),
        factories.ReferralFactory(referred_by=gp, accepted_at=timezone.now()),
        factories.ReferralFactory(referred_by=gp, pathway=Referral.Pathway.TALKING_THERAPIES),
    )
    page = signed_in(gp).get(reverse("web:caseload")).content.decode()
    awaiting = page[page.index("Your referrals awaiting acceptance") :]
    assert awaiting.index(urgent.person.full_name) < awaiting.index(routine.person.full_name)
    assert "waiting 9 days" in awaiting
    assert "waiting 1 day<" in awaiting
    for other in (accepted, pathway):
        assert other.person.full_name not in page


def test_the_referrers_lists_show_the_first_and_say_how_many_there_are(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "MY_REFERRALS_SHOWN", 2)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    awaiting = [
        factories.ReferralFactory(referred_by=gp, received_date=_days(ago)) for ago in (0, 5, 3)
    ]
    closed = [
        factories.ReferralFactory(referred_by=gp, closed=True, closed_date=_days(ago))
        for ago in (4, 1, 2)
    ]
    page = signed_in(gp).get(reverse("web:caseload")).content.decode()
    assert page.count("Showing the first 2 of 3.") == 1
    assert page.count("Showing the latest 2 of 3.") == 1
    assert "sent today" not in page
    for shown in (awaiting[1], awaiting[2], closed[1], closed[2]):
        assert shown.person.full_name in page
    for not_shown in (awaiting[0], closed[0]):
        assert not_shown.person.full_name not in page


def test_a_short_list_says_nothing_of_how_many(db: None) -> None:
    gp = factories.StaffFactory(discipline=Discipline.GP)
    sent = factories.ReferralFactory(referred_by=gp, received_date=timezone.localdate())
    page = signed_in(gp).get(reverse("web:caseload")).content.decode()
    assert sent.person.full_name in page
    assert "sent today" in page
    assert "Showing the" not in page


def _days(ago: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=ago)


def test_the_timeline_note_fits_however_long_the_services_name(referral: Referral) -> None:
    Service.objects.filter(pk=referral.service_id).update(name="Community nursing " * 11)
    referral.refresh_from_db()
    services.referral_close(by=_nurse(referral).user, referral=referral, outcome=Outcome.DECLINED)
    title = referral.person.entries.get().title
    assert len(title) <= 200
    assert title.startswith("Referral to Community nursing")
    assert title.endswith("…: declined by the person")
