"""A referral another system sent to a Talking Therapies service through the API has none of what
the pathway needs: the service's staff start it on the pathway (decision 0022), or it would never
reach the waiting list."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import signed_in
from tests.app.talking_therapies.conftest import Setting, days_ago, refer
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.record import services as record_services
from wholecare.record.models import Referral
from wholecare.talking_therapies import selectors, services
from wholecare.talking_therapies.models import TTReferral

pytestmark = pytest.mark.django_db


def _sent(s: Setting, **extra: Any) -> Referral:
    """A referral as the FHIR API creates it: from the person's GP, no pathway record."""
    gp = factories.StaffFactory(discipline=Discipline.GP, organisation=s.practice)
    values = {
        "person": s.person,
        "service": s.service,
        "referred_by": gp,
        "received_date": days_ago(3),
        "reason": "Low mood since the diabetes diagnosis",
        **extra,
    }
    return factories.ReferralFactory(**values)


def _start_page(referral: Referral) -> str:
    return reverse(
        "talking_therapies:referral-start", args=[referral.person.public_id, referral.pk]
    )


def test_the_service_starts_it_and_it_joins_the_waiting_list(tt: Setting) -> None:
    referral = _sent(tt)
    started = services.referral_start(
        by=tt.pwp.user,
        referral=referral,
        source="A1",
        conditions=[tt.diabetes],
        problem_descriptor=" f41.1 ",
    )
    assert started.referral == referral
    assert started.received_date == days_ago(3), "the wait runs from when it was received"
    assert started.referred_by == referral.referred_by
    assert started.problem_descriptor == "F41.1"
    assert list(started.conditions.all()) == [tt.diabetes]
    assert started.status == TTReferral.Status.AWAITING_ASSESSMENT
    referral.refresh_from_db()
    assert referral.pathway == Referral.Pathway.TALKING_THERAPIES
    assert referral.accepted_by == tt.pwp, "the referrer sees that it was accepted"
    assert referral.accepted_at is not None
    assert started in selectors.caseload(by=tt.therapist.user).awaiting_allocation
    assert AuditEvent.objects.filter(
        person_id=tt.person.pk, what__contains="started on the Talking Therapies pathway"
    ).exists()


def test_a_referral_about_no_long_term_condition_may_start(tt: Setting) -> None:
    started = services.referral_start(
        by=tt.pwp.user, referral=_sent(tt), source="A1", conditions=[]
    )
    assert not started.conditions.exists()


def test_an_accepted_referral_keeps_who_accepted_it(tt: Setting) -> None:
    referral = _sent(tt, accepted_at=timezone.now(), accepted_by=tt.manager)
    services.referral_start(by=tt.pwp.user, referral=referral, source="A1", conditions=[])
    referral.refresh_from_db()
    assert referral.accepted_by == tt.manager


def _refused(tt: Setting, referral: Referral, by: Any = None, **changes: Any) -> Exception:
    values: dict[str, Any] = {"source": "A1", "conditions": [tt.diabetes], **changes}
    before = TTReferral.objects.count()
    with pytest.raises((ValidationError, AccessDenied)) as refusal:
        services.referral_start(by=(by or tt.pwp).user, referral=referral, **values)
    assert TTReferral.objects.count() == before, "nothing written"
    referral.refresh_from_db()
    assert referral.accepted_at is None
    return refusal.value


def test_only_the_service_staff_may_start_it(tt: Setting) -> None:
    refusal = _refused(tt, _sent(tt), by=tt.nurse)
    assert isinstance(refusal, AccessDenied)
    assert "Only the staff of an NHS Talking Therapies service" in str(refusal)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"source": ""}, "source", "Choose where the referral comes from"),
        ({"source": "ZZ"}, "source", "Choose where the referral comes from"),
        ({"problem_descriptor": "anxiety"}, "problem_descriptor", "as an ICD-10 code"),
    ],
)
def test_bad_details_are_refused_by_field(
    tt: Setting, changes: dict[str, Any], field: str, message: str
) -> None:
    refusal = _refused(tt, _sent(tt), **changes)
    assert isinstance(refusal, ValidationError)
    assert message in " ".join(refusal.message_dict[field])


def test_a_condition_of_someone_else_is_refused(tt: Setting) -> None:
    other = factories.ConditionFactory(snomed_code="44054006")
    refusal = _refused(tt, _sent(tt), conditions=[other])
    assert isinstance(refusal, ValidationError)
    assert refusal.message_dict["conditions"] == ["That condition is not on this person's record"]


def test_a_closed_referral_or_one_already_started_is_refused(tt: Setting) -> None:
    closed = _sent(tt, closed=True)
    factories.CareTeamMembershipFactory(person=tt.person, staff=tt.pwp)
    assert "has been closed" in str(_refused(tt, closed))
    started = refer(tt).referral
    assert "already on the pathway" in str(_refused(tt, started))


