"""DocumentReference (UK Core) ← record.RecordEntry: each entry on a person's timeline (an
encounter, a note, a letter, a result), read-only, so that other systems read what was written in
Wholecare: a district nurse's visit, a clinic letter, the Talking Therapies discharge letter to the
GP. The sharing rule applies as on the timeline: a sensitive entry is served only to whom the rule
and the person's decisions share it with, labelled in `meta.security`; one withheld answers 403 as
the timeline says "withheld"; one marked entered in error, 410 Gone. An entry withheld from the
person (decision 0040) is labelled NOPAT, so that no system shows it to them."""

import base64
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.directory.disciplines import Discipline
from wholecare.fhir.access import openable_people, readable_q
from wholecare.fhir.base import (
    ACT_CODE,
    Ctx,
    Include,
    KeepsEnteredInError,
    UnderSharingRule,
    person_q,
    record_pks,
    reference_ids,
)
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import (
    Criterion,
    Param,
    any_of,
    every_date,
    parse_token,
)
from wholecare.record.models import RecordEntry

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-DocumentReference"
NOT_FOR_THE_PERSON = {
    "system": ACT_CODE,
    "code": "NOPAT",
    "display": "no disclosure to patient, family or caregivers without attending provider's"
    " authorization",
}
"""HL7's obligation not to show an entry to the person, for one withheld from them (decision
0040), as GP Connect labels such documents: in `meta.security` and `securityLabel`."""
KIND_SYSTEM = f"{WHOLECARE}/CodeSystem/timeline-entry-kind"
"""Wholecare's own kinds of timeline entry (encounter, note, letter, result)."""


def to_fhir(entry: RecordEntry, fhir_id: str) -> dict[str, Any]:
    """The entry's words as a plain-text attachment, titled as on the timeline; written (`date`)
    and happened (`context.period.start`, the attachment's `creation`) as the timeline says; the
    discipline that wrote it as the practice setting."""
    kind = RecordEntry.Kind(entry.kind)
    attachment: dict[str, Any] = {
        "contentType": "text/plain",
        "language": "en-GB",
        "title": entry.title,
        "creation": entry.occurred_at.isoformat(),
    }
    if entry.text:
        attachment["data"] = base64.b64encode(entry.text.encode()).decode("ascii")
    rendered: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": fhir_id,
        "status": "current" if entry.entered_in_error_at is None else "entered-in-error",
        "type": {
            "coding": [{"system": KIND_SYSTEM, "code": kind.value, "display": kind.label}],
            "text": kind.label,
        },
        "subject": {
            "reference": f"Patient/{entry.person.public_id}",
            "display": entry.person.full_name,
        },
        "date": entry.created_at.isoformat(),
        "author": [
            {"reference": f"Practitioner/{entry.author_id}", "display": entry.author.display_name}
        ],
        "description": entry.title,
        "content": [{"attachment": attachment}],
        "context": {
            "period": {"start": entry.occurred_at.isoformat()},
            "practiceSetting": {"text": Discipline(entry.discipline).label},
        },
    }
    if entry.service is not None:
        rendered["custodian"] = {"display": entry.service.organisation.name}
    if entry.withheld_from_person:
        rendered["meta"] = {"security": [NOT_FOR_THE_PERSON]}
        rendered["securityLabel"] = [{"coding": [NOT_FOR_THE_PERSON]}]
    return rendered


class DocumentReferenceType(UnderSharingRule[RecordEntry], KeepsEnteredInError[RecordEntry]):
    name = "DocumentReference"
    profile = PROFILE
    model = RecordEntry
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The entry's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "date": Param("date", "date", "When it was written, with prefixes"),
        "period": Param("period", "date", "When it happened, with prefixes"),
        "type": Param("type", "token", f"encounter, note, letter or result ({KIND_SYSTEM})"),
        "status": Param("status", "token", "current (entries marked entered in error are gone)"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "DocumentReference:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "DocumentReference:author": Include(
            "Practitioner", reference_ids(lambda r: r.get("author", []), "Practitioner")
        ),
    }
    sorts: ClassVar[dict[str, str]] = {"date": "created_at", "period": "occurred_at"}
    undeletable = (
        "is an entry on the timeline, written on Wholecare's pages: whoever wrote it marks it"
        " entered in error there (decision 0024)"
    )
    documentation = (
        "The timeline's entries written in Wholecare (encounters, notes, letters, results),"
        " read-only, under the sharing rule: a sensitive entry is labelled in meta.security and"
        " served only to the disciplines the rule and the person's decisions share it with;"
        " one withheld answers 403, one marked entered in error 410."
    )

    def within(self, ctx: Ctx, permission: Permission) -> QuerySet[RecordEntry]:
        return RecordEntry.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person", "author__user", "service__organisation")

    def shared_q(self, ctx: Ctx) -> Q:
        return readable_q(ctx.staff)

    def kept_rows(self, ctx: Ctx) -> QuerySet[RecordEntry]:
        return (
            RecordEntry.objects.including_entered_in_error()
            .filter(person__in=openable_people(ctx.grant, self.name, Permission.READ))
            .filter(readable_q(ctx.staff))
            .select_related("person", "author__user", "service__organisation")
        )

    def render(self, row: RecordEntry, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def row_sensitivity(self, row: RecordEntry) -> str:
        return row.sensitivity

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "type":
            return any_of(criterion, _kind_q)
        if name == "status":
            return Q() if "current" in criterion.values else Q(pk__in=[])
        column = "created_at" if name == "date" else "occurred_at"
        return every_date(criterion, column)


def _kind_q(value: str) -> Q:
    system, code = parse_token(value)
    if system not in {None, KIND_SYSTEM} or code not in RecordEntry.Kind.values:
        return Q(pk__in=[])
    return Q(kind=code)
