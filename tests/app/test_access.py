"""Access control: legitimate relationships, break-glass, sensitive entries, enforced in the query
layer."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from wholecare.access import permissions, services
from wholecare.access.models import AuditEvent, BreakGlassAccess, SharingConsent
from wholecare.access.permissions import AccessDenied, Relationship
from wholecare.directory.disciplines import Discipline
from wholecare.record import selectors
from wholecare.record.models import Person, Referral
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db


def test_care_team_member_opens_the_record(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    assert permissions.relationship(gp, person) is Relationship.CARE_TEAM


def test_ended_care_team_membership_gives_no_access(gp, person):
    factories.CareTeamMembershipFactory(
        person=person, staff=gp, start_date=dt.date(2020, 1, 1), end_date=dt.date(2021, 1, 1)
    )
    assert not permissions.can_open_record(gp, person)
    with pytest.raises(AccessDenied):
        permissions.check_can_open_record(gp, person)


def test_open_referral_to_my_service_opens_the_record(person):
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    referral = factories.ReferralFactory(person=person)
    assert not permissions.can_open_record(therapist, person)
    therapist.services.add(referral.service)
    assert permissions.relationship(therapist, person) is Relationship.REFERRAL
    referral.status = Referral.Status.CLOSED
    referral.closed_date = referral.received_date
    referral.outcome = Referral.Outcome.DISCHARGED
    referral.save()
    assert not permissions.can_open_record(therapist, person)


def test_query_filter_matches_the_check(gp):
    mine, referred, other, elsewhere, closed = factories.PersonFactory.create_batch(5)
    factories.CareTeamMembershipFactory(person=mine, staff=gp)
    referral = factories.ReferralFactory(person=referred)
    gp.services.add(referral.service)
    # Referred to someone else's service, and a closed referral to one of the GP's: neither.
    colleague = factories.StaffFactory()
    colleague.services.add(factories.ReferralFactory(person=elsewhere).service)
    factories.ReferralFactory(person=closed, service=referral.service, closed=True)
    # A second route to the same person must not duplicate them in lists or counts.
    factories.CareTeamMembershipFactory(person=referred, staff=gp)
    openable = Person.objects.filter(permissions.people_openable_q(gp))
    assert sorted(openable.values_list("pk", flat=True)) == sorted([mine.pk, referred.pk])
    assert openable.count() == 2
    for candidate in (mine, referred, other, elsewhere, closed):
        assert permissions.can_open_record(gp, candidate) is (candidate in (mine, referred))


def test_break_glass_needs_a_reason_and_is_flagged(person):
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    with pytest.raises(ValidationError, match="reason"):
        services.break_glass_open(by=social_worker.user, person=person, reason="urgent")
    assert not BreakGlassAccess.objects.exists()
    services.break_glass_open(
        by=social_worker.user, person=person, reason="Hospital discharge tonight; no care plan"
    )
    assert permissions.relationship(social_worker, person) is Relationship.BREAK_GLASS
    event = AuditEvent.objects.get(action=AuditEvent.Action.BREAK_GLASS)
    assert event.flagged_for_review
    assert event.person_id == person.pk
    assert event.why == "Hospital discharge tonight; no care plan"
    assert event.actor_role == "social-worker"


def test_break_glass_expires(person):
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    access = services.break_glass_open(
        by=social_worker.user, person=person, reason="Needed for a safeguarding strategy meeting"
    )
    BreakGlassAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert not permissions.can_open_record(social_worker, person)


@pytest.mark.parametrize("discipline", [Discipline.ANALYST, Discipline.PRIVACY_OFFICER])
def test_roles_without_direct_care_can_neither_open_nor_break_glass(person, discipline):
    staff = factories.StaffFactory(discipline=discipline)
    factories.CareTeamMembershipFactory(person=person, staff=staff)
    assert not permissions.can_open_record(staff, person)
    with pytest.raises(AccessDenied):
        services.break_glass_open(by=staff.user, person=person, reason="I would like to look at it")


def test_break_glass_review_by_privacy_officer_only(person):
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    access = services.break_glass_open(
        by=social_worker.user, person=person, reason="Called out overnight, no records"
    )
    gp = factories.StaffFactory(discipline=Discipline.GP)
    with pytest.raises(AccessDenied):
        services.break_glass_review(by=gp.user, access=access, outcome="appropriate", note="")
    officer = factories.StaffFactory(discipline=Discipline.PRIVACY_OFFICER)
    with pytest.raises(ValidationError, match="Say why"):
        services.break_glass_review(
            by=officer.user, access=access, outcome="inappropriate", note=""
        )
    services.break_glass_review(by=officer.user, access=access, outcome="appropriate", note="")
    access.refresh_from_db()
    assert access.review == BreakGlassAccess.Review.APPROPRIATE
    assert access.reviewed_by == officer
    with pytest.raises(ValidationError, match="already been reviewed"):
        services.break_glass_review(by=officer.user, access=access, outcome="appropriate", note="")


def _therapy_note(person):
    therapist = factories.StaffFactory(discipline=Discipline.HIGH_INTENSITY_THERAPIST)
    factories.CareTeamMembershipFactory(person=person, staff=therapist, role="Therapist")
    note = factories.RecordEntryFactory(
        person=person,
        author=therapist,
        title="Session 4: behavioural activation",
        text="Discussed avoidance linked to breathlessness.",
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
    )
    return therapist, note


def test_sensitive_entry_withheld_without_consent(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    therapist, note = _therapy_note(person)
    factories.RecordEntryFactory(person=person, author=gp, title="Asthma review")

    gp_view = selectors.person_summary(by=gp.user, public_id=person.public_id)
    assert [e.title for e in gp_view.timeline.entries] == ["Asthma review"]
    assert gp_view.timeline.withheld == 1

    therapist_view = selectors.person_summary(by=therapist.user, public_id=person.public_id)
    assert note in therapist_view.timeline.entries
    assert therapist_view.timeline.withheld == 0


def test_consent_shares_therapy_notes_with_gp(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    _, note = _therapy_note(person)
    services.sharing_consent_record(
        by=gp.user,
        person=person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
    )
    view = selectors.person_summary(by=gp.user, public_id=person.public_id)
    assert note in view.timeline.entries
    assert view.timeline.withheld == 0


def test_break_glass_does_not_unlock_sensitive_entries(person):
    _therapy_note(person)
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    services.break_glass_open(by=social_worker.user, person=person, reason="Urgent welfare check")
    view = selectors.person_summary(by=social_worker.user, public_id=person.public_id)
    assert view.timeline.entries == []
    assert view.timeline.withheld == 1


def test_missing_and_forbidden_records_are_refused_alike(gp, person):
    import uuid

    with pytest.raises(AccessDenied) as forbidden:
        selectors.person_summary(by=gp.user, public_id=person.public_id)
    with pytest.raises(AccessDenied) as missing:
        selectors.person_summary(by=gp.user, public_id=uuid.uuid4())
    assert str(forbidden.value) == str(missing.value)
    assert not AuditEvent.objects.filter(person_id=person.pk).exists()


def test_refused_attempts_are_recorded_for_the_person(gp, person):
    import uuid

    services.refusal_record(by=gp.user, public_id=person.public_id)
    services.refusal_record(by=gp.user, public_id=uuid.uuid4())
    assert list(AuditEvent.objects.values_list("action", "person_id")) == [
        (AuditEvent.Action.DENIED, person.pk)
    ]
