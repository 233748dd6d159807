"""PractitionerRole (UK Core) ↔ directory.Staff: the discipline, organisation and services a
member of staff works in (one role each, so it shares the Practitioner's id). A PractitionerRole
sent by another system whose practitioner is not a member of staff is kept as received (decision
0014): it is no role in Wholecare and grants nothing."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.models import Staff
from wholecare.fhir.base import Ctx, Include, Received, ReceivingRecord, reference_ids
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.mappers.practitioner import staff_id_q
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_reference
from wholecare.fhir.store import Item

DISCIPLINE_SYSTEM = f"{WHOLECARE}/CodeSystem/discipline"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-PractitionerRole"


def to_fhir(staff: Staff, fhir_id: str) -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole",
        "id": fhir_id,
        "active": True,
        "practitioner": {"reference": f"Practitioner/{staff.pk}", "display": staff.display_name},
        "organization": {
            "reference": f"Organization/{staff.organisation.ods_code}",
            "display": staff.organisation.name,
        },
        "code": [
            {
                "coding": [
                    {
                        "system": DISCIPLINE_SYSTEM,
                        "code": staff.discipline,
                        "display": staff.discipline_enum.label,
                    }
                ]
            }
        ],
        "healthcareService": [
            {"reference": f"HealthcareService/{service.pk}", "display": service.name}
            for service in staff.services.all()
        ],
    }


def role_staff(content: dict[str, Any]) -> Staff | None:
    """The member of staff a PractitionerRole's practitioner reference names."""
    text = str((content.get("practitioner") or {}).get("reference", ""))
    staff_id = record_key(text.removeprefix("Practitioner/"))
    if not text.startswith("Practitioner/") or staff_id is None:
        return None
    return Staff.objects.select_related("user", "organisation").filter(pk=staff_id).first()


PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "The role's id (the practitioner's id)"),
    "practitioner": Param("practitioner", "reference", "Practitioner/<id>"),
    "organization": Param("organization", "reference", "Organization/<ODS code>"),
    "role": Param("role", "token", f"Discipline ({DISCIPLINE_SYSTEM})"),
}


class ReceivedPractitionerRole(Received):
    name = "PractitionerRole"
    profile = PROFILE
    subject_element = ""
    token_elements: ClassVar[dict[str, str]] = {"role": "code"}
    params: ClassVar[dict[str, Param]] = PARAMS

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = super().tokens(content)
        for param in ("practitioner", "organization"):
            reference = (content.get(param) or {}).get("reference")
            if reference:
                found.append((param, "", str(reference)))
        return found


class PractitionerRoleType(ReceivingRecord[Staff]):
    name = "PractitionerRole"
    profile = PROFILE
    model = Staff
    received = ReceivedPractitionerRole()
    undeletable = (
        "is the directory's (kept by its owners), or kept as received from another system as it"
        " was sent: it cannot be deleted through the API"
    )
    params: ClassVar[dict[str, Param]] = PARAMS
    includes: ClassVar[dict[str, Include]] = {
        "PractitionerRole:practitioner": Include(
            "Practitioner", reference_ids(lambda r: r.get("practitioner"), "Practitioner")
        ),
        "PractitionerRole:organization": Include(
            "Organization", reference_ids(lambda r: r.get("organization"), "Organization")
        ),
    }
    documentation = (
        "The directory: each member of staff's discipline, organisation and services. A"
        " PractitionerRole sent by another system whose practitioner is not a member of staff is"
        " kept as received (decision 0014): it is no role in Wholecare and grants nothing."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        return role_staff(content) is not None

    def create_own(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        staff = role_staff(content)
        raise unprocessable(
            "business-rule",
            f"This is the directory's PractitionerRole/{staff.pk if staff else ''}: a member of"
            " staff's role is kept by the directory's owners, so refer to that one",
            "PractitionerRole.practitioner",
        )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Staff]:
        return Staff.objects.select_related("user", "organisation").prefetch_related("services")

    def render(self, row: Staff, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def fixed_id(self, row: Staff) -> str:
        return str(row.pk)

    def row_for_id(self, rows: QuerySet[Staff], fhir_id: str) -> Staff | None:
        return rows.filter(staff_id_q(fhir_id)).first()

    def row_person_id(self, row: Staff) -> None:
        return None

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name in {"_id", "practitioner"}:
            return any_of(criterion, lambda v: staff_id_q(parse_reference(v, "Practitioner")))
        if criterion.name == "organization":
            return Q(
                organisation__ods_code__in=[
                    parse_reference(v, "Organization") for v in criterion.values
                ]
            )
        return Q(discipline__in=[v.rpartition("|")[2] for v in criterion.values])
