"""Flag (UK Core) ↔ record.Alert: risks and alerts every member of the care team sees first. Some
are raised by Wholecare (the PHQ-9 item 9 risk flags raised from QuestionnaireResponses); others
come from other systems (a GP's "peanut-free diet"), and are held as they were sent: the sender's
words and SNOMED CT code, the category (HL7's flag categories, or Wholecare's own), the period,
and the author (a member of staff in the directory when the reference resolves, and the name the
sender gave). An update may only make a flag active or inactive, or set its end."""

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from wholecare.access.permissions import AccessDenied
from wholecare.directory.models import Staff
from wholecare.fhir.access import openable_people
from wholecare.fhir.base import (
    Ctx,
    Include,
    RecordType,
    person_q,
    record_pks,
    reference_ids,
    referenced_person,
    sensitivity_of,
)
from wholecare.fhir.errors import FhirError, Issue, not_found, unprocessable
from wholecare.fhir.keys import record_key
from wholecare.fhir.mappers import WHOLECARE, Mapped, unknown_elements, validation_outcome
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, parse_date, parse_token
from wholecare.fhir.store import Item
from wholecare.record import services, vocabulary
from wholecare.record.models import Alert

PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag"
CATEGORY_SYSTEM = f"{WHOLECARE}/CodeSystem/alert-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
HL7_CATEGORIES = {
    "diet": "Diet",
    "drug": "Drug",
    "lab": "Lab",
    "admin": "Administrative",
    "contact": "Subject Contact",
    "clinical": "Clinical",
    "behavioral": "Behavioral",
    "research": "Research",
    "advance-directive": "Advance Directive",
    "safety": "Safety",
}
"""http://terminology.hl7.org/CodeSystem/flag-category, with its displays."""
WHOLECARE_CATEGORIES = frozenset({"risk", "safeguarding", "communication", "allergy", "clinical"})
"""Wholecare's own alert categories ("clinical" is in both)."""
STATUSES = ("active", "inactive")
PATHS = {
    "category": "Flag.category",
    "text": "Flag.code.text",
    "code": "Flag.code.coding.code",
    "code_system": "Flag.code.coding.system",
    "code_display": "Flag.code.coding.display",
    "author_display": "Flag.author.display",
    "raised_at": "Flag.period.start",
    "ended_at": "Flag.period.end",
}


def _category(alert: Alert) -> dict[str, Any]:
    codings = []
    if alert.category in WHOLECARE_CATEGORIES:
        codings.append(
            {
                "system": CATEGORY_SYSTEM,
                "code": alert.category,
                "display": alert.get_category_display(),
            }
        )
    if alert.category not in HL7_CATEGORIES:
        return {"coding": codings}
    display = HL7_CATEGORIES[alert.category]
    codings.append({"system": FLAG_CATEGORY, "code": alert.category, "display": display})
    return {"coding": codings, "text": display}


def to_fhir(alert: Alert, fhir_id: str) -> dict[str, Any]:
    code: dict[str, Any] = {"text": alert.text}
    if alert.code:
        coding = {"system": alert.code_system, "code": alert.code}
        if alert.code_display:
            coding["display"] = alert.code_display
        code = {"coding": [coding], "text": alert.text}
    period = {"start": _instant_text(alert.raised_at)}
    if alert.ended_at is not None:
        period["end"] = _instant_text(alert.ended_at)
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "id": fhir_id,
        "status": "active" if alert.active else "inactive",
        "category": [_category(alert)],
        "code": code,
        "subject": {"reference": f"Patient/{alert.person.public_id}"},
        "period": period,
    }
    author: dict[str, str] = {}
    if alert.raised_by_id is not None:
        author["reference"] = f"Practitioner/{alert.raised_by_id}"
    if alert.author_display:
        author["display"] = alert.author_display
    if author:
        resource["author"] = author
    return resource


def _instant_text(instant: dt.datetime) -> str:
    """An instant as FHIR senders usually write one in UTC (`Z`), so that what they sent comes
    back as they wrote it."""
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FlagFields:
    active: bool
    category: str
    text: str
    code_system: str
    code: str
    code_display: str
    raised_at: dt.datetime | None
    ended_at: dt.datetime | None
    author: str
    """The author's reference as written (resolved against the directory by the type)."""
    author_display: str


