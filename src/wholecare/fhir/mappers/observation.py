"""Observation (UK Core), from two sources (decision 0033). Wholecare's own: each questionnaire
total recorded on the Talking Therapies pages (`MeasureScore`: a screen, a session's measure, or
one the person completed from a link), read-only, under the sharing rule for psychological
therapy entries as the pages apply it. Those other systems send, kept whole: any coded
observation about a person, with its value (a quantity with its unit, a coded value, components
or members) or the reason it is absent, including the totals scored from a QuestionnaireResponse
sent through the API. An Observation whose code has no coding with a system and a code is
refused with 422; one with no subject at all is held unfiled (`StoredType.held_unfiled`)."""

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare import measures
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    READS,
    Ctx,
    Include,
    Received,
    ReceivingRecord,
    UnderSharingRule,
    person_q,
    record_pks,
    reference_ids,
)
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.mappers import WHOLECARE, service_request
from wholecare.fhir.models import SearchToken
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, every_date, parse_token
from wholecare.record.vocabulary import SNOMED_CT, Sensitivity
from wholecare.talking_therapies.models import MeasureScore
from wholecare.talking_therapies.selectors import scores_readable_q

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
SURVEY = {"coding": [{"system": CATEGORY_SYSTEM, "code": "survey"}]}
MEASURE_SYSTEM = f"{WHOLECARE}/CodeSystem/measure"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation"
STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)


def total_code(instrument: measures.Instrument) -> dict[str, Any]:
    coding = [{"system": MEASURE_SYSTEM, "code": instrument.code, "display": instrument.name}]
    if instrument.loinc:
        coding.append({"system": LOINC, "code": instrument.loinc})
    if instrument.snomed:
        coding.append({"system": SNOMED_CT, "code": instrument.snomed})
    return {"coding": coding, "text": f"{instrument.name} total score"}


PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "The observation's id"),
    "patient": Param("patient", "reference", "Patient/<id>"),
    "subject": Param("subject", "reference", "Patient/<id>"),
    "code": Param("code", "token", "LOINC, SNOMED CT or Wholecare measure code"),
    "category": Param("category", "token", "vital-signs, survey, laboratory, ..."),
    "date": Param("date", "date", "effectiveDateTime, with prefixes"),
    "status": Param("status", "token", "final, amended, ..."),
    "derived-from": Param(
        "derived-from", "reference", "QuestionnaireResponse/<id> a total was scored from"
    ),
    "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
}


class ReceivedObservation(Received):
    """An Observation another system sent (or scored here from a QuestionnaireResponse it sent):
    kept whole, and updated and deleted through the API."""

    name = "Observation"
    profile = PROFILE
    held_unfiled = True
    statuses = STATUSES
    date_element = "effectiveDateTime"
    token_elements: ClassVar[dict[str, str]] = {"code": "code", "category": "category"}
    writable = frozenset({"create", "update"})
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        codings = (content.get("code") or {}).get("coding", [])
        if not any(c.get("system") and c.get("code") for c in codings):
            raise unprocessable(
                "code-invalid",
                "Observation.code needs a coding with a system and a code (LOINC, SNOMED CT or"
                " another code system)",
                "Observation.code",
            )

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = super().tokens(content)
        for reference in content.get("derivedFrom", []):
            if str(reference.get("reference", "")).startswith("QuestionnaireResponse/"):
                found.append(("derived-from", "", reference["reference"]))
        return found

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "derived-from":
            values = [
                v if v.startswith("QuestionnaireResponse/") else f"QuestionnaireResponse/{v}"
                for v in criterion.values
            ]
            tokens = SearchToken.objects.filter(param="derived-from", value__in=values)
            return Q(pk__in=tokens.values("resource_id"))
        return super().filter(criterion)


