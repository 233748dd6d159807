"""Patient (UK Core) ↔ record.Person.

Kept: NHS number, official and preferred names, gender, birth and death dates, address and
postcode, phone and email, main language and interpreter, ethnic category (UK Core extension),
preferred contact method and written format (UK Core ContactPreference), registered GP practice.
A Patient without an NHS number, name, gender or birth date is held with that detail not known
(decision 0013); an NHS number that is sent must be valid.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.directory.models import Organisation
from wholecare.fhir.access import openable_people, openable_person
from wholecare.fhir.base import Ctx, RecordType, unique_row
from wholecare.fhir.errors import FhirError, Issue, bad_request, unprocessable
from wholecare.fhir.mappers import Mapped, coding_in, unknown_elements, validation_outcome
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, Param, any_of, date_q, every_date, parse_token
from wholecare.fhir.store import Item
from wholecare.record import nhs_number, services, vocabulary
from wholecare.record.models import CareTeamMembership, Person

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
ETHNIC_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
ETHNIC_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
CONTACT_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference"
CONTACT_METHOD_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod"
WRITTEN_FORMAT_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredWrittenCommunicationFormat"
)
LANGUAGE_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage"
BCP47 = "urn:ietf:bcp:47"
BCP47_LANGUAGES = {"bfi": "q4"}
"""BCP-47 tags whose UK Core Human Language code differs (British Sign Language)."""
INTERPRETER_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
REGISTERED_GP_ROLE = "Registered GP"


def to_fhir(person: Person, fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": fhir_id}
    extensions: list[dict[str, Any]] = [
        {
            "url": ETHNIC_EXTENSION,
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": ETHNIC_SYSTEM,
                        "code": person.ethnic_category,
                        "display": vocabulary.ETHNIC_CATEGORIES[person.ethnic_category],
                    }
                ]
            },
        }
    ]
    preference = []
    if person.contact_method:
        preference.append(
            _coded(
                "PreferredContactMethod",
                CONTACT_METHOD_SYSTEM,
                person.contact_method,
                vocabulary.CONTACT_METHODS,
            )
        )
    if person.preferred_written_format:
        preference.append(
            _coded(
                "PreferredWrittenCommunicationFormat",
                WRITTEN_FORMAT_SYSTEM,
                person.preferred_written_format,
                vocabulary.WRITTEN_FORMATS,
            )
        )
    if preference:
        extensions.append({"url": CONTACT_EXTENSION, "extension": preference})
    resource["extension"] = extensions
    if person.nhs_number:
        resource["identifier"] = [{"system": NHS_NUMBER, "value": person.nhs_number}]
    names: list[dict[str, Any]] = []
    if person.given_name or person.family_name:
        official: dict[str, Any] = {"use": "official"}
        if person.family_name:
            official["family"] = person.family_name
        if person.given_name:
            official["given"] = [person.given_name]
        names.append(official)
    if person.preferred_name:
        names.append({"use": "usual", "given": [person.preferred_name]})
    if names:
        resource["name"] = names
    telecom = []
    if person.phone:
        telecom.append({"system": "phone", "value": person.phone, "use": "home"})
    if person.email:
        telecom.append({"system": "email", "value": person.email, "use": "home"})
    if telecom:
        resource["telecom"] = telecom
    resource["gender"] = person.sex
    if person.date_of_birth is not None:
        resource["birthDate"] = person.date_of_birth.isoformat()
    if person.date_of_death is not None:
        resource["deceasedDateTime"] = person.date_of_death.isoformat()
    if person.address or person.postcode:
        address: dict[str, Any] = {"use": "home"}
        if person.address:
            address["text"] = person.address
        if person.postcode:
            address["postalCode"] = person.postcode
        resource["address"] = [address]
    resource["communication"] = [
        {
            "language": {
                "coding": [
                    {
                        "system": LANGUAGE_SYSTEM,
                        "code": person.main_language,
                        "display": vocabulary.LANGUAGES[person.main_language],
                    }
                ]
            },
            "preferred": True,
            "extension": [
                {"url": INTERPRETER_EXTENSION, "valueBoolean": person.interpreter_needed}
            ],
        }
    ]
    if person.registered_practice is not None:
        practice = person.registered_practice
        resource["generalPractitioner"] = [
            {
                "reference": f"Organization/{practice.ods_code}",
                "identifier": {"system": ODS, "value": practice.ods_code},
                "display": practice.name,
            }
        ]
    return resource


def _coded(url: str, system: str, code: str, names: dict[str, str]) -> dict[str, Any]:
    return {
        "url": url,
        "valueCodeableConcept": {
            "coding": [{"system": system, "code": code, "display": names[code]}]
        },
    }


@dataclass
class PatientFields:
    nhs_number: str | None
    """Normalised, or None when the Patient carries none (not known)."""
    given_name: str
    family_name: str
    date_of_birth: dt.date | None
    sex: str
    details: dict[str, Any]
    practice_ods: str | None
    general_practitioners: list[str]
    """Practitioner ids named as the patient's GP."""


