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
