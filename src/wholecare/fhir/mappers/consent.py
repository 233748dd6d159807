"""Consent ↔ access.SharingConsent: the person's decision to share, or not, one kind of sensitive
entry with one discipline, which Wholecare applies to every read. A Consent from another system
that is not such a decision (it names no discipline of Wholecare's and no kind of sensitive entry
of Wholecare's: a privacy consent for information access, say) is kept as received and never
applied (decision 0014); one that names either is a sharing decision, and is refused if it is not
a valid one, so that nobody believes a decision is applied that is not."""

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from wholecare.access import services as access_services
from wholecare.access.models import SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    READS,
    SENSITIVITY_SYSTEM,
    Ctx,
    Include,
    Received,
    ReceivingRecord,
    person_q,
    record_pks,
    reference_ids,
    referenced_person,
    security_labels,
)
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.mappers import coding_in, unknown_elements, validation_outcome
from wholecare.fhir.mappers.practitioner_role import DISCIPLINE_SYSTEM
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of
from wholecare.fhir.store import Item
from wholecare.record.vocabulary import Sensitivity

SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CATEGORY = "http://loinc.org"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Consent"


def to_fhir(consent: SharingConsent, fhir_id: str) -> dict[str, Any]:
    discipline = Discipline(consent.discipline)
    return {
        "resourceType": "Consent",
        "id": fhir_id,
        "status": "active",
        "scope": {"coding": [{"system": SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": CATEGORY, "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{consent.person.public_id}"},
        "dateTime": consent.recorded_at.isoformat(),
        "provision": {
            "type": consent.decision,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": DISCIPLINE_SYSTEM,
                                "code": discipline.value,
                                "display": discipline.label,
                            }
                        ]
                    },
                    "reference": {"display": discipline.label},
                }
            ],
            "securityLabel": security_labels(consent.sensitivity),
        },
    }


PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "The consent's id"),
    "patient": Param("patient", "reference", "Patient/<id>"),
    "status": Param("status", "token", "active (every sharing decision), or a received one's"),
}
STATUSES = frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})


def is_sharing_decision(content: dict[str, Any]) -> bool:
    """Whether a Consent speaks of what Wholecare's sharing decisions are made of: a discipline
    of Wholecare's (provision.actor.role) or a kind of sensitive entry of Wholecare's
    (provision.securityLabel)."""
    provision = content.get("provision") or {}
    roles = [
        coding
        for actor in provision.get("actor", [])
        for coding in (actor.get("role") or {}).get("coding", [])
    ]
    labels = provision.get("securityLabel", [])
    return any(c.get("system") == DISCIPLINE_SYSTEM for c in roles) or any(
        label.get("system") == SENSITIVITY_SYSTEM for label in labels
    )


#: What a sharing decision's provision may hold: one permit or deny, one discipline, one kind of
#: sensitive entry. Anything more (a period, exceptions, purposes) Wholecare could not honour.
PROVISION_ELEMENTS = frozenset({"type", "actor", "securityLabel"})


def _check_in_force(content: dict[str, Any]) -> None:
    """A sharing decision is recorded only when it is in force as sent: active, and without a
    condition Wholecare would drop (a time limit, an exception, a purpose), since dropping one
    would share more, or for longer, than the person decided. Refused, so the sender knows."""
    status = content.get("status")
    if status != "active":
        raise unprocessable(
            "business-rule",
            f"Consent.status {status!r}: only an active sharing decision is recorded; a draft,"
            " proposed, rejected or inactive one is not in force (to withdraw a decision, send"
            " the opposite decision)",
            "Consent.status",
        )
    conditions = sorted(set(content.get("provision") or {}) - PROVISION_ELEMENTS)
    if conditions:
        element = conditions[0]
        raise unprocessable(
            "not-supported",
            f"Consent.provision.{element}: a sharing decision in Wholecare is one permit or deny"
            " for one discipline and one kind of sensitive entry, with no period, exceptions or"
            " purposes; it is not recorded with this condition dropped",
            f"Consent.provision.{element}",
        )


