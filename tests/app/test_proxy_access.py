"""A carer or relative reads a person's record online on their behalf (proxy access), given by
staff caring for the person; the person sees each read and ends it when they choose (decision
0041)."""

import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent, ProxyAccess
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import services
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity, WithheldFromPerson

pytestmark = pytest.mark.django_db

DAUGHTER = "jo.bray@example.org"


@pytest.fixture
def daughter() -> User:
    user: User = factories.UserFactory(email=DAUGHTER, first_name="Jo", last_name="Bray")
    return user


@pytest.fixture
def nurse(person: Person) -> Staff:
    staff: Staff = on_care_team(Discipline.DISTRICT_NURSE, person)[0]
    return staff


def _proxies(person: Person) -> str:
    return reverse("web:person-proxies", kwargs={"public_id": person.public_id})


def _grant(by: Staff, person: Person, *, reads_notes: bool = False) -> ProxyAccess:
    return access_services.proxy_access_grant(
        by=by.user,
        person=person,
        email=DAUGHTER,
        relationship="Daughter",
        reads_notes=reads_notes,
        basis=ProxyAccess.Basis.PERSON_AGREED,
        identity_checked=True,
    )


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_nurse_lets_a_daughter_read_her_mothers_record_and_the_mother_sees_it(
    person: Person, nurse: Staff, daughter: User
) -> None:
    mother = signed_in_as_person(person)
    factories.ConditionFactory(person=person, snomed_code="44054006")
    client = signed_in(nurse)
    assert (
        _proxies(person)
        in client.get(
            reverse("web:person", kwargs={"public_id": person.public_id})
        ).content.decode()
    )
    refused = client.post(
        _proxies(person),
        {"email": DAUGHTER, "relationship": "Daughter", "reads_notes": "no", "basis": "x"},
    )
    page = refused.content.decode()
    assert "Choose why they may act for the person" in page
    assert "Check who they are before they can act for the person" in page
    assert not ProxyAccess.objects.exists()
    given = client.post(
        _proxies(person),
        {
            "email": DAUGHTER.upper(),
            "relationship": "Daughter",
            "reads_notes": "no",
            "basis": ProxyAccess.Basis.PERSON_AGREED,
            "identity_checked": "on",
        },
    )
    assert given.status_code == 302
    access = ProxyAccess.objects.get()
    assert (access.proxy, access.granted_by, access.reads_notes) == (daughter, nurse, False)
    assert AuditEvent.objects.filter(
        person_id=person.pk,
        action="create",
        what="proxy access given to Jo Bray (Daughter)",
        why=ProxyAccess.Basis.PERSON_AGREED.label,
    ).exists()

    carer = _as(daughter)
    assert carer.get(reverse("web:home"))["Location"] == reverse("web:people-i-help")
    helped = carer.get(reverse("web:people-i-help")).content.decode()
    record_url = reverse("web:proxy-record", kwargs={"public_id": person.public_id})
    assert record_url in helped
    record = carer.get(record_url).content.decode()
    assert f"You are reading {person.full_name}" in record
    assert "Type 2 diabetes" in record
    assert "Change how to contact me" not in record
    assert reverse("web:proxy-notes", kwargs={"public_id": person.public_id}) not in record
    notes = reverse("web:proxy-notes", kwargs={"public_id": person.public_id})
    assert carer.get(notes).status_code == 403

    history = mother.get(reverse("web:my-record-access")).content.decode()
    assert "record, read by their proxy (Daughter)" in history
    assert "Jo Bray" in mother.get(reverse("web:my-proxies")).content.decode()


def test_a_proxy_reads_the_notes_written_since_their_access_began_and_never_what_is_withheld(
    person: Person, nurse: Staff, daughter: User
) -> None:
    before = factories.RecordEntryFactory(person=person, title="Visit before access")
    RecordEntry.objects.filter(pk=before.pk).update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )
    _grant(nurse, person, reads_notes=True)

    def write(title: str, **fields: Any) -> None:
        services.entry_create(
            by=nurse.user, person=person, kind="note", title=title, text="", **fields
        )

    write("Visit after access")
    write("Strategy meeting", sensitivity=Sensitivity.SAFEGUARDING)
    write("Neighbour called", withheld_from_person=WithheldFromPerson.THIRD_PARTY)
    carer = _as(daughter)
    notes = reverse("web:proxy-notes", kwargs={"public_id": person.public_id})
    page = carer.get(notes).content.decode()
    assert "Visit after access" in page
    for hidden in ("Visit before access", "Strategy meeting", "Neighbour called"):
        assert hidden not in page
    assert AuditEvent.objects.filter(
        person_id=person.pk, what="notes and letters, read by their proxy (Daughter)"
    ).exists()
    services.notes_online_pause(by=nurse.user, person=person, reason="Concern about coercion")
    paused = carer.get(notes).content.decode()
    assert "not shown online at the moment" in paused
    assert "Visit after access" not in paused


