"""De-identified figures about the population on the record, for analysts and managers.

Only counts leave this module, each through NHS small-number suppression, so no individual can be
picked out; viewing them is audited as an aggregate view (no person attached).
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import check_can_view_aggregates, staff_of
from wholecare.disclosure import suppress_count, suppress_rate
from wholecare.record import vocabulary
from wholecare.record.models import Condition, Person


@dataclass(frozen=True)
class FigureRow:
    label: str
    people: str
    with_mental_health: str
    rate: str


def _codes(group: vocabulary.ConditionGroup) -> list[str]:
    return [c.snomed for c in vocabulary.CONDITIONS if c.group is group]


@transaction.atomic
def population_figures(*, by: AbstractBaseUser) -> tuple[str, list[FigureRow]]:
    check_can_view_aggregates(staff_of(by))
    active = Condition.objects.filter(
        person=OuterRef("pk"), clinical_status=Condition.ClinicalStatus.ACTIVE
    )
    with_mh = Exists(active.filter(snomed_code__in=_codes(vocabulary.ConditionGroup.MENTAL_HEALTH)))
    rows: list[FigureRow] = []
    for value_set, label in vocabulary.VALUE_SET_LABELS.items():
        codes = [c.snomed for c in vocabulary.value_set(value_set)]
        if codes[0] not in _codes(vocabulary.ConditionGroup.LONG_TERM):
            continue
        counts = Person.objects.filter(Exists(active.filter(snomed_code__in=codes))).aggregate(
            people=Count("pk"), mh=Count("pk", filter=with_mh)
        )
        rows.append(
            FigureRow(
                label=label,
                people=suppress_count(counts["people"]),
                with_mental_health=suppress_count(counts["mh"]),
                rate=suppress_rate(counts["mh"], counts["people"]),
            )
        )
    total = suppress_count(Person.objects.count())
    audit(by=by, action=AuditEvent.Action.AGGREGATE, person=None, what="population figures")
    return total, rows
