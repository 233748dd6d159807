"""Condition (UK Core) ↔ record.Condition. Codes are SNOMED CT from the record's condition value
sets, as the terminology service holds them (the current releases of the long-term and mental
health condition value sets), with the ICD-10 equivalent added on the way out; any other code is
refused with 422."""

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    Ctx,
    Include,
    RecordType,
    person_q,
    record_pks,
    reference_ids,
    referenced_person,
)
from wholecare.fhir.errors import FhirError, Issue, not_found, unprocessable
from wholecare.fhir.mappers import (
    WHOLECARE,
    Mapped,
    coding_in,
    unknown_elements,
    validation_outcome,
)
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, date_q, parse_token
from wholecare.fhir.store import Item
from wholecare.record import services, vocabulary
from wholecare.record.models import Condition
from wholecare.terminology import operations

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUSES = {s.value for s in Condition.ClinicalStatus}
VALUE_SETS = (
    f"{WHOLECARE}/ValueSet/long-term-conditions",
    f"{WHOLECARE}/ValueSet/mental-health-conditions",
)


def condition_codes() -> frozenset[str]:
    """The SNOMED CT codes a Condition may have: the members of the current releases of the
    record's condition value sets in the terminology service."""
    codes: set[str] = set()
    for url in VALUE_SETS:
        expansion = operations.expand(url)["expansion"]
        codes |= {
            member["code"]
            for member in expansion.get("contains", [])
            if member["system"] == vocabulary.SNOMED_CT
        }
    return frozenset(codes)


def to_fhir(condition: Condition, fhir_id: str) -> dict[str, Any]:
    concept = condition.concept
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": fhir_id,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": condition.clinical_status}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}],
        "code": {
            "coding": [
                {
                    "system": vocabulary.SNOMED_CT,
                    "code": concept.snomed,
                    "display": concept.display,
                },
                {"system": vocabulary.ICD10, "code": concept.icd10},
            ],
            "text": concept.display,
        },
        "subject": {"reference": f"Patient/{condition.person.public_id}"},
        "recordedDate": condition.recorded_at.isoformat(),
    }
    if condition.onset_date is not None:
        resource["onsetDateTime"] = condition.onset_date.isoformat()
    if condition.recorded_by_id is not None:
        resource["recorder"] = {"reference": f"Practitioner/{condition.recorded_by_id}"}
    return resource


@dataclass
class ConditionFields:
    snomed_code: str
    clinical_status: str
    onset_date: dt.date | None


def from_fhir(resource: dict[str, Any], codes: frozenset[str]) -> Mapped[ConditionFields]:
    """`codes`: the SNOMED CT codes allowed (`condition_codes()`)."""
    unsupported = unknown_elements(
        resource,
        {
            "clinicalStatus",
            "verificationStatus",
            "category",
            "code",
            "subject",
            "onsetDateTime",
            "recordedDate",
            "recorder",
            "text",
        },
        "Condition",
    )
    code = coding_in(resource.get("code"), vocabulary.SNOMED_CT)
    if code is None:
        raise unprocessable(
            "code-invalid", "Condition.code needs a SNOMED CT coding", "Condition.code"
        )
    if code not in codes:
        raise unprocessable(
            "code-invalid",
            f"SNOMED CT {code} is not in Wholecare's condition value sets"
            f" ({', '.join(VALUE_SETS)})",
            "Condition.code",
        )
    status = coding_in(resource.get("clinicalStatus"), CLINICAL) or "active"
    if status not in CLINICAL_STATUSES:
        raise unprocessable(
            "code-invalid",
            f"Clinical status {status!r} is not one of {', '.join(sorted(CLINICAL_STATUSES))}",
            "Condition.clinicalStatus",
        )
    onset = resource.get("onsetDateTime")
    return Mapped(
        ConditionFields(code, status, dt.date.fromisoformat(onset[:10]) if onset else None),
        unsupported,
    )


PATHS = {
    "snomed_code": "Condition.code",
    "onset_date": "Condition.onsetDateTime",
    "clinical_status": "Condition.clinicalStatus",
}


