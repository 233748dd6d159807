"""ServiceRequest (UK Core) ↔ record.Referral: a referral of the person to a service. While
open (status active), the service's staff may open the person's record. The performer may be the
HealthcareService, or a Practitioner (PractitionerRole) or an Organization: the record holds those
as a referral to the one service the clinician works in or the organisation runs, and names the
clinician or organisation first among the performers on the way out; only the service's staff
open the record on it, as for any referral. An update closes it (decision 0021): completed when
the service discharged the person, revoked when it did not accept the referral or the referrer
withdrew it, with the reason as a note."""

import datetime as dt
from collections.abc import Collection
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from wholecare.access.permissions import AccessDenied, staff_of
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    Ctx,
    Include,
    RecordType,
    person_q,
    record_pks,
    reference_id,
    reference_ids,
    referenced_person,
)
from wholecare.fhir.errors import FhirError, Issue, not_found, unprocessable
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import unknown_elements, validation_outcome
from wholecare.fhir.models import Resource
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, every_date
from wholecare.fhir.store import Item
from wholecare.record import services
from wholecare.record.models import Referral

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"
#: How each status of ServiceRequest is held: open, or closed with which outcomes.
STATUS_Q = {
    "active": Q(status=Referral.Status.OPEN),
    "completed": Q(status=Referral.Status.CLOSED, outcome=Referral.Outcome.DISCHARGED),
    "revoked": Q(status=Referral.Status.CLOSED) & ~Q(outcome=Referral.Outcome.DISCHARGED),
}

#: Where a closing's errors are, in the resource.
CLOSING_PATHS = {
    "outcome": "ServiceRequest.status",
    "outcome_note": "ServiceRequest.note",
    "closed_date": "ServiceRequest.occurrencePeriod.end",
}


def fhir_status(referral: Referral) -> str:
    if referral.status == Referral.Status.OPEN:
        return "active"
    return "completed" if referral.outcome == Referral.Outcome.DISCHARGED else "revoked"


def to_fhir(referral: Referral, fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": fhir_id,
        "status": fhir_status(referral),
        "intent": "order",
        "subject": {"reference": f"Patient/{referral.person.public_id}"},
        "authoredOn": referral.received_date.isoformat(),
        "performer": [
            {
                "reference": f"HealthcareService/{referral.service_id}",
                "display": referral.service.name,
            }
        ],
    }
    if referral.recipient is not None:
        resource["performer"].insert(
            0,
            {
                "reference": f"Practitioner/{referral.recipient_id}",
                "display": referral.recipient.display_name,
            },
        )
    elif referral.addressed_to == Referral.AddressedTo.ORGANISATION:
        organisation = referral.service.organisation
        resource["performer"].insert(
            0, {"reference": f"Organization/{organisation.ods_code}", "display": organisation.name}
        )
    if referral.request_code:
        coding = {"system": referral.request_system, "code": referral.request_code}
        if referral.request_display:
            coding["display"] = referral.request_display
        resource["code"] = {"coding": [coding]}
    if referral.priority != Referral.Priority.ROUTINE:  # FHIR reads no priority as routine
        resource["priority"] = referral.priority
    if referral.reason:
        resource["reasonCode"] = [{"text": referral.reason}]
    if referral.referred_by_id is not None:
        resource["requester"] = {"reference": f"Practitioner/{referral.referred_by_id}"}
    elif referral.self_referral:
        resource["requester"] = {
            "reference": f"Patient/{referral.person.public_id}",
            "display": referral.person.full_name,
        }
    if referral.closed_date is not None:
        resource["occurrencePeriod"] = {
            "start": referral.received_date.isoformat(),
            "end": referral.closed_date.isoformat(),
        }
        ending = Referral.Outcome(referral.outcome).label
        note: dict[str, Any] = {
            "text": f"{ending}: {referral.outcome_note}" if referral.outcome_note else ending,
            "time": referral.closed_date.isoformat(),
        }
        if referral.closed_by_id is not None:
            note["authorReference"] = {"reference": f"Practitioner/{referral.closed_by_id}"}
        resource["note"] = [note]
    return resource


