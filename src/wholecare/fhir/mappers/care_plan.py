"""CarePlan (UK Core): the care plans written in Wholecare with the person (`record.CarePlan`,
decision 0031), rendered read-only, and those other systems send, kept whole (decision 0006) and
changed through the API as before."""

from typing import Any, ClassVar

from django.db.models import Q, QuerySet
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
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, every_date
from wholecare.record.models import CarePlan, CarePlanAction

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-CarePlan"
INTENTS = frozenset({"proposal", "plan", "order", "option"})
CATEGORY = "Personalised care and support plan"
"""The category of Wholecare's own plans, as text: no code is verified for it, so a search by
category finds none of them."""

PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "The care plan's id"),
    "patient": Param("patient", "reference", "Patient/<id>"),
    "subject": Param("subject", "reference", "Patient/<id>"),
    "date": Param("date", "date", "Start of the period, with prefixes"),
    "status": Param("status", "token", "active, completed, ..."),
    "category": Param("category", "token", "Kind of plan"),
    "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
}


def to_fhir(plan: CarePlan, fhir_id: str) -> dict[str, Any]:
    """A plan written in Wholecare: what matters to the person is its description, each action an
    activity with who does it as its performer, its coordinator the author (FHIR: who is
    responsible for the plan), whoever wrote or last changed it otherwise a contributor, and what
    to do if things change, the review date and whether the person agreed it are notes (CarePlan
    has no elements for them)."""
    period = {"start": timezone.localtime(plan.written_at).date().isoformat()}
    if plan.status != CarePlan.Status.ACTIVE:
        period["end"] = timezone.localtime(plan.changed_at).date().isoformat()
    notes = [f"Review by {plan.review_date.isoformat()}."]
    notes.append(
        "Agreed with the person." if plan.agreed_with_person else "Not yet agreed with the person."
    )
    if plan.if_things_change:
        notes.append(f"If things change: {plan.if_things_change}")
    if plan.end_reason:
        notes.append(f"Why it ended: {plan.end_reason}")
    rendered: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": fhir_id,
        "status": plan.status,
        "intent": "plan",
        "category": [{"text": CATEGORY}],
        "title": plan.title,
        "description": f"What matters to the person: {plan.what_matters}",
        "subject": {
            "reference": f"Patient/{plan.person.public_id}",
            "display": plan.person.full_name,
        },
        "period": period,
        "created": plan.written_at.isoformat(),
        "author": _practitioner(plan.lead),
        "activity": [{"detail": _detail(action)} for action in plan.actions.all()],
        "note": [{"text": text} for text in notes],
    }
    contributors = {
        staff.pk: staff for staff in (plan.written_by, plan.changed_by) if staff.pk != plan.lead_id
    }
    if contributors:
        rendered["contributor"] = [_practitioner(staff) for staff in contributors.values()]
    return rendered


def _detail(action: CarePlanAction) -> dict[str, Any]:
    """An action as an activity: what, by whom and how far it has got, and whether the person
    recorded that themselves (`statusReason`)."""
    detail: dict[str, Any] = {
        "status": action.status,
        "description": action.what,
        "performer": [{"display": action.who}],
    }
    if action.status_by_person_at is not None:
        day = timezone.localtime(action.status_by_person_at).date().isoformat()
        detail["statusReason"] = {"text": f"Recorded by the person on {day}"}
    return detail


def _practitioner(staff: Any) -> dict[str, str]:
    return {"reference": f"Practitioner/{staff.pk}", "display": staff.display_name}


class ReceivedCarePlan(Received):
    """A CarePlan another system sent: kept whole, and created, updated and deleted through the
    API."""

    name = "CarePlan"
    profile = PROFILE
    statuses = frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    )
    writable = frozenset({"create", "update"})
    interactions = READS | {"delete"}
    date_element = "period"
    token_elements: ClassVar[dict[str, str]] = {"category": "category"}
    params: ClassVar[dict[str, Param]] = PARAMS

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        if content.get("intent") not in INTENTS:
            raise unprocessable(
                "code-invalid",
                f"CarePlan.intent must be one of {', '.join(sorted(INTENTS))}",
                "CarePlan.intent",
            )


class CarePlanType(ReceivingRecord[CarePlan]):
    name = "CarePlan"
    profile = PROFILE
    model = CarePlan
    received = ReceivedCarePlan()
    writable = frozenset({"create", "update"})
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS
    includes: ClassVar[dict[str, Include]] = {
        "CarePlan:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    sorts: ClassVar[dict[str, str]] = {"date": "written_at", "_lastUpdated": "changed_at"}
    changed_where = (
        "was written with the person on Wholecare's pages: it is changed there, not through the API"
    )
    undeletable = (
        "is a care plan written with the person on Wholecare's pages: it is ended there, with"
        " why, and cannot be deleted through the API"
    )
    documentation = (
        "Care plans: those written with the person on Wholecare's pages (decision 0031), read"
        " only, and those other systems send, kept whole (decision 0006), which their senders"
        " update and delete."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        """Never: Wholecare's own plans are written with the person on its pages."""
        return False

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[CarePlan]:
        return (
            CarePlan.objects.filter(person__in=openable_people(ctx.grant, self.name, permission))
            .select_related("person", "lead__user", "written_by__user", "changed_by__user")
            .prefetch_related("actions")
        )

    def render(self, row: CarePlan, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "status":
            return Q(status__in=criterion.values)
        if name == "category":
            return Q(pk__in=[])
        column = "written_at" if name == "date" else "changed_at"
        return every_date(criterion, column)
