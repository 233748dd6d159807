"""A condition recorded in error (on the wrong person, or the wrong condition) is withdrawn from
the record by whoever recorded it or another of their discipline, with a reason: it leaves every
view, export and count, and stays in the audit trail."""

from typing import Any

import pytest
from django.urls import reverse

from tests import factories
from tests.app.signed_in import signed_in
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.record import aggregates, exports, services
from wholecare.record.models import Condition

pytestmark = pytest.mark.django_db

COPD = "13645005"


@pytest.fixture
def wrong(person: Any, gp: Any) -> Condition:
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return factories.ConditionFactory(person=person, snomed_code=COPD, recorded_by=gp)


def _page(condition: Condition, page: str = "entered-in-error") -> str:
    return reverse(
        f"web:condition-{page}",
        kwargs={"public_id": condition.person.public_id, "condition_id": condition.pk},
    )


def test_a_gp_marks_a_condition_entered_in_error_with_a_reason(wrong: Condition, gp: Any) -> None:
    client = signed_in(gp)
    summary = client.get(reverse("web:person", kwargs={"public_id": wrong.person.public_id}))
    assert _page(wrong) in summary.content.decode()
    page = client.get(_page(wrong))
    assert page.status_code == 200
    assert "Chronic obstructive lung disease" in page.content.decode()
    unexplained = client.post(_page(wrong), {"reason": "  "})
    assert "Say why this condition was entered in error" in unexplained.content.decode()
    assert wrong.person.conditions.exists(), "nothing is marked without a reason"
    done = client.post(
        _page(wrong), {"reason": "Recorded on the wrong person's record"}, follow=True
    )
    body = done.content.decode()
    assert "has been marked entered in error" in body
    assert "Chronic obstructive lung disease</strong>" not in body
    wrong.refresh_from_db()
    assert wrong.entered_in_error_by == gp
    assert wrong.entered_in_error_reason == "Recorded on the wrong person's record"
    event = AuditEvent.objects.get(what__endswith="marked entered in error")
    assert event.person_id == wrong.person_id
    assert event.why == "Recorded on the wrong person's record"
    again = client.post(_page(wrong), {"reason": "twice"}, follow=True)
    assert "not on the record" in again.content.decode()


@pytest.mark.parametrize(
    ("page", "data", "refusal"),
    [
        ("entered-in-error", {"reason": "I think it is wrong"}, "can mark it entered in error"),
        ("status", {"clinical_status": "resolved"}, "can change it"),
    ],
)
def test_another_discipline_can_neither_withdraw_nor_end_a_diagnosis(
    wrong: Condition, page: str, data: dict[str, str], refusal: str
) -> None:
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    factories.CareTeamMembershipFactory(person=wrong.person, staff=social_worker)
    client = signed_in(social_worker)
    url = _page(wrong, page)
    summary = client.get(reverse("web:person", kwargs={"public_id": wrong.person.public_id}))
    assert "Chronic obstructive lung disease" in summary.content.decode()
    assert url not in summary.content.decode()
    refused = client.post(url, data).content.decode()
    assert f"Only whoever recorded this condition, or another GP, {refusal}" in refused
    wrong.refresh_from_db()
    assert (wrong.entered_in_error_at, wrong.clinical_status) == (None, "active")


def test_another_gp_may_correct_a_gps_entry(wrong: Condition) -> None:
    colleague = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=wrong.person, staff=colleague)
    services.condition_enter_in_error(by=colleague.user, condition=wrong, reason="Wrong person")
    assert not wrong.person.conditions.exists()


def test_without_a_relationship_nothing_is_shown_or_marked(wrong: Condition) -> None:
    stranger = factories.StaffFactory(discipline=Discipline.GP)
    client = signed_in(stranger)
    assert client.get(_page(wrong)).status_code == 403
    assert client.post(_page(wrong), {"reason": "x"}).status_code == 403
    assert wrong.person.conditions.exists()


def test_a_condition_entered_in_error_leaves_exports_and_counts(
    wrong: Condition, gp: Any, person: Any
) -> None:
    factories.ConditionFactory(person=person, snomed_code="44054006", recorded_by=gp)
    analyst = factories.StaffFactory(discipline=Discipline.ANALYST)

    def people_with_copd() -> str:
        _, rows = aggregates.population_figures(by=analyst.user)
        return next(row.people for row in rows if row.label == "COPD")

    assert people_with_copd() == "*"
    services.condition_enter_in_error(by=gp.user, condition=wrong, reason="Wrong condition")
    assert people_with_copd() == "0"
    document = exports.person_record(by=gp.user, public_id=person.public_id)
    assert [c["snomed_code"] for c in document["conditions"]] == ["44054006"]
    recorded_again = services.condition_record(by=gp.user, person=person, snomed_code=COPD)
    assert recorded_again.entered_in_error_at is None
    assert Condition.objects.including_entered_in_error().filter(person=person).count() == 3


def test_a_gp_records_that_a_condition_has_ended(wrong: Condition, gp: Any) -> None:
    client = signed_in(gp)
    summary = client.get(reverse("web:person", kwargs={"public_id": wrong.person.public_id}))
    assert _page(wrong, "status") in summary.content.decode()
    page = client.get(_page(wrong, "status")).content.decode()
    assert 'value="active" checked' in page
    bad = client.post(_page(wrong, "status"), {"clinical_status": "cured"})
    assert "Select a valid choice" in bad.content.decode()
    done = client.post(_page(wrong, "status"), {"clinical_status": "resolved"}, follow=True)
    assert "Chronic obstructive lung disease is now recorded as resolved." in done.content.decode()
    wrong.refresh_from_db()
    assert wrong.clinical_status == "resolved"
    assert wrong.entered_in_error_at is None, "an ended condition stays on the record"
    assert AuditEvent.objects.filter(what__endswith="now resolved").count() == 1
