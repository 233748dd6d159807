"""Closing a referral through the API (decision 0021): an update to ServiceRequest.status, by the
side the record's rules let close it how."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests import factories
from tests.app.fhir.conftest import Api, api_for
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.record.models import Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(gp: Staff) -> Referral:
    person = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return factories.ReferralFactory(
        person=person,
        referred_by=gp,
        service=factories.ServiceFactory(name="Homecare", kind=Service.Kind.HOMECARE),
        received_date=timezone.localdate() - dt.timedelta(days=10),
    )


def _worker(referral: Referral) -> Staff:
    worker = factories.StaffFactory(discipline=Discipline.HOMECARE_WORKER)
    worker.services.add(referral.service)
    return worker


def _read(api: Api, referral: Referral) -> dict[str, Any]:
    found = api.get(f"/fhir/ServiceRequest?patient={referral.person.public_id}").json()
    resource: dict[str, Any] = found["entry"][0]["resource"]
    return resource


def _put(api: Api, resource: dict[str, Any], **changes: Any) -> Any:
    return api.put(f"/fhir/ServiceRequest/{resource['id']}", {**resource, **changes})


def test_the_service_completes_a_referral_and_it_reads_as_discharged(
    referral: Referral, gp_api: Api
) -> None:
    worker = _worker(referral)
    worker_api = api_for(worker)
    resource = _read(worker_api, referral)
    assert resource["status"] == "active"
    done = _put(
        worker_api,
        resource,
        status="completed",
        note=[{"text": "Package of care in place; family now help each morning"}],
    )
    assert done.status_code == 200, done.content
    closed = done.json()
    get_fhir_model_class("ServiceRequest").model_validate(closed)
    today = timezone.localdate().isoformat()
    assert closed["status"] == "completed"
    assert closed["occurrencePeriod"]["end"] == today
    assert closed["note"] == [
        {
            "text": "Seen and discharged: Package of care in place; family now help each morning",
            "time": today,
            "authorReference": {"reference": f"Practitioner/{worker.pk}"},
        }
    ]
    referral.refresh_from_db()
    assert (referral.outcome, referral.closed_by) == (Referral.Outcome.DISCHARGED, worker)
    assert referral.person.entries.filter(title="Referral to Homecare: seen and discharged")
    # The worker's access ended with the referral; the referrer reads and searches it.
    assert worker_api.get(f"/fhir/ServiceRequest/{resource['id']}").status_code == 404
    gp_api_read = gp_api.get(f"/fhir/ServiceRequest?status=completed&_id={resource['id']}")
    assert gp_api_read.json()["total"] == 1
    assert (
        gp_api.get(f"/fhir/ServiceRequest?status=active&_id={resource['id']}").json()["total"] == 0
    )
    again = _put(gp_api, closed)
    assert again.status_code == 200
    assert again.json()["meta"]["versionId"] == closed["meta"]["versionId"]


def test_revoked_is_not_accepted_from_the_service_and_withdrawn_from_the_referrer(
    gp: Staff, gp_api: Api, referral: Referral
) -> None:
    other = factories.ReferralFactory(
        person=referral.person, referred_by=gp, service=factories.ServiceFactory()
    )
    worker_api = api_for(_worker(referral))
    refused = _put(worker_api, _read(worker_api, referral), status="revoked")
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert issue["expression"] == ["ServiceRequest.note"]
    assert "Say why the service cannot accept the referral" in issue["diagnostics"]
    done = _put(
        worker_api,
        _read(worker_api, referral),
        status="revoked",
        note=[{"text": "Needs nursing, not homecare"}],
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "revoked"
    referral.refresh_from_db()
    assert referral.outcome == Referral.Outcome.NOT_ACCEPTED

    mine = gp_api.get(f"/fhir/ServiceRequest?patient={other.person.public_id}&status=active")
    resource = mine.json()["entry"][0]["resource"]
    withdrawn = _put(
        gp_api,
        resource,
        status="revoked",
        note=[{"text": "Admitted"}],
        occurrencePeriod={"end": "2026-01-06"},
    )
    assert withdrawn.status_code == 200, withdrawn.content
    other.refresh_from_db()
    assert (other.outcome, other.closed_date) == (
        Referral.Outcome.WITHDRAWN,
        dt.date(2026, 1, 6),
    )
    revoked = gp_api.get(f"/fhir/ServiceRequest?patient={other.person.public_id}&status=revoked")
    assert revoked.json()["total"] == 2


@pytest.mark.parametrize(
    ("changes", "status", "expression", "message"),
    [
        ({"status": "active"}, 422, "ServiceRequest.status", "An update closes a referral"),
        ({"status": "on-hold"}, 422, "ServiceRequest.status", "An update closes a referral"),
        (
            {"status": "completed", "occurrencePeriod": {"end": "next week"}},
            400,
            "ServiceRequest.occurrencePeriod.end",
            "does not match",
        ),
        (
            {"status": "completed", "occurrencePeriod": {"end": "2026-02"}},
            422,
            "ServiceRequest.occurrencePeriod.end",
            "is not a whole date",
        ),
        (
            {"status": "completed", "occurrencePeriod": {"end": "2099-01-01"}},
            422,
            "ServiceRequest.occurrencePeriod.end",
            "cannot be closed in the future",
        ),
        (
            {"status": "completed", "subject": {"reference": "Patient/someone-else"}},
            422,
            "ServiceRequest.subject",
            "patient cannot change",
        ),
    ],
)
def test_a_bad_update_says_what_and_where_and_closes_nothing(
    referral: Referral, changes: dict[str, Any], status: int, expression: str, message: str
) -> None:
    worker_api = api_for(_worker(referral))
    answer = _put(worker_api, _read(worker_api, referral), **changes)
    assert answer.status_code == status
    issue = answer.json()["issue"][0]
    assert issue["expression"] == [expression]
    assert message in issue["diagnostics"]
    referral.refresh_from_db()
    assert referral.status == Referral.Status.OPEN


def test_the_referrer_cannot_complete_a_referral_for_the_service(
    gp_api: Api, referral: Referral
) -> None:
    answer = _put(gp_api, _read(gp_api, referral), status="completed")
    assert answer.status_code == 403
    assert "Only the staff of Homecare" in answer.json()["issue"][0]["diagnostics"]
    referral.refresh_from_db()
    assert referral.status == Referral.Status.OPEN