def test_the_writer_is_asked_and_told_who_reads_notes_on_the_persons_behalf(
    person: Person, nurse: Staff, daughter: User
) -> None:
    new = reverse("web:entry-new", kwargs={"public_id": person.public_id})
    client = signed_in(nurse)
    assert "in their record online?" not in client.get(new).content.decode()
    _grant(nurse, person, reads_notes=True)
    form = client.get(new).content.decode()
    assert "in their record online?" in form
    assert f"Jo Bray (daughter) also reads {person.given_name}'s notes on their behalf" in form


def test_the_person_the_proxy_or_the_care_team_end_it_and_breaking_glass_cannot(
    person: Person, nurse: Staff, daughter: User
) -> None:
    mother = signed_in_as_person(person)
    record_url = reverse("web:proxy-record", kwargs={"public_id": person.public_id})
    access = _grant(nurse, person)
    assert mother.post(reverse("web:my-proxies"), {"proxy": str(access.pk)}).status_code == 302
    again = mother.post(reverse("web:my-proxies"), {"proxy": str(access.pk)}, follow=True)
    assert "That access has already ended." in again.content.decode()
    assert _as(daughter).get(record_url).status_code == 403
    assert ProxyAccess.objects.get(pk=access.pk).ended_by == person.user

    _grant(nurse, person)
    carer = _as(daughter)
    stop = reverse("web:proxy-stop", kwargs={"public_id": person.public_id})
    assert carer.post(stop).status_code == 302
    assert carer.get(record_url).status_code == 403

    access = _grant(nurse, person)
    end = reverse(
        "web:person-proxy-end", kwargs={"public_id": person.public_id, "proxy_id": access.pk}
    )
    client = signed_in(nurse)
    assert "Say why their access ends" in client.post(end, {"reason": ""}).content.decode()
    assert client.post(end, {"reason": "Mother asked, by phone"}).status_code == 302
    assert AuditEvent.objects.filter(
        what="proxy access of Jo Bray (Daughter) ended", why="Mother asked, by phone"
    ).exists()
    with pytest.raises(ValidationError, match="already ended"):
        access_services.proxy_access_end(by=nurse.user, access=access, reason="Again")

    access = _grant(nurse, person)
    paramedic = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    access_services.break_glass_open(
        by=paramedic.user, person=person, reason="Found collapsed at home, no handover"
    )
    intruder = signed_in(paramedic)
    assert "Access by breaking glass cannot" in intruder.get(_proxies(person)).content.decode()
    with pytest.raises(AccessDenied, match="breaking glass"):
        access_services.proxy_access_end(by=paramedic.user, access=access, reason="Not needed")
    with pytest.raises(AccessDenied, match="breaking glass"):
        access_services.proxy_access_grant(
            by=paramedic.user,
            person=person,
            email="someone@example.org",
            relationship="Neighbour",
            reads_notes=False,
            basis=ProxyAccess.Basis.PERSON_AGREED,
            identity_checked=True,
        )


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("", "Enter the email address they sign in to Wholecare with"),
        ("nobody@example.org", "No Wholecare account signs in with that email address"),
        ("twice@example.org", "More than one account signs in with that email address"),
        ("staff@example.org", "That is a member of staff's work account"),
        ("self@example.org", "That is the person's own account"),
        (DAUGHTER, "They can already act for the person"),
    ],
)
def test_a_grant_to_the_wrong_account_says_why_and_gives_nothing(
    person: Person, nurse: Staff, daughter: User, email: str, problem: str
) -> None:
    factories.UserFactory(email="twice@example.org")
    factories.UserFactory(email="TWICE@example.org")
    factories.StaffFactory(user__email="staff@example.org")
    person.user = factories.UserFactory(email="self@example.org")
    person.save()
    _grant(nurse, person)
    with pytest.raises(ValidationError) as refused:
        access_services.proxy_access_grant(
            by=nurse.user,
            person=person,
            email=email,
            relationship="Son",
            reads_notes=False,
            basis=ProxyAccess.Basis.BEST_INTERESTS,
            identity_checked=True,
        )
    assert problem in refused.value.message_dict["email"][0]
    assert ProxyAccess.objects.count() == 1


def test_a_proxy_reads_nothing_of_anyone_else(person: Person, nurse: Staff, daughter: User) -> None:
    _grant(nurse, person)
    carer = _as(daughter)
    stranger = factories.PersonFactory()
    for public_id in (stranger.public_id, uuid.uuid4()):
        for name in ("web:proxy-record", "web:proxy-notes"):
            assert carer.get(reverse(name, kwargs={"public_id": public_id})).status_code == 403
    assert carer.get(reverse("web:my-record")).status_code == 403
    assert carer.get(_proxies(person)).status_code == 403


def test_two_colleagues_giving_the_same_access_at_once_are_told_not_failed(
    person: Person, nurse: Staff, daughter: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second of two simultaneous grants passes the check before the first is saved: the
    database's constraint stops it, and it is told so by field, the first kept."""
    _grant(nurse, person)
    monkeypatch.setattr(access_services, "_proxy_account", lambda email, person: (daughter, ""))
    with pytest.raises(ValidationError) as refused:
        _grant(nurse, person)
    assert refused.value.message_dict == {"email": ["They can already act for the person"]}
    assert ProxyAccess.objects.filter(ended_at__isnull=True).count() == 1
