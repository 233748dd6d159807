"""Alerts raised and ended on Wholecare's pages (decision 0023): what everyone caring for a person
must see first, with who raised it and until when; ended by someone caring for them, saying why,
and kept in view as ended; a safeguarding alert only by a social worker or whoever raised it."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import signed_in
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied, Relationship
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import selectors, services
from wholecare.record.models import Alert, Person

pytestmark = pytest.mark.django_db

DOG = "Large dog at the home: visit in pairs and ask for it to be shut away"


@pytest.fixture
def ada() -> Person:
    return factories.PersonFactory(given_name="Ada", family_name="Penhallow")


def _caring(person: Person, discipline: Discipline = Discipline.DISTRICT_NURSE) -> Staff:
    staff = factories.StaffFactory(discipline=discipline)
    factories.CareTeamMembershipFactory(person=person, staff=staff)
    return staff


def _raised(person: Person, by: Staff, category: str = "safety", **extra: Any) -> Alert:
    return services.alert_raise(by=by.user, person=person, category=category, text=DOG, **extra)


def _page(name: str, person: Person, **kwargs: Any) -> str:
    return reverse(f"web:{name}", kwargs={"public_id": person.public_id, **kwargs})


def test_an_alert_raised_is_seen_first_with_who_raised_it_and_until_when(ada: Person) -> None:
    nurse, gp = _caring(ada), _caring(ada, Discipline.GP)
    until = timezone.localdate() + dt.timedelta(days=10)
    alert = _raised(ada, nurse, until=until)
    assert alert.raised_by == nurse
    assert timezone.localtime(alert.ended_at).date() == until + dt.timedelta(days=1)
    assert [a.pk for a in selectors.person_summary(by=gp.user, public_id=ada.public_id).alerts] == [
        alert.pk
    ]
    html = signed_in(gp).get(_page("person", ada)).content.decode()
    assert DOG in html
    assert f"Raised by {nurse.display_name}, District nurse, on" in html
    assert f"until {until:%-d %b %Y}" in html, "the last day it applies"
    assert AuditEvent.objects.filter(person_id=ada.pk, what=f"alert (safety): {DOG}").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "diet"}, "category"),
        ({"category": ""}, "category"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 301}, "text"),
        ({"until": dt.date.today()}, "until"),
        ({"until": dt.date(2020, 1, 1)}, "until"),
    ],
)
def test_a_bad_alert_is_refused_by_field_and_nothing_written(
    ada: Person, changes: dict[str, Any], field: str
) -> None:
    nurse = _caring(ada)
    values: dict[str, Any] = {"category": "risk", "text": DOG, **changes}
    with pytest.raises(ValidationError) as refused:
        services.alert_raise(by=nurse.user, person=ada, **values)
    assert field in refused.value.message_dict
    assert not Alert.objects.exists()


def test_no_relationship_raises_no_alert(ada: Person) -> None:
    with pytest.raises(AccessDenied):
        _raised(ada, factories.StaffFactory())
    assert not Alert.objects.exists()


SOCIAL_WORKER, NURSE = Discipline.SOCIAL_WORKER, Discipline.DISTRICT_NURSE
CARE_TEAM, REFERRAL, BREAK_GLASS = (
    Relationship.CARE_TEAM,
    Relationship.REFERRAL,
    Relationship.BREAK_GLASS,
)


@pytest.mark.parametrize(
    ("category", "source", "in_force", "relationship", "discipline", "raiser", "expected"),
    [
        ("safety", "", True, CARE_TEAM, NURSE, False, True),
        ("safety", "", True, REFERRAL, NURSE, False, True),
        ("safety", "", True, BREAK_GLASS, NURSE, True, False),
        ("safety", "", True, None, NURSE, True, False),
        ("safety", "", False, CARE_TEAM, NURSE, True, False),
        ("safety", "GP system", True, CARE_TEAM, NURSE, True, False),
        # A safeguarding alert: a social worker, who leads safeguarding enquiries, or the raiser.
        ("safeguarding", "", True, CARE_TEAM, NURSE, False, False),
        ("safeguarding", "", True, CARE_TEAM, NURSE, True, True),
        ("safeguarding", "", True, CARE_TEAM, SOCIAL_WORKER, False, True),
        ("safeguarding", "", True, BREAK_GLASS, SOCIAL_WORKER, False, False),
    ],
)
def test_who_may_end_an_alert(
    category: str,
    source: str,
    in_force: bool,
    relationship: Relationship | None,
    discipline: Discipline,
    raiser: bool,
    expected: bool,
) -> None:
    staff = Staff(pk=7, discipline=discipline)
    alert = Alert(
        category=category,
        source=source,
        active=in_force,
        raised_by_id=7 if raiser else 8,
        raised_at=timezone.now(),
    )
    assert services.alert_endable(staff, alert, relationship) is expected


def test_an_alert_ended_says_why_and_stays_in_view_as_ended(ada: Person) -> None:
    nurse, gp = _caring(ada), _caring(ada, Discipline.GP)
    alert = _raised(ada, nurse)
    with pytest.raises(ValidationError) as refused:
        services.alert_end(by=gp.user, alert=alert, reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why the alert no longer applies"]}
    services.alert_end(by=gp.user, alert=alert, reason="The dog has been rehomed")
    alert.refresh_from_db()
    assert (alert.active, alert.ended_by, alert.end_reason) == (
        False,
        gp,
        "The dog has been rehomed",
    )
    summary = selectors.person_summary(by=nurse.user, public_id=ada.public_id)
    assert summary.alerts == []
    assert summary.ended_alerts == [alert]
    html = signed_in(nurse).get(_page("person", ada)).content.decode()
    assert "Alerts that have ended" in html
    assert f"by {gp.display_name}: The dog has been rehomed" in html
    with pytest.raises(ValidationError, match="already ended"):
        services.alert_end(by=gp.user, alert=alert, reason="Again")
    assert AuditEvent.objects.filter(
        person_id=ada.pk, what=f"alert (safety) ended: {DOG}", why="The dog has been rehomed"
    ).exists()


def test_a_safeguarding_alert_is_not_ended_by_a_nurse_who_did_not_raise_it(ada: Person) -> None:
    social_worker, nurse = _caring(ada, Discipline.SOCIAL_WORKER), _caring(ada)
    alert = _raised(ada, social_worker, category="safeguarding")
    with pytest.raises(AccessDenied, match="Only a social worker"):
        services.alert_end(by=nurse.user, alert=alert, reason="Seems fine now")
    alert.refresh_from_db()
    assert alert.active
    assert alert.ended_by is None
    page = signed_in(nurse).get(_page("alert-end", ada, alert_id=alert.pk))
    assert page.status_code == 403
    assert "A safeguarding alert is ended by a social worker" in page.content.decode()
    summary = signed_in(nurse).get(_page("person", ada)).content.decode()
    assert _page("alert-end", ada, alert_id=alert.pk) not in summary


def test_breaking_glass_raises_an_alert_but_ends_none(ada: Person) -> None:
    nurse = _caring(ada)
    alert = _raised(ada, nurse)
    doctor = factories.StaffFactory(discipline=Discipline.GP)
    access_services.break_glass_open(
        by=doctor.user, person=ada, reason="Out of hours visit: no answer at the door"
    )
    with pytest.raises(AccessDenied, match="breaking glass ends none"):
        services.alert_end(by=doctor.user, alert=alert, reason="Not there")
    assert _raised(ada, doctor, category="risk").raised_by == doctor


def test_the_pages_raise_and_end_an_alert(ada: Person) -> None:
    nurse = _caring(ada)
    client = signed_in(nurse)
    assert _page("alert-new", ada) in client.get(_page("person", ada)).content.decode()
    form = client.get(_page("alert-new", ada))
    assert form.status_code == 200
    assert "Something staff must know to visit safely" in form.content.decode()
    refused = client.post(_page("alert-new", ada), {"category": "safety", "until_0": "31"})
    html = refused.content.decode()
    assert "Enter what everyone caring for the person must know" in html
    assert "The day it applies until must include a day, month and year" in html
    done = client.post(_page("alert-new", ada), {"category": "safety", "text": DOG})
    assert done["Location"] == _page("person", ada)
    alert = Alert.objects.get()
    end = _page("alert-end", ada, alert_id=alert.pk)
    summary = client.get(_page("person", ada)).content.decode()
    assert "The safety alert has been raised." in summary
    assert end in summary
    assert "Say why the alert no longer applies" in client.post(end, {}).content.decode()
    assert client.post(end, {"reason": "Rehomed"})["Location"] == _page("person", ada)
    again = client.get(end)
    assert again["Location"] == _page("person", ada), "already ended"


def test_an_alert_ended_through_the_api_follows_the_same_rule(ada: Person) -> None:
    social_worker, nurse = _caring(ada, Discipline.SOCIAL_WORKER), _caring(ada)
    alert = _raised(ada, social_worker, category="safeguarding")
    api = api_for(nurse)
    found = api.get(f"/fhir/Flag?patient={ada.public_id}").json()
    flag = found["entry"][0]["resource"]
    assert flag["code"]["text"] == DOG
    url = f"/fhir/Flag/{flag['id']}"
    ended = {**flag, "status": "inactive"}
    refused = api.put(url, ended)
    assert refused.status_code == 403
    assert "Only a social worker" in refused.json()["issue"][0]["diagnostics"]
    assert api_for(social_worker).put(url, ended).status_code == 200
    alert.refresh_from_db()
    assert (alert.active, alert.ended_by) == (False, social_worker)


def test_the_caseload_shows_each_person_s_alerts_in_force(ada: Person) -> None:
    nurse = _caring(ada)
    _raised(ada, nurse)
    ended = _raised(ada, nurse, category="communication")
    services.alert_end(by=nurse.user, alert=ended, reason="Hearing aids fitted")
    rows = selectors.caseload(by=nurse.user).rows
    assert [[a.text for a in row.alerts] for row in rows] == [[DOG]]
    html = signed_in(nurse).get(reverse("web:caseload")).content.decode()
    assert "Safety</strong>" in html
    assert DOG[:60] in html
    assert "Communication need</strong>" not in html
