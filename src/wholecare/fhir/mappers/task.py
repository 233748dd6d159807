"""Task (UK Core) ← medicines.PrescriberRequest: each request to the prescriber that a medicines
reconciliation or a structured medication review made (decision 0046), so that a GP practice's
own system finds what waits on it (`Task?owner=Organization/<ODS code>&status=requested`), what
became of each, and answers it from the clinician's own screen (decision 0049). Shared as the one
medicine it names (decision 0048): one withheld answers 403. Requests are made on Wholecare's
pages; an answer or withdrawal, on the pages or by an update here, is a note on the timeline."""

from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from wholecare.access.permissions import AccessDenied
from wholecare.directory.models import Organisation
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    READS,
    Ctx,
    Include,
    UnderSharingRule,
    person_q,
    record_pks,
    reference_ids,
)
from wholecare.fhir.errors import FhirError, Issue, not_found, unprocessable
from wholecare.fhir.mappers import WHOLECARE, validation_outcome
from wholecare.fhir.mappers.document_reference import NOT_FOR_THE_PERSON
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, every_date, parse_token
from wholecare.fhir.store import Item
from wholecare.medicines import selectors, services
from wholecare.medicines.models import PrescriberRequest
from wholecare.medicines.requests import Answer, Kind
from wholecare.record.models import RecordEntry

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task"
KIND_SYSTEM = f"{WHOLECARE}/CodeSystem/prescriber-request"
"""Wholecare's kinds of request to the prescriber: `correction` (of a list, from a
reconciliation) and `change` (agreed at a structured medication review)."""
STATUSES: dict[str, Q] = {
    "requested": selectors.WAITING_Q,
    "completed": selectors.ANSWERED_Q & Q(answer=Answer.DONE),
    "rejected": selectors.ANSWERED_Q & Q(answer=Answer.NOT_DONE),
    "cancelled": selectors.WITHDRAWN_Q,
    "entered-in-error": ~selectors.ASKED_Q,
}
"""Each FHIR task status a request takes, as a filter: waiting; answered done, or not done (the
prescriber decided to leave things as they are); withdrawn by whoever asked; or its note entered
in error."""
ANSWERS = {"completed": Answer.DONE, "rejected": Answer.NOT_DONE}
"""The statuses an update answers a request with."""
PATHS = {
    "answer": "Task.status",
    "note": "Task.statusReason.text",
    "reason": "Task.statusReason.text",
}
FIXED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Task.for": lambda t: (t.get("for") or {}).get("reference"),
    "Task.owner": lambda t: (t.get("owner") or {}).get("reference"),
    "Task.requester": lambda t: (t.get("requester") or {}).get("reference"),
    "Task.code": lambda t: [
        (c.get("system"), c.get("code")) for c in (t.get("code") or {}).get("coding", [])
    ],
    "Task.description": lambda t: t.get("description"),
    "Task.input": lambda t: t.get("input"),
}
"""What an update may not change, and how each is read: only the status, and why, change."""


def to_fhir(request: PrescriberRequest, fhir_id: str) -> dict[str, Any]:
    """The medicine and what was asked as `description` and `input`, whom it asks as `owner`,
    whoever asked as `requester`; once ended, the note that ended it (the answer, with why when
    not done, or the withdrawal) as a `note`, and the answer as `businessStatus`."""
    kind = request.kind_enum
    ended_by = _ended_by(request)
    found = "What was found" if kind is Kind.CORRECTION else "What was agreed"
    rendered: dict[str, Any] = {
        "resourceType": "Task",
        "id": fhir_id,
        "identifier": [
            {"system": "https://tools.ietf.org/html/rfc4122", "value": str(request.public_id)}
        ],
        "status": _status(request),
        "intent": "order",
        "priority": "routine",
        "code": {
            "coding": [{"system": KIND_SYSTEM, "code": kind.value, "display": kind.label}],
            "text": kind.label,
        },
        "description": f"{kind.label}: {request.medicine}",
        "for": {
            "reference": f"Patient/{request.person.public_id}",
            "display": request.person.full_name,
        },
        "authoredOn": request.asked_at.isoformat(),
        "lastModified": (ended_by.occurred_at if ended_by else request.asked_at).isoformat(),
        "requester": {
            "reference": f"Practitioner/{request.asked_by_id}",
            "display": request.asked_by.display_name,
        },
        "owner": _organisation(request.asked_of),
        "input": [
            *(_text_input("As listed", listed) for listed in request.as_listed),
            _text_input(found, request.asked),
        ],
    }
    if ended_by is request.answer_entry and request.answer:
        rendered["businessStatus"] = {"text": kind.answer_label(Answer(request.answer))}
    if ended_by is not None:
        rendered["note"] = [
            {
                "authorReference": {
                    "reference": f"Practitioner/{ended_by.author_id}",
                    "display": ended_by.author.display_name,
                },
                "time": ended_by.occurred_at.isoformat(),
                "text": ended_by.text,
            }
        ]
    if any(e.withheld_from_person for e in (request.asked_in, ended_by) if e is not None):
        rendered["meta"] = {"security": [NOT_FOR_THE_PERSON]}
    return rendered


def _ended_by(request: PrescriberRequest) -> RecordEntry | None:
    """The note that ended the request (its answer or withdrawal), unless entered in error."""
    for entry in (request.answer_entry, request.withdrawal_entry):
        if entry is not None and entry.entered_in_error_at is None:
            return entry
    return None