def _rendered(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """With what rendering them reads."""
    return referrals.select_related("person", "service__organisation", "recipient__user")


def ids_of(referrals: Collection[int]) -> dict[int, str]:
    """The ServiceRequest id of each referral (by key), for the resources that reference them:
    one query, and the ServiceRequest made for those that have none yet."""
    known = {
        pk: fhir_id
        for pk, fhir_id in Resource.objects.filter(
            resource_type=ServiceRequestType.name, record_pk__in=referrals
        ).values_list("record_pk", "fhir_id")
        if pk is not None
    }
    missing = list(_rendered(Referral.objects.filter(pk__in=set(referrals) - set(known))))
    if missing:
        made = ServiceRequestType().items(missing)
        known.update((row.pk, item.fhir_id) for row, item in zip(missing, made, strict=True))
    return known


class ServiceRequestType(RecordType[Referral]):
    name = "ServiceRequest"
    profile = PROFILE
    model = Referral
    writable = frozenset({"create", "update"})
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The referral's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "status": Param(
            "status",
            "token",
            "active (open), completed (discharged) or revoked (not accepted, declined or"
            " withdrawn)",
        ),
        "authored": Param("authored", "date", "Date received, with prefixes"),
        "performer": Param("performer", "reference", "HealthcareService/<id>"),
    }
    sorts: ClassVar[dict[str, str]] = {"authored": "received_date"}
    includes: ClassVar[dict[str, Include]] = {
        "ServiceRequest:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "ServiceRequest:subject": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "ServiceRequest:performer": Include(
            "HealthcareService", reference_ids(lambda r: r.get("performer"), "HealthcareService")
        ),
    }
    documentation = (
        "Referrals to services. Creating one refers the patient to the performer: a"
        " HealthcareService, or a Practitioner, PractitionerRole or Organization, held as a"
        " referral to the one service they work in or run; its staff may then open the record."
        " Its priority (routine, urgent, asap, stat) is held and shown to the service. An"
        " update closes it: status completed when the service has discharged the person, revoked"
        " when the service does not accept it or the referrer (or the care team) withdraws it,"
        " with the reason as the last note (needed for revoked) and the day it closed as"
        " occurrencePeriod.end (default today). Only the service's staff complete it or refuse"
        " it, only the referrer or the care team withdraw it (403 otherwise)."
    )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Referral]:
        return _rendered(
            Referral.objects.filter(person__in=openable_people(ctx.grant, self.name, permission))
        )

    def render(self, row: Referral, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "status":
            wanted = Q(pk__in=[])
            for value in criterion.values:
                wanted |= STATUS_Q.get(value, Q(pk__in=[]))
            return wanted
        if name == "performer":
            ids = [v.removeprefix("HealthcareService/") for v in criterion.values]
            return Q(service_id__in=[k for k in map(record_key, ids) if k is not None])
        return every_date(criterion, "received_date", is_date=True)

    @transaction.atomic
    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        for where, what in unknown_elements(content, _CREATED, "ServiceRequest"):
            ctx.unsupported(where, what)
        if content.get("status") not in {"active", "draft"}:
            raise unprocessable(
                "business-rule", "A new referral has status active", "ServiceRequest.status"
            )
        person = referenced_person(ctx, content.get("subject"), "ServiceRequest.subject", self.name)
        performers = content.get("performer", [])
        receiver = _receiver(performers)
        for index in range(1, len(performers)):
            ctx.unsupported(
                f"ServiceRequest.performer[{index}]", "a second performer: the first is referred to"
            )
        authored = content.get("authoredOn")
        reason = " ".join(
            c.get("text") or ", ".join(x.get("display", "") for x in c.get("coding", []))
            for c in content.get("reasonCode", [])
        ).strip()
        codings = [c for c in (content.get("code") or {}).get("coding", []) if c.get("code")]
        request = ("", "", "")
        if codings:
            first = codings[0]
            request = (
                str(first.get("system", ""))[:200],
                str(first["code"])[:100],
                str(first.get("display", ""))[:300],
            )
        try:
            referral = services.referral_create(
                by=ctx.grant.user,
                person=person,
                **receiver,
                received_date=dt.date.fromisoformat(authored[:10])
                if authored
                else timezone.localdate(),
                reason=reason[:300],
                request=request,
                priority=str(content.get("priority", Referral.Priority.ROUTINE)),
            )
        except ValidationError as problem:
            raise validation_outcome(
                problem,
                {
                    "received_date": "ServiceRequest.authoredOn",
                    "service": "ServiceRequest.performer",
                    "reason": "ServiceRequest.reasonCode",
                    "priority": "ServiceRequest.priority",
                },
                "ServiceRequest",
            ) from None
        return self.items([referral])[0]

    @transaction.atomic
    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        """Close the referral (decision 0021): the only change an update makes."""
        closing = _CREATED | {"note", "occurrencePeriod"}
        for where, what in unknown_elements(content, closing, "ServiceRequest"):
            ctx.unsupported(where, what)
        referral = self.row_for_id(self.rows(ctx, Permission.UPDATE), current.fhir_id)
        if referral is None:
            raise not_found(self.name, current.fhir_id)
        if content.get("subject", {}).get("reference") != f"Patient/{referral.person.public_id}":
            raise unprocessable(
                "business-rule", "A referral's patient cannot change", "ServiceRequest.subject"
            )
        status = content.get("status")
        if status == fhir_status(referral) and referral.status == Referral.Status.CLOSED:
            return current
        if status not in {"completed", "revoked"}:
            raise unprocessable(
                "business-rule",
                "An update closes a referral: status completed (the service discharged the"
                " person) or revoked (not accepted by the service, or withdrawn by the referrer)",
                "ServiceRequest.status",
            )
        staff = staff_of(ctx.grant.user)
        outcome = Referral.Outcome.DISCHARGED
        if status == "revoked":
            ours = referral.service_id in services.my_service_pks(staff)
            outcome = Referral.Outcome.NOT_ACCEPTED if ours else Referral.Outcome.WITHDRAWN
        notes = [n for n in content.get("note", []) if isinstance(n, dict) and n.get("text")]
        try:
            closed = services.referral_close(
                by=ctx.grant.user,
                referral=referral,
                outcome=outcome,
                outcome_note=str(notes[-1]["text"]) if notes else "",
                closed_date=_closed_date(content.get("occurrencePeriod")),
            )
        except AccessDenied as refusal:
            raise FhirError(403, [Issue("forbidden", str(refusal))]) from None
        except ValidationError as problem:
            if not hasattr(problem, "error_dict"):  # closed by someone else since it was read
                raise FhirError(409, [Issue("conflict", " ".join(problem.messages))]) from None
            raise validation_outcome(problem, CLOSING_PATHS, "ServiceRequest") from None
        return self.items([closed])[0]


_CREATED = {
    "status",
    "intent",
    "subject",
    "authoredOn",
    "code",
    "priority",
    "performer",
    "reasonCode",
    "requester",
    "text",
}
"""The elements a new referral is read from; an update keeps them as they were."""


def _closed_date(period: Any) -> dt.date | None:
    end = period.get("end") if isinstance(period, dict) else None
    if end is None:
        return None
    try:
        return dt.date.fromisoformat(str(end)[:10])
    except ValueError:
        raise unprocessable(
            "invalid",
            f"{end!r} is not a whole date: give the day the referral closed, YYYY-MM-DD",
            "ServiceRequest.occurrencePeriod.end",
        ) from None


def _receiver(performers: list[dict[str, Any]]) -> dict[str, Any]:
    """`referral_create`'s service, clinician or organisation, from the performer: a
    HealthcareService, a Practitioner or PractitionerRole (a member of staff), or an Organization
    (by ODS code). The first performer decides (the caller reports any others as not kept);
    422 for none, or one the directory does not hold."""
    where = "ServiceRequest.performer"
    named = [p for p in performers[:1] if isinstance(p, dict) and p.get("reference")]
    if not named:
        raise unprocessable(
            "required",
            "ServiceRequest.performer must reference a HealthcareService, Practitioner,"
            " PractitionerRole or Organization",
            where,
        )
    text = str(named[0]["reference"])
    kind, _, fhir_id = text.partition("/")
    if kind == "HealthcareService":
        service_id = record_key(reference_id(named[0], kind, where))
        service = None if service_id is None else Service.objects.filter(pk=service_id).first()
        if service is not None:
            return {"service": service}
    elif kind in {"Practitioner", "PractitionerRole"}:
        staff_id = record_key(fhir_id)
        staff = (
            None
            if staff_id is None
            else Staff.objects.select_related("user").filter(pk=staff_id).first()
        )
        if staff is not None:
            return {"clinician": staff}
    elif kind == "Organization":
        organisation = Organisation.objects.filter(ods_code=fhir_id).first()
        if organisation is not None:
            return {"organisation": organisation}
    else:
        raise unprocessable(
            "invalid",
            f"ServiceRequest.performer must be a HealthcareService, Practitioner,"
            f" PractitionerRole or Organization, not {text!r}",
            where,
        )
    raise unprocessable("not-found", f"{text} does not exist", where)