def from_fhir(resource: dict[str, Any]) -> Mapped[FlagFields]:
    unsupported = unknown_elements(
        resource, {"status", "category", "code", "subject", "period", "author"}, "Flag"
    )
    if sensitivity_of(resource) != vocabulary.Sensitivity.NORMAL:
        raise unprocessable(
            "business-rule",
            "Alerts are shown to everyone who may open the person's record, so Wholecare does not"
            " hold a restricted Flag: send it without the sensitivity label, or as the sensitive"
            " entry it describes",
            "Flag.meta.security",
        )
    status = resource.get("status")
    if status not in STATUSES:
        raise unprocessable(
            "code-invalid",
            f"Flag.status {status!r} is not one of {', '.join(STATUSES)}"
            + (
                " (to end an alert, set it inactive with period.end)"
                if status == "entered-in-error"
                else ""
            ),
            "Flag.status",
        )
    category = _category_from(resource.get("category") or [], unsupported)
    concept = resource.get("code") or {}
    codings = concept.get("coding") or []
    snomed = next(
        (c for c in codings if c.get("system") == vocabulary.SNOMED_CT and c.get("code")), None
    )
    if codings and snomed is None:
        systems = ", ".join(sorted({str(c.get("system")) for c in codings}))
        raise unprocessable(
            "code-invalid",
            f"Flag.code is coded in {systems}: Wholecare holds alerts coded in SNOMED CT"
            f" ({vocabulary.SNOMED_CT}), or in words only (code.text)",
            "Flag.code.coding",
        )
    for index, other in enumerate(codings):
        if other is not snomed:
            unsupported.append((f"Flag.code.coding[{index}]", f"coding {other.get('system')}"))
    display = str((snomed or {}).get("display") or "")
    text = str(concept.get("text") or display)
    if not text.strip():
        raise unprocessable(
            "required",
            "Flag.code needs text (code.text, or the coding's display) saying what the alert is",
            "Flag.code",
        )
    period = resource.get("period") or {}
    author = resource.get("author") or {}
    return Mapped(
        FlagFields(
            active=status == "active",
            category=category,
            text=text,
            code_system=vocabulary.SNOMED_CT if snomed else "",
            code=str(snomed["code"]) if snomed else "",
            code_display=display,
            raised_at=_instant(period.get("start"), "Flag.period.start", unsupported),
            ended_at=_instant(period.get("end"), "Flag.period.end", unsupported),
            author=str(author.get("reference") or ""),
            author_display=str(author.get("display") or ""),
        ),
        unsupported,
    )


def _category_from(categories: list[dict[str, Any]], unsupported: list[tuple[str, str]]) -> str:
    """The alert category of the first Flag.category; the rest are reported as not kept."""
    if not categories:
        raise unprocessable(
            "required",
            f"Flag.category is needed: a code from {FLAG_CATEGORY} or {CATEGORY_SYSTEM}",
            "Flag.category",
        )
    for index in range(1, len(categories)):
        unsupported.append((f"Flag.category[{index}]", "a second category"))
    first = categories[0]
    known = {(FLAG_CATEGORY, code) for code in HL7_CATEGORIES} | {
        (CATEGORY_SYSTEM, code) for code in WHOLECARE_CATEGORIES
    }
    codings = first.get("coding") or []
    chosen = next((c for c in codings if (c.get("system"), c.get("code")) in known), None)
    if chosen is None:
        given = ", ".join(f"{c.get('system')}|{c.get('code')}" for c in codings) or "no coding"
        raise unprocessable(
            "code-invalid",
            f"Flag.category ({given}) is not a code from {FLAG_CATEGORY} ("
            + ", ".join(HL7_CATEGORIES)
            + f") or {CATEGORY_SYSTEM} ("
            + ", ".join(sorted(WHOLECARE_CATEGORIES))
            + ")",
            "Flag.category[0]",
        )
    code = str(chosen["code"])
    displays = {
        FLAG_CATEGORY: HL7_CATEGORIES.get(code),
        CATEGORY_SYSTEM: Alert.Category(code).label if code in WHOLECARE_CATEGORIES else None,
    }
    for index, coding in enumerate(codings):
        system = coding.get("system")
        if coding.get("code") != code or (system, code) not in known:
            unsupported.append((f"Flag.category[0].coding[{index}]", f"coding {system}"))
        elif coding.get("display") and coding["display"] != displays[str(system)]:
            unsupported.append(
                (f"Flag.category[0].coding[{index}].display", f"display {coding['display']!r}")
            )
    if first.get("text") and first["text"] != HL7_CATEGORIES.get(code):
        unsupported.append(("Flag.category[0].text", f"category text {first['text']!r}"))
    return code


def _instant(
    value: str | None, where: str, unsupported: list[tuple[str, str]]
) -> dt.datetime | None:
    if not value:
        return None
    try:
        found = parse_date(str(value)).start
    except FhirError:
        raise unprocessable("invalid", f"{where} {value!r} is not a FHIR dateTime", where) from None
    if "T" not in str(value):
        unsupported.append((where, f"{value!r} without a time: held as its first moment"))
    return found


