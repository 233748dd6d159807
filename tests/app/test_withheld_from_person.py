"""Staff caring for a person keep an entry out of the person's own record when reading it could
cause serious harm or reveal someone else's information, saying which; whoever withheld it, or
wrote it, may let the person read it again (decision 0040)."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import exports, selectors, services
from wholecare.record.models import Person, RecordEntry
from wholecare.record.vocabulary import Sensitivity, WithheldFromPerson

pytestmark = pytest.mark.django_db

TITLE = "Home visit: daughter present"


@pytest.fixture
def online(person: Person) -> Client:
    """The person's own client: they have used their record online since a year ago."""
    return signed_in_as_person(person, online_since=timezone.now() - dt.timedelta(days=365))


@pytest.fixture
def nurse(person: Person) -> Staff:
    staff: Staff = on_care_team(Discipline.DISTRICT_NURSE, person)[0]
    return staff


@pytest.fixture
def entry(person: Person, nurse: Staff) -> RecordEntry:
    return services.entry_create(
        by=nurse.user, person=person, kind="encounter", title=TITLE, text="Daughter says she drinks"
    )


def _access(entry: RecordEntry) -> str:
    return reverse(
        "web:entry-person-access",
        kwargs={"public_id": entry.person.public_id, "entry_id": entry.pk},
    )


def _summary(client: Client, person: Person) -> str:
    response = client.get(reverse("web:person", kwargs={"public_id": person.public_id}))
    return response.content.decode()


def _person_reads(person: Person) -> list[str]:
    person.refresh_from_db()
    assert person.user is not None
    return [e.title for e in selectors.my_notes(by=person.user).entries]


def test_a_colleague_withholds_an_entry_with_a_reason_and_the_person_no_longer_reads_it(
    person: Person, online: Client, entry: RecordEntry
) -> None:
    gp, client = on_care_team(Discipline.GP, person)
    assert _person_reads(person) == [TITLE]
    summary = _summary(client, person)
    assert f"{person.given_name} can read this online" in summary
    assert _access(entry) in summary
    assert "Everyone caring for" in client.get(_access(entry)).content.decode()
    refused = client.post(_access(entry), {})
    assert "Choose why the person should not read this entry" in refused.content.decode()
    assert client.post(_access(entry), {"reason": "mistaken"}).status_code == 200
    response = client.post(_access(entry), {"reason": WithheldFromPerson.THIRD_PARTY.value})
    assert response.status_code == 302
    assert _person_reads(person) == []
    withheld = RecordEntry.objects.get(pk=entry.pk)
    assert (withheld.withheld_from_person, withheld.withheld_from_person_by) == (
        WithheldFromPerson.THIRD_PARTY,
        gp,
    )
    assert AuditEvent.objects.filter(
        person_id=person.pk,
        action="update",
        what=f"encounter: {TITLE} withheld from the person",
        why=WithheldFromPerson.THIRD_PARTY.label,
    ).exists()
    exported = exports.person_record(by=gp.user, public_id=person.public_id)
    assert [e["withheld_from_person"] for e in exported["entries"]] == ["third-party"]
    summary = _summary(client, person)
    assert f"Withheld from {person.given_name}" in summary
    assert "Someone else&#x27;s information" in summary
    assert f"{person.given_name} can read this online" not in summary
    with pytest.raises(ValidationError, match="already withheld"):
        services.entry_withhold_from_person(
            by=gp.user, entry=withheld, reason=WithheldFromPerson.SERIOUS_HARM
        )


