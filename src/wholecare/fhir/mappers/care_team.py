"""CareTeam (UK Core) ↔ record.CareTeamMembership: one care team per person, its members as
participants with their roles and periods, the main legitimate relationship that opens a record.
Memberships are kept in Wholecare; a CareTeam another system sends (a GP system's weight
management team) is kept as received, and opens nothing (decision 0014)."""

from typing import Any, ClassVar

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    READS,
    Ctx,
    Include,
    Received,
    ReceivingRecord,
    person_q,
    record_pks,
    reference_ids,
)
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of
from wholecare.record.models import CareTeamMembership, Person

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-CareTeam"


def to_fhir(person: Person, fhir_id: str) -> dict[str, Any]:
    today = timezone.localdate()
    participants = []
    for member in person.care_team.all():
        period = {"start": member.start_date.isoformat()}
        if member.end_date is not None:
            period["end"] = member.end_date.isoformat()
        participants.append(
            {
                "role": [{"text": member.role}],
                "member": {
                    "reference": f"Practitioner/{member.staff_id}",
                    "display": member.staff.display_name,
                },
                "period": period,
            }
        )
    active = any(
        m.start_date <= today and (m.end_date is None or m.end_date >= today)
        for m in person.care_team.all()
    )
    return {
        "resourceType": "CareTeam",
        "id": fhir_id,
        "status": "active" if active else "inactive",
        "name": f"Care team of {person.full_name}",
        "subject": {"reference": f"Patient/{person.public_id}"},
        "participant": participants,
    }


PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "The care team's id"),
    "patient": Param("patient", "reference", "Patient/<id>"),
    "subject": Param("subject", "reference", "Patient/<id>"),
    "status": Param("status", "token", "active (someone on it today) or inactive"),
}


class ReceivedCareTeam(Received):
    name = "CareTeam"
    profile = PROFILE
    statuses = frozenset({"proposed", "active", "suspended", "inactive", "entered-in-error"})
    date_element = "period"
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS


class CareTeamType(ReceivingRecord[Person]):
    name = "CareTeam"
    profile = PROFILE
    model = Person
    received = ReceivedCareTeam()
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS
    includes: ClassVar[dict[str, Include]] = {
        "CareTeam:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "CareTeam:participant": Include(
            "Practitioner",
            reference_ids(
                lambda r: [p.get("member") for p in r.get("participant", [])], "Practitioner"
            ),
        ),
    }
    documentation = (
        "Each person's care team: the main legitimate relationship, kept in Wholecare (add"
        " members there). A CareTeam sent by another system is kept as received (decision 0014):"
        " it grants nobody access to the record; it can be deleted (marked entered in error)."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        """Never: a person's care team in Wholecare is its memberships, never a CareTeam sent."""
        return False

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Person]:
        return (
            openable_people(ctx.grant, self.name, permission)
            .filter(pk__in=CareTeamMembership.objects.values("person_id"))
            .prefetch_related(
                Prefetch(
                    "care_team",
                    CareTeamMembership.objects.select_related("staff__user").order_by(
                        "start_date", "pk"
                    ),
                )
            )
        )

    def render(self, row: Person, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def row_person_id(self, row: Person) -> int:
        return row.pk

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if criterion.name in {"patient", "subject"}:
            return any_of(criterion, lambda v: person_q(v, "public_id"))
        today = timezone.localdate()
        current = CareTeamMembership.objects.filter(start_date__lte=today).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
        active = Q(pk__in=current.values("person_id"))
        wanted = set(criterion.values)
        if wanted == {"active"}:
            return active
        if wanted == {"inactive"}:
            return ~active
        return Q() if {"active", "inactive"} <= wanted else Q(pk__in=[])
