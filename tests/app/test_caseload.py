"""The caseload puts people referred as urgent or sooner first, the most pressing and the longest
waiting at the top, so that a Home First nurse starting a shift sees who must be seen first."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from wholecare.access.models import AuditEvent
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

    rows = selectors.caseload(by=nurse.user).rows

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
    assert "The 4 people referred as urgent or sooner come first" in page
    assert page.index("DUNN") < page.index("BAKER") < page.index("ABBOTT")


def test_a_caseload_without_urgent_referrals_is_in_name_order_and_says_nothing_of_urgency() -> None:
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    for family_name in ("Young", "Xu"):
        person = factories.PersonFactory(family_name=family_name)
        factories.CareTeamMembershipFactory(person=person, staff=nurse)
    assert [r.person.family_name for r in selectors.caseload(by=nurse.user).rows] == ["Xu", "Young"]
    client = Client()
    client.force_login(nurse.user)
    assert "urgent or sooner" not in client.get(reverse("web:caseload")).content.decode()


def test_the_caseload_is_paged_in_its_order_and_only_the_page_shown_is_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selectors, "CASELOAD_PAGE", 2)
    nurse = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    home_first = factories.ServiceFactory(name="Home First")
    nurse.services.add(home_first)
    for family_name in ("Cole", "Ames", "Bird"):
        person = factories.PersonFactory(family_name=family_name)
        factories.CareTeamMembershipFactory(person=person, staff=nurse)
    urgent = factories.PersonFactory(family_name="Zeller")
    factories.ReferralFactory(person=urgent, service=home_first, priority="urgent")
    client = Client()
    client.force_login(nurse.user)

    pages = [selectors.caseload(by=nurse.user, page=n) for n in (1, 2)]

    assert [[r.person.family_name for r in p.rows] for p in pages] == [
        ["Zeller", "Ames"],
        ["Bird", "Cole"],
    ]
    assert (pages[0].total, pages[0].pages, pages[0].urgent) == (4, 2, 1)
    audited = AuditEvent.objects.filter(actor_username=nurse.user.username, what="caseload list")
    assert audited.count() == 4
    first = client.get(reverse("web:caseload")).content.decode()
    assert "The 1 person referred as urgent or sooner comes first" in first
    assert "4 people, page 1 of 2." in first
    assert 'href="?page=2">Next page</a>' in first
    assert "BIRD" not in first
    last = client.get(reverse("web:caseload"), {"page": "9"}).content.decode()
    assert "Page 2 of 2." in last
    assert 'href="?page=1">Previous page</a>' in last
    assert "BIRD" in last
    assert "ZELLER" not in last
    assert client.get(reverse("web:caseload"), {"page": "x"}).status_code == 200


def test_the_lists_of_what_waits_on_the_user_head_the_first_page_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selectors, "CASELOAD_PAGE", 1)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    for family_name in ("Ames", "Bird"):
        factories.CareTeamMembershipFactory(
            person=factories.PersonFactory(family_name=family_name), staff=gp
        )
    factories.ReferralFactory(referred_by=gp)
    client = Client()
    client.force_login(gp.user)
    assert (
        "Your referrals awaiting acceptance" in client.get(reverse("web:caseload")).content.decode()
    )
    second = client.get(reverse("web:caseload"), {"page": "2"}).content.decode()
    assert "Your referrals awaiting acceptance" not in second
    assert "BIRD" in second


def test_staff_find_someone_on_their_caseload_by_part_of_their_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selectors, "CASELOAD_PAGE", 1)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    for given_name, family_name in (("Sam", "Coombe"), ("Samir", "Khan"), ("Ann", "Coombes")):
        person = factories.PersonFactory(given_name=given_name, family_name=family_name)
        factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.PersonFactory(given_name="Sam", family_name="Coomber")
    factories.ReferralFactory(referred_by=gp)
    client = Client()
    client.force_login(gp.user)

    def names(words: str) -> list[str]:
        found = [selectors.caseload(by=gp.user, name=words, page=n) for n in (1, 2, 3)]
        return [
            f"{row.person.given_name} {row.person.family_name}"
            for listed in found[: found[0].pages]
            for row in listed.rows
        ]

    assert names("COO") == ["Sam Coombe", "Ann Coombes"]
    assert names("  sam   coo ") == ["Sam Coombe"]
    assert names("sam") == ["Sam Coombe", "Samir Khan"]
    assert names("Coomber") == []
    found = client.get(reverse("web:caseload"), {"name": "coo"}).content.decode()
    assert "2 people on your caseload match “coo”." in found
    assert 'href="?name=coo&amp;page=2">Next page</a>' in found
    assert "Your referrals awaiting acceptance" not in found
    none = client.get(reverse("web:caseload"), {"name": "zz"}).content.decode()
    assert "0 people on your caseload match “zz”." in none
    assert "There is nobody on your caseload" not in none
    long = client.get(reverse("web:caseload"), {"name": "x" * 5000})
    assert long.status_code == 200
    assert f"“{'x' * selectors.CASELOAD_NAME_LENGTH}”" in long.content.decode()