def test_whoever_withheld_it_or_wrote_it_lets_the_person_read_it_again(
    person: Person, online: Client, entry: RecordEntry, nurse: Staff
) -> None:
    gp, gp_client = on_care_team(Discipline.GP, person)
    services.entry_withhold_from_person(
        by=gp.user, entry=entry, reason=WithheldFromPerson.SERIOUS_HARM
    )
    social_worker, other = on_care_team(Discipline.SOCIAL_WORKER, person)
    refused = other.get(_access(entry))
    assert refused.status_code == 403
    assert "who withheld it" in refused.content.decode()
    assert other.post(_access(entry)).status_code == 403
    with pytest.raises(AccessDenied, match="Only whoever withheld"):
        services.entry_show_to_person(by=social_worker.user, entry=entry)
    assert "Check it is safe first" in gp_client.get(_access(entry)).content.decode()
    assert gp_client.post(_access(entry)).status_code == 302
    assert _person_reads(person) == [TITLE]
    assert AuditEvent.objects.filter(
        person_id=person.pk, what=f"encounter: {TITLE} shown to the person"
    ).exists()
    with pytest.raises(ValidationError, match="can already read"):
        services.entry_show_to_person(by=gp.user, entry=entry)
    services.entry_withhold_from_person(
        by=gp.user, entry=entry, reason=WithheldFromPerson.SERIOUS_HARM
    )
    services.entry_show_to_person(by=nurse.user, entry=entry)
    assert _person_reads(person) == [TITLE]


def test_breaking_glass_changes_nothing_the_person_reads(
    person: Person, online: Client, entry: RecordEntry
) -> None:
    paramedic = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    access_services.break_glass_open(
        by=paramedic.user, person=person, reason="Found collapsed at home, no handover"
    )
    client = signed_in(paramedic)
    assert _access(entry) not in _summary(client, person)
    refused = client.get(_access(entry))
    assert refused.status_code == 403
    assert "Access by breaking glass cannot change" in refused.content.decode()
    assert client.post(_access(entry), {"reason": "serious-harm"}).status_code == 403
    with pytest.raises(AccessDenied, match="breaking glass"):
        services.entry_withhold_from_person(
            by=paramedic.user, entry=entry, reason=WithheldFromPerson.SERIOUS_HARM
        )
    assert _person_reads(person) == [TITLE]


def test_the_writer_withholds_a_new_entry_as_they_write_it(
    person: Person, online: Client, nurse: Staff
) -> None:
    client = signed_in(nurse)
    new = reverse("web:entry-new", kwargs={"public_id": person.public_id})
    form = client.get(new).content.decode()
    assert f"Can {person.given_name} read this entry in their record online?" in form
    response = client.post(
        new,
        {
            "kind": "note",
            "title": "Call from neighbour",
            "text": "Neighbour worried about visitors at night.",
            "sensitivity": Sensitivity.NORMAL.value,
            "withheld_from_person": WithheldFromPerson.THIRD_PARTY.value,
        },
    )
    assert response.status_code == 302
    written = RecordEntry.objects.get(title="Call from neighbour")
    assert (written.withheld_from_person, written.withheld_from_person_by) == (
        WithheldFromPerson.THIRD_PARTY,
        nurse,
    )
    assert AuditEvent.objects.filter(
        what="note: Call from neighbour (withheld from the person: someone else's information)"
    ).exists()
    assert _person_reads(person) == []
    with pytest.raises(ValidationError) as error:
        services.entry_create(
            by=nurse.user, person=person, kind="note", title="T", text="", withheld_from_person="x"
        )
    assert "withheld_from_person" in error.value.message_dict


def test_the_question_is_not_asked_of_someone_without_online_access(
    person: Person, nurse: Staff
) -> None:
    client = signed_in(nurse)
    new = reverse("web:entry-new", kwargs={"public_id": person.public_id})
    assert "in their record online?" not in client.get(new).content.decode()
    posted = {"kind": "note", "title": "Visit", "sensitivity": "normal"}
    assert client.post(new, {**posted, "withheld_from_person": "serious-harm"}).status_code == 302
    assert RecordEntry.objects.get(title="Visit").withheld_from_person == ""
    services.entry_create(by=nurse.user, person=person, kind="note", title="Seen", text="")
    assert f"{person.given_name} can read this online" not in _summary(client, person)


