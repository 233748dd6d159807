"""The access rules of `wholecare.access`, compiled into the FHIR edge's queries.

Nothing here decides anew: who may open a record is `people_openable_q`, who may read a sensitive
entry is `access.rules`. What is added is the cross-person form of the sharing rule (for searches
that span several people), which `tests/app/fhir/test_security.py` checks against
`sensitive_access(...).may_read`.
"""

from django.db.models import Q, QuerySet

from wholecare.access.models import SharingConsent
from wholecare.access.permissions import people_openable_q
from wholecare.access.rules import DEFAULT_READERS
from wholecare.directory.models import Staff
from wholecare.fhir.auth import Grant
from wholecare.fhir.scopes import Permission
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity


def openable_people(grant: Grant, resource_type: str, permission: Permission) -> QuerySet[Person]:
    people = Person.objects.filter(people_openable_q(grant.staff))
    only = grant.only_patient(resource_type, permission)
    if only is not None:
        people = people.filter(pk=only.pk)
    return people


def readable_q(staff: Staff) -> Q:
    """Resources kept by the FHIR edge that this member of staff may read, by their sensitivity:
    normal ones, their own, and sensitive ones the person's consent (or, without a decision, the
    default readers) shares with their discipline."""
    readable = Q(sensitivity=Sensitivity.NORMAL) | Q(author=staff)
    for sensitivity, readers in DEFAULT_READERS.items():
        decided = SharingConsent.objects.filter(
            sensitivity=sensitivity.value, discipline=staff.discipline
        )
        if staff.discipline_enum in readers:
            denied = decided.filter(decision=SharingConsent.Decision.DENY)
            readable |= Q(sensitivity=sensitivity) & ~Q(person__in=denied.values("person_id"))
        else:
            permitted = decided.filter(decision=SharingConsent.Decision.PERMIT)
            readable |= Q(sensitivity=sensitivity) & Q(person__in=permitted.values("person_id"))
    return readable