def from_fhir(resource: dict[str, Any]) -> Mapped[PatientFields]:
    unsupported = unknown_elements(
        resource,
        {
            "identifier",
            "name",
            "gender",
            "birthDate",
            "deceasedDateTime",
            "address",
            "telecom",
            "communication",
            "generalPractitioner",
            "extension",
            "text",
        },
        "Patient",
    )
    numbers = [i for i in resource.get("identifier", []) if i.get("system") == NHS_NUMBER]
    if len(numbers) > 1:
        raise unprocessable(
            "business-rule",
            f"A Patient has at most one identifier with system {NHS_NUMBER}",
            "Patient.identifier",
        )
    number = None
    if numbers and numbers[0].get("value"):
        try:
            number = nhs_number.normalise(str(numbers[0]["value"]))
        except nhs_number.InvalidNHSNumber as problem:
            raise unprocessable("value", str(problem), "Patient.identifier.value") from None
    for index, other in enumerate(resource.get("identifier", [])):
        if other.get("system") != NHS_NUMBER:
            unsupported.append(
                (f"Patient.identifier[{index}]", f"identifier {other.get('system')}")
            )
    official = [n for n in resource.get("name", []) if n.get("use", "official") == "official"]
    official_name: dict[str, Any] = official[0] if official else {}
    details: dict[str, Any] = {}
    usual = [n for n in resource.get("name", []) if n.get("use") == "usual" and n.get("given")]
    if usual:
        details["preferred_name"] = usual[0]["given"][0]
    if "birthDate" in resource and len(resource["birthDate"]) != 10:
        raise unprocessable(
            "value",
            "Patient.birthDate must be a full date (year, month and day) when it is given",
            "Patient.birthDate",
        )
    if "deceasedDateTime" in resource:
        details["date_of_death"] = dt.date.fromisoformat(resource["deceasedDateTime"][:10])
    elif resource.get("deceasedBoolean") is True:
        # Dropping it (as an element not kept) would leave the person alive on the record.
        raise unprocessable(
            "business-rule",
            "Patient.deceasedBoolean: Wholecare records a death with its date; send"
            " deceasedDateTime (the date alone will do)",
            "Patient.deceasedBoolean",
        )
    for address in resource.get("address", [])[:1]:
        text = address.get("text") or ", ".join([*address.get("line", []), address.get("city", "")])
        details["address"] = text.strip(", ")[:300]
        details["postcode"] = address.get("postalCode", "")
    for kind, name in (("phone", "phone"), ("email", "email")):
        values = [t["value"] for t in resource.get("telecom", []) if t.get("system") == kind]
        if values:
            details[name] = values[0]
    for index, communication in enumerate(resource.get("communication", [])[:1]):
        tag = coding_in(communication.get("language"), BCP47)
        code = coding_in(communication.get("language"), LANGUAGE_SYSTEM) or (
            BCP47_LANGUAGES.get(tag, tag) if tag else None
        )
        if code not in vocabulary.LANGUAGES:
            raise unprocessable(
                "code-invalid",
                f"Language {code!r} is not one Wholecare records",
                f"Patient.communication[{index}].language",
            )
        details["main_language"] = code
        for extension in communication.get("extension", []):
            if extension.get("url") == INTERPRETER_EXTENSION:
                details["interpreter_needed"] = bool(extension.get("valueBoolean"))
    for index, extension in enumerate(resource.get("extension", [])):
        where = f"Patient.extension[{index}]"
        if extension.get("url") == ETHNIC_EXTENSION:
            code = coding_in(extension.get("valueCodeableConcept"), ETHNIC_SYSTEM)
            if code not in vocabulary.ETHNIC_CATEGORIES:
                raise unprocessable(
                    "code-invalid", f"Ethnic category {code!r} is not in {ETHNIC_SYSTEM}", where
                )
            details["ethnic_category"] = code
        elif extension.get("url") == CONTACT_EXTENSION:
            for part in extension.get("extension", []):
                concept = part.get("valueCodeableConcept")
                if part.get("url") == "PreferredContactMethod":
                    details["contact_method"] = _code_in(
                        concept, CONTACT_METHOD_SYSTEM, vocabulary.CONTACT_METHODS, where
                    )
                elif part.get("url") == "PreferredWrittenCommunicationFormat":
                    details["preferred_written_format"] = _code_in(
                        concept, WRITTEN_FORMAT_SYSTEM, vocabulary.WRITTEN_FORMATS, where
                    )
                else:
                    unsupported.append((where, f"contact preference {part.get('url')}"))
        else:
            unsupported.append((where, f"extension {extension.get('url')}"))
    practice = None
    practitioners = []
    for index, gp in enumerate(resource.get("generalPractitioner", [])):
        reference = str(gp.get("reference", ""))
        if reference.startswith("Organization/"):
            practice = reference.removeprefix("Organization/")
        elif gp.get("identifier", {}).get("system") == ODS:
            practice = gp["identifier"]["value"]
        elif reference.startswith("Practitioner/"):
            practitioners.append(reference.removeprefix("Practitioner/"))
        else:
            unsupported.append(
                (f"Patient.generalPractitioner[{index}]", f"general practitioner {reference}")
            )
    return Mapped(
        PatientFields(
            nhs_number=number,
            given_name=str((official_name.get("given") or [""])[0]),
            family_name=str(official_name.get("family", "")),
            date_of_birth=(
                dt.date.fromisoformat(resource["birthDate"]) if "birthDate" in resource else None
            ),
            sex=str(resource.get("gender", Person.Sex.UNKNOWN)),
            details=details,
            practice_ods=practice,
            general_practitioners=practitioners,
        ),
        unsupported,
    )