def test_the_note_of_how_a_referral_ended_can_be_withheld_as_it_is_closed(
    person: Person, online: Client
) -> None:
    service = factories.ServiceFactory(name="Falls clinic")
    physio = factories.StaffFactory(discipline=Discipline.PHYSIOTHERAPIST)
    physio.services.add(service)
    referral = factories.ReferralFactory(person=person, service=service)
    client = signed_in(physio)
    close = reverse(
        "web:referral-close", kwargs={"public_id": person.public_id, "referral_id": referral.pk}
    )
    assert "read the note of how the referral ended" in client.get(close).content.decode()
    response = client.post(
        close,
        {
            "outcome": "not-accepted",
            "outcome_note": "Son reports repeated falls after drinking.",
            "withheld_from_person": WithheldFromPerson.SERIOUS_HARM.value,
        },
    )
    assert response.status_code == 302
    note = RecordEntry.objects.get(person=person, service=service)
    assert note.withheld_from_person == WithheldFromPerson.SERIOUS_HARM
    assert note.withheld_from_person_by == physio
    assert _person_reads(person) == []


def test_an_entry_the_user_may_not_read_is_not_found(
    person: Person, online: Client, nurse: Staff, gp: Any
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    therapy = factories.RecordEntryFactory(
        person=person, sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY
    )
    response = signed_in(gp).get(_access(therapy))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:person", kwargs={"public_id": person.public_id})
    assert RecordEntry.objects.get(pk=therapy.pk).withheld_from_person == ""


def _notes_online(person: Person) -> str:
    return reverse("web:person-notes-online", kwargs={"public_id": person.public_id})


def test_all_notes_stop_being_shown_online_until_whoever_stopped_them_or_a_gp_shows_them(
    person: Person, online: Client, entry: RecordEntry, nurse: Staff
) -> None:
    client = signed_in(nurse)
    assert _notes_online(person) in _summary(client, person)
    assert "will no longer read any" in client.get(_notes_online(person)).content.decode()
    refused = client.post(_notes_online(person), {"reason": "  "})
    assert "Say why their notes should not be shown online" in refused.content.decode()
    reason = "Says her partner reads her phone"
    assert client.post(_notes_online(person), {"reason": reason}).status_code == 302
    assert _person_reads(person) == []
    page = online.get(reverse("web:my-notes")).content.decode()
    assert "not shown online at the moment" in page
    assert TITLE not in page
    summary = _summary(client, person)
    assert f"{person.given_name} does not read these notes online." in summary
    assert reason in summary
    assert f"{person.given_name} can read this online" not in summary
    assert _access(entry) in summary, "entries can still be withheld before they are shown again"
    with pytest.raises(ValidationError, match="already not shown"):
        services.notes_online_pause(by=nurse.user, person=person, reason="Again")
    social_worker, other = on_care_team(Discipline.SOCIAL_WORKER, person)
    assert other.get(_notes_online(person)).status_code == 403
    with pytest.raises(AccessDenied, match="or a GP caring for them"):
        services.notes_online_resume(by=social_worker.user, person=person)
    gp, gp_client = on_care_team(Discipline.GP, person)
    assert "Check it is safe first" in gp_client.get(_notes_online(person)).content.decode()
    assert gp_client.post(_notes_online(person)).status_code == 302
    assert _person_reads(person) == [TITLE]
    assert list(
        AuditEvent.objects.filter(person_id=person.pk, what__startswith="notes and letters")
        .order_by("pk")
        .values_list("what", "why")
    ) == [
        ("notes and letters no longer shown to the person online", reason),
        ("notes and letters shown to the person online again", ""),
    ]
    with pytest.raises(ValidationError, match="already shown"):
        services.notes_online_resume(by=gp.user, person=person)


def test_breaking_glass_does_not_stop_notes_being_shown_online(
    person: Person, online: Client, entry: RecordEntry
) -> None:
    paramedic = factories.StaffFactory(discipline=Discipline.DISTRICT_NURSE)
    access_services.break_glass_open(
        by=paramedic.user, person=person, reason="Found collapsed at home, no handover"
    )
    client = signed_in(paramedic)
    assert _notes_online(person) not in _summary(client, person)
    assert client.post(_notes_online(person), {"reason": "Worried"}).status_code == 403
    with pytest.raises(AccessDenied, match="breaking glass"):
        services.notes_online_pause(by=paramedic.user, person=person, reason="Worried")
    assert _person_reads(person) == [TITLE]
