"""The referrals received by the services a member of staff works in: the most pressing first,
then the longest waiting, each with who sent it and why, to act on and close."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import signed_in
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.record import services
from wholecare.record.models import Referral

pytestmark = pytest.mark.django_db

LIST = reverse("web:referrals-received")


def _days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


@pytest.fixture
def nurse() -> Staff:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    nurse.services.add(factories.ServiceFactory(name="District nursing North"))
    return nurse


def _referral(service: Service, name: str, *, days: int, priority: str = "routine") -> Referral:
    return factories.ReferralFactory(
        person=factories.PersonFactory(given_name=name, family_name="Testperson"),
        service=service,
        received_date=_days_ago(days),
        priority=priority,
        reason=f"Reason for {name}",
    )


def test_the_most_pressing_come_first_then_the_longest_waiting(nurse: Staff) -> None:
    north = nurse.services.get()
    gp = factories.StaffFactory(discipline=Discipline.GP, user__first_name="Ravi")
    routine_old = _referral(north, "Olwen", days=40)
    routine_new = _referral(north, "Nia", days=0)
    urgent = _referral(north, "Ula", days=2, priority="urgent")
    stat = _referral(north, "Stan", days=1, priority="stat")
    routine_new.referred_by = gp
    routine_new.save()
    _referral(factories.ServiceFactory(), "Elsewhere", days=5)
    factories.ReferralFactory(service=north, closed=True, person__given_name="Closed")
    page = signed_in(nurse).get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    positions = [html.index(f"{r.person.given_name} TESTPERSON") for r in (stat, urgent)] + [
        html.index(f"{r.person.given_name} TESTPERSON") for r in (routine_old, routine_new)
    ]
    assert positions == sorted(positions)
    assert "Elsewhere" not in html
    assert "Closed" not in html
    assert "waiting 40 days" in html
    assert "Reason for Olwen" in html
    assert gp.display_name in html
    assert html.count("/close/?from=referrals") == 4
    assert html.count("/accept/?from=referrals") == 4, "none accepted yet"
    listed = AuditEvent.objects.filter(what="referrals to my services")
    assert set(listed.values_list("person_id", flat=True)) == {
        r.person.pk for r in (stat, urgent, routine_old, routine_new)
    }


def test_a_list_narrowed_to_one_service_and_a_bad_choice_refused(nurse: Staff) -> None:
    north = nurse.services.get()
    south = factories.ServiceFactory(name="District nursing South")
    nurse.services.add(south)
    _referral(north, "Norma", days=3)
    _referral(south, "Sally", days=3)
    client = signed_in(nurse)
    both = client.get(LIST).content.decode()
    assert "Norma" in both
    assert "Sally" in both
    assert '<option value="">All your services</option>' in both
    one = client.get(LIST, {"service": south.pk}).content.decode()
    assert "Sally" in one
    assert "Norma" not in one
    for bad in (str(factories.ServiceFactory().pk), "south"):
        refused = client.get(LIST, {"service": bad})
        assert refused.status_code == 400
        assert "is not one of the services you work in" in refused.content.decode()


def test_closing_from_the_list_goes_back_to_it(nurse: Staff) -> None:
    referral = _referral(nurse.services.get(), "Bea", days=3)
    client = signed_in(nurse)
    close = reverse("web:referral-close", args=[referral.person.public_id, referral.pk])
    form = client.get(f"{close}?from=referrals").content.decode()
    assert f'href="{LIST}"' in form
    done = client.post(f"{close}?from=referrals", {"outcome": "discharged"}, follow=True)
    assert done.redirect_chain[-1][0] == LIST
    page = done.content.decode()
    assert "You can no longer open Bea TESTPERSON" in page
    assert "There are no open referrals to your services." in page


def test_a_talking_therapies_referral_points_to_its_pathway(db: None) -> None:
    therapist = factories.StaffFactory(discipline=Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER)
    therapy = factories.ServiceFactory(kind=Service.Kind.TALKING_THERAPIES)
    therapist.services.add(therapy)
    referral = _referral(therapy, "Tomos", days=1)
    referral.pathway = Referral.Pathway.TALKING_THERAPIES
    referral.save()
    html = signed_in(therapist).get(LIST).content.decode()
    assert reverse("talking_therapies:person", args=[referral.person.public_id]) in html
    assert "?from=referrals" not in html


def test_staff_in_no_service_and_staff_who_give_no_direct_care_see_no_one(db: None) -> None:
    loner = factories.StaffFactory(discipline=Discipline.GP)
    assert "You do not work in a service" in signed_in(loner).get(LIST).content.decode()
    analyst = factories.StaffFactory(discipline=Discipline.ANALYST)
    misdirected = factories.ServiceFactory(kind=Service.Kind.ANALYTICS)
    analyst.services.add(misdirected)
    referral = _referral(misdirected, "Misdirected", days=1)
    factories.CareTeamMembershipFactory(person=referral.person, staff=analyst)
    client = signed_in(analyst)
    assert "Misdirected" not in client.get(LIST).content.decode()
    assert "Misdirected" not in client.get(reverse("web:caseload")).content.decode()


NURSING, THERAPIES = Service.Kind.DISTRICT_NURSING, Service.Kind.TALKING_THERAPIES


@pytest.mark.parametrize(
    ("status", "accepted", "kind", "pathway", "mine", "accept", "start"),
    [
        ("open", False, NURSING, "", True, True, False),
        ("open", True, NURSING, "", True, False, False),
        ("open", False, NURSING, "", False, False, False),
        ("closed", False, NURSING, "", True, False, False),
        ("open", False, THERAPIES, "talking-therapies", True, False, False),
        # Sent through the API with no pathway record: started on the pathway, not accepted.
        ("open", False, THERAPIES, "", True, False, True),
        ("open", True, THERAPIES, "", True, False, True),
        ("open", False, THERAPIES, "", False, False, False),
        ("closed", False, THERAPIES, "", True, False, False),
    ],
)
def test_who_may_accept_a_referral_or_start_it_on_the_pathway(
    status: str, accepted: bool, kind: str, pathway: str, mine: bool, accept: bool, start: bool
) -> None:
    referral = Referral(
        service=Service(pk=10, kind=kind),
        status=status,
        pathway=pathway,
        accepted_at=timezone.now() if accepted else None,
    )
    my_services = {10} if mine else {11}
    assert services.may_accept_referral(referral, my_services) is accept
    assert services.may_start_on_pathway(referral, my_services) is start


def test_a_service_accepts_a_referral_and_the_referrer_sees_it(nurse: Staff) -> None:
    north = nurse.services.get()
    gp = factories.StaffFactory(discipline=Discipline.GP)
    referral = _referral(north, "Ada", days=5)
    referral.referred_by = gp
    referral.save()
    factories.CareTeamMembershipFactory(person=referral.person, staff=gp)
    urgent = _referral(north, "Una", days=1, priority="urgent")
    accept = reverse("web:referral-accept", args=[urgent.person.public_id, urgent.pk])
    client = signed_in(nurse)
    done = client.post(f"{accept}?from=referrals", follow=True)
    assert done.redirect_chain[-1][0] == LIST
    html = done.content.decode()
    assert "Una TESTPERSON&#x27;s referral to District nursing North has been accepted." in html
    table = html[html.index("<table") :]
    assert table.index("Ada TESTPERSON") < table.index("Una TESTPERSON"), "awaiting first"
    urgent.refresh_from_db()
    assert urgent.accepted_by == nurse
    assert urgent.accepted_at is not None
    assert AuditEvent.objects.filter(
        person_id=urgent.person.pk, what="referral to District nursing North accepted"
    ).exists()
    again = client.post(f"{accept}?from=referrals", follow=True).content.decode()
    assert "was accepted on" in again
    close = reverse("web:referral-close", args=[urgent.person.public_id, urgent.pk])
    assert "Not accepted by the service" not in client.get(close).content.decode()

    summary = reverse("web:person", args=[referral.person.public_id])
    referrer = signed_in(gp)
    assert "awaiting acceptance" in referrer.get(summary).content.decode()
    assert "Accept referral" not in referrer.get(summary).content.decode()
    refused = referrer.post(
        reverse("web:referral-accept", args=[referral.person.public_id, referral.pk]), follow=True
    ).content.decode()
    assert "Only the staff of District nursing North can accept a referral to it" in refused
    assert "Important" in refused
    client.post(reverse("web:referral-accept", args=[referral.person.public_id, referral.pk]))
    assert (
        "accepted " + timezone.localdate().strftime("%-d %b %Y")
        in referrer.get(summary).content.decode()
    )
