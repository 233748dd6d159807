"""Condition (UK Core) ↔ record.Condition. Any SNOMED CT concept is held, with the sender's
display text: the record's long-term and mental health value sets only classify a condition (and
add its ICD-10 equivalent on the way out); an unclassified one is kept and shown as sent. A code
that is not a SNOMED CT concept identifier, or no SNOMED CT coding, is refused with 422."""

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from wholecare.access.permissions import AccessDenied
from wholecare.fhir import store
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    READS,
    Ctx,
    Include,
    KeepsEnteredInError,
    person_q,
    record_pks,
    reference_ids,
    referenced_person,
)
from wholecare.fhir.errors import FhirError, Issue, not_found, unprocessable
from wholecare.fhir.mappers import Mapped, coding_in, unknown_elements, validation_outcome
from wholecare.fhir.models import Resource
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, every_date, parse_token
from wholecare.fhir.store import Item
from wholecare.record import services, vocabulary
from wholecare.record.models import Condition

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUSES = {s.value for s in Condition.ClinicalStatus}
ENTERED_IN_ERROR = "entered-in-error"


def to_fhir(condition: Condition, fhir_id: str) -> dict[str, Any]:
    concept = condition.concept
    coding: list[dict[str, Any]] = [
        {"system": vocabulary.SNOMED_CT, "code": concept.snomed, "display": concept.display}
    ]
    if concept.icd10:
        coding.append({"system": vocabulary.ICD10, "code": concept.icd10})
    verification = ENTERED_IN_ERROR if condition.entered_in_error_at else "confirmed"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": fhir_id,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": condition.clinical_status}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": verification}]},
        "category": [{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}],
        "code": {"coding": coding, "text": concept.display},
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
    display: str
    """The sender's text: the SNOMED CT coding's display, else code.text."""
    clinical_status: str
    onset_date: dt.date | None
    entered_in_error: bool
    """Marked entered in error: only an update may say so (to withdraw the condition)."""


def from_fhir(resource: dict[str, Any], *, new: bool = True) -> Mapped[ConditionFields]:
    """The record's fields from a Condition; `new` for one to be created, which cannot be
    marked entered in error (there is nothing on the record to withdraw)."""
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
    concept = resource.get("code") or {}
    snomed = [
        c
        for c in concept.get("coding", [])
        if c.get("system") == vocabulary.SNOMED_CT and c.get("code")
    ]
    if not snomed:
        raise unprocessable(
            "code-invalid", "Condition.code needs a SNOMED CT coding", "Condition.code"
        )
    code = str(snomed[0]["code"])
    try:
        vocabulary.check_concept_id(code)
    except vocabulary.InvalidSnomedId as problem:
        raise unprocessable("code-invalid", str(problem), "Condition.code") from None
    display = str(snomed[0].get("display") or concept.get("text") or "")
    classified = vocabulary.classify(code, display)
    icd10 = classified.icd10
    if display and display != classified.display:
        unsupported.append(
            (
                "Condition.code.coding.display",
                f"display {display!r}: shown as {classified.display!r}",
            )
        )
    for index, other in enumerate(concept.get("coding", [])):
        if other is snomed[0] or (other.get("system"), other.get("code")) == (
            vocabulary.ICD10,
            icd10,
        ):
            continue
        unsupported.append((f"Condition.code.coding[{index}]", f"coding {other.get('system')}"))
    if concept.get("text") and concept["text"] != display:
        unsupported.append(("Condition.code.text", "code.text differing from the coding's display"))
    entered_in_error = _entered_in_error(resource.get("verificationStatus"), new=new)
    status = coding_in(resource.get("clinicalStatus"), CLINICAL) or "active"
    if status not in CLINICAL_STATUSES:
        raise unprocessable(
            "code-invalid",
            f"Clinical status {status!r} is not one of {', '.join(sorted(CLINICAL_STATUSES))}",
            "Condition.clinicalStatus",
        )
    onset = resource.get("onsetDateTime")
    return Mapped(
        ConditionFields(
            code,
            display,
            status,
            dt.date.fromisoformat(onset[:10]) if onset else None,
            entered_in_error,
        ),
        unsupported,
    )


def _entered_in_error(verification: dict[str, Any] | None, *, new: bool) -> bool:
    """Whether the condition is marked entered in error (allowed only when not `new`).

    Wholecare records a condition as a diagnosis the person has, so only a confirmed one (or
    one that does not say) is taken: a provisional, differential, unconfirmed or refuted one
    would be read on the record as a diagnosis. Refused, so the sender knows, rather than kept
    as confirmed."""
    if verification is None:
        return False
    status = coding_in(verification, VERIFICATION)
    if status == "confirmed":
        return False
    if status == ENTERED_IN_ERROR and not new:
        return True
    if status is None:
        why = f"must be coded in {VERIFICATION}"
    elif status == ENTERED_IN_ERROR:
        why = (
            "entered-in-error on a new condition: there is nothing on the record to withdraw;"
            " an update or a DELETE marks a recorded condition entered in error (decision 0010)"
        )
    else:
        why = (
            f"{status}: Wholecare's record holds confirmed conditions only, which everyone reads"
            " as diagnoses; send it once it is confirmed"
        )
    raise unprocessable(
        "business-rule", f"Condition.verificationStatus {why}", "Condition.verificationStatus"
    )


