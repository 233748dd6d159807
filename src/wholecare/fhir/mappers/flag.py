"""Flag (UK Core) ↔ record.Alert: risks and alerts every member of the care team sees first,
including the PHQ-9 item 9 risk flags raised from QuestionnaireResponses."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.fhir.access import openable_people
from wholecare.fhir.base import Ctx, Include, RecordType, person_q, record_pks, reference_ids
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of
from wholecare.record.models import Alert

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag"
CATEGORY_SYSTEM = f"{WHOLECARE}/CodeSystem/alert-category"


def to_fhir(alert: Alert, fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "id": fhir_id,
        "status": "active" if alert.active else "inactive",
        "category": [
            {
                "coding": [
                    {
                        "system": CATEGORY_SYSTEM,
                        "code": alert.category,
                        "display": alert.get_category_display(),
                    }
                ]
            }
        ],
        "code": {"text": alert.text},
        "subject": {"reference": f"Patient/{alert.person.public_id}"},
        "period": {"start": alert.raised_at.isoformat()},
    }
    if alert.raised_by_id is not None:
        resource["author"] = {"reference": f"Practitioner/{alert.raised_by_id}"}
    return resource


class FlagType(RecordType[Alert]):
    name = "Flag"
    profile = PROFILE
    model = Alert
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The flag's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "status": Param("status", "token", "active or inactive"),
        "category": Param("category", "token", f"risk, safeguarding, ... ({CATEGORY_SYSTEM})"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Flag:patient": Include("Patient", reference_ids(lambda r: r.get("subject"), "Patient")),
        "Flag:subject": Include("Patient", reference_ids(lambda r: r.get("subject"), "Patient")),
    }
    documentation = "Risks and alerts, including PHQ-9 item 9 risk flags."

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Alert]:
        return Alert.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person")

    def render(self, row: Alert, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "status":
            return Q(active__in=[v == "active" for v in criterion.values])
        return Q(category__in=[v.rpartition("|")[2] for v in criterion.values])