class ObservationType(ReceivingRecord[MeasureScore], UnderSharingRule[MeasureScore]):
    name = "Observation"
    profile = PROFILE
    model = MeasureScore
    received = ReceivedObservation()
    writable = frozenset({"create", "update"})
    interactions = READS | {"delete"}
    params: ClassVar[dict[str, Param]] = PARAMS
    includes: ClassVar[dict[str, Include]] = {
        "Observation:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
        "Observation:subject": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    sorts: ClassVar[dict[str, str]] = {"date": "measured_on", "_lastUpdated": "recorded_at"}
    changed_where = (
        "is a score recorded on Wholecare's Talking Therapies pages, where scores are added and"
        " never changed: it cannot be changed through the API"
    )
    undeletable = (
        "is a score recorded on Wholecare's Talking Therapies pages, where scores are added and"
        " never removed: it cannot be deleted through the API"
    )
    documentation = (
        "Questionnaire totals recorded on Wholecare's Talking Therapies pages (screens, session"
        " measures, those the person completed from a link), read-only, under the sharing rule"
        " for psychological therapy entries (decision 0033): one withheld answers 403. And any"
        " coded observation other systems send (vital signs, laboratory results, totals scored"
        " from a QuestionnaireResponse), kept whole (decision 0006); one that names no subject at"
        " all is held unfiled: on nobody's record and readable only by the member of staff whose"
        " client sent it, until an update naming the Patient files it."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        """Never: a total recorded here is scored from the answers, which an Observation lacks."""
        return False

    def within(self, ctx: Ctx, permission: Permission) -> QuerySet[MeasureScore]:
        return MeasureScore.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person", "entered_by__user", "referral")

    def shared_q(self, ctx: Ctx) -> Q:
        return scores_readable_q(ctx.staff)

    def render(self, row: MeasureScore, fhir_id: str) -> dict[str, Any]:
        return self.rendering([row])(row, fhir_id)

    def rendering(
        self, rows: Sequence[MeasureScore]
    ) -> Callable[[MeasureScore, str], dict[str, Any]]:
        """Each score with the ServiceRequest of the referral it was measured in, if any."""
        based_on = service_request.ids_of({r.referral.referral_id for r in rows if r.referral})
        return lambda row, fhir_id: score_to_fhir(
            row, fhir_id, None if row.referral is None else based_on[row.referral.referral_id]
        )

    def row_sensitivity(self, row: MeasureScore) -> str:
        return Sensitivity.PSYCHOLOGICAL_THERAPY

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "code":
            return Q(measure__in=[m for v in criterion.values for m in _measures_coded(v)])
        if name == "category":
            return _all_or_none(criterion, CATEGORY_SYSTEM, "survey")
        if name == "status":
            return _all_or_none(criterion, None, "final")
        if name == "derived-from":
            return Q(pk__in=[])
        if name == "date":
            return every_date(criterion, "measured_on", is_date=True)
        return every_date(criterion, "recorded_at")


def score_to_fhir(score: MeasureScore, fhir_id: str, service_request: str | None) -> dict[str, Any]:
    """A total recorded on the Talking Therapies pages: when it was measured and recorded, by
    whom (the clinician who entered it, or the person from a link), its severity band, and the
    referral it was measured in (`service_request`, its ServiceRequest's id) as `basedOn`, so
    that whoever reads it can pair a referral's first and last scores as NHS England does."""
    instrument = measures.instrument(score.measure)
    patient = {"reference": f"Patient/{score.person.public_id}", "display": score.person.full_name}
    performer = (
        {
            "reference": f"Practitioner/{score.entered_by.pk}",
            "display": score.entered_by.display_name,
        }
        if score.entered_by is not None
        else patient
    )
    rendered: dict[str, Any] = {
        "resourceType": "Observation",
        "id": fhir_id,
        "status": "final",
        "category": [SURVEY],
        "code": total_code(instrument),
        "subject": patient,
        "effectiveDateTime": score.measured_on.isoformat(),
        "issued": score.recorded_at.isoformat(),
        "performer": [performer],
        "valueQuantity": score_quantity(score.total),
    }
    interpretation = severity_interpretation(instrument, score.total)
    if interpretation:
        rendered["interpretation"] = interpretation
    if service_request is not None:
        rendered["basedOn"] = [{"reference": f"ServiceRequest/{service_request}"}]
    if score.entered_via == MeasureScore.EnteredVia.PERSON:
        rendered["note"] = [{"text": "Completed by the person from a link"}]
    return rendered


def score_quantity(total: float) -> dict[str, Any]:
    return {"value": total, "unit": "score", "system": UCUM, "code": "{score}"}


def severity_interpretation(instrument: measures.Instrument, total: float) -> list[dict[str, str]]:
    """The total's severity band, as text (no coded value set names these bands), saying so when
    no authoritative source confirms the bands."""
    band = instrument.severity_band(total)
    if band is None:
        return []
    unverified = " (bands not verified)" if "severity" in instrument.unverified else ""
    return [{"text": f"Severity: {band}{unverified}"}]


def _measures_coded(value: str) -> list[str]:
    """The instruments whose total is coded so (`system|code`, `code` or `system|`)."""
    system, code = parse_token(value)
    return [
        instrument.code
        for instrument in measures.all_instruments()
        if any(
            (system is None or coding["system"] == system) and (not code or coding["code"] == code)
            for coding in total_code(instrument)["coding"]
        )
    ]


def _all_or_none(criterion: Criterion, system: str | None, code: str) -> Q:
    """Every score, when any of the values names the one code all of Wholecare's own scores have
    (`system|code` or `code`); otherwise none."""
    for value in criterion.values:
        given_system, given_code = parse_token(value)
        if given_code == code and given_system in {None, system}:
            return Q()
    return Q(pk__in=[])