def _code_in(concept: Any, system: str, names: dict[str, str], where: str) -> str:
    code = coding_in(concept, system)
    if code not in names:
        raise unprocessable("code-invalid", f"{code!r} is not a code in {system}", where)
    return code


FIELD_PATHS = {
    "nhs_number": "Patient.identifier",
    "given_name": "Patient.name.given",
    "family_name": "Patient.name.family",
    "preferred_name": "Patient.name",
    "date_of_birth": "Patient.birthDate",
    "date_of_death": "Patient.deceasedDateTime",
    "sex": "Patient.gender",
    "address": "Patient.address",
    "postcode": "Patient.address.postalCode",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "main_language": "Patient.communication.language",
    "ethnic_category": "Patient.extension",
}


class PatientType(RecordType[Person]):
    name = "Patient"
    profile = PROFILE
    model = Person
    writable = frozenset({"create", "update"})
    operations: ClassVar[dict[str, str]] = {
        "export": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
    }
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The patient's id"),
        "identifier": Param("identifier", "token", f"NHS number ({NHS_NUMBER}|9990000018)"),
        "family": Param("family", "string", "Family name (starts with; :exact for exact)"),
        "given": Param("given", "string", "Given name (starts with; :exact for exact)"),
        "birthdate": Param("birthdate", "date", "Date of birth, with prefixes"),
        "gender": Param("gender", "token", "Administrative gender"),
        "_lastUpdated": Param("_lastUpdated", "date", "When the record last changed"),
    }
    sorts: ClassVar[dict[str, str]] = {
        "_lastUpdated": "updated_at",
        "birthdate": "date_of_birth",
        "family": "family_name",
        "given": "given_name",
    }
    undeletable = (
        "cannot be deleted: a person's record is never destroyed, as it holds what others"
        " recorded about their care and the audit trail refers to it. A duplicate or a"
        " registration made in error is resolved through the record's own processes"
    )
    documentation = (
        "The people whose record the client may open (care team, open referral or break-glass)."
        " Creating a patient registers them, with or without an NHS number (one that is given"
        " must be valid; a person without one is never matched by identifier); naming the acting"
        " practitioner as generalPractitioner puts them on the care team as Registered GP."
        " An update changes contact details, and records identity details that were not known"
        " (an NHS number allocated later, a birth date or name learned); a known NHS number, name,"
        " birth date or gender is never changed."
    )

    def rows(self, ctx: Ctx, permission: Permission) -> QuerySet[Person]:
        return openable_people(ctx.grant, self.name, permission).select_related(
            "registered_practice"
        )

    def render(self, row: Person, fhir_id: str) -> dict[str, Any]:
        return to_fhir(row, fhir_id)

    def fixed_id(self, row: Person) -> str:
        return str(row.public_id)

    def row_person_id(self, row: Person) -> int:
        return row.pk

    def row_for_id(self, rows: QuerySet[Person], fhir_id: str) -> Person | None:
        public_id = _public_id(fhir_id)
        return None if public_id is None else unique_row(rows.filter(public_id=public_id))

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        """The read: `row_for_id(rows(...))` as one prepared query, the API's most frequent."""
        public_id = _public_id(fhir_id)
        if public_id is None:
            return None
        person = openable_person(ctx.grant, self.name, Permission.READ, public_id)
        return None if person is None else self.items([person])[0]

    def filter(self, criterion: Criterion) -> Q:
        name = criterion.name
        if name == "_id":
            return any_of(criterion, _public_id_q)
        if name == "identifier":
            return any_of(criterion, _identifier_q)
        if name in {"family", "given"}:
            column = f"{name}_name__{'iexact' if criterion.modifier == 'exact' else 'istartswith'}"
            return any_of(criterion, lambda v: Q(**{column: v}))
        if name == "birthdate":
            return any_of(criterion, lambda v: date_q("date_of_birth", v, is_date=True))
        if name == "gender":
            return Q(sex__in=criterion.values)
        if name == "_lastUpdated":
            return every_date(criterion, "updated_at")
        raise bad_request(f"Patient cannot be searched by {name}")

    @transaction.atomic
    def create(self, ctx: Ctx, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content)
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        fields = mapped.value
        if fields.nhs_number and Person.objects.filter(nhs_number=fields.nhs_number).exists():
            raise FhirError(
                409,
                [
                    Issue(
                        "duplicate",
                        "A person with this NHS number is already on the record",
                        expression=("Patient.identifier",),
                    )
                ],
            )
        practice = None
        if fields.practice_ods is not None:
            practice = Organisation.objects.filter(ods_code=fields.practice_ods).first()
            if practice is None:
                raise unprocessable(
                    "not-found",
                    f"Organization/{fields.practice_ods} does not exist",
                    "Patient.generalPractitioner",
                )
        try:
            person = services.person_create(
                by=ctx.grant.user,
                nhs_number_text=fields.nhs_number,
                given_name=fields.given_name,
                family_name=fields.family_name,
                date_of_birth=fields.date_of_birth,
                sex=fields.sex,
                registered_practice=practice,
                **fields.details,
            )
        except ValidationError as problem:
            raise validation_outcome(problem, FIELD_PATHS, "Patient") from None
        for practitioner in fields.general_practitioners:
            if practitioner == str(ctx.staff.pk):
                _join_care_team(ctx, person)
            else:
                ctx.unsupported(
                    "Patient.generalPractitioner",
                    f"Practitioner/{practitioner}: only the registering practitioner is put on"
                    " the care team",
                )
        return self.items([person])[0]

    @transaction.atomic
    def update(self, ctx: Ctx, current: Item, content: dict[str, Any]) -> Item:
        mapped = from_fhir(content)
        for where, what in mapped.unsupported:
            ctx.unsupported(where, what)
        fields = mapped.value
        person = Person.objects.get(pk=_person_pk(current))
        fixed = {
            "nhs_number": fields.nhs_number,
            "given_name": fields.given_name,
            "family_name": fields.family_name,
            "date_of_birth": fields.date_of_birth,
            "sex": fields.sex,
            "preferred_name": fields.details.pop("preferred_name", ""),
            "date_of_death": fields.details.pop("date_of_death", None),
            "ethnic_category": fields.details.pop("ethnic_category", person.ethnic_category),
        }
        changed = sorted(name for name, value in fixed.items() if getattr(person, name) != value)
        # A detail that was not known can be recorded (an NHS number allocated to a newborn);
        # one that is known is never changed here (`services.person_record_identity`).
        learned = {
            name: fixed[name]
            for name in changed
            if name in services.IDENTITY_FIELDS
            and services.not_known(person, name)
            and fixed[name] not in (None, "", Person.Sex.UNKNOWN)
        }
        refused = [name for name in changed if name not in learned]
        if refused:
            raise FhirError(
                422,
                [
                    Issue(
                        "business-rule",
                        "Only contact details, and identity details that were not known, can be"
                        " changed through the API",
                        expression=(FIELD_PATHS[name],),
                    )
                    for name in refused
                ],
            )
        if learned:
            try:
                person = services.person_record_identity(
                    by=ctx.grant.user, person=person, **learned
                )
            except ValidationError as problem:
                raise validation_outcome(problem, FIELD_PATHS, "Patient") from None
        contact = {name: fields.details.get(name, "") for name in services.CONTACT_FIELDS}
        contact["interpreter_needed"] = fields.details.get("interpreter_needed", False)
        contact["main_language"] = fields.details.get("main_language", "en")
        try:
            services.person_update_contact(by=ctx.grant.user, person=person, **contact)
        except ValidationError as problem:
            raise validation_outcome(problem, FIELD_PATHS, "Patient") from None
        person.refresh_from_db()
        return self.items([person])[0]


def _join_care_team(ctx: Ctx, person: Person) -> None:
    CareTeamMembership.objects.create(
        person=person, staff=ctx.staff, role=REGISTERED_GP_ROLE, start_date=timezone.localdate()
    )
    audit(
        by=ctx.grant.user,
        action=AuditEvent.Action.UPDATE,
        person=person,
        what=f"care team: {ctx.staff.display_name} added as {REGISTERED_GP_ROLE} on registration",
    )


def _public_id_q(value: str) -> Q:
    try:
        return Q(public_id=uuid.UUID(value))
    except ValueError:
        return Q(pk__in=[])


def _identifier_q(value: str) -> Q:
    system, code = parse_token(value)
    if system not in {None, NHS_NUMBER} or not code:
        return Q(pk__in=[])
    return Q(nhs_number=code.replace(" ", ""))


def _person_pk(found: Item) -> int:
    if found.person_id is None:
        raise ValueError(f"Patient/{found.fhir_id} is not tied to a person")
    return found.person_id


def _public_id(fhir_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(fhir_id)
    except ValueError:
        return None
