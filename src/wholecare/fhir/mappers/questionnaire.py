"""Questionnaire ↔ the instruments of `wholecare.measures` (PHQ-9, GAD-7 and the NHS Talking
Therapies measures), read-only. Item wording is included only where the instrument's licence
allows it to be shipped; answers are the instrument's response values (valueInteger).

A Questionnaire another system sends under a canonical URL that is not one of the instruments' is
kept as received (decision 0014) and never scores anything: responses are scored only by the
instruments of `wholecare.measures`. One under an instrument's URL is that instrument, and is
refused if its items (the questions and answer values scoring relies on) differ."""

import datetime as dt
from typing import Any, ClassVar

from django.db.models import Q

from wholecare import measures
from wholecare.fhir.base import Ctx, Page, Received, Receiving, ResourceType
from wholecare.fhir.errors import unprocessable
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.mappers.observation import total_code
from wholecare.fhir.models import SearchToken
from wholecare.fhir.search import Criterion, Param, SearchRequest
from wholecare.fhir.store import Item

CANONICAL = f"{WHOLECARE}/Questionnaire"
VERSION = "1"
PUBLISHED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def questionnaire_id(code: str) -> str:
    return code.lower().replace("_", "-")


def instrument_for(canonical: str) -> measures.Instrument | None:
    """The instrument a Questionnaire canonical URL (or id) names."""
    fhir_id = canonical.partition("|")[0].rstrip("/").rpartition("/")[2]
    for code in measures.INSTRUMENT_CODES:
        if questionnaire_id(code) == fhir_id:
            return measures.instrument(code)
    return None


def to_fhir(instrument: measures.Instrument) -> dict[str, Any]:
    fhir_id = questionnaire_id(instrument.code)
    items = []
    for item in instrument.items:
        options = [{"valueInteger": value} for value in item.options]
        items.append(
            {
                "linkId": str(item.number),
                "text": item.text or f"{instrument.code} item {item.number}",
                "type": "integer" if len(item.options) > 12 else "choice",
                "required": False,
                **({"answerOption": options} if len(item.options) <= 12 else {}),
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": fhir_id,
        "url": f"{CANONICAL}/{fhir_id}",
        "version": VERSION,
        "name": instrument.code,
        "title": instrument.name,
        "status": "active",
        "code": total_code(instrument)["coding"],
        "copyright": instrument.licence,
        "item": items,
    }


def _items(items: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """What scoring relies on: each item's linkId and answer values."""
    return [
        (
            str(item.get("linkId")),
            [str(sorted(option.items())) for option in item.get("answerOption", [])],
        )
        for item in items
    ]


def differs(content: dict[str, Any], instrument: measures.Instrument) -> str | None:
    """Why a Questionnaire under this instrument's URL is not the instrument (its items differ
    from the instrument's), or None when it gives no items or the instrument's own."""
    given = content.get("item")
    if given is None or _items(given) == _items(to_fhir(instrument)["item"]):
        return None
    return (
        f"Questionnaire.item: the url names Wholecare's instrument {instrument.code}"
        f" (Questionnaire/{questionnaire_id(instrument.code)}), whose items and answer values"
        " these are not; responses to that URL are scored as that instrument, so give this"
        " questionnaire its own canonical URL"
    )


PARAMS: dict[str, Param] = {
    "_id": Param("_id", "token", "phq9, gad7, ..., or a received questionnaire's id"),
    "url": Param("url", "token", f"{CANONICAL}/phq9, ..., or a received one's canonical URL"),
}


class ReceivedQuestionnaire(Received):
    name = "Questionnaire"
    subject_element = ""
    statuses = frozenset({"draft", "active", "retired", "unknown"})
    params: ClassVar[dict[str, Param]] = PARAMS

    def check(self, ctx: Ctx, content: dict[str, Any]) -> None:
        if str(content.get("url", "")).startswith(f"{CANONICAL}/"):
            raise unprocessable(
                "business-rule",
                f"Questionnaire.url: {CANONICAL}/ holds Wholecare's instruments only, and"
                f" {content['url']!r} is none of them; give this questionnaire its own canonical"
                " URL",
                "Questionnaire.url",
            )

    def tokens(self, content: dict[str, Any]) -> list[tuple[str, str, str]]:
        url = str(content.get("url", "")).partition("|")[0]
        return [("url", "", url)] if url else []

    def filter(self, criterion: Criterion) -> Q:
        if criterion.name == "url":
            urls = [v.partition("|")[0] for v in criterion.values]
            tokens = SearchToken.objects.filter(param="url", value__in=urls)
            return Q(pk__in=tokens.values("resource_id"))
        return super().filter(criterion)


class Instruments(ResourceType):
    """Wholecare's own Questionnaires: the instruments, generated."""

    name = "Questionnaire"

    def _all(self) -> list[Item]:
        return [
            Item(self.name, questionnaire_id(i.code), 1, PUBLISHED, to_fhir(i))
            for i in measures.all_instruments()
        ]

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        return next((i for i in self._all() if i.fhir_id == fhir_id), None)

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        found = self._all()
        for criterion in request.criteria:
            if criterion.name == "_id":
                found = [i for i in found if i.fhir_id in criterion.values]
            else:
                wanted = {v.partition("|")[0] for v in criterion.values}
                found = [i for i in found if i.content["url"] in wanted]
        return Page(found[request.offset : request.offset + request.count], len(found))


class QuestionnaireType(Receiving, Instruments):
    interactions = frozenset({"read", "vread", "search-type"})
    params: ClassVar[dict[str, Param]] = PARAMS
    received = ReceivedQuestionnaire()
    undeletable = (
        "is read-only here: one of Wholecare's instruments, or kept as received from another"
        " system as it was sent; it cannot be deleted through the API"
    )
    documentation = (
        "The instruments Wholecare scores, read-only (wholecare.measures). A Questionnaire sent"
        " by another system under its own canonical URL is kept as received (decision 0014):"
        " it is never used to score (responses to it are kept as answered). One under an"
        " instrument's URL is refused: it is the instrument, or claims to be and differs."
    )

    def holds(self, ctx: Ctx, content: dict[str, Any]) -> bool:
        return instrument_for(str(content.get("url", ""))) is not None

    def create_own(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        instrument = instrument_for(str(content.get("url", "")))
        assert instrument is not None
        why = differs(content, instrument) or (
            f"Questionnaire.url: this is Wholecare's own instrument {instrument.code}, served as"
            f" Questionnaire/{questionnaire_id(instrument.code)}; it is not created again"
        )
        raise unprocessable("business-rule", why, "Questionnaire.url")
