"""HealthcareService ↔ directory.Service: the services referrals are made to."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.models import Service
from wholecare.fhir.base import Ctx, Include, RecordType, reference_ids
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_reference

KIND_SYSTEM = f"{WHOLECARE}/CodeSystem/service-kind"


def to_fhir(service: Service, fhir_id: str) -> dict[str, Any]:
    return {
        "resourceType": "HealthcareService",
        "id": fhir_id,
        "active": True,
        "providedBy": {
            "reference": f"Organization/{service.organisation.ods_code}",
            "display": service.organisation.name,
        },
        "type": [
            {
                "coding": [
                    {
                        "system": KIND_SYSTEM,
                        "code": service.kind,
                        "display": service.get_kind_display(),
                    }
                ]
            }
        ],
        "name": service.name,
    }


def service_id_q(value: str) -> Q:
    key = record_key(value)
    return Q(pk=key) if key is not None else Q(pk__in=[])


class HealthcareServiceType(RecordType[Service]):
    name = "HealthcareService"
    model = Service
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The service's id"),
        "organization": Param("organization", "reference", "Organization/<ODS code>"),
        "name": Param("name", "string", "Name (starts with; :exact for exact)"),
        "service-type": Param("service-type", "token", f"Kind of service ({KIND_SYSTEM})"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "HealthcareService:organization": Include(
            "Organization", reference_ids(lambda r: r.get("providedBy"), "Organization")
        ),
    }
    documentation = "The directory: every service, as referrals (ServiceRequest) name them."

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Service]:
        return Service.objects.select_related("organisation")

    def render(self, row: Service, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def fixed_id(self, row: Service) -> str:
        return str(row.pk)

    def row_for_id(self, rows: QuerySet[Service], fhir_id: str) -> Service | None:
        return rows.filter(service_id_q(fhir_id)).first()

    def row_person_id(self, row: Service) -> None:
        return None

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return any_of(criterion, service_id_q)
        if criterion.name == "organization":
            return Q(
                organisation__ods_code__in=[
                    parse_reference(v, "Organization") for v in criterion.values
                ]
            )
        if criterion.name == "service-type":
            return Q(kind__in=[v.rpartition("|")[2] for v in criterion.values])
        lookup = "iexact" if criterion.modifier == "exact" else "istartswith"
        return any_of(criterion, lambda v: Q(**{f"name__{lookup}": v}))