class FlagType(RecordType[Alert]):
    name = "Flag"
    profile = PROFILE
    model = Alert
    writable = frozenset({"create", "update"})
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The flag's id"),
        "patient": Param("patient", "reference", "Patient/<id>"),
        "subject": Param("subject", "reference", "Patient/<id>"),
        "status": Param("status", "token", "active or inactive"),
        "category": Param(
            "category",
            "token",
            f"risk, safeguarding, diet, ... ({CATEGORY_SYSTEM}, {FLAG_CATEGORY})",
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Flag:patient": Include("Patient", reference_ids(lambda r: r.get("subject"), "Patient")),
        "Flag:subject": Include("Patient", reference_ids(lambda r: r.get("subject"), "Patient")),
    }
    documentation = (
        "Risks and alerts: PHQ-9 item 9 risk flags, and alerts from other systems held as sent"
        " (SNOMED CT code and text, HL7 flag category, period, author)."
    )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Alert]:
        return Alert.objects.filter(
            person__in=openable_people(ctx.grant, self.name, permission)
        ).select_related("person")

    def render(self, row: Alert, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return Q(pk__in=record_pks(self.name, criterion.values))
        if name in {"patient", "subject"}:
            return any_of(criterion, person_q)
        if name == "status":
            return Q(active__in=[v == "active" for v in criterion.values])
        return any_of(criterion, _category_q)

    @transaction.atomic
    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content)
        person = referenced_person(ctx, content.get("subject"), "Flag.subject", self.name)
        fields = mapped.value
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        try:
            alert = services.alert_record(
                by=ctx.grant.user,
                person=person,
                category=fields.category,
                text=fields.text,
                raised_at=fields.raised_at,
                raised_by=_author(ctx, fields),
                author_display=fields.author_display,
                code_system=fields.code_system,
                code=fields.code,
                code_display=fields.code_display,
                active=fields.active,
                ended_at=fields.ended_at,
                source=ctx.grant.client.name,
            )
        except ValidationError as problem:
            raise validation_outcome(problem, PATHS, "Flag") from None
        return self.items([alert])[0]

    @transaction.atomic
    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content)
        alert = self.row_for_id(
            self.rows(ctx, Permission.UPDATE).select_for_update(), current.fhir_id
        )
        if alert is None:
            raise not_found(self.name, current.fhir_id)
        fields = mapped.value
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        subject = (content.get("subject") or {}).get("reference")
        author = _author(ctx, fields)
        unchanged = {
            "Flag.subject": subject == f"Patient/{alert.person.public_id}",
            "Flag.category": fields.category == alert.category,
            "Flag.code": (fields.code_system, fields.code, fields.code_display, fields.text)
            == (alert.code_system, alert.code, alert.code_display, alert.text),
            "Flag.period.start": fields.raised_at == alert.raised_at,
            "Flag.author": (author.pk if author else None, fields.author_display)
            == (alert.raised_by_id, alert.author_display),
        }
        changed = [where for where, same in unchanged.items() if not same]
        if changed:
            raise unprocessable(
                "business-rule",
                f"{', '.join(changed)} cannot change: an update may only change Flag.status and"
                " Flag.period.end; raise a new Flag instead",
                changed[0],
            )
        try:
            services.alert_update(
                by=ctx.grant.user, alert=alert, active=fields.active, ended_at=fields.ended_at
            )
        except AccessDenied as refusal:
            raise FhirError(403, [Issue("forbidden", str(refusal))]) from None
        except ValidationError as problem:
            raise validation_outcome(problem, PATHS, "Flag") from None
        return self.items([alert])[0]


def _author(ctx: Ctx, fields: FlagFields) -> Staff | None:
    """The member of staff a `Practitioner/<id>` author names, if the directory has them; any
    other author is reported, keeping the name the sender gave."""
    text = fields.author
    if not text:
        return None
    key = (
        record_key(text.removeprefix("Practitioner/")) if text.startswith("Practitioner/") else None
    )
    found = None if key is None else Staff.objects.filter(pk=key).first()
    if found is None:
        ctx.unsupported(
            "Flag.author.reference",
            f"reference {text}: not a member of staff in the directory"
            + ("; the author's name is kept" if fields.author_display else ""),
        )
    return found


def _category_q(value: str) -> Q:
    """A category token: a code alone matches in either system; with a system, only the codes
    a flag is rendered with in that system (`system|` all of them)."""
    system, code = parse_token(value)
    codes = {
        None: set(HL7_CATEGORIES) | WHOLECARE_CATEGORIES,
        FLAG_CATEGORY: set(HL7_CATEGORIES),
        CATEGORY_SYSTEM: WHOLECARE_CATEGORIES,
    }.get(system, set())
    if not code:
        return Q(category__in=codes)
    return Q(category=code) if code in codes else Q(pk__in=[])
