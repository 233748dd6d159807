"""The access rules of `wholecare.access`, compiled into the FHIR edge's queries.

Nothing here decides anew: who may open a record is `people_openable_q`, who may read a sensitive
entry is `access.rules`. What is added is the cross-person form of the sharing rule (for searches
that span several people), which `tests/app/fhir/test_security.py` checks against
`sensitive_access(...).may_read`.
"""

import uuid

from django.db.models import Q, QuerySet
from django.utils import timezone

from wholecare.access.models import BreakGlassAccess, SharingConsent
from wholecare.access.permissions import direct_care_openable_q, people_openable_q
from wholecare.access.rules import DEFAULT_READERS
from wholecare.directory.disciplines import NO_DIRECT_CARE
from wholecare.directory.models import Staff
from wholecare.fhir.auth import Grant
from wholecare.fhir.prepared import PreparedQuery, Slot
from wholecare.fhir.scopes import Permission
from wholecare.record.models import CareTeamMembership, Person
from wholecare.record.vocabulary import Sensitivity


def openable_people(grant: Grant, resource_type: str, permission: Permission) -> QuerySet[Person]:
    people = Person.objects.filter(people_openable_q(grant.staff))
    only = grant.only_patient(resource_type, permission)
    if only is not None:
        people = people.filter(pk=only.pk)
    return people


def _person_by_public_id(only_patient: bool) -> PreparedQuery[Person]:
    people = Person.objects.filter(
        direct_care_openable_q(
            Slot("staff", Staff._meta.pk),
            Slot("today", CareTeamMembership._meta.get_field("start_date")),
            Slot("now", BreakGlassAccess._meta.get_field("expires_at")),
        )
    )
    if only_patient:
        people = people.filter(pk=Slot("patient", Person._meta.pk))
    public_id = Slot("public_id", Person._meta.get_field("public_id"))
    return PreparedQuery(
        people.select_related("registered_practice").filter(public_id=public_id)[:1]
    )


_PERSON_BY_PUBLIC_ID = {only: _person_by_public_id(only) for only in (False, True)}


def openable_person(
    grant: Grant, resource_type: str, permission: Permission, public_id: uuid.UUID
) -> Person | None:
    """`openable_people(...).select_related("registered_practice")` with this public id, as one
    query prepared once per process (`wholecare.fhir.prepared`): the Patient read's lookup."""
    only = grant.only_patient(resource_type, permission)
    if grant.staff.discipline_enum in NO_DIRECT_CARE:
        return None
    values: dict[str, object] = {
        "staff": grant.staff.pk,
        "today": timezone.localdate(),
        "now": timezone.now(),
        "public_id": public_id,
    }
    if only is not None:
        values["patient"] = only.pk
    return _PERSON_BY_PUBLIC_ID[only is not None].first(**values)


def readable_q(staff: Staff, through: str = "", *, author: str = "author") -> Q:
    """Resources kept by the FHIR edge (or timeline entries, or anything else with a person, a
    sensitivity and an `author`) that this member of staff may read, by their sensitivity:
    normal ones, their own, and sensitive ones the person's consent (or, without a decision, the
    default readers) shares with their discipline. `through`: the path to them from the model
    filtered ("reconciliation__entry__"), so that the rule is a condition on the join rather
    than a subquery over every row."""
    readable = Q(**{f"{through}sensitivity": Sensitivity.NORMAL}) | Q(
        **{f"{through}{author}": staff}
    )
    for sensitivity in DEFAULT_READERS:
        readable |= Q(**{f"{through}sensitivity": sensitivity}) & shared_q(
            staff, sensitivity, through
        )
    return readable


def shared_q(staff: Staff, sensitivity: Sensitivity, through: str = "") -> Q:
    """Rows about the people whose entries of this kind are shared with this member of staff's
    discipline: by the person's decision, or, without one, by the default readers. `through`
    as for `readable_q`."""
    decided = SharingConsent.objects.filter(
        sensitivity=sensitivity.value, discipline=staff.discipline
    )
    person = f"{through}person__in"
    if staff.discipline_enum in DEFAULT_READERS[sensitivity]:
        denied = decided.filter(decision=SharingConsent.Decision.DENY)
        return ~Q(**{person: denied.values("person_id")})
    permitted = decided.filter(decision=SharingConsent.Decision.PERMIT)
    return Q(**{person: permitted.values("person_id")})
