"""The caseload puts people referred as urgent or sooner first, the most pressing and the longest
waiting at the top, so that a Home First nurse starting a shift sees who must be seen first."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from wholecare.directory.disciplines import Discipline
from wholecare.record import selectors

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)


def test_the_most_pressing_and_longest_waiting_referrals_come_first() -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    home_first = factories.ServiceFactory(name="Home First")
    elsewhere = factories.ServiceFactory(name="Memory clinic")
    nurse.services.add(home_first)

    def referred(family_name: str, priority: str, days_ago: int) -> None:
        person = factories.PersonFactory(given_name="Sam", family_name=family_name)
        factories.ReferralFactory(
            person=person,
            service=home_first,
            priority=priority,
            received_date=TODAY - dt.timedelta(days=days_ago),
        )

    referred("Abbott", "routine", 10)
    referred("Baker", "urgent", 1)
    referred("Carter", "urgent", 3)
    referred("Dunn", "stat", 0)
    referred("Evans", "asap", 2)
    on_team = factories.PersonFactory(given_name="Sam", family_name="Aaron")
    factories.CareTeamMembershipFactory(person=on_team, staff=nurse)
    factories.ReferralFactory(person=on_team, service=elsewhere, priority="stat")

    rows = selectors.caseload(by=nurse.user)

    assert [row.person.family_name for row in rows] == [
        "Dunn",  # immediately
        "Evans",  # as soon as possible
        "Carter",  # urgent, waiting longest
        "Baker",  # urgent
        "Aaron",  # on the team; their urgent referral is to another service
        "Abbott",  # routine
    ]
    client = Client()
    client.force_login(nurse.user)
    page = client.get(reverse("web:caseload")).content.decode()
    assert "People referred as urgent or sooner come first" in page
    assert page.index("DUNN") < page.index("BAKER") < page.index("ABBOTT")


def test_a_caseload_without_urgent_referrals_is_in_name_order_and_says_nothing_of_urgency() -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    for family_name in ("Young", "Xu"):
        person = factories.PersonFactory(family_name=family_name)
        factories.CareTeamMembershipFactory(person=person, staff=nurse)
    assert [r.person.family_name for r in selectors.caseload(by=nurse.user)] == ["Xu", "Young"]
    client = Client()
    client.force_login(nurse.user)
    assert "urgent or sooner" not in client.get(reverse("web:caseload")).content.decode()