class ReceivedConsent(Received):
    name = "Consent"
    profile = PROFILE
    subject_element = "patient"
    statuses = STATUSES
    date_element = "dateTime"
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS


class ConsentType(ReceivingRecord[SharingConsent]):
    name = "Consent"
    profile = PROFILE
    model = SharingConsent
    received = ReceivedConsent()
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS
    includes: ClassVar[dict[str, Include]] = {
        "Consent:patient": Include("Patient", reference_ids(lambda r: r.get("patient"), "Patient")),
    }
    documentation = (
        "Sharing decisions for sensitive entries: provision.type permit or deny, for the"
        " discipline in provision.actor.role and the kind of entry in provision.securityLabel;"
        " active ones only, with nothing else in the provision (no period or exceptions)."
        " A new decision for the same kind and discipline replaces the old one; it cannot be"
        " deleted. A Consent that names neither a discipline nor a kind of sensitive entry of"
        " Wholecare's (a privacy consent from another system) is kept as received (decision"
        " 0014): it is NOT applied to any access decision, only served as received; such a"
        " Consent can be deleted (marked entered in error)."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        return is_sharing_decision(content)

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[SharingConsent]:
        return SharingConsent.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person")

    def render(self, row: SharingConsent, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if criterion.name == "patient":
            return any_of(criterion, person_q)
        return Q() if "active" in criterion.values else Q(pk__in=[])

    @transaction.atomic
    def create_own(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        for where, what in unknown_elements(
            content,
            {"status", "scope", "category", "patient", "dateTime", "provision", "text"},
            "Consent",
        ):
            ctx.unsupported(where, what)
        person = referenced_person(ctx, content.get("patient"), "Consent.patient", self.name)
        _check_in_force(content)
        provision = content.get("provision", {})
        decision = provision.get("type")
        if decision is None:
            raise unprocessable(
                "not-supported",
                "This Consent names Wholecare's disciplines or kinds of sensitive entry, so it"
                " is a sharing decision, and a sharing decision has provision.type permit or"
                " deny, one discipline in provision.actor.role and one kind of sensitive entry"
                " in provision.securityLabel",
                "Consent.provision.type",
            )
        if decision not in {"permit", "deny"}:
            raise unprocessable(
                "code-invalid", "provision.type must be permit or deny", "Consent.provision.type"
            )
        roles = [coding_in(a.get("role"), DISCIPLINE_SYSTEM) for a in provision.get("actor", [])]
        if len(roles) != 1 or roles[0] not in {d.value for d in Discipline}:
            raise unprocessable(
                "code-invalid",
                f"provision.actor must name one discipline from {DISCIPLINE_SYSTEM}",
                "Consent.provision.actor",
            )
        kinds = [
            label.get("code")
            for label in provision.get("securityLabel", [])
            if label.get("system") == SENSITIVITY_SYSTEM
        ]
        sensitive = {s.value for s in Sensitivity if s is not Sensitivity.NORMAL}
        if len(kinds) != 1 or kinds[0] not in sensitive:
            raise unprocessable(
                "code-invalid",
                f"provision.securityLabel must name one kind of sensitive entry from"
                f" {SENSITIVITY_SYSTEM} ({', '.join(sorted(sensitive))})",
                "Consent.provision.securityLabel",
            )
        try:
            consent = access_services.sharing_consent_record(
                by=ctx.grant.user,
                person=person,
                sensitivity=Sensitivity(kinds[0]),
                discipline=Discipline(roles[0]),
                decision=SharingConsent.Decision(decision),
            )
        except ValidationError as problem:
            raise validation_outcome(
                problem,
                {
                    "discipline": "Consent.provision.actor",
                    "sensitivity": "Consent.provision.securityLabel",
                },
                "Consent",
            ) from None
        return self.items([consent])[0]
