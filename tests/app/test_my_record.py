"""The person reads their own record: who is caring for them, where they are referred, their
coded conditions and their social care needs, and never what was written for clinicians
(decision 0036)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import signed_in, signed_in_as_person
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service
from wholecare.record.models import (
    Alert,
    CareTeamMembership,
    Condition,
    Person,
    Referral,
    SocialCareNeed,
)
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db


def _page(client: Client) -> str:
    response = client.get(reverse("web:my-record"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_person_reads_who_cares_for_them_and_where_they_are_referred(person: Person) -> None:
    today = timezone.localdate()
    nurse = factories.StaffFactory(
        discipline=Discipline.DISTRICT_NURSE, user__first_name="Nia", user__last_name="Hale"
    )
    factories.CareTeamMembershipFactory(person=person, staff=nurse, role="Key worker")
    factories.CareTeamMembershipFactory(
        person=person, role="Named GP", end_date=today - dt.timedelta(days=1)
    )
    factories.CareTeamMembershipFactory(
        person=person, role="Starts next week", start_date=today + dt.timedelta(days=7)
    )
    rapid = factories.ServiceFactory(name="Home First", kind=Service.Kind.RAPID_RESPONSE)
    factories.ReferralFactory(
        person=person,
        service=rapid,
        referred_by=nurse,
        priority=Referral.Priority.URGENT,
        reason="Partner shouts at her; discuss safeguarding",
        request_display="Falls assessment",
    )
    factories.ReferralFactory(
        person=person,
        service=factories.ServiceFactory(name="Pulmonary rehabilitation"),
        self_referral=True,
        accepted_at=timezone.now(),
    )
    ended = {
        Referral.Outcome.DECLINED: "you decided not to go ahead",
        Referral.Outcome.NOT_ACCEPTED: "the service did not accept the referral",
    }
    for outcome in ended:
        factories.ReferralFactory(
            person=person,
            service=factories.ServiceFactory(name=f"Clinic {outcome}"),
            closed=True,
            closed_date=today - dt.timedelta(days=3),
            outcome=outcome,
            outcome_note="Not for the person's eyes",
        )
    factories.ReferralFactory(
        person=person,
        service=factories.ServiceFactory(name="Long ago clinic"),
        closed=True,
        closed_date=today - dt.timedelta(days=90),
    )

    page = _page(signed_in_as_person(person))

    assert "Nia Hale" in page
    assert "Key worker" in page
    assert "District nurse" in page
    assert "Named GP" not in page
    assert "Starts next week" not in page
    assert "Home First" in page
    assert "Urgent" in page
    assert "Referred by Nia Hale on 5 January 2026, for falls assessment." in page
    assert "Waiting for the service to look at it." in page
    assert "You referred yourself" in page
    assert f"The service accepted it on {today:%-d %B %Y}." in page
    for outcome, said in ended.items():
        assert f"<strong>Clinic {outcome}</strong>: {said}" in page
    assert "Long ago clinic" not in page
    assert "safeguarding" not in page
    assert "Not for the person&#x27;s eyes" not in page
    assert AuditEvent.objects.filter(person_id=person.pk, what="own record").count() == 1


def test_the_person_reads_their_conditions_in_plain_words(person: Person) -> None:
    factories.ConditionFactory(
        person=person, snomed_code="44054006", onset_date=dt.date(2019, 3, 2)
    )
    factories.ConditionFactory(
        person=person,
        snomed_code="35489007",
        clinical_status=Condition.ClinicalStatus.REMISSION,
        recorded_by_discipline=Discipline.HIGH_INTENSITY_THERAPIST,
    )
    factories.ConditionFactory(
        person=person, snomed_code="195967001", clinical_status=Condition.ClinicalStatus.RESOLVED
    )
    factories.ConditionFactory(person=person, snomed_code="999000", display="Sender's own words")
    factories.ConditionFactory(
        person=person, snomed_code="13645005", entered_in_error_at=timezone.now()
    )
    factories.SocialCareNeedFactory(person=person, need_code="personal-care")
    factories.SocialCareNeedFactory(
        person=person, need_code="nutrition", status=SocialCareNeed.Status.MET
    )

    page = _page(signed_in_as_person(person))

    diabetes = page.index("Type 2 diabetes mellitus")
    depression = page.index("Depressive disorder")
    assert diabetes < depression < page.index("Sender&#x27;s own words")
    assert "the commonest type" in page
    assert "Since March 2019" in page
    assert "In remission" in page
    resolved = page.index("Conditions that have resolved")
    assert page.index("Asthma") > resolved
    assert "Chronic obstructive lung disease" not in page
    assert "In the words of whoever recorded it (GP)." in page
    assert "Personal care" in page
    assert "Waiting for an assessment since" in page
    assert "No longer needed" in page


def test_what_was_written_for_clinicians_stays_off_the_persons_page(person: Person) -> None:
    Alert.objects.create(
        person=person,
        category=Alert.Category.SAFEGUARDING,
        text="Risk from partner: do not discuss by phone",
        raised_at=timezone.now(),
    )
    factories.RecordEntryFactory(person=person, title="Strategy meeting", text="Section 42 enquiry")
    factories.RecordEntryFactory(
        person=person,
        title="Therapy session",
        text="Talked about her son",
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
    )

    page = _page(signed_in_as_person(person))

    for written in ["Risk from partner", "Strategy meeting", "Section 42", "Talked about her son"]:
        assert written not in page
    assert "No health conditions are recorded." in page
    assert "Nobody is named as caring for you" in page
    assert "You are not waiting for any service." in page


def test_the_persons_menu_opens_on_their_record_and_only_they_read_it(person: Person) -> None:
    own = signed_in_as_person(person)
    assert own.get(reverse("web:home"))["Location"] == reverse("web:my-record")
    record = reverse("web:my-record")
    assert f'href="{record}" aria-current="page">My record' in _page(own)
    care_plans = own.get(reverse("web:my-care-plans")).content.decode()
    assert f'href="{record}">My record' in care_plans
    assert 'aria-current="page">My care plans' in care_plans
    assert signed_in(factories.StaffFactory()).get(reverse("web:my-record")).status_code == 403
    assert CareTeamMembership.objects.count() == 0
