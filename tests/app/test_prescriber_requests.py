"""Requests to the prescriber from a reconciliation or a structured medication review, and
their answers (decision 0046)."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.conftest import asked_of_practice
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Staff
from wholecare.medicines import selectors, services
from wholecare.medicines.models import MedicinesReconciliation, PrescriberRequest
from wholecare.medicines.reconciliation import Decision
from wholecare.medicines.requests import Answer
from wholecare.record.models import Person, RecordEntry
from wholecare.record.services import (
    entry_enter_in_error,
    entry_show_to_person,
    entry_withhold_from_person,
)
from wholecare.record.vocabulary import Sensitivity

pytestmark = pytest.mark.django_db


def _reconcile_url(person: Person) -> str:
    return reverse("web:medicines-reconcile", args=[person.public_id])


def _answer_url(asked: PrescriberRequest) -> str:
    return reverse("web:prescriber-request", args=[asked.person.public_id, asked.public_id])


def test_the_page_offers_the_lists_organisations_and_the_registered_practice_first(
    gp: Staff, clinic: Staff, lists: Person
) -> None:
    practice = factories.OrganisationFactory(
        name="Riverside Surgery", kind=Organisation.Kind.GP_PRACTICE
    )
    lists.registered_practice = practice
    lists.save()
    _, client = on_care_team(Discipline.PHARMACIST, lists)
    form = client.get(_reconcile_url(lists)).context["form"]
    assert list(form.fields["asked_of_1"].choices) == [
        ("", "Nobody"),
        (
            practice.ods_code,
            "Riverside Surgery (nobody there cares for the person in Wholecare: ask them"
            " directly as well)",
        ),
        (gp.organisation.ods_code, gp.organisation.name),
        (clinic.organisation.ods_code, "Torbay Hospital heart failure clinic"),
    ]
    assert "asked_of_2" in form.fields


def test_a_correction_names_whose_prescriber_was_asked_and_nothing_is_saved_without(
    gp: Staff, lists: Person
) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    page = client.get(_reconcile_url(lists))
    posted = {
        "fingerprint": page.context["form"]["fingerprint"].value(),
        "decision_1": Decision.PRESCRIBER_ASKED,
        "note_1": "Not on GP list.",
        "asked_of_1": "Y99999",
        "decision_2": Decision.INTENDED,
        "note_2": "Doubled in clinic.",
        "checked_with": ["person"],
    }
    refused = client.post(_reconcile_url(lists), posted)
    assert refused.context["form"].errors["asked_of_1"] == [
        "Dapagliflozin 10mg tablets: choose whom to ask from the list"
    ]
    for asked_of, problem in [
        ({1: factories.OrganisationFactory().ods_code}, "choose whom to ask from the list"),
        ({}, "choose whose prescriber you asked to correct it"),
    ]:
        with pytest.raises(ValidationError) as error:
            services.reconcile(
                by=pharmacist.user,
                person=lists,
                fingerprint=posted["fingerprint"],
                found={1: ("prescriber-asked", "Not on GP list."), 2: ("intended", "Doubled.")},
                asked_of=asked_of,
                checked_with=["person"],
            )
        assert error.value.message_dict["asked_of_1"] == [f"Dapagliflozin 10mg tablets: {problem}"]
    chose_but_did_not_ask = client.post(
        _reconcile_url(lists),
        {**posted, "asked_of_1": gp.organisation.ods_code, "asked_of_2": gp.organisation.ods_code},
    )
    assert chose_but_did_not_ask.context["form"].errors["asked_of_2"] == [
        "Furosemide 40mg tablets: you chose whose prescriber to ask, but not that the prescriber"
        " was asked to correct it: choose that, or nobody"
    ]
    assert not MedicinesReconciliation.objects.exists()
    assert not PrescriberRequest.objects.exists()
    saved = client.post(_reconcile_url(lists), {**posted, "asked_of_1": gp.organisation.ods_code})
    assert saved.status_code == 302
    entry = MedicinesReconciliation.objects.get().entry
    assert (
        "   Found: Not intended: prescriber asked to correct it"
        f" (asked of {gp.organisation.name}). Not on GP list."
    ) in entry.text
    asked = PrescriberRequest.objects.get()
    assert (asked.kind, asked.medicine, asked.asked_of, asked.asked_in, asked.asked) == (
        "correction",
        "Dapagliflozin 10mg tablets",
        gp.organisation,
        entry,
        "Not on GP list.",
    )
    assert asked.as_listed == ["Taking: One a day (Torbay Hospital heart failure clinic)"]


def test_a_request_waits_on_the_organisation_asked_until_answered(gp: Staff, lists: Person) -> None:
    pharmacist, pharmacist_client = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    gp_client = signed_in(gp)
    caseload = gp_client.get(reverse("web:caseload"))
    assert [a.medicine for a in caseload.context["prescriber_requests"]] == [
        "Dapagliflozin 10mg tablets"
    ]
    assert f"Asked of {gp.organisation.name} about medicines" in caseload.content.decode()
    assert _answer_url(asked) in caseload.content.decode()
    assert AuditEvent.objects.filter(
        actor_user_id=gp.user.pk, person_id=lists.pk, what="requests to the prescriber"
    ).exists()
    summary = gp_client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert "Asked of prescribers and not yet answered" in summary
    assert _answer_url(asked) in summary
    # Whoever asked reads that it waits, and cannot answer for the practice.
    theirs = pharmacist_client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert f"to correct the list, asked of {gp.organisation.name} by" in theirs
    assert f'href="{_answer_url(asked)}"' not in theirs
    assert not pharmacist_client.get(reverse("web:caseload")).context["prescriber_requests"]
    theirs_to_withdraw = pharmacist_client.get(_answer_url(asked))
    assert theirs_to_withdraw.status_code == 200
    assert "form" not in theirs_to_withdraw.context
    _, nurse = on_care_team(Discipline.DISTRICT_NURSE, lists)
    assert nurse.get(_answer_url(asked)).status_code == 403


def test_the_practice_answers_and_the_loop_closes_on_the_timeline(gp: Staff, lists: Person) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    client = signed_in(gp)
    page = client.get(_answer_url(asked))
    assert page.status_code == 200
    assert "Started in clinic on 2 Nov; not on GP list." in page.content.decode()
    saved = client.post(_answer_url(asked), {"answer": Answer.DONE, "note": "Added to repeats."})
    assert saved.status_code == 302
    asked.refresh_from_db()
    assert asked.answer == Answer.DONE
    entry = asked.answer_entry
    assert entry is not None
    assert (entry.author, entry.title) == (
        gp,
        "Medicines correction: Dapagliflozin 10mg tablets corrected",
    )
    assert entry.text.splitlines()[1] == (
        "Answer: Corrected: our list now says what the person should take. Added to repeats."
    )
    assert f"Asked of {gp.organisation.name} by {pharmacist.display_name}" in entry.text
    assert not client.get(reverse("web:caseload")).context["prescriber_requests"]
    summary = client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert "Asked of prescribers and not yet answered" not in summary
    gone = client.get(_answer_url(asked), follow=True)
    assert "No request waits there for you" in gone.content.decode()
    with pytest.raises(ValidationError, match="already been answered"):
        services.request_answer(by=gp.user, request=asked, answer="done")


def test_a_list_that_stands_says_why(gp: Staff, lists: Person) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    client = signed_in(gp)
    for posted, field, error in [
        ({}, "answer", "Say whether your list has been corrected"),
        ({"answer": "maybe"}, "answer", "Say whether your list has been corrected"),
        (
            {"answer": Answer.NOT_DONE, "note": " "},
            "note",
            "Dapagliflozin 10mg tablets: say why your list stands, for whoever asked",
        ),
        ({"answer": Answer.DONE, "note": "x" * 1001}, "note", "1,000 characters"),
    ]:
        page = client.post(_answer_url(asked), posted)
        assert page.status_code == 200
        assert error in page.context["form"].errors[field][0]
    assert not RecordEntry.objects.filter(title__startswith="Medicines correction").exists()
    client.post(
        _answer_url(asked),
        {"answer": Answer.NOT_DONE, "note": "Clinic trial only: stops on 30 Nov."},
    )
    asked.refresh_from_db()
    assert asked.answer_entry is not None
    assert asked.answer_entry.title.endswith("not corrected")


def test_only_the_organisation_asked_answers_and_only_while_caring(
    gp: Staff, clinic: Staff, lists: Person
) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    with pytest.raises(AccessDenied, match=f"nurses of {gp.organisation.name} answer this request"):
        services.request_answer(by=clinic.user, request=asked, answer="done")
    colleague = factories.StaffFactory(discipline=Discipline.GP, organisation=gp.organisation)
    access_services.break_glass_open(
        by=colleague.user, person=lists, reason="Patient collapsed in surgery; no GP on team."
    )
    assert signed_in(colleague).get(_answer_url(asked)).status_code == 403
    receptionist = factories.StaffFactory(
        discipline=Discipline.ADMINISTRATOR, organisation=gp.organisation
    )
    factories.CareTeamMembershipFactory(person=lists, staff=receptionist)
    assert not signed_in(receptionist).get(reverse("web:caseload")).context["prescriber_requests"]
    assert not RecordEntry.objects.filter(title__startswith="Medicines correction").exists()


def test_an_answer_entered_in_error_asks_again(gp: Staff, lists: Person) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    services.request_answer(by=gp.user, request=asked, answer="done")
    asked.refresh_from_db()
    assert asked.answer_entry is not None
    entry_enter_in_error(by=gp.user, entry=asked.answer_entry, reason="Wrong patient's answer.")
    assert [a.pk for a in selectors.requests_to_answer(by=gp.user)[0]] == [asked.pk]
    services.request_answer(by=gp.user, request=asked, answer="not-done", note="Trial.")
    asked.refresh_from_db()
    assert asked.answer == Answer.NOT_DONE


def test_a_note_entered_in_error_withdraws_what_it_asked(gp: Staff, lists: Person) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    entry_enter_in_error(by=pharmacist.user, entry=asked.asked_in, reason="Another person's lists.")
    assert selectors.requests_to_answer(by=gp.user) == ([], 0)
    client: Client = signed_in(gp)
    assert client.get(_answer_url(asked)).status_code == 302
    with pytest.raises(ValidationError, match="entered in error"):
        services.request_answer(by=gp.user, request=asked, answer="done")


def test_the_caseload_lists_the_longest_waiting_first_and_counts_beyond(
    gp: Staff, lists: Person, monkeypatch: Any
) -> None:
    monkeypatch.setattr(selectors, "REQUESTS_SHOWN", 1)
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    first = asked_of_practice(pharmacist, lists, gp)
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=gp)
    factories.CareTeamMembershipFactory(person=other, staff=pharmacist)
    send_as(gp, medicine_taken(other, "Ramipril 5mg capsules"))
    send_as(pharmacist, medicine_taken(other, "Ramipril 2.5mg capsules"))
    compared = selectors.comparison(pharmacist, other, timezone.localdate())
    numbers = range(1, len(compared.medicines) + 1)
    services.reconcile(
        by=pharmacist.user,
        person=other,
        fingerprint=compared.fingerprint,
        found=dict.fromkeys(numbers, ("prescriber-asked", "Which strength?")),
        asked_of=dict.fromkeys(numbers, gp.organisation.ods_code),
        checked_with=["person"],
    )
    shown, total = selectors.requests_to_answer(by=gp.user)
    assert [a.pk for a in shown] == [first.pk]
    assert total == 3


@pytest.fixture
def taking(gp: Staff, person: Person) -> Person:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    for name in ("Tramadol 50mg capsules", "Metformin 500mg tablets"):
        send_as(gp, medicine_taken(person, name))
    return person


def test_a_review_asks_the_prescriber_to_make_the_change_agreed(gp: Staff, taking: Person) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, taking)
    url = reverse("web:medication-review", args=[taking.public_id])
    page = client.get(url)
    form = page.context["form"]
    assert [label for _, label in form.fields["asked_of_2"].choices] == [
        "Nobody: it needs no prescriber, or you make it yourself",
        gp.organisation.name,
    ]
    posted = {
        "fingerprint": form["fingerprint"].value(),
        "outcome_1": "continue",
        "asked_of_1": gp.organisation.ods_code,
        "outcome_2": "reduce",
        "how_2": "50mg twice a day for two weeks, then once a day; GP to change the repeat",
        "asked_of_2": "Y99999",
        "what_matters": "Less pain at night without feeling drowsy in the day.",
        "agreed_with_person": "yes",
    }
    refused = client.post(url, posted)
    assert refused.context["form"].errors["asked_of_2"] == [
        "Tramadol 50mg capsules: choose whom to ask from the list"
    ]
    refused = client.post(url, {**posted, "asked_of_2": gp.organisation.ods_code})
    assert refused.context["form"].errors["asked_of_1"] == [
        "Metformin 500mg tablets: a prescriber is asked to stop, reduce or change a medicine,"
        " not to continue it: choose nobody, or what was agreed"
    ]
    assert not PrescriberRequest.objects.exists()
    saved = client.post(url, {**posted, "asked_of_1": "", "asked_of_2": gp.organisation.ods_code})
    assert saved.status_code == 302
    asked = PrescriberRequest.objects.get()
    assert (asked.kind, asked.medicine, asked.asked_by, asked.asked) == (
        "change",
        "Tramadol 50mg capsules",
        pharmacist,
        "Reduce the dose. 50mg twice a day for two weeks, then once a day; GP to change the repeat",
    )
    assert f"2. Tramadol 50mg capsules: Reduce the dose (asked of {gp.organisation.name})" in (
        asked.asked_in.text
    )
    gp_client = signed_in(gp)
    page = gp_client.get(_answer_url(asked))
    assert "Has the change been made?" in page.content.decode()
    gp_client.post(
        _answer_url(asked),
        {"answer": Answer.NOT_DONE, "note": "Seen in surgery: she wants to wait until spring."},
    )
    asked.refresh_from_db()
    assert asked.answer_entry is not None
    assert asked.answer_entry.title == "Medicines change: Tramadol 50mg capsules not changed"
    assert "in the structured medication review of" in asked.answer_entry.text


def test_a_change_the_reviewer_makes_themselves_asks_nobody(gp: Staff, taking: Person) -> None:
    compared = selectors.comparison(gp, taking, timezone.localdate())
    services.medication_review_record(
        by=gp.user,
        person=taking,
        fingerprint=compared.fingerprint,
        agreed={1: ("continue", ""), 2: ("stop", "Stopped today; repeat removed.")},
        what_matters="Fewer tablets.",
        agreed_with_person=True,
    )
    assert not PrescriberRequest.objects.exists()


def test_whoever_asked_withdraws_a_request_saying_why(gp: Staff, lists: Person) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    mine = client.get(reverse("web:caseload"))
    assert [row.request for row in mine.context["my_requests"].waiting] == [asked]
    assert "Your requests to prescribers, waiting" in mine.content.decode()
    assert "asked today" in mine.content.decode()
    withdraw = reverse("web:prescriber-request-withdraw", args=[lists.public_id, asked.public_id])
    assert withdraw in client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert client.get(_answer_url(asked)).status_code == 200
    assert signed_in(gp).get(withdraw).status_code == 403
    with pytest.raises(AccessDenied):
        services.request_withdraw(by=gp.user, request=asked, reason="Not mine to withdraw.")
    refused = client.post(withdraw, {"reason": "  "})
    assert refused.context["form"].errors["reason"] == ["Say why you withdraw the request"]
    saved = client.post(withdraw, {"reason": "Practice added it when I telephoned."})
    assert saved.status_code == 302
    asked.refresh_from_db()
    entry = asked.withdrawal_entry
    assert entry is not None
    assert (entry.author, entry.title) == (
        pharmacist,
        "Medicines correction withdrawn: Dapagliflozin 10mg tablets",
    )
    assert entry.text.endswith(
        f"Withdrawn by {pharmacist.display_name}: Practice added it when I telephoned."
    )
    assert selectors.requests_to_answer(by=gp.user) == ([], 0)
    assert not client.get(reverse("web:caseload")).context["my_requests"].waiting
    for act in (
        lambda: services.request_withdraw(by=pharmacist.user, request=asked, reason="Again."),
        lambda: services.request_answer(by=gp.user, request=asked, answer="done"),
    ):
        with pytest.raises(ValidationError, match="already been answered or withdrawn"):
            act()
    entry_enter_in_error(by=pharmacist.user, entry=entry, reason="Withdrew the wrong request.")
    assert [a.pk for a in selectors.requests_to_answer(by=gp.user)[0]] == [asked.pk]


def test_a_colleague_covering_for_whoever_asked_withdraws_it(gp: Staff, lists: Person) -> None:
    """A pharmacist of the asker's organisation caring for the person finds the request on their
    caseload and withdraws it, resolved while the asker is away; nobody else of that
    organisation does, and nobody elsewhere sees it there."""
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    covering = factories.StaffFactory(
        discipline=Discipline.PHARMACIST, organisation=pharmacist.organisation
    )
    social_worker = factories.StaffFactory(
        discipline=Discipline.SOCIAL_WORKER, organisation=pharmacist.organisation
    )
    for colleague in (covering, social_worker):
        factories.CareTeamMembershipFactory(person=lists, staff=colleague)
    withdraw = reverse("web:prescriber-request-withdraw", args=[lists.public_id, asked.public_id])
    assert signed_in(social_worker).get(withdraw).status_code == 403
    with pytest.raises(AccessDenied, match="a colleague covering for them withdraws it"):
        services.request_withdraw(by=social_worker.user, request=asked, reason="Not mine.")
    client = signed_in(covering)
    caseload = client.get(reverse("web:caseload"))
    assert [row.request for row in caseload.context["my_requests"].waiting] == [asked]
    assert f"asked by {pharmacist.display_name}" in caseload.content.decode()
    elsewhere = factories.StaffFactory(discipline=Discipline.PHARMACIST)
    factories.CareTeamMembershipFactory(person=lists, staff=elsewhere)
    assert not selectors.my_requests(by=elsewhere.user).waiting
    not_caring = factories.StaffFactory(
        discipline=Discipline.PHARMACIST, organisation=pharmacist.organisation
    )
    assert not selectors.my_requests(by=not_caring.user).waiting
    assert withdraw in client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert client.post(withdraw, {"reason": "Practice confirmed it is added."}).status_code == 302
    asked.refresh_from_db()
    assert asked.withdrawal_entry is not None
    assert asked.withdrawal_entry.author == covering
    assert asked.withdrawal_entry.text.endswith(
        f"Withdrawn by {covering.display_name}: Practice confirmed it is added."
    )


def test_requests_made_before_each_was_shared_as_its_medicine_keep_their_note_s_readers(
    gp: Staff, lists: Person
) -> None:
    """Migration medicines 0005: a request made before decision 0048 is read by whoever read
    the note that asked it."""
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    RecordEntry.objects.filter(pk=asked.asked_in_id).update(
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY
    )
    migration = importlib.import_module(
        "wholecare.medicines.migrations.0005_prescriber_request_sensitivity"
    )
    migration.shared_as_the_note_that_asked(django_apps, None)
    asked.refresh_from_db()
    assert asked.sensitivity == Sensitivity.PSYCHOLOGICAL_THERAPY
    assert selectors.requests_to_answer(by=gp.user) == ([], 0)


def test_whoever_asked_reads_the_answer_on_their_caseload(gp: Staff, lists: Person) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    services.request_answer(
        by=gp.user, request=asked, answer="not-done", note="Clinic trial only: stops on 30 Nov."
    )
    page = client.get(reverse("web:caseload"))
    mine = page.context["my_requests"]
    assert (mine.waiting, mine.answered) == ([], [asked])
    html = page.content.decode()
    assert "Your requests to prescribers, answered" in html
    assert "Not corrected: our list stands as it is" in html
    assert AuditEvent.objects.filter(
        actor_user_id=pharmacist.user.pk,
        person_id=lists.pk,
        what="requests to the prescriber my colleagues and I made",
    ).exists()


def test_the_person_reads_what_waits_on_their_prescribers_and_can_chase_it(
    gp: Staff, lists: Person
) -> None:
    own = signed_in_as_person(lists, online_since=timezone.now() - dt.timedelta(days=1))
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    asked = asked_of_practice(pharmacist, lists, gp)
    mine = own.get(reverse("web:my-record")).content.decode()
    waiting = mine[mine.index('id="medicines-asked"') :][:1200]
    assert "Waiting on your prescribers:" in waiting
    assert (
        f"Dapagliflozin 10mg tablets: {pharmacist.display_name} asked {gp.organisation.name}"
        in waiting
    )
    assert "to correct your medicines list." in waiting
    assert f"ask {gp.organisation.name}." in waiting
    assert "Started in clinic" not in waiting
    entry_withhold_from_person(by=pharmacist.user, entry=asked.asked_in, reason="serious-harm")
    assert 'id="medicines-asked"' not in own.get(reverse("web:my-record")).content.decode()
    entry_show_to_person(by=pharmacist.user, entry=asked.asked_in)
    assert 'id="medicines-asked"' in own.get(reverse("web:my-record")).content.decode()
    services.request_answer(by=gp.user, request=asked, answer="done")
    assert 'id="medicines-asked"' not in own.get(reverse("web:my-record")).content.decode()
