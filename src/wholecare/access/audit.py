"""Writing the audit trail. Called inside the same transaction as the read or write it records."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from wholecare.access.models import AuditEvent
from wholecare.record.models import Person

Actor = AbstractBaseUser | AnonymousUser


def _actor_fields(user: Actor) -> dict[str, object]:
    if not user.is_authenticated:
        return {
            "actor_user_id": None,
            "actor_username": "",
            "actor_name": "",
            "actor_role": "public",
        }
    staff = getattr(user, "staff", None)
    role = staff.discipline if staff is not None else ("patient" if hasattr(user, "person") else "")
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return {
        "actor_user_id": user.pk,
        "actor_username": user.get_username(),
        "actor_name": full_name or user.get_username(),
        "actor_role": role,
    }


def audit(
    *,
    by: Actor,
    action: AuditEvent.Action,
    person: Person | None,
    what: str,
    why: str = "",
    flagged_for_review: bool = False,
) -> AuditEvent:
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        action=action,
        person_id=person.pk if person is not None else None,
        what=what[:300],
        why=why,
        flagged_for_review=flagged_for_review,
        **_actor_fields(by),
    )


def audit_many(
    *, by: Actor, action: AuditEvent.Action, people: Iterable[Person], what: str, why: str = ""
) -> None:
    now = timezone.now()
    actor = _actor_fields(by)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            occurred_at=now, action=action, person_id=person.pk, what=what[:300], why=why, **actor
        )
        for person in people
    )
