"""What other systems sent through the API and Wholecare keeps whole, read for Wholecare's own
pages under the sharing rule the API applies (`fhir.access.readable_q`): a page never shows a
resource the API would withhold from the same member of staff. The caller has already checked
that the record may be opened, and audits the page."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.fhir import allergies, appointments, care_plans, medicines
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


@dataclass(frozen=True)
class SentMedicine:
    medicine: medicines.Medicine
    sent_by: str
    updated: dt.date
    """When the sending system last changed it: how up to date it is."""
    sent_from: str
    """The organisation whose list it is on: one list per organisation (decision 0042)."""


@dataclass(frozen=True)
class Medicines:
    current: list[SentMedicine]
    """Taking now, paused or about to start, by name."""
    ended: list[SentMedicine]
    """Stopped or finished in the last `RECENTLY_ENDED_DAYS` days, the latest first."""

    @property
    def more_toxic_in_overdose(self) -> list[SentMedicine]:
        """Those in force that are more toxic in overdose (decision 0044)."""
        return [s for s in self.current if s.medicine.more_toxic_in_overdose]

    @property
    def lists(self) -> int:
        """How many organisations' lists these come from: more than one may disagree."""
        return len({s.sent_from for s in self.current + self.ended})


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


@dataclass(frozen=True)
class SentAppointment:
    appointment: appointments.AppointmentSummary
    sent_by: str


@dataclass(frozen=True)
class FromOtherSystems:
    """What the person summary and the person's own record show of what other systems sent."""

    care_plans: list[SentCarePlan]
    """Still to be followed (in force, on hold or draft), the latest to start first."""
    medicines: Medicines
    allergies: Allergies
    appointments: list[SentAppointment]
    """From today on and still to happen, the soonest first, then those with no date yet (on a
    waiting list, or offered); at most `APPOINTMENTS_SHOWN`."""
    appointments_later: int
    """How many more there are after those."""


#: How long a medicine the person stopped stays listed, for whoever reviews what they take.
RECENTLY_ENDED_DAYS = 90
#: How many of the person's coming appointments the pages list, the soonest first.
APPOINTMENTS_SHOWN = 10


def from_other_systems(staff: Staff | None, person: Person, today: dt.date) -> FromOtherSystems:
    """The care plans, medicines, allergies and coming appointments other systems sent about the
    person that `staff` may read (all of them when `staff` is None: the person reading their
    own), in one query: the sharing rule is applied once, and each type partitioned here."""
    midnight = _midnight(today)
    wanted = (
        Q(resource_type="CarePlan", status__in=care_plans.IN_FORCE, record_pk__isnull=True)
        | _medicines_q(today)
        | Q(resource_type="AllergyIntolerance") & ~Q(status=ENTERED_IN_ERROR)
        | Q(resource_type="Appointment", status__in=appointments.UPCOMING)
        & (
            Q(date_start__gte=midnight)
            | Q(date_start__isnull=True, status__in=appointments.UNDATED)
        )
    )
    rows: dict[str, list[Resource]] = {}
    for row in _sent_about(staff, person, wanted):
        rows.setdefault(row.resource_type, []).append(row)
    coming = sorted(
        rows.get("Appointment", []),
        key=lambda r: (r.date_start is None, r.date_start or midnight, r.pk),
    )
    return FromOtherSystems(
        care_plans=[
            SentCarePlan(care_plans.summarise(r.content, today), _sender(r))
            for r in sorted(
                rows.get("CarePlan", []),
                key=lambda r: (r.date_start is not None, r.date_start, r.last_updated),
                reverse=True,
            )
        ],
        medicines=_medicines(rows.get("MedicationStatement", []), today),
        allergies=_allergies(rows.get("AllergyIntolerance", [])),
        appointments=[
            SentAppointment(appointments.summarise(r.content), _sender(r))
            for r in coming[:APPOINTMENTS_SHOWN]
        ],
        appointments_later=max(0, len(coming) - APPOINTMENTS_SHOWN),
    )


def medicines_of(staff: Staff | None, person: Person, today: dt.date) -> Medicines:
    """The medicines alone, for a page that shows nothing else other systems sent."""
    return _medicines(_sent_about(staff, person, _medicines_q(today)), today)


def _sent_about(staff: Staff | None, person: Person, wanted: Q) -> list[Resource]:
    found = Resource.objects.filter(wanted, person=person)
    if staff is not None:
        found = found.filter(readable_q(staff))
    return list(found.select_related("author__user", "author__organisation"))


def _midnight(today: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(today, dt.time()))


def _medicines_q(today: dt.date) -> Q:
    """In force, or stopped or finished in the last `RECENTLY_ENDED_DAYS` days."""
    since = _midnight(today) - dt.timedelta(days=RECENTLY_ENDED_DAYS)
    return Q(resource_type="MedicationStatement") & (
        Q(status__in=medicines.CURRENT)
        | Q(status__in=medicines.ENDED)
        & (Q(date_end__gte=since) | Q(date_end__isnull=True, last_updated__gte=since))
    )


def medicine_statements(staff: Staff, person: Person, today: dt.date) -> list[Resource]:
    """The MedicationStatements the "Medicines" card lists (in force, or ended in the last
    `RECENTLY_ENDED_DAYS` days) that `staff` may read, with who sent each and from where: the
    lists a medicines reconciliation compares (decision 0042)."""
    return _sent_about(staff, person, _medicines_q(today))


def withheld_medicine_statements(staff: Staff, person: Person, today: dt.date) -> int:
    """How many of those `medicine_statements` would list the sharing rule keeps from `staff`."""
    counted = Resource.objects.filter(_medicines_q(today), person=person).aggregate(
        listed=Count("pk"), readable=Count("pk", filter=readable_q(staff))
    )
    return int(counted["listed"] - counted["readable"])


def _medicines(rows: list[Resource], today: dt.date) -> Medicines:
    sent = [
        SentMedicine(
            medicines.summarise(r.content, today),
            _sender(r),
            timezone.localdate(r.last_updated),
            sent_from(r.author),
        )
        for r in rows
    ]
    return Medicines(
        current=sorted(
            (s for s in sent if s.medicine.status_code in medicines.CURRENT),
            key=lambda s: s.medicine.name.casefold(),
        ),
        ended=sorted(
            (s for s in sent if s.medicine.status_code in medicines.ENDED),
            key=lambda s: s.medicine.ends or s.updated,
            reverse=True,
        ),
    )


def _allergies(rows: list[Resource]) -> Allergies:
    sent = [
        SentAllergy(allergies.summarise(r.content), _sender(r), timezone.localdate(r.last_updated))
        for r in rows
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
    return [Received(r.content, _sender(r)) for r in found.select_related("author__user")]


def sent_from(author: Staff | None) -> str:
    """The organisation a resource came from: that of whoever sent it, whose system every
    colleague there records in; empty when no member of staff sent it."""
    return author.organisation.name if author is not None else ""


def _sender(resource: Resource) -> str:
    """Who sent it: the member of staff (or system account) the API client acts as."""
    return resource.author.display_name if resource.author else "another system"
