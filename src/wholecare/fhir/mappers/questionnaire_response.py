"""QuestionnaireResponse, kept whole by the FHIR edge, and what it produces: a completed response
to one of `wholecare.measures`' instruments is scored into an Observation (its total, derived
from the response), and every safety flag in the answers (PHQ-9 item 9 positive, missing or
unreadable) raises a risk Flag, whether or not the answers can be scored. A response to any other
questionnaire (an end of life plan, a fit note) is kept as answered, never scored and never
flagged: Wholecare knows no rules for it (decision 0013)."""

from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from wholecare import measures
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.fhir import store
from wholecare.fhir.base import Ctx, Include, StoredType, reference_ids, with_meta
from wholecare.fhir.errors import FhirError, Issue, unprocessable
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers.observation import (
    SURVEY,
    ObservationType,
    score_quantity,
    severity_interpretation,
    total_code,
)
from wholecare.fhir.mappers.questionnaire import instrument_for
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, SearchRequest
from wholecare.fhir.store import Item
from wholecare.record.models import Alert, Person

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-QuestionnaireResponse"
SCORED = frozenset({"completed", "amended"})
FLAG_TEXT = {
    measures.RiskFlag.ITEM9_POSITIVE: "{name} item 9 (thoughts of self-harm) answered {answer}:"
    " follow up today",
    measures.RiskFlag.ITEM9_NOT_ANSWERED: "{name} item 9 (thoughts of self-harm) not answered:"
    " ask the person",
    measures.RiskFlag.ITEM9_INVALID: "{name} item 9 (thoughts of self-harm) answer unreadable:"
    " ask the person",
}


def answers_of(content: dict[str, Any], instrument: measures.Instrument) -> dict[int, Any]:
    """Item number to answer (an int, or whatever unreadable value was sent), from linkIds."""
    answers: dict[int, Any] = {}
    for index, item in enumerate(content.get("item", [])):
        link = str(item.get("linkId", ""))
        where = f"QuestionnaireResponse.item[{index}]"
        number = record_key(link)
        if number is None or not 1 <= number <= instrument.item_count:
            raise unprocessable(
                "invalid",
                f"{instrument.code} has items 1 to {instrument.item_count}; linkId {link!r}"
                " is not one of them",
                f"{where}.linkId",
            )
        values = item.get("answer", [])
        if not values:
            continue
        answer = values[0]
        if "valueInteger" in answer:
            answers[number] = answer["valueInteger"]
        elif (
            "valueCoding" in answer
            and (coded := record_key(str(answer["valueCoding"].get("code", "")))) is not None
        ):
            answers[number] = coded
        else:
            answers[number] = next(iter(answer.values()), None)
    return answers


