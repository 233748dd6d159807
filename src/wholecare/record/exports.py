"""A person's record as a document to download: what the requester may see, nothing more.
Audited."""

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import Relationship, sensitive_access, staff_of
from wholecare.record.models import RecordEntry
from wholecare.record.selectors import care_plans_of, openable_person


@transaction.atomic
def person_record(*, by: AbstractBaseUser, public_id: uuid.UUID) -> dict[str, Any]:
    staff = staff_of(by)
    person, relationship = openable_person(staff, public_id)
    access = sensitive_access(staff, person)
    entries = RecordEntry.objects.filter(person=person)
    readable = entries.filter(access.entries_q()).select_related("author__user", "service")
    document = {
        "exported_at": timezone.now().isoformat(),
        "exported_by": staff.display_name,
        "person": {
            "nhs_number": person.nhs_number,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
            "sex": person.sex,
            "ethnic_category": person.ethnic_category,
            "postcode": person.postcode,
            "main_language": person.main_language,
            "interpreter_needed": person.interpreter_needed,
            "accessibility_needs": person.accessibility_needs,
        },
        "conditions": [
            {
                "snomed_code": c.snomed_code,
                "display": c.concept.display,
                "icd10": c.concept.icd10 or None,
                "group": c.concept.group.value,
                "onset_date": c.onset_date.isoformat() if c.onset_date else None,
                "clinical_status": c.clinical_status,
            }
            for c in person.conditions.all()
        ],
        "social_care_needs": [
            {
                "code": n.need_code,
                "display": n.need.display,
                "status": n.status,
                "status_since": n.status_changed_at.isoformat(),
            }
            for n in person.social_care_needs.all()
        ],
        "care_plans": [
            {
                "title": plan.title,
                "status": plan.status,
                "what_matters": plan.what_matters,
                "actions": [
                    {"what": a.what, "who": a.who, "status": a.status} for a in plan.actions.all()
                ],
                "if_things_change": plan.if_things_change,
                "review_date": plan.review_date.isoformat(),
                "agreed_with_person": plan.agreed_with_person,
                "coordinated_by": plan.lead.display_name,
                "written_by": plan.written_by.display_name,
                "written_at": plan.written_at.isoformat(),
                "changed_by": plan.changed_by.display_name,
                "changed_at": plan.changed_at.isoformat(),
                "end_reason": plan.end_reason or None,
            }
            for plan in care_plans_of(person)
        ],
        "entries": [
            {
                "occurred_at": e.occurred_at.isoformat(),
                "kind": e.kind,
                "title": e.title,
                "text": e.text,
                "author": e.author.display_name,
                "discipline": e.discipline,
                "service": e.service.name if e.service else None,
                "sensitivity": e.sensitivity,
                "withheld_from_person": e.withheld_from_person or None,
            }
            for e in readable.order_by("-occurred_at")
        ],
        "entries_withheld": entries.exclude(access.entries_q()).count(),
    }
    audit(
        by=by,
        action=AuditEvent.Action.EXPORT,
        person=person,
        what="record downloaded",
        flagged_for_review=relationship is Relationship.BREAK_GLASS,
    )
    return document
