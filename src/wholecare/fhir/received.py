"""What other systems sent through the API and Wholecare keeps whole, read for Wholecare's own
pages under the sharing rule the API applies (`fhir.access.readable_q`): a page never shows a
resource the API would withhold from the same member of staff. The caller has already checked
that the record may be opened, and audits the page."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from wholecare.directory.models import Staff
from wholecare.fhir import care_plans
from wholecare.fhir.access import readable_q
from wholecare.fhir.models import Resource, SearchToken
from wholecare.record.models import Person


@dataclass(frozen=True)
class Received:
    content: dict[str, Any]
    sent_by: str
    """Who sent it: the member of staff (or system account) the API client acts as."""


def observations(
    staff: Staff, person: Person, codings: Iterable[tuple[str, str]], statuses: Iterable[str]
) -> list[Received]:
    """The person's Observations coded (at the top level) with any of `codings`, in one of
    `statuses`, that `staff` may read, the oldest first."""
    coded = Q()
    for system, code in codings:
        coded |= Q(system=system, value=code)
    return _received(
        _readable(staff, person, "Observation", statuses)
        .filter(Exists(SearchToken.objects.filter(coded, resource=OuterRef("pk"), param="code")))
        .order_by("date_start", "pk")
    )


@dataclass(frozen=True)
class SentCarePlan:
    plan: care_plans.CarePlanSummary
    sent_by: str


def care_plans_in_force(staff: Staff, person: Person, today: dt.date) -> list[SentCarePlan]:
    """The person's CarePlans still to be followed (in force, on hold or draft) that `staff` may
    read, the latest to start first."""
    found = _readable(staff, person, "CarePlan", care_plans.IN_FORCE).order_by(
        F("date_start").desc(nulls_last=True), "-last_updated"
    )
    return [
        SentCarePlan(care_plans.summarise(sent.content, today), sent.sent_by)
        for sent in _received(found)
    ]


def _readable(
    staff: Staff, person: Person, resource_type: str, statuses: Iterable[str]
) -> QuerySet[Resource]:
    return Resource.objects.filter(
        readable_q(staff),
        resource_type=resource_type,
        record_pk__isnull=True,
        person=person,
        status__in=list(statuses),
    )


def _received(found: QuerySet[Resource]) -> list[Received]:
    return [
        Received(r.content, r.author.display_name if r.author else "another system")
        for r in found.select_related("author__user")
    ]
