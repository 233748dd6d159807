"""What other systems sent through the API and Wholecare keeps whole, read for Wholecare's own
pages under the sharing rule the API applies (`fhir.access.readable_q`): a page never shows a
resource the API would withhold from the same member of staff. The caller has already checked
that the record may be opened, and audits the page."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.fhir import allergies, care_plans, medicines
from wholecare.fhir.access import readable_q
from wholecare.fhir.base import ENTERED_IN_ERROR
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


@dataclass(frozen=True)
class SentMedicine:
    medicine: medicines.Medicine
    sent_by: str
    updated: dt.date
    """When the sending system last changed it: how up to date it is."""


@dataclass(frozen=True)
class Medicines:
    current: list[SentMedicine]
    """Taking now, paused or about to start, by name."""
    ended: list[SentMedicine]
    """Stopped or finished in the last `RECENTLY_ENDED_DAYS` days, the latest first."""


#: How long a medicine the person stopped stays listed, for whoever reviews what they take.
RECENTLY_ENDED_DAYS = 90


def medicines_of(staff: Staff | None, person: Person, today: dt.date) -> Medicines:
    """The medicines other systems say the person takes (MedicationStatements in force) and those
    they stopped lately, that `staff` may read; all of them when `staff` is None (the person
    reading their own)."""
    since = dt.datetime.combine(
        today - dt.timedelta(days=RECENTLY_ENDED_DAYS), dt.time(), tzinfo=dt.UTC
    )
    found = Resource.objects.filter(
        Q(status__in=medicines.CURRENT)
        | Q(status__in=medicines.ENDED)
        & (Q(date_end__gte=since) | Q(date_end__isnull=True, last_updated__gte=since)),
        resource_type="MedicationStatement",
        person=person,
    )
    if staff is not None:
        found = found.filter(readable_q(staff))
    sent = [
        SentMedicine(
            medicines.summarise(r.content, today),
            r.author.display_name if r.author else "another system",
            timezone.localdate(r.last_updated),
        )
        for r in found.select_related("author__user")
    ]
    ended = [s for s in sent if s.medicine.status_code in medicines.ENDED]
    return Medicines(
        current=sorted(
            (s for s in sent if s.medicine.status_code in medicines.CURRENT),
            key=lambda s: s.medicine.name.casefold(),
        ),
        ended=sorted(ended, key=lambda s: s.medicine.ends or s.updated, reverse=True),
    )


@dataclass(frozen=True)
class SentAllergy:
    allergy: allergies.AllergySummary
    sent_by: str
    updated: dt.date


@dataclass(frozen=True)
class Allergies:
    """What other systems say the person is allergic to (decision 0038)."""

    in_force: list[SentAllergy]
    """Allergies and intolerances active and not refuted: high risk first, then by name."""
    no_known: list[SentAllergy]
    """Statements that the person has no known allergy (of a kind), in force."""
    received: bool
    """Whether any system has sent any allergy information at all: with none, nothing is known,
    which is not the same as no allergies."""

    @property
    def disagree(self) -> bool:
        """A system says there is no known allergy while another (or the same) records one."""
        return bool(self.no_known) and bool(self.in_force)


def allergies_of(staff: Staff | None, person: Person) -> Allergies:
    """The allergies and intolerances other systems sent about the person that `staff` may read;
    all of them when `staff` is None (the person reading their own)."""
    found = Resource.objects.filter(resource_type="AllergyIntolerance", person=person).exclude(
        status=ENTERED_IN_ERROR
    )
    if staff is not None:
        found = found.filter(readable_q(staff))
    sent = [
        SentAllergy(
            allergies.summarise(r.content),
            r.author.display_name if r.author else "another system",
            timezone.localdate(r.last_updated),
        )
        for r in found.select_related("author__user")
    ]
    in_force = [s for s in sent if s.allergy.in_force]
    return Allergies(
        in_force=sorted(
            (s for s in in_force if not s.allergy.no_known),
            key=lambda s: (s.allergy.criticality != "High risk", s.allergy.what.casefold()),
        ),
        no_known=[s for s in in_force if s.allergy.no_known],
        received=bool(sent),
    )


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
