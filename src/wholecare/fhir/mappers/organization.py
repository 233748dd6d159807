"""Organization (UK Core) ↔ directory.Organisation. Id and identifier: the ODS code."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.models import Organisation
from wholecare.fhir.base import Ctx, RecordType
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_token

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
KIND_SYSTEM = f"{WHOLECARE}/CodeSystem/organisation-kind"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"


def to_fhir(organisation: Organisation, fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": fhir_id,
        "identifier": [{"system": ODS, "value": organisation.ods_code}],
        "active": True,
        "type": [
            {
                "coding": [
                    {
                        "system": KIND_SYSTEM,
                        "code": organisation.kind,
                        "display": organisation.get_kind_display(),
                    }
                ]
            }
        ],
        "name": organisation.name,
    }
    if organisation.postcode:
        resource["address"] = [{"postalCode": organisation.postcode}]
    return resource


class OrganizationType(RecordType[Organisation]):
    name = "Organization"
    profile = PROFILE
    model = Organisation
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The ODS code"),
        "identifier": Param("identifier", "token", f"ODS code ({ODS}|A12345)"),
        "name": Param("name", "string", "Name (starts with; :exact for exact)"),
    }
    documentation = "The directory: every organisation in the integrated care system."

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Organisation]:
        return Organisation.objects.all()

    def render(self, row: Organisation, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def fixed_id(self, row: Organisation) -> str:
        return row.ods_code

    def row_for_id(self, rows: QuerySet[Organisation], fhir_id: str) -> Organisation | None:
        return rows.filter(ods_code=fhir_id).first()

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return Q(ods_code__in=criterion.values)
        if criterion.name == "identifier":
            return any_of(criterion, _identifier_q)
        lookup = "iexact" if criterion.modifier == "exact" else "istartswith"
        return any_of(criterion, lambda v: Q(**{f"name__{lookup}": v}))


def _identifier_q(value: str) -> Q:
    system, code = parse_token(value)
    return Q(ods_code=code) if system in {None, ODS} and code else Q(pk__in=[])
