"""SMART on FHIR scopes (v2 `patient/*.rs`, `user/Condition.cruds`, `system/*.rs`, and the v1
forms `user/*.read`, `user/*.write`, `user/*.*`), parsed and checked. Pure Python."""

import re
from dataclasses import dataclass
from enum import StrEnum

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|c?r?u?d?s?)$")
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}


class Context(StrEnum):
    PATIENT = "patient"
    USER = "user"
    SYSTEM = "system"


class Permission(StrEnum):
    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


class InvalidScope(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    context: Context
    resource_type: str
    permissions: frozenset[Permission]

    def allows(self, resource_type: str, permission: Permission) -> bool:
        return self.resource_type in {"*", resource_type} and permission in self.permissions

    def __str__(self) -> str:
        letters = "".join(p.value for p in Permission if p in self.permissions)
        return f"{self.context.value}/{self.resource_type}.{letters}"


def parse_scope(text: str) -> Scope:
    found = _SCOPE.match(text)
    if found is None or found.group(3) == "":
        raise InvalidScope(f"{text!r} is not a SMART scope such as user/*.rs or patient/Patient.r")
    context, resource_type, access = found.groups()
    letters = V1_PERMISSIONS.get(access, access)
    return Scope(Context(context), resource_type, frozenset(Permission(c) for c in letters))


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """Space-separated SMART scopes; other OAuth scopes (openid, launch, ...) are ignored."""
    return tuple(parse_scope(word) for word in text.split() if word.split("/")[0] in set(Context))


def within(requested: tuple[Scope, ...], allowed: tuple[Scope, ...]) -> bool:
    """Whether every requested scope is covered by one allowed scope of the same context."""
    return all(
        any(
            a.context is r.context
            and a.resource_type in {"*", r.resource_type}
            and r.permissions <= a.permissions
            for a in allowed
        )
        for r in requested
    )


LAUNCH_SCOPES = {
    "launch/patient": "Choose the person the app is for",
    "online_access": "Keep working while you use it, for up to one working day",
    "offline_access": "Keep working when you are not using it, for up to 30 days",
}
"""The scopes other than resource scopes that the authorization endpoint understands."""


@dataclass(frozen=True)
class Requested:
    """The scopes an app asks for at the authorization endpoint, every word understood."""

    scopes: tuple[Scope, ...]
    launch: tuple[str, ...]

    @property
    def needs_patient(self) -> bool:
        return "launch/patient" in self.launch or any(
            s.context is Context.PATIENT for s in self.scopes
        )

    @property
    def refreshable(self) -> bool:
        return "online_access" in self.launch or "offline_access" in self.launch

    def __str__(self) -> str:
        return " ".join([*(str(s) for s in self.scopes), *self.launch])


def parse_requested(text: str) -> Requested:
    """Every word must be a SMART resource scope or one of LAUNCH_SCOPES (InvalidScope otherwise,
    naming it); `system/` scopes are for back-end services, not for apps a person approves."""
    scopes: list[Scope] = []
    launch: list[str] = []
    for word in text.split():
        if word in LAUNCH_SCOPES:
            if word not in launch:
                launch.append(word)
            continue
        scope = parse_scope(word)
        if scope.context is Context.SYSTEM:
            raise InvalidScope(
                f"{word!r}: system/ scopes are for back-end services (client credentials grant)"
            )
        scopes.append(scope)
    if not scopes:
        raise InvalidScope("Ask for at least one SMART resource scope, such as user/*.rs")
    return Requested(tuple(scopes), tuple(launch))


PLAIN_TYPES = {
    "*": "everything in the record",
    "AllergyIntolerance": "allergies and intolerances",
    "Appointment": "appointments",
    "AuditEvent": "records of who looked at the record",
    "CarePlan": "care plans",
    "CareTeam": "care teams",
    "CodeSystem": "code systems",
    "ConceptMap": "maps between codes",
    "Condition": "problems and diagnoses",
    "Consent": "decisions about sharing",
    "DocumentReference": "notes and letters on the timeline",
    "Encounter": "contacts and visits",
    "EpisodeOfCare": "episodes of care",
    "Flag": "alerts and risk flags",
    "Group": "service caseloads",
    "HealthcareService": "services",
    "MedicationRequest": "prescriptions",
    "MedicationStatement": "medicines taken",
    "Observation": "observations and measurements",
    "Organization": "organisations",
    "Patient": "personal details",
    "Practitioner": "staff details",
    "PractitionerRole": "staff roles",
    "Questionnaire": "questionnaires",
    "QuestionnaireResponse": "questionnaire answers",
    "ServiceRequest": "referrals",
    "Task": "requests to prescribers about medicines",
    "ValueSet": "value sets",
}
"""What each resource type holds, in plain English (tests check that every registered type has
an entry)."""

_VERBS = {
    Permission.READ: "see",
    Permission.SEARCH: "search",
    Permission.CREATE: "add",
    Permission.UPDATE: "change",
    Permission.DELETE: "delete",
}
_WHOSE = {
    Context.PATIENT: "for the person you choose",
    Context.USER: "for the people whose records you may open",
    Context.SYSTEM: "for everyone this service may see",
}


def describe(scope: Scope) -> str:
    """The meaning of a scope in plain English, for the consent page."""
    verbs = [verb for permission, verb in _VERBS.items() if permission in scope.permissions]
    listed = verbs[0] if len(verbs) == 1 else f"{', '.join(verbs[:-1])} and {verbs[-1]}"
    what = PLAIN_TYPES.get(scope.resource_type, f"{scope.resource_type} entries")
    return f"{listed.capitalize()} {what} {_WHOSE[scope.context]}"
