"""Escalation of unreviewed risk tasks at the end of the working day: by the scheduled command,
and by the same rule when the pages are read (so nothing depends on the scheduler)."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.app.talking_therapies.conftest import days_ago, score, treated_course
from wholecare.talking_therapies import selectors, services
from wholecare.talking_therapies.models import RiskTask
from wholecare.talking_therapies.workday import LONDON

pytestmark = pytest.mark.django_db
MONDAY_MORNING = dt.datetime(2026, 11, 16, 9, 30, tzinfo=LONDON)


@pytest.fixture
def task(tt):
    referral = treated_course(tt)
    score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, None], days_ago(1))
    RiskTask.objects.update(raised_at=MONDAY_MORNING)
    return RiskTask.objects.get()


def test_unreviewed_task_is_overdue_on_the_caseload_and_with_the_manager_without_the_scheduler(
    client, tt, task
):
    assert task.escalated_at is None
    rows = selectors.caseload(by=tt.pwp.user).risks
    assert [r.overdue for r in rows] == [True]
    assert rows[0].due == dt.datetime(2026, 11, 16, 17, tzinfo=LONDON)
    assert "not 'no risk'" in rows[0].description
    (overview,) = selectors.manager_overview(by=tt.manager.user)
    assert [r.task for r in overview.overdue] == [task]
    client.force_login(tt.manager.user)
    page = client.get(reverse("talking_therapies:overview")).content.decode()
    assert "Overdue: escalated to the service manager" in page
    assert f"{tt.pwp.display_name}: 1 open referral" in page


def test_escalate_risk_command_records_the_escalation_once(tt, task):
    out = io.StringIO()
    call_command("escalate-risk", stdout=out)
    assert "1 risk task(s) escalated" in out.getvalue()
    task.refresh_from_db()
    assert task.escalated_at is not None
    out = io.StringIO()
    call_command("escalate-risk", stdout=out)
    assert "0 risk task(s) escalated" in out.getvalue()


def test_a_task_raised_now_is_not_yet_escalated(tt):
    referral = treated_course(tt)
    score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, 1], days_ago(0))
    out = io.StringIO()
    call_command("escalate-risk", stdout=out)
    assert "0 risk task(s) escalated" in out.getvalue()
    assert RiskTask.objects.get().escalated_at is None
    assert [r.overdue for r in selectors.caseload(by=tt.pwp.user).risks] == [False]


def test_reviewed_tasks_leave_the_caseload(tt, task):
    services.risk_task_review(by=tt.pwp.user, task=task, note="Called back, safety plan agreed")
    assert selectors.caseload(by=tt.pwp.user).risks == []
    call_command("escalate-risk", stdout=io.StringIO())
    task.refresh_from_db()
    assert task.escalated_at is None
