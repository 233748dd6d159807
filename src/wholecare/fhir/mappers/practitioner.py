"""Practitioner (UK Core) ↔ directory.Staff: who the member of staff is. The directory is kept by
its owners: a Practitioner sent by another system is matched onto a member of staff by
professional registration, or, when it matches nobody, kept as received (decision 0014); a
received Practitioner is not staff, and can neither sign in, be on a care team nor receive a
referral."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.models import Staff
from wholecare.fhir.base import Ctx, Received, ReceivingRecord, unique_row
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_token
from wholecare.fhir.store import Item

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


def directory_match(content: dict[str, Any]) -> Staff | None:
    """The member of staff whose professional registration is one of the Practitioner's
    identifiers."""
    numbers = [str(i.get("value")) for i in content.get("identifier", []) if i.get("value")]
    return unique_row(
        Staff.objects.select_related("user")
        .filter(professional_registration__in=numbers)
        .exclude(professional_registration="")
        .order_by("pk")
    )


PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "The practitioner's id"),
    "identifier": Param("identifier", "token", f"Professional registration ({REGISTRATION})"),
    "name": Param("name", "string", "Family or given name (starts with)"),
}


class ReceivedPractitioner(Received):
    name = "Practitioner"
    profile = PROFILE
    subject_element = ""
    params: ClassVar[dict[str, Param]] = PARAMS

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = [
            ("identifier", str(i.get("system", "")), str(i["value"]))
            for i in content.get("identifier", [])
            if i.get("value")
        ]
        for name in content.get("name", []):
            for part in [name.get("family"), *name.get("given", [])]:
                if part:
                    found.append(("name", "", str(part)))
        return found


class PractitionerType(ReceivingRecord[Staff]):
    name = "Practitioner"
    profile = PROFILE
    model = Staff
    received = ReceivedPractitioner()
    undeletable = (
        "is the directory's (kept by its owners), or kept as received from another system as it"
        " was sent: it cannot be deleted through the API"
    )
    params: ClassVar[dict[str, Param]] = PARAMS
    documentation = (
        "The directory: every member of staff. A Practitioner sent by another system that matches"
        " no member of staff by professional registration is kept as received (decision 0014):"
        " it is not staff, and grants nothing (no sign-in, care team or referral)."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        return directory_match(content) is not None

    def create_own(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        staff = directory_match(content)
        raise unprocessable(
            "business-rule",
            f"This is the directory's Practitioner/{staff.pk if staff else ''} (by professional"
            " registration): the directory is kept by its owners, so refer to that one",
            "Practitioner.identifier",
        )

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