def _status(request: PrescriberRequest) -> str:
    if request.asked_in.entered_in_error_at is not None:
        return "entered-in-error"
    ended_by = _ended_by(request)
    if ended_by is None:
        return "requested"
    if ended_by is request.withdrawal_entry:
        return "cancelled"
    return "completed" if request.answer == Answer.DONE else "rejected"


def _organisation(organisation: Organisation) -> dict[str, str]:
    return {"reference": f"Organization/{organisation.ods_code}", "display": organisation.name}


def _text_input(label: str, text: str) -> dict[str, Any]:
    return {"type": {"text": label}, "valueString": text}


class TaskType(UnderSharingRule[PrescriberRequest]):
    name = "Task"
    profile = PROFILE
    model = PrescriberRequest
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The request's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "owner": Param("owner", "reference", "Organization/<ODS code>: the organisation asked"),
        "requester": Param("requester", "reference", "Practitioner/<id>: whoever asked"),
        "status": Param("status", "token", ", ".join(STATUSES)),
        "code": Param("code", "token", f"correction or change ({KIND_SYSTEM})"),
        "authored-on": Param("authored-on", "date", "When it was asked, with prefixes"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Task:patient": Include("Patient", reference_ids(lambda r: r.get("for"), "Patient")),
        "Task:owner": Include(
            "Organization", reference_ids(lambda r: r.get("owner"), "Organization")
        ),
        "Task:requester": Include(
            "Practitioner", reference_ids(lambda r: r.get("requester"), "Practitioner")
        ),
    }
    sorts: ClassVar[dict[str, str]] = {"authored-on": "asked_at"}
    writable = frozenset({"update"})
    interactions = READS | {"update"}
    undeletable = (
        "is a request to the prescriber made on Wholecare's pages: whoever asked withdraws it"
        " there, and the organisation asked answers it there (decision 0046)"
    )
    documentation = (
        "The requests to the prescriber made by medicines reconciliations and structured"
        " medication reviews (decision 0049): to correct a medicines list, or to make a change"
        " agreed with the person, owned by the organisation asked; each shared as the one"
        " medicine it names (decision 0048): one withheld answers 403. An update by a clinician"
        " of the organisation asked, caring for the person, answers one still `requested`:"
        " `completed`, or `rejected` with why in `statusReason.text`; whoever asked, or a"
        " colleague covering, withdraws it: `cancelled`, with why. Nothing else changes."
    )

    def within(self, ctx: Ctx, permission: Permission) -> QuerySet[PrescriberRequest]:
        return PrescriberRequest.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related(
            "person",
            "asked_in",
            "asked_by__user",
            "asked_of",
            "answer_entry__author__user",
            "withdrawal_entry__author__user",
        )

    def shared_q(self, ctx: Ctx) -> Q:
        return selectors.request_readable_q(ctx.staff)

    def render(self, row: PrescriberRequest, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def row_sensitivity(self, row: PrescriberRequest) -> str:
        return row.sensitivity

    @transaction.atomic
    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        """Answer or withdraw the request, as its pages do (decision 0049), in the name of the
        user the token was issued to."""
        request = self.row_for_id(self.rows(ctx, Permission.UPDATE), current.fhir_id)
        if request is None:
            raise not_found(self.name, current.fhir_id)
        changed = [where for where, read in FIXED.items() if read(content) != read(current.content)]
        if changed:
            raise unprocessable(
                "business-rule",
                f"{', '.join(changed)} cannot change: an update may only answer or withdraw the"
                " request (Task.status and Task.statusReason)",
                changed[0],
            )
        status = content.get("status")
        why = str((content.get("statusReason") or {}).get("text") or "")
        if status == current.content["status"]:
            raise unprocessable("business-rule", f"The Task is already {status}", "Task.status")
        try:
            if status in ANSWERS:
                services.request_answer(
                    by=ctx.grant.user, request=request, answer=ANSWERS[status], note=why
                )
            elif status == "cancelled":
                services.request_withdraw(by=ctx.grant.user, request=request, reason=why)
            else:
                raise unprocessable(
                    "business-rule",
                    "A request to the prescriber is answered (completed, or rejected saying why)"
                    f" or withdrawn (cancelled, saying why), not made {status}",
                    "Task.status",
                )
        except AccessDenied as refusal:
            raise FhirError(403, [Issue("forbidden", str(refusal))]) from None
        except ValidationError as problem:
            raise validation_outcome(problem, PATHS, "Task") from None
        return self.items([self.rows(ctx, Permission.READ).get(pk=request.pk)])[0]

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "owner":
            return any_of(
                criterion, lambda v: Q(asked_of__ods_code=v.removeprefix("Organization/"))
            )
        if name == "requester":
            return any_of(criterion, _requester_q)
        if name == "status":
            return any_of(criterion, lambda v: STATUSES.get(v, Q(pk__in=[])))
        if name == "code":
            return any_of(criterion, _kind_q)
        return every_date(criterion, "asked_at")


def _requester_q(value: str) -> Q:
    key = value.removeprefix("Practitioner/")
    return Q(asked_by_id=int(key)) if key.isdigit() else Q(pk__in=[])


def _kind_q(value: str) -> Q:
    system, code = parse_token(value)
    if system not in {None, KIND_SYSTEM} or code not in {k.value for k in Kind}:
        return Q(pk__in=[])
    return Q(kind=code)