class QuestionnaireResponseType(StoredType):
    name = "QuestionnaireResponse"
    profile = PROFILE
    writable = frozenset({"create"})
    statuses = frozenset({"in-progress", "completed", "amended", "entered-in-error", "stopped"})
    date_element = "authored"
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The response's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "questionnaire": Param("questionnaire", "token", "Questionnaire canonical URL"),
        "authored": Param("authored", "date", "When answered, with prefixes"),
        "status": Param("status", "token", "completed, in-progress, ..."),
        "_lastUpdated": Param("_lastUpdated", "date", "When last changed"),
    }
    includes: ClassVar[dict[str, Include]] = {
        "QuestionnaireResponse:patient": Include(
            "Patient", reference_ids(lambda r: r.get("subject"), "Patient")
        ),
    }
    documentation = (
        "Answers to questionnaires. A completed response to one of Wholecare's instruments is"
        " scored into an Observation (derivedFrom the response), and PHQ-9 item 9 positive or"
        " missing raises a risk Flag; a response to any other questionnaire is kept as answered,"
        " unscored."
    )

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        instrument = instrument_for(str(content.get("questionnaire", "")))
        if instrument is None:
            return
        answers = answers_of(content, instrument)
        if content.get("status") in SCORED:
            try:
                measures.score(instrument.code, answers)
            except (measures.InvalidAnswer, measures.MalformedAnswers) as problem:
                issues = [Issue("value", str(problem), expression=("QuestionnaireResponse.item",))]
                issues += [
                    Issue(
                        "business-rule",
                        f"Safety flag in these answers: {flag.value}",
                        severity="warning",
                    )
                    for flag in problem.risk_flags
                ]
                raise FhirError(422, issues) from None
            except measures.TooManyMissing:
                pass

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        canonical = str(content.get("questionnaire", ""))
        instrument = instrument_for(canonical)
        if instrument is not None:
            return [("questionnaire", "", instrument.code)]
        return [("questionnaire", "", canonical)] if canonical else []

    @transaction.atomic
    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        kept = self.keep(ctx, content, fhir_id=store.new_id())
        self.consequences(ctx, kept)
        return kept

    def consequences(self, ctx: Ctx, response: Item) -> None:
        """Score a completed response into an Observation; raise a Flag for each safety flag."""
        content = response.content
        instrument = instrument_for(str(content["questionnaire"]))
        if (
            instrument is None
            or response.person_id is None
            or content["status"] == "entered-in-error"
        ):
            return
        answers = answers_of(content, instrument)
        person = Person.objects.get(pk=response.person_id)
        flags = measures.risk_flags_for(instrument.code, answers)
        for flag in flags:
            Alert.objects.create(
                person=person,
                category=Alert.Category.RISK,
                text=FLAG_TEXT[flag].format(name=instrument.name, answer=answers.get(9)),
                raised_by=ctx.staff,
                raised_at=timezone.now(),
            )
            audit(
                by=ctx.grant.user,
                action=AuditEvent.Action.CREATE,
                person=person,
                what=f"risk flag from {instrument.code} response: {flag.value}",
            )
        if content["status"] not in SCORED:
            return
        try:
            result = measures.score(instrument.code, answers)
        except measures.TooManyMissing as problem:
            ctx.notes.append(Issue("business-rule", f"Not scored: {problem}", severity="warning"))
            return
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [SURVEY],
            "code": total_code(instrument),
            "subject": content["subject"],
            "effectiveDateTime": content.get("authored", response.last_updated.isoformat()),
            "valueQuantity": score_quantity(result.total),
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{response.fhir_id}"}],
        }
        interpretation = severity_interpretation(instrument, result.total)
        if interpretation:
            observation["interpretation"] = interpretation
        if result.imputed_items:
            observation["note"] = [
                {
                    "text": "Pro-rated: items "
                    + ", ".join(map(str, result.imputed_items))
                    + " missing took the mean of the answered items"
                }
            ]
        if response.sensitivity != "normal":
            observation["meta"] = {
                "security": with_meta(response, None).get("meta", {}).get("security", [])
            }
        ObservationType().create(ctx, observation)

    @transaction.atomic
    def delete(self, ctx: Ctx, current: Item) -> Item:
        """A response entered in error takes the totals scored from it along (they only say what
        it said), so the client must be able to delete those too; the risk Flags it raised stay
        for a clinician to close (decision 0010)."""
        observations = ObservationType()
        ctx.grant.check(observations.name, Permission.DELETE)
        derived = observations.search(
            ctx,
            SearchRequest(
                criteria=[
                    Criterion("derived-from", "", (f"{self.name}/{current.fhir_id}",)),
                ],
                count=100,
            ),
        )
        if derived.withheld:
            raise FhirError(
                403,
                [
                    Issue(
                        "suppressed",
                        f"{self.name}/{current.fhir_id} cannot be deleted by you: a total scored"
                        " from it is a sensitive entry withheld from you",
                    )
                ],
            )
        deleted = super().delete(ctx, current)
        for total in derived.items:
            observations.delete(ctx, total)
            audit(
                by=ctx.grant.user,
                action=AuditEvent.Action.UPDATE,
                person=Person(pk=total.person_id),
                what=f"FHIR delete Observation/{total.fhir_id} (scored from"
                f" {self.name}/{current.fhir_id}, entered in error)",
            )
        return deleted
