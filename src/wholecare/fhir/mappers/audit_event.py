"""AuditEvent (read-only, IHE Basic Audit Log Patterns style) ↔ access.AuditEvent.

A privacy officer reads the whole trail; anyone else reads their own actions, with refused
attempts shown without the person, as on the web UI's "my audit" page."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.access.models import AuditEvent
from wholecare.access.permissions import can_view_person_audit
from wholecare.fhir.base import Ctx, Page, ResourceType, person_q
from wholecare.fhir.errors import bad_request
from wholecare.fhir.keys import record_key
from wholecare.fhir.search import Criterion, Param, SearchRequest, any_of, every_date
from wholecare.fhir.store import Item
from wholecare.record.models import Person

PROFILE = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
ACTION = {
    AuditEvent.Action.CREATE: "C",
    AuditEvent.Action.UPDATE: "U",
    AuditEvent.Action.EXPORT: "E",
    AuditEvent.Action.BREAK_GLASS: "E",
    AuditEvent.Action.REVIEW: "E",
}
SUBTYPE = "http://hl7.org/fhir/restful-interaction"
SUBTYPES = {"view": "read", "search": "search-type", "create": "create", "update": "update"}
WHOLECARE_ACTION = "https://wholecare.example.org/CodeSystem/audit-action"


def to_fhir(event: AuditEvent, patient_id: str | None) -> dict[str, Any]:
    denied = event.action == AuditEvent.Action.DENIED
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "IRCP",
                    "display": "information recipient",
                }
            ]
        },
        "who": {
            "identifier": {
                "system": "https://wholecare.example.org/Id/username",
                "value": event.actor_username or "anonymous",
            },
            "display": event.actor_name or "anonymous",
        },
        "requestor": True,
        "role": [{"text": event.actor_role or "unknown"}],
    }
    if event.why:
        agent["purposeOfUse"] = [{"text": event.why}]
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.pk),
        "type": {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [
            {
                "system": WHOLECARE_ACTION,
                "code": event.action,
                "display": event.get_action_display(),
            },
            *(
                [{"system": SUBTYPE, "code": SUBTYPES[event.action]}]
                if event.action in SUBTYPES
                else []
            ),
        ],
        "action": ACTION.get(AuditEvent.Action(event.action), "R"),
        "recorded": event.occurred_at.isoformat(),
        "outcome": "4" if denied else "0",
        "outcomeDesc": event.what,
        "agent": [agent],
        "source": {"observer": {"display": "Wholecare"}},
    }
    if patient_id is not None:
        resource["entity"] = [
            {
                "what": {"reference": f"Patient/{patient_id}"},
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        ]
    if event.flagged_for_review:
        resource["outcomeDesc"] = f"{event.what} (flagged for privacy officer review)"
    return resource


class AuditEventType(ResourceType):
    name = "AuditEvent"
    profile = PROFILE
    interactions = frozenset({"read", "vread", "search-type"})
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The event's id"),
        "patient": Param("patient", "reference", "Patient/<id> (privacy officers)"),
        "date": Param("date", "date", "When it happened, with prefixes"),
        "action": Param("action", "token", f"view, search, create, ... ({WHOLECARE_ACTION})"),
    }
    documentation = (
        "The audit trail, read-only: privacy officers read all of it, others their own actions."
    )

    def events(self, ctx: Ctx) -> QuerySet[AuditEvent]:
        if can_view_person_audit(ctx.staff):
            return AuditEvent.objects.all()
        return AuditEvent.objects.filter(actor_user_id=ctx.grant.user.pk)

    def _items(self, ctx: Ctx, events: list[AuditEvent]) -> list[Item]:
        officer = can_view_person_audit(ctx.staff)
        named = {
            e.person_id
            for e in events
            if e.person_id is not None and (officer or e.action != AuditEvent.Action.DENIED)
        }
        public_ids = dict(Person.objects.filter(pk__in=named).values_list("pk", "public_id"))
        found = []
        for event in events:
            patient = public_ids.get(event.person_id) if event.person_id in named else None
            found.append(
                Item(
                    self.name,
                    str(event.pk),
                    1,
                    event.occurred_at,
                    to_fhir(event, str(patient) if patient else None),
                )
            )
        return found

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        key = record_key(fhir_id)
        if key is None:
            return None
        event = self.events(ctx).filter(pk=key).first()
        return None if event is None else self._items(ctx, [event])[0]

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        events = self.events(ctx)
        for criterion in request.criteria:
            events = events.filter(self.filter(ctx, criterion))
        total = events.count()
        page = list(
            events.order_by("-occurred_at", "-pk")[request.offset : request.offset + request.count]
        )
        return Page(self._items(ctx, page), total)

    def filter(self, ctx: Ctx, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return Q(pk__in=[k for k in map(record_key, criterion.values) if k is not None])
        if criterion.name == "patient":
            if not can_view_person_audit(ctx.staff):
                raise bad_request("Only a privacy officer searches the audit trail by patient")
            people = Person.objects.filter(any_of(criterion, lambda v: person_q(v, "public_id")))
            return Q(person_id__in=people.values("pk"))
        if criterion.name == "action":
            return Q(action__in=[v.rpartition("|")[2] for v in criterion.values])
        return every_date(criterion, "occurred_at")
