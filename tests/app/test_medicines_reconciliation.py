"""Reconciling the medicines lists other systems sent, with the person (decision 0042)."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation
from wholecare.medicines import selectors, services
from wholecare.medicines.models import (
    MedicinesReconciliation,
    PrescriberRequest,
    ReconciledMedicine,
)
from wholecare.medicines.reconciliation import Decision
from wholecare.record.models import Person, RecordEntry
from wholecare.record.services import entry_enter_in_error, entry_withhold_from_person

pytestmark = pytest.mark.django_db

PSY = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"},
]


@pytest.fixture
def lists(gp: Any, person: Person) -> Person:
    """The GP practice's list and the hospital's, disagreeing on three medicines of four."""
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    hospital = factories.StaffFactory(
        discipline=Discipline.PHARMACIST,
        organisation=factories.OrganisationFactory(
            name="Torbay Hospital", kind=Organisation.Kind.ACUTE_TRUST
        ),
    )
    factories.CareTeamMembershipFactory(person=person, staff=hospital)
    send_as(gp, medicine_taken(person, "Furosemide 40mg tablets", dosage="One each morning"))
    send_as(gp, medicine_taken(person, "Bisoprolol 2.5mg tablets"))
    send_as(gp, medicine_taken(person, "Aspirin 75mg dispersible tablets"))
    send_as(hospital, medicine_taken(person, "Furosemide 40mg tablets", dosage="Two each morning"))
    send_as(hospital, medicine_taken(person, "Bisoprolol 2.5mg tablets", status="stopped"))
    send_as(hospital, medicine_taken(person, "Aspirin 75mg  dispersible tablets"))
    send_as(hospital, medicine_taken(person, "Dapagliflozin 10mg tablets"))
    return person


def _url(person: Person) -> str:
    return reverse("web:medicines-reconcile", args=[person.public_id])


def _form(page: Any) -> dict[str, Any]:
    """What the page would post unchanged: its fingerprint and its choices made for it."""
    form = page.context["form"]
    return {
        name: value
        for name, value in form.initial.items()
        | {(n, f.initial) for n, f in form.fields.items() if f.initial is not None}
        if value is not None
    }


def test_the_lists_are_set_side_by_side_with_what_differs(lists: Person) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    page = client.get(_url(lists))
    assert page.status_code == 200
    comparison = page.context["comparison"]
    assert comparison.sources[1] == "Torbay Hospital"
    assert comparison.sources[0].startswith("Test Medical Centre")
    assert [(m.name, [d.value for d in m.differences]) for m in comparison.medicines] == [
        ("Aspirin 75mg dispersible tablets", []),
        ("Bisoprolol 2.5mg tablets", ["status"]),
        ("Dapagliflozin 10mg tablets", ["not-in-every-list"]),
        ("Furosemide 40mg tablets", ["dosage"]),
    ]
    html = page.content.decode()
    for tag in ("Status differs", "Dosage differs", "Not in every list", "Lists agree"):
        assert tag in html
    assert "<strong>not listed</strong>" in html
    assert AuditEvent.objects.filter(
        actor_user_id=pharmacist.user.pk, person_id=lists.pk, what="medicines reconciliation"
    ).exists()


def test_a_reconciliation_is_saved_with_the_timeline_note_and_shown_on_the_summary(
    gp: Any, lists: Person
) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    posted = {
        **_form(client.get(_url(lists))),
        "decision_2": Decision.INTENDED,
        "note_2": "Stopped in hospital: heart rate 48.",
        "decision_3": Decision.PRESCRIBER_ASKED,
        "note_3": "Started in clinic; asked the practice to add it.",
        "asked_of_3": gp.organisation.ods_code,
        "decision_4": Decision.TO_FOLLOW_UP,
        "note_4": "Takes one each morning; clinic letter says two. Ringing the clinic.",
        "checked_with": ["person", "own-medicines"],
        "others": "Senna 7.5mg tablets, two at night\n",
        "note": "Blister pack from the pharmacy on Friday.",
    }
    saved = client.post(_url(lists), posted)
    assert saved.status_code == 302, saved.context["form"].errors
    reconciliation = MedicinesReconciliation.objects.get(person=lists)
    assert reconciliation.reconciled_by == pharmacist
    assert reconciliation.others == ["Senna 7.5mg tablets, two at night"]
    assert reconciliation.checked_with == ["person", "own-medicines"]
    assert [
        (m.position, m.name, m.decision, m.differences)
        for m in ReconciledMedicine.objects.filter(reconciliation=reconciliation)
    ] == [
        (1, "Aspirin 75mg dispersible tablets", "as-listed", []),
        (2, "Bisoprolol 2.5mg tablets", "intended", ["status"]),
        (3, "Dapagliflozin 10mg tablets", "prescriber-asked", ["not-in-every-list"]),
        (4, "Furosemide 40mg tablets", "to-follow-up", ["dosage"]),
    ]
    assert [(r.medicine, r.asked_of) for r in PrescriberRequest.objects.all()] == [
        ("Dapagliflozin 10mg tablets", gp.organisation)
    ]
    entry = reconciliation.entry
    assert (entry.title, entry.author, entry.kind) == (
        "Medicines reconciled: 3 differences, 1 to follow up",
        pharmacist,
        RecordEntry.Kind.NOTE,
    )
    assert "   Found: Difference intended. Stopped in hospital: heart rate 48." in entry.text
    assert "   Stopped (Torbay Hospital)" in entry.text
    assert "Checked with: The person; Their own medicines, packs or charts" in entry.text
    summary = client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert "3 differences, <strong>1 to follow up</strong>" in summary
    assert ", Torbay Hospital, updated" in summary
    assert "A list has changed since" not in summary
    assert "Medicines reconciled: 3 differences, 1 to follow up" in summary


def test_each_medicine_answer_is_checked_and_nothing_is_saved_while_one_is_wrong(
    lists: Person,
) -> None:
    _, client = on_care_team(Discipline.GP, lists)
    posted = {
        **_form(client.get(_url(lists))),
        "decision_2": Decision.AS_LISTED,
        "decision_3": Decision.INTENDED,
        "note_3": "  ",
        "decision_4": "made-up",
    }
    page = client.post(_url(lists), posted)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert errors["decision_4"] == ["Furosemide 40mg tablets: choose what you found"]
    assert MedicinesReconciliation.objects.count() == 0
    posted["decision_4"] = Decision.TO_FOLLOW_UP
    page = client.post(_url(lists), posted)
    errors = page.context["form"].errors
    assert "Bisoprolol 2.5mg tablets: the lists differ" in errors["decision_2"][0]
    assert errors["decision_3"] == [
        "Dapagliflozin 10mg tablets: say what you found and what happens next"
    ]
    assert errors["decision_4"] == [
        "Furosemide 40mg tablets: say what you found and what happens next"
    ]
    assert errors["checked_with"][0].startswith("Say where you checked")
    assert 'href="#id_decision_2"' in page.content.decode()
    assert MedicinesReconciliation.objects.count() == 0
    assert not RecordEntry.objects.filter(person=lists).exists()


def test_lists_changed_since_the_page_opened_are_shown_again_unsaved(
    gp: Any, lists: Person
) -> None:
    _, client = on_care_team(Discipline.PHARMACIST, lists)
    posted = {
        **_form(client.get(_url(lists))),
        "decision_2": Decision.INTENDED,
        "note_2": "x",
        "decision_3": Decision.INTENDED,
        "note_3": "x",
        "decision_4": Decision.INTENDED,
        "note_4": "x",
        "checked_with": ["person"],
    }
    send_as(gp, medicine_taken(lists, "Apixaban 5mg tablets"))
    page = client.post(_url(lists), posted)
    assert page.status_code == 200
    assert page.context["changed_since_opened"] == services.CHANGED_SINCE_OPENED
    assert services.CHANGED_SINCE_OPENED in page.content.decode()
    assert "Apixaban 5mg tablets" in page.content.decode()
    assert not page.context["form"].is_bound
    assert MedicinesReconciliation.objects.count() == 0


def test_the_service_refuses_lists_changed_since_and_a_medicine_not_compared(
    gp: Any, lists: Person
) -> None:
    pharmacist, _ = on_care_team(Discipline.PHARMACIST, lists)
    seen = selectors.comparison(pharmacist, lists, dt.date.today())
    send_as(gp, medicine_taken(lists, "Apixaban 5mg tablets"))
    with pytest.raises(ValidationError, match="changed since you opened"):
        services.reconcile(
            by=pharmacist.user,
            person=lists,
            fingerprint=seen.fingerprint,
            found={},
            checked_with=["person"],
        )
    now = selectors.comparison(pharmacist, lists, dt.date.today())
    found = dict.fromkeys(range(1, len(now.medicines) + 2), (Decision.TO_FOLLOW_UP.value, "x"))
    with pytest.raises(ValidationError, match="changed since you opened"):
        services.reconcile(
            by=pharmacist.user,
            person=lists,
            fingerprint=now.fingerprint,
            found=found,
            checked_with=["person"],
        )
    assert MedicinesReconciliation.objects.count() == 0


@pytest.mark.parametrize(
    "discipline", [Discipline.SOCIAL_WORKER, Discipline.HIGH_INTENSITY_THERAPIST]
)
def test_only_pharmacists_prescribers_and_nurses_caring_for_the_person_reconcile(
    lists: Person, discipline: str
) -> None:
    staff, client = on_care_team(discipline, lists)
    page = client.get(_url(lists))
    assert page.status_code == 403
    html = page.content.decode()
    assert "Medicines are reconciled by a pharmacist, GP or nurse" in html
    assert "Dapagliflozin 10mg tablets" in html
    assert "Save reconciliation" not in html
    assert client.post(_url(lists), {"checked_with": ["person"]}).status_code == 403
    summary = client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert "Reconcile medicines" not in summary
    assert "2 systems list these medicines, each as it has them" in summary
    assert f'href="{_url(lists)}">compare the lists' in summary
    with pytest.raises(AccessDenied):
        services.reconcile(
            by=staff.user, person=lists, fingerprint="", found={}, checked_with=["person"]
        )
    assert MedicinesReconciliation.objects.count() == 0


def test_breaking_glass_reconciles_nothing_and_strangers_are_refused(lists: Person) -> None:
    stranger = signed_in(factories.StaffFactory(discipline=Discipline.PHARMACIST))
    assert stranger.get(_url(lists)).status_code == 403
    assert "Dapagliflozin" not in stranger.get(_url(lists)).content.decode()
    glass = factories.StaffFactory(discipline=Discipline.GP)
    access_services.break_glass_open(
        by=glass.user, person=lists, reason="Out of hours visit: no answer at the door"
    )
    client = signed_in(glass)
    page = client.get(_url(lists))
    assert page.status_code == 403
    assert "Access by breaking glass reconciles none" in page.content.decode()
    summary = client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert "Reconcile medicines" not in summary


def test_medicines_the_sharing_rule_withholds_are_counted_not_compared(
    gp: Any, person: Person
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    therapist, _ = on_care_team(Discipline.HIGH_INTENSITY_THERAPIST, person)
    send_as(therapist, medicine_taken(person, "Mirtazapine 15mg tablets", meta={"security": PSY}))
    send_as(gp, medicine_taken(person, "Atorvastatin 20mg tablets"))
    client = signed_in(gp)
    page = client.get(_url(person))
    assert [m.name for m in page.context["comparison"].medicines] == ["Atorvastatin 20mg tablets"]
    html = page.content.decode()
    assert "Mirtazapine" not in html
    assert "1 medicine withheld from you under the sharing rule" in html
    saved = client.post(_url(person), {**_form(page), "checked_with": ["person"]})
    assert saved.status_code == 302
    entry = MedicinesReconciliation.objects.get().entry
    assert "Not compared: 1 medicine the sharing rule withheld from whoever reconciled" in (
        entry.text
    )
    assert entry.title == "Medicines reconciled: no differences"


def test_a_person_with_no_lists_is_reconciled_from_what_they_take(gp: Any, person: Person) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    client = signed_in(gp)
    page = client.get(_url(person))
    assert "No system has sent any medicines" in page.content.decode()
    refused = client.post(_url(person), {**_form(page), "checked_with": ["person"]})
    assert refused.context["form"].errors["others"][0].startswith("No system has sent")
    saved = client.post(
        _url(person),
        {**_form(page), "checked_with": ["person"], "others": "Ibuprofen gel\nSt John's wort"},
    )
    assert saved.status_code == 302
    assert MedicinesReconciliation.objects.get().others == ["Ibuprofen gel", "St John's wort"]


def test_a_changed_list_and_a_note_entered_in_error_show_on_the_summary(
    gp: Any, lists: Person
) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    page = client.get(_url(lists))
    client.post(
        _url(lists),
        {
            **_form(page),
            **{f"decision_{n}": Decision.TO_FOLLOW_UP for n in range(1, 5)},
            **{f"note_{n}": "Ringing the clinic" for n in range(1, 5)},
            "checked_with": ["carer"],
        },
    )
    last = selectors.last_reconciled(pharmacist, lists)
    assert last is not None
    assert last.to_follow_up == 4
    sent = send_as(gp, medicine_taken(lists, "Apixaban 5mg tablets"))
    assert sent["status"] == "active"
    summary = client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert "A list has changed since" in summary
    reconciliation = MedicinesReconciliation.objects.get()
    entry_enter_in_error(by=pharmacist.user, entry=reconciliation.entry, reason="Wrong person")
    assert selectors.last_reconciled(pharmacist, lists) is None
    summary = client.get(reverse("web:person", args=[lists.public_id])).content.decode()
    assert 'id="medicines-reconciled"' not in summary


def test_the_person_reading_their_notes_is_asked_about_and_reads_the_reconciliation(
    gp: Any, person: Person
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    send_as(gp, medicine_taken(person, "Atorvastatin 20mg tablets"))
    own = signed_in_as_person(person)
    client = signed_in(gp)
    page = client.get(_url(person))
    assert "withheld_from_person" in page.context["form"].fields
    client.post(_url(person), {**_form(page), "checked_with": ["person"]})
    notes = own.get(reverse("web:my-notes")).content.decode()
    assert "Medicines reconciled: no differences" in notes


def _reconciled(client: Any, person: Person, follow_up: bool) -> None:
    """Post a reconciliation of the `lists` fixture: everything still to follow up, or the
    differences intended."""
    decision = Decision.TO_FOLLOW_UP if follow_up else Decision.INTENDED
    page = client.get(_url(person))
    saved = client.post(
        _url(person),
        {
            **_form(page),
            **{f"decision_{n}": decision for n in (2, 3, 4)},
            **{f"note_{n}": "Checked with the clinic" for n in (2, 3, 4)},
            "checked_with": ["person"],
        },
    )
    assert saved.status_code == 302, saved.context["form"].errors


def test_what_is_left_to_follow_up_stays_on_the_reconcilers_caseload_until_done_again(
    gp: Any, lists: Person
) -> None:
    pharmacist, client = on_care_team(Discipline.PHARMACIST, lists)
    _reconciled(client, lists, follow_up=True)
    caseload = client.get(reverse("web:caseload")).content.decode()
    section = caseload[caseload.index("Medicines to follow up") : caseload.index("Everyone")]
    assert lists.full_name in section
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">3</td>' in section
    assert AuditEvent.objects.filter(person_id=lists.pk, what="medicines to follow up").exists()
    gp_caseload = signed_in(gp).get(reverse("web:caseload")).content.decode()
    assert "Medicines to follow up" not in gp_caseload
    _, social_worker = on_care_team(Discipline.SOCIAL_WORKER, lists)
    assert "Medicines to follow up" not in (
        social_worker.get(reverse("web:caseload")).content.decode()
    )
    _reconciled(signed_in(gp), lists, follow_up=False)
    assert selectors.to_follow_up(by=pharmacist.user) == ([], 0)
    assert "Medicines to follow up" not in client.get(reverse("web:caseload")).content.decode()


def test_the_person_and_a_proxy_are_told_when_the_medicines_were_last_checked(
    gp: Any, person: Person
) -> None:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    send_as(gp, medicine_taken(person, "Atorvastatin 20mg tablets"))
    own = signed_in_as_person(person, online_since=timezone.now() - dt.timedelta(days=1))
    assert 'id="medicines-checked"' not in own.get(reverse("web:my-record")).content.decode()
    client = signed_in(gp)
    page = client.get(_url(person))
    client.post(_url(person), {**_form(page), "checked_with": ["person"]})
    mine = own.get(reverse("web:my-record")).content.decode()
    assert "Your medicines were last checked on" in mine
    assert f"by {gp.display_name} (GP), who compared" in mine
    assert f'<a href="{reverse("web:my-notes")}">your notes and letters</a>' in mine
    daughter = factories.UserFactory(email="daughter@example.org")
    access_services.proxy_access_grant(
        by=gp.user,
        person=person,
        email="daughter@example.org",
        relationship="Daughter",
        reads_notes=False,
        basis="person-agreed",
        identity_checked=True,
    )
    proxy = Client()
    proxy.force_login(daughter)
    asked = client.get(_url(person)).content.decode()
    assert 'id="reading-proxies"' not in asked
    factories.UserFactory(email="son@example.org")
    access_services.proxy_access_grant(
        by=gp.user,
        person=person,
        email="son@example.org",
        relationship="Son",
        reads_notes=True,
        basis="person-agreed",
        identity_checked=True,
    )
    asked = client.get(_url(person)).content.decode()
    assert "also reads" in asked[asked.index('id="reading-proxies"') :][:300]
    theirs = proxy.get(reverse("web:proxy-record", args=[person.public_id])).content.decode()
    assert "Their medicines were last checked on" in theirs
    assert "notes and letters</a>." not in theirs[theirs.index('id="medicines-checked"') :][:600]
    reconciliation = MedicinesReconciliation.objects.get()
    entry_withhold_from_person(by=gp.user, entry=reconciliation.entry, reason="serious-harm")
    assert 'id="medicines-checked"' not in own.get(reverse("web:my-record")).content.decode()


def test_what_was_found_too_long_for_the_timeline_is_refused_at_the_note(
    gp: Any, lists: Person
) -> None:
    _, client = on_care_team(Discipline.PHARMACIST, lists)
    for n in range(30):
        send_as(gp, medicine_taken(lists, f"Made-up medicine {n:02d} 5mg tablets"))
    page = client.get(_url(lists))
    count = len(page.context["comparison"].medicines)
    posted = {
        **_form(page),
        **{f"decision_{n}": Decision.TO_FOLLOW_UP for n in range(1, count + 1)},
        **{f"note_{n}": "x" * 1000 for n in range(1, count + 1)},
        "checked_with": ["person"],
    }
    refused = client.post(_url(lists), posted)
    assert refused.status_code == 200
    assert (
        "more than the 20,000 a timeline entry holds" in refused.context["form"].errors["note"][0]
    )
    assert MedicinesReconciliation.objects.count() == 0
    assert not RecordEntry.objects.filter(person=lists).exists()


_ANSWER = st.one_of(st.sampled_from([d.value for d in Decision]), st.text(max_size=12))


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    decisions=st.lists(_ANSWER, min_size=0, max_size=6),
    notes=st.lists(st.text(max_size=30), max_size=6),
    checked=st.lists(st.sampled_from(["person", "carer", "gp-record", "nobody"]), max_size=3),
    others=st.text(max_size=60),
    stale=st.booleans(),
)
def test_whatever_is_posted_the_page_answers_and_saves_only_what_is_right(
    lists: Person,
    decisions: list[str],
    notes: list[str],
    checked: list[str],
    others: str,
    stale: bool,
) -> None:
    _, client = on_care_team(Discipline.PHARMACIST, lists)
    page = client.get(_url(lists))
    before = MedicinesReconciliation.objects.count()
    posted: dict[str, Any] = {
        "fingerprint": "stale" if stale else page.context["comparison"].fingerprint,
        "checked_with": checked,
        "others": others,
        **{f"decision_{n}": d for n, d in enumerate(decisions, start=1)},
        **{f"note_{n}": t for n, t in enumerate(notes, start=1)},
    }
    answered = client.post(_url(lists), posted)
    assert answered.status_code in {200, 302}
    saved = MedicinesReconciliation.objects.count() - before
    assert saved == (1 if answered.status_code == 302 else 0)
    if answered.status_code == 200 and stale:
        assert answered.context["changed_since_opened"] == services.CHANGED_SINCE_OPENED