def test_a_second_referral_for_someone_already_on_the_pathway_is_refused(tt: Setting) -> None:
    refer(tt)
    refusal = _refused(tt, _sent(tt, request_code="1000041000000101"))
    assert "already on the pathway at Talking Therapies at Harbour Street" in str(refusal)
    assert "close this referral as not accepted" in str(refusal)


def test_it_is_not_accepted_as_other_referrals_are(tt: Setting) -> None:
    referral = _sent(tt)
    with pytest.raises(ValidationError, match="accepted by starting it on the NHS Talking"):
        record_services.referral_accept(by=tt.pwp.user, referral=referral)
    referral.refresh_from_db()
    assert referral.accepted_at is None


def test_the_start_page_offers_the_referrer_s_usual_source_and_starts_it(tt: Setting) -> None:
    referral = _sent(tt)
    client = signed_in(tt.pwp)
    page = client.get(_start_page(referral))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Low mood since the diabetes diagnosis" in html
    assert '<option value="A1" selected>' in html, "from a GP"
    assert "Type 2 diabetes mellitus" in html
    done = client.post(_start_page(referral), {"source": "A1", "conditions": [tt.diabetes.pk]})
    started = TTReferral.objects.get(referral=referral)
    assert done.status_code == 302
    assert done["Location"] == reverse("talking_therapies:referral", args=[started.public_id])


def test_the_start_page_says_what_is_wrong(tt: Setting) -> None:
    referral = _sent(tt, referred_by=None)
    client = signed_in(tt.pwp)
    page = client.get(_start_page(referral))
    assert '<option value="" selected>Choose where it came from</option>' in page.content.decode()
    assert client.post(_start_page(referral), {}).status_code == 400, "sent empty"
    refused = client.post(_start_page(referral), {"source": "", "problem_descriptor": "F4"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "There is a problem" in html
    assert "Choose where the referral comes from" in html
    assert not TTReferral.objects.exists()


def test_the_start_page_refuses_staff_of_other_services_and_a_second_start(tt: Setting) -> None:
    referral = _sent(tt, request_code="1000041000000101")
    refused = signed_in(tt.nurse).get(_start_page(referral))
    assert refused.status_code == 403
    assert "Only the staff of Talking Therapies at Harbour Street" in refused.content.decode()
    assert signed_in(tt.nurse).post(_start_page(referral), {"source": "A1"}).status_code == 403
    started = refer(tt).referral
    again = signed_in(tt.pwp).get(_start_page(started))
    assert again.status_code == 403
    assert "already on the pathway" in again.content.decode()
    assert signed_in(factories.StaffFactory()).get(_start_page(referral)).status_code == 403


def test_a_closed_referral_sends_the_user_to_the_record(tt: Setting) -> None:
    referral = _sent(tt, closed=True)
    page = signed_in(tt.nurse).get(_start_page(referral))
    assert page.status_code == 302
    assert page["Location"] == reverse("web:person", args=[tt.person.public_id])


def test_the_service_finds_it_in_its_lists_and_on_the_summary(tt: Setting) -> None:
    referral = _sent(tt, priority="urgent")
    assert referral.referred_by is not None
    link = _start_page(referral)
    received = signed_in(tt.pwp).get(reverse("web:referrals-received")).content.decode()
    assert link in received
    assert "Awaiting acceptance" in received
    assert f"/referrals/{referral.pk}/accept/" not in received
    overview = signed_in(tt.manager).get(reverse("talking_therapies:overview")).content.decode()
    assert link in overview
    assert "from " + referral.referred_by.display_name + ", urgent" in overview
    summary = signed_in(tt.pwp).get(reverse("web:person", args=[tt.person.public_id]))
    assert link in summary.content.decode()
    nurse_summary = signed_in(tt.nurse).get(reverse("web:person", args=[tt.person.public_id]))
    assert link not in nurse_summary.content.decode()


def test_the_overview_lists_the_longest_waiting_and_says_how_many_there_are(
    tt: Setting,
) -> None:
    shown = selectors.OVERVIEW_LIST_SHOWN
    for n in range(shown + 1):
        factories.ReferralFactory(service=tt.service, received_date=days_ago(n + 1))
        services.self_referral_submit(
            service=tt.service,
            client=f"client {n}",
            given_name="Morwenna",
            family_name=f"Selfreferrer{n}",
            date_of_birth=dt.date(1971, 5, 1),
            postcode="TQ1 1AA",
            phone="01632 960002",
        )
    (overview,) = selectors.manager_overview(by=tt.manager.user)
    assert (len(overview.to_start), overview.to_start_total) == (shown, shown + 1)
    assert overview.to_start[0].received_date == days_ago(shown + 1), "the longest waiting first"
    assert (len(overview.self_referrals), overview.self_referrals_total) == (shown, shown + 1)
    assert overview.self_referrals[0].family_name == "Selfreferrer0", "sent first, listed first"
    page = signed_in(tt.manager).get(reverse("talking_therapies:overview")).content.decode()
    assert f"The {shown} waiting longest of {shown + 1}: the others are among the" in page
    assert f"The {shown} waiting longest of {shown + 1}: the others appear as" in page
