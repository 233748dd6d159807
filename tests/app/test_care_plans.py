"""Care plans written in Wholecare with the person (decision 0031): what matters to them, what
will be done and by whom, what to do if things change, and when it is reviewed. Read by everyone
caring for the person and by the person; written and changed by staff caring for them; each
version kept on the timeline; a change to a plan a colleague has changed since is refused."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import on_care_team, signed_in, signed_in_as_person
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import selectors, services
from wholecare.record.models import CarePlan, Person, RecordEntry

pytestmark = pytest.mark.django_db

TITLE = "Living well with COPD and low mood"
MATTERS = "Getting to my granddaughter's wedding in June, and sleeping through the night."
WALK = services.PlannedAction("Walk to the end of the road and back each day", "Me")
REHAB = services.PlannedAction("Refer to pulmonary rehabilitation", "Practice nurse")


def _review() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=90)


def _written(person: Person, by: Staff, **changes: Any) -> CarePlan:
    values: dict[str, Any] = {
        "title": TITLE,
        "what_matters": MATTERS,
        "actions": [WALK, REHAB],
        "if_things_change": "If my breathing is worse than usual, use my rescue pack and ring"
        " the practice.",
        "review_date": _review(),
        "agreed_with_person": True,
        "lead": by,
        **changes,
    }
    return services.care_plan_write(by=by.user, person=person, **values)


def _page(name: str, person: Person, **kwargs: Any) -> str:
    return reverse(f"web:{name}", kwargs={"public_id": person.public_id, **kwargs})


def _posted(lead: Staff, **changes: Any) -> dict[str, Any]:
    review = _review()
    return {
        "lead": lead.pk,
        "title": TITLE,
        "what_matters": MATTERS,
        "action_1_what": WALK.what,
        "action_1_who": WALK.who,
        "action_1_status": "not-started",
        "if_things_change": "",
        "review_date_0": review.day,
        "review_date_1": review.month,
        "review_date_2": review.year,
        "agreed_with_person": "on",
        **changes,
    }


def test_a_plan_written_by_the_nurse_is_read_by_the_care_team_and_the_person(
    person: Person,
) -> None:
    nurse, _ = on_care_team(Discipline.PRACTICE_NURSE, person)
    _, gp_client = on_care_team(Discipline.GP, person)
    plan = _written(person, nurse)

    assert [a.what for a in plan.actions.all()] == [WALK.what, REHAB.what]
    summary = gp_client.get(_page("person", person)).content.decode()
    assert TITLE in summary
    assert MATTERS.replace("'", "&#x27;") in summary
    assert 'Refer to pulmonary rehabilitation <span class="wc-meta">· Practice nurse' in summary
    assert f"Written by {nurse.display_name}, Practice nurse" in summary
    assert _page("care-plan-change", person, plan_id=plan.public_id) in summary

    note = RecordEntry.objects.get(person=person)
    assert note.title == f"Care plan written: {TITLE}"
    assert f"1. {WALK.what} (who: Me; not started)" in note.text
    assert "Agreed with the person." in note.text
    assert AuditEvent.objects.filter(
        person_id=person.pk, action=AuditEvent.Action.CREATE, what=f"care plan: {TITLE}"
    ).exists()

    own = signed_in_as_person(person)
    assert own.get(reverse("web:home"))["Location"] == reverse("web:my-record")
    assert "My care plans" in own.get(reverse("web:my-record-access")).content.decode()
    mine = own.get(reverse("web:my-care-plans")).content.decode()
    assert TITLE in mine
    assert "What matters to me" in mine
    assert "Change plan" not in mine
    assert AuditEvent.objects.filter(person_id=person.pk, what="own care plans").exists()


def test_a_plan_past_its_review_date_says_so(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    plan = _written(person, nurse)
    assert "Review due" not in client.get(_page("person", person)).content.decode()
    CarePlan.objects.filter(pk=plan.pk).update(review_date=timezone.localdate() - dt.timedelta(1))
    assert "Review due" in client.get(_page("person", person)).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "This field cannot be blank."),
        ({"what_matters": "x" * 2001}, "what_matters", "at most 2000 characters"),
        ({"review_date": dt.date(2020, 1, 1)}, "review_date", "today or later"),
        ({"review_date": dt.date.today() + dt.timedelta(days=400)}, "review_date", "12 months"),
        ({"actions": []}, "actions", "Enter at least one action"),
        ({"actions": [WALK] * 21}, "actions", "at most 20 actions"),
        ({"actions": [services.PlannedAction("x" * 301, "Me")]}, "actions", "Action 1:"),
        ({"actions": [services.PlannedAction("Rest", "Me", "maybe")]}, "actions", "Action 1:"),
    ],
)
def test_a_bad_plan_is_refused_by_field_and_nothing_written(
    person: Person, changes: dict[str, Any], field: str, message: str
) -> None:
    nurse, _ = on_care_team(Discipline.DISTRICT_NURSE, person)
    with pytest.raises(ValidationError) as refused:
        _written(person, nurse, **changes)
    assert message in " ".join(refused.value.message_dict[field])
    assert not CarePlan.objects.exists()
    assert not RecordEntry.objects.exists()


def test_the_form_says_what_is_missing_from_an_action_row(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    refused = client.post(
        _page("care-plan-new", person),
        _posted(
            nurse,
            action_1_who="",
            action_2_who="Daughter",
            review_date_0="31",
            review_date_1="2",
        ),
    )
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "Action 1: say who will do it" in html
    assert "Action 2: say what will be done" in html
    assert "The review date must be a real date" in html
    assert not CarePlan.objects.exists()


def test_the_pages_write_change_and_end_a_plan(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    summary = client.get(_page("person", person)).content.decode()
    assert "No care plan is in force." in summary
    assert _page("care-plan-new", person) in summary
    form = client.get(_page("care-plan-new", person)).content.decode()
    assert f"Everyone caring for {person.full_name} reads this plan, and so does" in form
    assert "Keep therapy, sexual health and safeguarding details in notes" in form

    done = client.post(_page("care-plan-new", person), _posted(nurse))
    assert done["Location"] == _page("person", person)
    plan = CarePlan.objects.get()
    change = _page("care-plan-change", person, plan_id=plan.public_id)
    form = client.get(change).content.decode()
    assert f'value="{WALK.what}"' in form
    assert 'name="action_4_what"' in form, "the action, then three blank rows"
    assert 'name="action_5_what"' not in form

    changed = client.post(
        change,
        _posted(
            nurse,
            version=1,
            action_1_status="in-progress",
            action_2_what="Join the Breathe Easy group",
            action_2_who="Me, with my daughter",
        ),
    )
    assert changed["Location"] == _page("person", person)
    plan.refresh_from_db()
    assert plan.version == 2
    assert [(a.what, a.status) for a in plan.actions.all()] == [
        (WALK.what, "in-progress"),
        ("Join the Breathe Easy group", "not-started"),
    ]
    removed = client.post(change, _posted(nurse, version=2, action_1_what="", action_1_who=""))
    assert "Enter at least one action" in removed.content.decode()

    end = _page("care-plan-end", person, plan_id=plan.public_id)
    assert "Say why the plan has ended" in client.post(end, {"version": 2}).content.decode()
    ended = client.post(
        end, {"version": 2, "status": "completed", "end_reason": "Walking a mile a day now"}
    )
    assert ended["Location"] == _page("person", person)
    summary = client.get(_page("person", person)).content.decode()
    assert "The care plan has been finished: " in summary
    card = summary.split('id="care-plans-heading"')[1].split('id="timeline-heading"')[0]
    assert "No care plan is in force." in card
    ended_list = card.split("Care plans that have ended")[1]
    assert f"{TITLE}: <strong>finished</strong>" in ended_list
    assert "District nurse: Walking a mile a day now" in ended_list
    titles = list(RecordEntry.objects.order_by("pk").values_list("title", flat=True))
    assert titles == [
        f"Care plan written: {TITLE}",
        f"Care plan changed: {TITLE}",
        f"Care plan finished: {TITLE}",
    ]
    assert client.get(change)["Location"] == _page("person", person), "no longer in force"
    mine = signed_in_as_person(person).get(reverse("web:my-care-plans")).content.decode()
    assert "Plans that have ended" in mine
    assert "Walking a mile a day now" in mine


def test_a_change_to_a_plan_a_colleague_changed_since_is_refused(person: Person) -> None:
    nurse, nurse_client = on_care_team(Discipline.DISTRICT_NURSE, person)
    social_worker, social_worker_client = on_care_team(Discipline.SOCIAL_WORKER, person)
    plan = _written(person, nurse)
    change = _page("care-plan-change", person, plan_id=plan.public_id)
    nurse_client.get(change)
    social_worker_client.get(change)
    first = social_worker_client.post(
        change, _posted(nurse, version=1, action_2_what="Carer's assessment", action_2_who="Me")
    )
    assert first.status_code == 302

    unversioned = nurse_client.post(change, _posted(nurse, title="Breathing better"))
    assert "this form did not say which version" in unversioned.content.decode()
    second = nurse_client.post(change, _posted(nurse, version=1, title="Breathing better"))

    assert second.status_code == 200
    assert f"{social_worker.display_name} changed this care plan since you opened it" in (
        second.content.decode()
    )
    plan.refresh_from_db()
    assert plan.title == TITLE
    assert plan.version == 2
    assert plan.actions.count() == 2
    with pytest.raises(ValidationError, match="changed this care plan since you opened it"):
        services.care_plan_end(
            by=nurse.user, plan=plan, status="revoked", end_reason="x", version=1
        )


def test_breaking_glass_reads_a_plan_but_writes_none(person: Person) -> None:
    nurse, _ = on_care_team(Discipline.DISTRICT_NURSE, person)
    plan = _written(person, nurse)
    doctor = factories.StaffFactory(discipline=Discipline.GP)
    access_services.break_glass_open(
        by=doctor.user, person=person, reason="Out of hours visit: no answer at the door"
    )
    client = signed_in(doctor)
    summary = selectors.person_summary(by=doctor.user, public_id=person.public_id)
    assert summary.care_plans == [plan]
    assert not summary.may_write_care_plans
    html = client.get(_page("person", person)).content.decode()
    assert TITLE in html
    assert "Write a care plan" not in html
    assert "Change plan" not in html
    assert client.get(_page("care-plan-new", person)).status_code == 403
    refused = client.post(_page("care-plan-end", person, plan_id=plan.public_id), {})
    assert refused.status_code == 403
    with pytest.raises(AccessDenied, match="breaking glass"):
        _written(person, doctor)
    with pytest.raises(AccessDenied, match="breaking glass"):
        services.care_plan_end(
            by=doctor.user, plan=plan, status="revoked", end_reason="x", version=plan.version
        )
    assert CarePlan.objects.get().status == CarePlan.Status.ACTIVE


def test_staff_without_a_relationship_get_the_refusal_and_nothing_is_written(
    person: Person,
) -> None:
    nurse, _ = on_care_team(Discipline.DISTRICT_NURSE, person)
    plan = _written(person, nurse)
    stranger = signed_in(factories.StaffFactory(discipline=Discipline.GP))
    assert stranger.get(_page("care-plan-new", person)).status_code == 403
    assert stranger.post(_page("care-plan-new", person), _posted(nurse)).status_code == 403
    change = _page("care-plan-change", person, plan_id=plan.public_id)
    assert stranger.post(change, _posted(nurse, version=1, title="Changed")).status_code == 403
    assert CarePlan.objects.get().title == TITLE


def test_a_plan_of_another_person_is_not_found_on_this_one(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    other = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=other, staff=nurse)
    theirs = _written(other, nurse)
    found = client.get(_page("care-plan-change", person, plan_id=theirs.public_id))
    assert found["Location"] == _page("person", person)
    with pytest.raises(CarePlan.DoesNotExist):
        services.care_plan_write(
            by=nurse.user,
            person=person,
            plan=theirs,
            version=1,
            title="x",
            what_matters="x",
            actions=[WALK],
            if_things_change="",
            review_date=_review(),
            agreed_with_person=False,
            lead=nurse,
        )


def test_the_my_care_plans_page_is_for_people_with_a_record() -> None:
    staff = factories.StaffFactory()
    assert signed_in(staff).get(reverse("web:my-care-plans")).status_code == 403


def test_the_downloaded_record_holds_the_plans(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    plan = _written(person, nurse)
    services.care_plan_end(
        by=nurse.user, plan=plan, status="revoked", end_reason="Moved away", version=1
    )
    _written(person, nurse, title="Settling in", actions=[WALK])
    document = client.get(_page("person-export", person)).json()
    assert [(p["title"], p["status"], p["end_reason"]) for p in document["care_plans"]] == [
        ("Settling in", "active", None),
        (TITLE, "revoked", "Moved away"),
    ]
    assert document["care_plans"][0]["actions"] == [
        {"what": WALK.what, "who": "Me", "status": "not-started"}
    ]


def test_the_caseload_lists_the_plans_its_owner_should_review(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    colleague, _ = on_care_team(Discipline.SOCIAL_WORKER, person)
    today = timezone.localdate()
    soon = _written(person, nurse, title="Soon", review_date=today + dt.timedelta(days=10))
    overdue = _written(person, nurse, title="Overdue")
    CarePlan.objects.filter(pk=overdue.pk).update(review_date=today - dt.timedelta(days=3))
    _written(person, nurse, title="Later", review_date=today + dt.timedelta(days=30))
    _written(person, colleague, title="Theirs", review_date=today)
    ended = _written(person, nurse, title="Ended", review_date=today)
    services.care_plan_end(by=nurse.user, plan=ended, status="revoked", end_reason="x", version=1)
    moved = factories.PersonFactory()
    membership = factories.CareTeamMembershipFactory(person=moved, staff=nurse)
    _written(moved, nurse, title="Moved away", review_date=today)
    membership.end_date = today - dt.timedelta(days=1)
    membership.save()

    plans, total = selectors.care_plans_to_review(by=nurse.user)

    assert [p.title for p in plans] == ["Overdue", "Soon"]
    assert total == 2
    assert soon in plans
    page = client.get(reverse("web:caseload")).content.decode()
    assert "Care plans to review" in page
    assert page.index("Overdue") < page.index("Soon")
    assert _page("care-plan-change", person, plan_id=overdue.public_id) in page
    assert AuditEvent.objects.filter(person_id=person.pk, what="care plans to review").exists()
    narrowed = client.get(reverse("web:caseload"), {"name": person.family_name}).content.decode()
    assert "Care plans to review" not in narrowed


def _progress(plan: CarePlan, **posted: Any) -> dict[str, Any]:
    return {"version": plan.version, **posted}


def test_the_person_records_their_own_progress_and_the_care_team_sees_it(
    person: Person,
) -> None:
    nurse, nurse_client = on_care_team(Discipline.PRACTICE_NURSE, person)
    plan = _written(person, nurse)
    own = signed_in_as_person(person)
    url = reverse("web:my-care-plan-progress", args=[plan.public_id])
    page = own.get(reverse("web:my-care-plans")).content.decode()
    assert f'action="{url}"' in page
    assert 'name="action_1"' in page

    done = own.post(url, _progress(plan, action_1="completed", action_2="not-started"), follow=True)

    assert "Your progress has been recorded." in done.content.decode()
    plan.refresh_from_db()
    assert plan.version == 2
    walk, rehab = plan.actions.all()
    assert (walk.status, rehab.status) == ("completed", "not-started")
    assert walk.status_by_person_at is not None
    assert rehab.status_by_person_at is None, "unchanged"
    summary = nurse_client.get(_page("person", person)).content.decode()
    assert f'{WALK.what} <span class="wc-meta">· Me · done (recorded by {person.full_name}' in (
        summary
    )
    assert AuditEvent.objects.filter(
        person_id=person.pk,
        what=f"care plan progress recorded by the person: {TITLE} (action 1 done)",
    ).exists()

    stale = nurse_client.post(
        _page("care-plan-change", person, plan_id=plan.public_id),
        _posted(nurse, version=1, action_1_status="not-started"),
    )
    assert "changed this care plan since you opened it" in stale.content.decode()
    kept = nurse_client.post(
        _page("care-plan-change", person, plan_id=plan.public_id),
        _posted(nurse, version=2, action_1_status="completed", title="Breathing better"),
    )
    assert kept.status_code == 302
    assert plan.actions.get().status_by_person_at is not None, "kept while the nurse kept it"


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"version": 0, "action_1": "completed"}, "has changed since you opened it"),
        ({"action_3": "completed"}, "Action 3 is not in this care plan"),
        ({"action_1": "finished"}, "Choose how far each action has got"),
    ],
)
def test_bad_progress_says_what_is_wrong_and_records_nothing(
    person: Person, posted: dict[str, Any], message: str
) -> None:
    nurse, _ = on_care_team(Discipline.PRACTICE_NURSE, person)
    plan = _written(person, nurse)
    url = reverse("web:my-care-plan-progress", args=[plan.public_id])
    shown = (
        signed_in_as_person(person)
        .post(url, _progress(plan, **posted), follow=True)
        .content.decode()
    )
    assert message in shown
    assert list(plan.actions.values_list("status", flat=True)) == ["not-started"] * 2
    assert CarePlan.objects.get().version == 1


def test_only_the_person_records_progress_on_their_own_plan_in_force(person: Person) -> None:
    nurse, nurse_client = on_care_team(Discipline.PRACTICE_NURSE, person)
    plan = _written(person, nurse)
    url = reverse("web:my-care-plan-progress", args=[plan.public_id])
    assert nurse_client.post(url, _progress(plan, action_1="completed")).status_code == 403
    someone_else = signed_in_as_person(factories.PersonFactory())
    refused = someone_else.post(url, _progress(plan, action_1="completed"), follow=True)
    assert "That care plan is no longer in force." in refused.content.decode()
    with pytest.raises(AccessDenied):
        services.care_plan_progress(by=nurse.user, plan=plan, statuses={1: "completed"}, version=1)
    assert signed_in_as_person(person).post(url, {"action_1": "completed"}).status_code == 400
    services.care_plan_end(by=nurse.user, plan=plan, status="revoked", end_reason="x", version=1)
    assert person.user is not None
    with pytest.raises(ValidationError, match="has ended"):
        services.care_plan_progress(by=person.user, plan=plan, statuses={1: "completed"}, version=2)
    assert not plan.actions.exclude(status="not-started").exists()


def test_the_form_names_who_coordinates_the_plan_and_they_are_reminded_of_its_review(
    person: Person,
) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    social_worker, social_worker_client = on_care_team(Discipline.SOCIAL_WORKER, person)
    form = client.get(_page("care-plan-new", person)).content.decode()
    options = form.split('name="lead"')[1].split("</select>")[0]
    assert options.index(f"{nurse.display_name}, District nurse") < options.index(
        f"{social_worker.display_name}, Social worker"
    ), "the writer first, then the care team"

    client.post(_page("care-plan-new", person), _posted(social_worker))
    plan = CarePlan.objects.get()
    assert (plan.lead, plan.written_by) == (social_worker, nurse)
    summary = client.get(_page("person", person)).content.decode()
    assert f"{social_worker.display_name}, Social worker, {social_worker.organisation.name}" in (
        summary
    )
    note = RecordEntry.objects.get()
    assert f"Coordinated by {social_worker.display_name}." in note.text
    mine = signed_in_as_person(person).get(reverse("web:my-care-plans")).content.decode()
    assert "My contact for this plan" in mine
    assert social_worker.display_name in mine

    CarePlan.objects.filter(pk=plan.pk).update(review_date=timezone.localdate())
    assert [p.title for p in selectors.care_plans_to_review(by=social_worker.user)[0]] == [TITLE]
    assert selectors.care_plans_to_review(by=nurse.user)[1] == 0, "the writer is not the lead"
    assert (
        "Care plans to review" in social_worker_client.get(reverse("web:caseload")).content.decode()
    )


def test_a_coordinator_who_does_not_care_for_the_person_is_refused(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    stranger = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    with pytest.raises(ValidationError) as refused:
        _written(person, nurse, lead=stranger)
    assert refused.value.message_dict["lead"] == [
        f"{stranger.display_name} is not caring for {person.full_name}: choose someone on their"
        " care team, or in a service they are referred to"
    ]
    posted = client.post(_page("care-plan-new", person), _posted(stranger))
    assert posted.status_code == 200
    assert "Choose who coordinates the plan from those listed" in posted.content.decode()
    assert not CarePlan.objects.exists()
    assert not RecordEntry.objects.exists()


def test_a_plan_whose_coordinator_has_left_says_it_needs_a_new_one(person: Person) -> None:
    nurse, client = on_care_team(Discipline.DISTRICT_NURSE, person)
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    membership = factories.CareTeamMembershipFactory(person=person, staff=social_worker)
    plan = _written(person, nurse, lead=social_worker)
    assert "Needs a new coordinator" not in client.get(_page("person", person)).content.decode()
    membership.end_date = timezone.localdate() - dt.timedelta(days=1)
    membership.save()

    summary = client.get(_page("person", person)).content.decode()
    assert "Needs a new coordinator" in summary
    assert f"No longer caring for {person.full_name}: change the plan" in summary
    assert (
        "No longer caring for you"
        in signed_in_as_person(person).get(reverse("web:my-care-plans")).content.decode()
    )
    change = _page("care-plan-change", person, plan_id=plan.public_id)
    form = client.get(change).content.decode()
    assert social_worker.display_name not in form.split('name="lead"')[1].split("</select>")[0]
    assert client.post(change, _posted(nurse, version=1)).status_code == 302
    assert "Needs a new coordinator" not in client.get(_page("person", person)).content.decode()
    plan.refresh_from_db()
    assert plan.lead == nurse


def test_plans_written_before_they_named_a_coordinator_are_coordinated_by_their_writer(
    person: Person,
) -> None:
    nurse, _ = on_care_team(Discipline.DISTRICT_NURSE, person)
    social_worker, _ = on_care_team(Discipline.SOCIAL_WORKER, person)
    plan = _written(person, nurse, lead=social_worker)
    migration = importlib.import_module("wholecare.record.migrations.0018_care_plan_lead")
    migration.lead_is_the_writer(django_apps, None)
    plan.refresh_from_db()
    assert plan.lead == nurse