class ConditionType(RecordType[Condition]):
    name = "Condition"
    profile = PROFILE
    model = Condition
    writable = frozenset({"create", "update"})
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The condition's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "code": Param("code", "token", "SNOMED CT or ICD-10 code"),
        "clinical-status": Param("clinical-status", "token", "active, remission or resolved"),
        "onset-date": Param("onset-date", "date", "Onset date, with prefixes"),
    }
    sorts: ClassVar[dict[str, str]] = {"onset-date": "onset_date"}
    undeletable = (
        "cannot be deleted yet: the record keeps a condition as long as the person has it, and"
        " has no way yet to mark one entered in error. A condition that has ended is updated to"
        " clinicalStatus resolved (decision 0010)"
    )
    includes: ClassVar[dict[str, Include]] = {
        "Condition:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "Condition:subject": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    documentation = (
        "Long-term and mental health conditions, coded in SNOMED CT from Wholecare's value sets."
    )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Condition]:
        return Condition.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person")

    def render(self, row: Condition, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "code":
            return any_of(criterion, _code_q)
        if name == "clinical-status":
            return Q(clinical_status__in=[v.rpartition("|")[2] for v in criterion.values])
        combined = Q()
        for value in criterion.values:
            combined &= date_q("onset_date", value, is_date=True)
        return combined

    @transaction.atomic
    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content, condition_codes())
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        person = referenced_person(ctx, content.get("subject"), "Condition.subject", self.name)
        fields = mapped.value
        if person.conditions.filter(snomed_code=fields.snomed_code).exists():
            raise FhirError(
                409,
                [
                    Issue(
                        "duplicate",
                        "This person already has this condition on the record",
                        expression=("Condition.code",),
                    )
                ],
            )
        try:
            condition = services.condition_record(
                by=ctx.grant.user,
                person=person,
                snomed_code=fields.snomed_code,
                onset_date=fields.onset_date,
                clinical_status=fields.clinical_status,
            )
        except ValidationError as problem:
            raise validation_outcome(problem, PATHS, "Condition") from None
        return self.items([condition])[0]

    @transaction.atomic
    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content, condition_codes())
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        fields = mapped.value
        condition = self.row_for_id(
            self.rows(ctx, Permission.UPDATE).select_for_update(), current.fhir_id
        )
        if condition is None:
            raise not_found(self.name, current.fhir_id)
        subject = content.get("subject", {}).get("reference")
        if subject != f"Patient/{condition.person.public_id}" or (
            fields.snomed_code != condition.snomed_code
        ):
            raise unprocessable(
                "business-rule",
                "A condition's patient and code cannot change; record a new condition instead",
                "Condition.code",
            )
        condition_update(
            ctx, condition, clinical_status=fields.clinical_status, onset_date=fields.onset_date
        )
        return self.items([condition])[0]


def condition_update(
    ctx: Ctx, condition: Condition, *, clinical_status: str, onset_date: dt.date | None
) -> None:
    """Change a condition's clinical status or onset: checked like the record's services, and
    audited in the same transaction."""
    condition.clinical_status = clinical_status
    condition.onset_date = onset_date
    try:
        condition.full_clean()
    except ValidationError as problem:
        raise validation_outcome(problem, PATHS, "Condition") from None
    if onset_date is not None and onset_date < condition.person.date_of_birth:
        raise unprocessable(
            "business-rule",
            "Onset date is before the person's date of birth",
            "Condition.onsetDateTime",
        )
    condition.save(update_fields=["clinical_status", "onset_date"])
    audit(
        by=ctx.grant.user,
        action=AuditEvent.Action.UPDATE,
        person=condition.person,
        what=f"condition: {condition.concept.display} now {clinical_status}",
    )


def _code_q(value: str) -> Q:
    system, code = parse_token(value)
    if system in {None, vocabulary.SNOMED_CT}:
        return Q(snomed_code=code)
    if system == vocabulary.ICD10:
        return Q(snomed_code__in=[c.snomed for c in vocabulary.CONDITIONS if c.icd10 == code])
    return Q(pk__in=[])
