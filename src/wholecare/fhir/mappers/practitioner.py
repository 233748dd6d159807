"""Practitioner (UK Core) ↔ directory.Staff: who the member of staff is."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.models import Staff
from wholecare.fhir.base import Ctx, RecordType
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_token

REGISTRATION = f"{WHOLECARE}/Id/professional-registration"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Practitioner"


def to_fhir(staff: Staff, fhir_id: str) -> dict[str, Any]:
    user = staff.user
    resource: dict[str, Any] = {"resourceType": "Practitioner", "id": fhir_id, "active": True}
    if staff.professional_registration:
        resource["identifier"] = [
            {"system": REGISTRATION, "value": staff.professional_registration}
        ]
    name: dict[str, Any] = {"use": "official", "text": staff.display_name}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    resource["name"] = [name]
    return resource


def staff_id_q(value: str) -> Q:
    key = record_key(value)
    return Q(pk=key) if key is not None else Q(pk__in=[])


class PractitionerType(RecordType[Staff]):
    name = "Practitioner"
    profile = PROFILE
    model = Staff
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The practitioner's id"),
        "identifier": Param("identifier", "token", f"Professional registration ({REGISTRATION})"),
        "name": Param("name", "string", "Family or given name (starts with)"),
    }
    documentation = "The directory: every member of staff."

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Staff]:
        return Staff.objects.select_related("user")

    def render(self, row: Staff, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def fixed_id(self, row: Staff) -> str:
        return str(row.pk)

    def row_for_id(self, rows: QuerySet[Staff], fhir_id: str) -> Staff | None:
        return rows.filter(staff_id_q(fhir_id)).first()

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return any_of(criterion, staff_id_q)
        if criterion.name == "identifier":
            return any_of(criterion, _identifier_q)
        return any_of(
            criterion,
            lambda v: Q(user__last_name__istartswith=v) | Q(user__first_name__istartswith=v),
        )


def _identifier_q(value: str) -> Q:
    system, code = parse_token(value)
    if system not in {None, REGISTRATION} or not code:
        return Q(pk__in=[])
    return Q(professional_registration=code)
