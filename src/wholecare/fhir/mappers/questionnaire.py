"""Questionnaire ↔ the instruments of `wholecare.measures` (PHQ-9, GAD-7 and the NHS Talking
Therapies measures), read-only. Item wording is included only where the instrument's licence
allows it to be shipped; answers are the instrument's response values (valueInteger)."""

import datetime as dt
from typing import Any, ClassVar

from wholecare import measures
from wholecare.fhir.base import Ctx, Page, ResourceType
from wholecare.fhir.mappers import WHOLECARE
from wholecare.fhir.mappers.observation import total_code
from wholecare.fhir.search import Param, SearchRequest
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


class QuestionnaireType(ResourceType):
    name = "Questionnaire"
    interactions = frozenset({"read", "vread", "search-type"})
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "phq9, gad7, ..."),
        "url": Param("url", "token", f"{CANONICAL}/phq9, ..."),
    }
    documentation = "The instruments Wholecare scores, read-only (wholecare.measures)."

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
