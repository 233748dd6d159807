"""Group ↔ a service's caseload: the people with an open referral to a directory.Service
(decision 0011).

A caseload is the group of people a service holds, the same open referrals that give the service's
staff a legitimate relationship. The Group is definitional (`actual: false`): it states the rule
(an open referral to `HealthcareService/<id>`), not a list of members, so reading it tells a
client nothing about people it may not open; `Group/<id>/$export` exports the members the client
may open, with what is about them, under the same access rules as every other read.
"""

import datetime as dt
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.models import Service
from wholecare.fhir.base import Ctx, Include, RecordType, reference_ids
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_reference, parse_token
from wholecare.record.models import Person, Referral

PREFIX = "caseload-"
GROUP_KIND = f"{WHOLECARE}/CodeSystem/group-kind"
CHARACTERISTIC = f"{WHOLECARE}/CodeSystem/group-characteristic"


def to_fhir(service: Service, fhir_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Group",
        "id": fhir_id,
        "active": True,
        "type": "person",
        "actual": False,
        "code": {"coding": [{"system": GROUP_KIND, "code": "caseload", "display": "Caseload"}]},
        "name": f"Caseload of {service.name}",
        "managingEntity": {
            "reference": f"Organization/{service.organisation.ods_code}",
            "display": service.organisation.name,
        },
        "characteristic": [
            {
                "code": {
                    "coding": [
                        {
                            "system": CHARACTERISTIC,
                            "code": "open-referral",
                            "display": "Has an open referral to",
                        }
                    ]
                },
                "valueReference": {
                    "reference": f"HealthcareService/{service.pk}",
                    "display": service.name,
                },
                "exclude": False,
            }
        ],
    }


def service_pk(fhir_id: str) -> int | None:
    """The service whose caseload a Group id names (`caseload-<service id>`)."""
    return record_key(fhir_id.removeprefix(PREFIX)) if fhir_id.startswith(PREFIX) else None


def caseload(fhir_id: str, *, referred_from: dt.date | None = None) -> QuerySet[Person]:
    """The Group's members today: everyone with an open referral to its service (received on or
    after `referred_from`, if given). Unfiltered by access: callers narrow it to the people the
    client may open."""
    pk = service_pk(fhir_id)
    if pk is None:
        return Person.objects.none()
    referrals = Referral.objects.filter(service_id=pk, status=Referral.Status.OPEN)
    if referred_from is not None:
        referrals = referrals.filter(received_date__gte=referred_from)
    return Person.objects.filter(pk__in=referrals.values("person_id"))


def _id_q(value: str) -> Q:
    pk = service_pk(value)
    return Q(pk=pk) if pk is not None else Q(pk__in=[])


class GroupType(RecordType[Service]):
    name = "Group"
    model = Service
    operations: ClassVar[dict[str, str]] = {
        "export": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"
    }
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "caseload-<HealthcareService id>"),
        "managing-entity": Param("managing-entity", "reference", "Organization/<ODS code>"),
        "code": Param("code", "token", f"Kind of group ({GROUP_KIND}|caseload)"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Group:managing-entity": Include(
            "Organization", reference_ids(lambda r: r.get("managingEntity"), "Organization")
        ),
    }
    undeletable = (
        "cannot be deleted or changed through the API: a caseload exists while its service does,"
        " and its members are the open referrals to the service (ServiceRequest)"
    )
    documentation = (
        "Caseloads: one Group per service, defined as the people with an open referral to it"
        " (actual false, no member list). Group/<id>/$export exports the members the client may"
        " open."
    )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Service]:
        return Service.objects.select_related("organisation")

    def render(self, row: Service, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def fixed_id(self, row: Service) -> str:
        return f"{PREFIX}{row.pk}"

    def row_for_id(self, rows: QuerySet[Service], fhir_id: str) -> Service | None:
        return rows.filter(_id_q(fhir_id)).first()

    def row_person_id(self, row: Service) -> None:
        return None

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return any_of(criterion, _id_q)
        if criterion.name == "managing-entity":
            return Q(
                organisation__ods_code__in=[
                    parse_reference(v, "Organization") for v in criterion.values
                ]
            )
        matches = any(
            code == "caseload" and system in {None, GROUP_KIND}
            for system, code in map(parse_token, criterion.values)
        )
        return Q() if matches else Q(pk__in=[])
