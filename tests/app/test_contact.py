"""How the person is contacted and what they need to communicate (the Accessible Information
Standard): the person changes it on their own page, staff caring for them change it as the
person tells them, and everyone caring for them reads it on the person summary."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.record import services
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db

NEEDS = "Deaf: uses British Sign Language; face me when you speak."


def _posted(**changes: Any) -> dict[str, Any]:
    return {
        "contact_method": "9",
        "phone": "07700 900 982",
        "email": "",
        "main_language": "q4",
        "interpreter_needed": "on",
        "preferred_written_format": "11",
        "accessibility_needs": NEEDS,
        **changes,
    }


def _summary(client: Client, person: Person) -> str:
    return client.get(reverse("web:person", args=[person.public_id])).content.decode()


def test_the_person_tells_everyone_caring_for_them_how_to_contact_them(person: Person) -> None:
    _, nurse_client = on_care_team(Discipline.DISTRICT_NURSE, person)
    own = signed_in_as_person(person)
    page = own.get(reverse("web:my-contact"))
    assert page.status_code == 200
    assert "To change your address, tell your GP practice." in page.content.decode()

    saved = own.post(reverse("web:my-contact"), _posted(), follow=True)

    assert "Saved. Everyone caring for you will see this." in saved.content.decode()
    person.refresh_from_db()
    assert (person.contact_method, person.phone, person.main_language) == (
        "9",
        "07700 900 982",
        "q4",
    )
    assert (person.interpreter_needed, person.preferred_written_format) == (True, "11")
    summary = _summary(nurse_client, person)
    assert "British Sign Language, <strong>needs an interpreter</strong>" in summary
    assert "<strong>Letters in large print</strong>" in summary
    assert NEEDS.replace("'", "&#x27;") in summary
    assert "Best way to contact: SMS. Telephone 07700 900 982" in summary
    assert AuditEvent.objects.filter(
        person_id=person.pk,
        what="contact details updated by the person: accessibility_needs, contact_method,"
        " interpreter_needed, main_language, phone, preferred_written_format",
    ).exists()
    assert AuditEvent.objects.filter(person_id=person.pk, what="own contact details").exists()


def test_staff_caring_for_the_person_change_it_as_the_person_tells_them(person: Person) -> None:
    _, client = on_care_team(Discipline.SOCIAL_WORKER, person)
    url = reverse("web:person-contact", args=[person.public_id])
    assert url in _summary(client, person)
    form = client.get(url).content.decode()
    assert "Their address comes from the national record" in form

    done = client.post(url, _posted(contact_method="4", email="ada@example.org", phone=""))

    assert done["Location"] == reverse("web:person", args=[person.public_id])
    person.refresh_from_db()
    assert (person.contact_method, person.email) == ("4", "ada@example.org")
    assert "Best way to contact: Email. Email ada@example.org" in _summary(client, person)
    assert AuditEvent.objects.filter(
        person_id=person.pk, what__startswith="contact details updated: "
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": ""}, "phone", "Enter a telephone number to be contacted that way"),
        ({"phone": "call me"}, "phone", "Enter a telephone number, like 01632 960 001"),
        ({"phone": "0123"}, "phone", "Enter a telephone number, like 01632 960 001"),
        ({"contact_method": "4"}, "email", "Enter an email address to be contacted by email"),
        ({"email": "ada@"}, "email", "Enter an email address in the correct format"),
        ({"contact_method": "99"}, "contact_method", "Choose a way to be contacted from the list"),
        ({"main_language": "xx"}, "main_language", "Choose a language from the list"),
        ({"main_language": ""}, "main_language", "Choose the main language"),
        ({"preferred_written_format": "14"}, "preferred_written_format", "Choose a format"),
        ({"accessibility_needs": "x" * 301}, "accessibility_needs", "300 characters or fewer"),
    ],
)
def test_bad_details_say_what_is_wrong_and_change_nothing(
    person: Person, changes: dict[str, Any], field: str, message: str
) -> None:
    before = (person.phone, person.email, person.contact_method, person.accessibility_needs)
    own = signed_in_as_person(person)
    refused = own.post(reverse("web:my-contact"), _posted(**changes))
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert message in " ".join(errors[field])
    person.refresh_from_db()
    assert (person.phone, person.email, person.contact_method, person.accessibility_needs) == before


def test_only_the_person_changes_their_own_and_never_their_address(person: Person) -> None:
    own = signed_in_as_person(person)
    assert person.user is not None
    with pytest.raises(ValidationError, match="cannot be changed here: address"):
        services.own_contact_update(by=person.user, address="1 Other Street")
    staff = factories.StaffFactory()
    assert signed_in(staff).get(reverse("web:my-contact")).status_code == 403
    stranger = signed_in(factories.StaffFactory(discipline=Discipline.GP))
    url = reverse("web:person-contact", args=[person.public_id])
    assert stranger.get(url).status_code == 403
    assert stranger.post(url, _posted()).status_code == 403
    person.refresh_from_db()
    assert person.phone != "07700 900 982"
    assert own.get(reverse("web:my-contact")).status_code == 200