PATHS = {
    "snomed_code": "Condition.code",
    "display": "Condition.code.coding.display",
    "onset_date": "Condition.onsetDateTime",
    "clinical_status": "Condition.clinicalStatus",
}


class ConditionType(KeepsEnteredInError[Condition]):
    name = "Condition"
    profile = PROFILE
    model = Condition
    writable = frozenset({"create", "update"})
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The condition's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "code": Param("code", "token", "SNOMED CT or ICD-10 code"),
        "clinical-status": Param("clinical-status", "token", "active, remission or resolved"),
        "onset-date": Param("onset-date", "date", "Onset date, with prefixes"),
    }
    sorts: ClassVar[dict[str, str]] = {"onset-date": "onset_date"}
    includes: ClassVar[dict[str, Include]] = {
        "Condition:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "Condition:subject": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    documentation = (
        "Conditions coded in SNOMED CT: any concept, with the sender's description; Wholecare's"
        " long-term and mental health value sets classify them and add ICD-10 where they can."
        " Confirmed conditions only: another verificationStatus is refused (422). A DELETE, or an"
        " update to verificationStatus entered-in-error, withdraws a condition from the record"
        " (410 Gone afterwards), kept for its history. A condition that has ended is updated to"
        " clinicalStatus resolved. Only whoever recorded a condition, or staff of the discipline"
        " it was recorded by, may update or withdraw it (403 otherwise)."
    )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Condition]:
        return Condition.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person")

    def kept_rows(self, ctx: Ctx) -> QuerySet[Condition]:
        return (
            Condition.objects.including_entered_in_error()
            .filter(person__in=openable_people(ctx.grant, self.name, Permission.READ))
            .select_related("person")
        )

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
        return every_date(criterion, "onset_date", is_date=True)

    @transaction.atomic
    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content)
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
                display=fields.display,
                onset_date=fields.onset_date,
                clinical_status=fields.clinical_status,
            )
        except AccessDenied as refusal:
            raise _forbidden(refusal) from None
        except ValidationError as problem:
            raise validation_outcome(problem, PATHS, "Condition") from None
        return self.items([condition])[0]

    @transaction.atomic
    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content, new=False)
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        fields = mapped.value
        # The record's services lock the row they change.
        condition = self.row_for_id(self.rows(ctx, Permission.UPDATE), current.fhir_id)
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
        if fields.entered_in_error:
            return self._withdraw(ctx, condition, method="PUT")
        try:
            updated = services.condition_update(
                by=ctx.grant.user,
                condition=condition,
                clinical_status=fields.clinical_status,
                onset_date=fields.onset_date,
            )
        except AccessDenied as refusal:
            raise _forbidden(refusal) from None
        except ValidationError as problem:
            raise validation_outcome(problem, PATHS, "Condition") from None
        return self.items([updated])[0]

    @transaction.atomic
    def delete(self, ctx: Ctx, current: Item) -> Item:
        condition = self.row_for_id(self.rows(ctx, Permission.DELETE), current.fhir_id)
        if condition is None:
            raise FhirError(
                403,
                [
                    Issue(
                        "forbidden",
                        f"Your access does not allow deleting Condition/{current.fhir_id}",
                    )
                ],
            )
        return self._withdraw(ctx, condition, method="DELETE")

    def _withdraw(self, ctx: Ctx, condition: Condition, *, method: str) -> Item:
        """Mark the condition entered in error through the record's own service (who may, and
        the audit with the reason), and keep the resource's last version."""
        try:
            withdrawn = services.condition_enter_in_error(
                by=ctx.grant.user,
                condition=condition,
                reason=f"marked entered in error through the API by {ctx.grant.client.name}",
            )
        except AccessDenied as refusal:
            raise _forbidden(refusal) from None
        except ValidationError as conflict:  # marked by someone else since it was read
            raise FhirError(409, [Issue("conflict", " ".join(conflict.messages))]) from None
        resource = Resource.objects.select_for_update().get(
            resource_type=self.name, record_pk=withdrawn.pk
        )
        store.record_version(resource, to_fhir(withdrawn, resource.fhir_id), method=method)
        return store.item(resource)


def _forbidden(refusal: AccessDenied) -> FhirError:
    """The record's refusal (`services.may_correct_condition`), saying who may."""
    return FhirError(403, [Issue("forbidden", str(refusal))])


def _code_q(value: str) -> Q:
    system, code = parse_token(value)
    if system in {None, vocabulary.SNOMED_CT}:
        return Q(snomed_code=code)
    if system == vocabulary.ICD10:
        return Q(snomed_code__in=[c.snomed for c in vocabulary.CONDITIONS if c.icd10 == code])
    return Q(pk__in=[])
