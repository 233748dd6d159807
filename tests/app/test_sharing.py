"""The person's sharing decisions about their sensitive entries, recorded on the web (decision
0029): by staff caring for them, with them, or by the person from their own sign-in."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.app.signed_in import on_care_team, signed_in
from wholecare.access import services
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db

THERAPY = Sensitivity.PSYCHOLOGICAL_THERAPY


def _page(person: Person) -> str:
    return reverse("web:person-sharing", args=[person.public_id])


def _own(person: Person) -> tuple[User, Client]:
    """The person signed in to their own record."""
    user = factories.UserFactory()
    person.user = user
    person.save()
    client = Client()
    client.force_login(user)
    return user, client


def test_the_therapist_records_the_persons_consent_and_the_gp_then_reads_therapy_notes(
    person: Person,
) -> None:
    therapist, therapist_client = on_care_team(Discipline.HIGH_INTENSITY_THERAPIST, person)
    _, gp_client = on_care_team(Discipline.GP, person)
    note = factories.RecordEntryFactory(
        person=person, author=therapist, title="Session 4: worry diary", sensitivity=THERAPY
    )
    summary = reverse("web:person", args=[person.public_id])
    assert note.title not in gp_client.get(summary).content.decode()
    page = therapist_client.get(_page(person)).content.decode()
    assert "The usual rule: they give this care" in page

    done = therapist_client.post(
        _page(person),
        {"sensitivity": THERAPY.value, "discipline": "gp", "decision": "permit"},
        follow=True,
    )

    assert done.redirect_chain[-1][0] == _page(person)
    shown = done.content.decode()
    assert "Recorded: GP may read psychological therapy notes." in shown
    assert f"recorded by {therapist.display_name}, High-intensity therapist" in shown
    consent = SharingConsent.objects.get(person=person)
    assert (consent.sensitivity, consent.discipline, consent.decision, consent.recorded_by) == (
        THERAPY.value,
        "gp",
        "permit",
        therapist,
    )
    assert note.title in gp_client.get(summary).content.decode()
    assert AuditEvent.objects.filter(
        person_id=person.pk, what="sharing of psychological therapy note with GP: Share"
    ).exists()
    assert AuditEvent.objects.filter(person_id=person.pk, what="sharing decisions").exists()


def test_the_person_decides_who_reads_their_therapy_notes_but_not_safeguarding(
    person: Person,
) -> None:
    user, client = _own(person)
    page = client.get(reverse("web:my-record-sharing")).content.decode()
    assert "Who may read your notes" in page
    assert 'value="psychological-therapy"' in page
    assert 'value="sexual-health"' in page
    assert 'value="safeguarding"' not in page
    assert "decided with your GP or social worker" in page

    done = client.post(
        reverse("web:my-record-sharing"),
        {"sensitivity": "psychological-therapy", "discipline": "therapist", "decision": "deny"},
        follow=True,
    )
    assert "Recorded: High-intensity therapist may not read psychological therapy notes." in (
        done.content.decode()
    )
    consent = SharingConsent.objects.get(person=person)
    assert (consent.decision, consent.recorded_by) == ("deny", None)
    assert "You decided" in done.content.decode()

    refused = client.post(
        reverse("web:my-record-sharing"),
        {"sensitivity": "safeguarding", "discipline": "social-worker", "decision": "deny"},
    )
    assert "Choose which notes the decision is about, from the list" in refused.content.decode()
    assert SharingConsent.objects.filter(person=person).count() == 1
    with pytest.raises(ValidationError, match="decided with your GP or social worker"):
        services.sharing_consent_record(
            by=user,
            person=person,
            sensitivity=Sensitivity.SAFEGUARDING,
            discipline=Discipline.SOCIAL_WORKER,
            decision=SharingConsent.Decision.DENY,
        )


def test_staff_record_a_safeguarding_decision_made_with_the_person(person: Person) -> None:
    social_worker, client = on_care_team(Discipline.SOCIAL_WORKER, person)
    client.post(
        _page(person), {"sensitivity": "safeguarding", "discipline": "gp", "decision": "deny"}
    )
    assert SharingConsent.objects.get(person=person).recorded_by == social_worker


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        ({"discipline": "gp", "decision": "permit"}, "Choose which notes the decision is about"),
        ({"sensitivity": "normal", "discipline": "gp", "decision": "permit"}, "from the list"),
        ({"sensitivity": "safeguarding", "decision": "permit"}, "Choose who the decision is about"),
        (
            {"sensitivity": "safeguarding", "discipline": "analyst", "decision": "permit"},
            "Choose who the decision is about, from the list",
        ),
        ({"sensitivity": "safeguarding", "discipline": "gp"}, "Choose whether to share them"),
        (
            {"sensitivity": "safeguarding", "discipline": "gp", "decision": "maybe"},
            "Choose whether to share them",
        ),
    ],
)
def test_a_bad_decision_says_what_is_wrong_and_records_nothing(
    person: Person, posted: dict[str, str], error: str
) -> None:
    _, client = on_care_team(Discipline.GP, person)
    page = client.post(_page(person), posted)
    assert page.status_code == 200
    assert error in page.content.decode()
    assert "There is a problem" in page.content.decode()
    assert not SharingConsent.objects.exists()


def test_a_decision_about_staff_who_give_no_direct_care_is_refused(person: Person) -> None:
    gp, _ = on_care_team(Discipline.GP, person)
    with pytest.raises(ValidationError, match="give no direct care"):
        services.sharing_consent_record(
            by=gp.user,
            person=person,
            sensitivity=THERAPY,
            discipline=Discipline.ANALYST,
            decision=SharingConsent.Decision.PERMIT,
        )


def test_without_a_relationship_nothing_is_shown_or_recorded(person: Person) -> None:
    stranger = signed_in(factories.StaffFactory(discipline=Discipline.GP))
    assert stranger.get(_page(person)).status_code == 403
    posted = {"sensitivity": THERAPY.value, "discipline": "gp", "decision": "permit"}
    assert stranger.post(_page(person), posted).status_code == 403
    assert not SharingConsent.objects.exists()
    assert signed_in(factories.StaffFactory()).get(
        reverse("web:my-record-sharing")
    ).status_code == (403)
