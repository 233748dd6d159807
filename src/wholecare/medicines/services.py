"""Writes for medicines reconciliation (decision 0042). Atomic; bad input raises ValidationError
keyed by field, saying what is wrong and for which medicine, and nothing is written."""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wholecare.access.permissions import AccessDenied, check_can_open_record, staff_of
from wholecare.medicines import selectors
from wholecare.medicines.models import MedicinesReconciliation, ReconciledMedicine
from wholecare.medicines.reconciliation import (
    Comparison,
    Decision,
    describe,
    other_medicines,
    record_text,
)
from wholecare.record.models import Person, RecordEntry
from wholecare.record.services import entry_create

CHANGED_SINCE_OPENED = (
    "The medicines lists have changed since you opened this page: here they are as they now"
    " stand. Check each medicine again, then save."
)
#: At most this many medicines the person takes that no list has, in one reconciliation.
OTHERS_MOST = 30
#: The longest account of what was found of one medicine.
NOTE_MOST = 1000


@transaction.atomic
def reconcile(
    *,
    by: AbstractBaseUser,
    person: Person,
    fingerprint: str,
    found: Mapping[int, tuple[str, str]],
    checked_with: Sequence[str],
    others: str = "",
    note: str = "",
    withheld_from_person: str = "",
) -> MedicinesReconciliation:
    """Record a reconciliation of the lists as the user saw them (`fingerprint`): what was found
    of each medicine (`found`, by its number in the comparison from 1: a `Decision` and what
    was found), where what the person takes was checked, what they take that no list has
    (`others`, one a line) and a note. The timeline keeps it in words. AccessDenied unless
    `selectors.may_reconcile`."""
    staff = staff_of(by)
    if not selectors.may_reconcile(staff, check_can_open_record(staff, person)):
        raise AccessDenied(
            "Only a pharmacist, GP or nurse caring for the person reconciles their medicines"
        )
    compared = selectors.comparison(staff, person, timezone.localdate())
    if compared.fingerprint != fingerprint:
        raise ValidationError(CHANGED_SINCE_OPENED)
    extra = other_medicines(others)
    errors = _errors(compared, found, checked_with, extra, note)
    if errors:
        raise ValidationError(errors)
    decisions = {n: (Decision(found[n][0]), found[n][1].strip()) for n in found}
    text = record_text(compared, decisions, extra, _checked_words(checked_with), note)
    longest = RecordEntry._meta.get_field("text").max_length or 20_000
    if len(text) > longest:
        raise ValidationError(
            {
                "note": [
                    f"All that was found comes to {len(text):,} characters, more than the"
                    f" {longest:,} a timeline entry holds: shorten the note or what you found"
                    " of some medicines"
                ]
            }
        )
    entry = entry_create(
        by=by,
        person=person,
        kind=RecordEntry.Kind.NOTE,
        title=_title(compared, decisions),
        text=text,
        withheld_from_person=withheld_from_person,
    )
    reconciliation = MedicinesReconciliation.objects.create(
        person=person,
        entry=entry,
        reconciled_by=staff,
        reconciled_at=entry.occurred_at,
        sources=list(compared.sources),
        fingerprint=compared.fingerprint,
        withheld=compared.withheld,
        checked_with=list(checked_with),
        others=extra,
        note=note.strip(),
    )
    ReconciledMedicine.objects.bulk_create(
        ReconciledMedicine(
            reconciliation=reconciliation,
            position=n,
            name=medicine.name[:300],
            as_listed=[describe(item) for item in medicine.listed],
            differences=[d.value for d in medicine.differences],
            decision=decisions[n][0],
            note=decisions[n][1],
        )
        for n, medicine in enumerate(compared.medicines, start=1)
    )
    return reconciliation


def _errors(
    compared: Comparison,
    found: Mapping[int, tuple[str, str]],
    checked_with: Sequence[str],
    others: Sequence[str],
    note: str,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for n, medicine in enumerate(compared.medicines, start=1):
        decision, said = found.get(n, ("", ""))
        problem = medicine.problem(decision, said)
        if problem is None and len(said.strip()) > NOTE_MOST:
            problem = f"{medicine.name}: what you found must be {NOTE_MOST:,} characters or fewer"
        if problem is not None:
            errors[f"decision_{n}"] = [problem]
    if set(found) - set(range(1, len(compared.medicines) + 1)):
        errors.setdefault("__all__", []).append(CHANGED_SINCE_OPENED)
    if not compared.medicines and not others:
        errors["others"] = [
            "No system has sent any medicines for this person: enter what they take, one a"
            " line, or leave the reconciliation until a list arrives"
        ]
    elif len(others) > OTHERS_MOST:
        errors["others"] = [f"Enter at most {OTHERS_MOST} medicines, one a line"]
    elif any(len(line) > 300 for line in others):
        errors["others"] = ["Each medicine must be 300 characters or fewer"]
    if not checked_with:
        errors["checked_with"] = [
            "Say where you checked what the person takes: with them, their carer, their own"
            " medicines, or another record"
        ]
    elif not set(checked_with) <= set(MedicinesReconciliation.CheckedWith.values):
        errors["checked_with"] = ["Choose where you checked from the list"]
    if len(note.strip()) > 2000:
        errors["note"] = ["The note must be 2,000 characters or fewer"]
    return errors


def _checked_words(checked_with: Sequence[str]) -> list[str]:
    return [MedicinesReconciliation.CheckedWith(c).label for c in checked_with]


def _title(compared: Comparison, decisions: Mapping[int, tuple[Decision, str]]) -> str:
    """ "Medicines reconciled: 2 differences, 1 to follow up", or "...: no differences"."""
    differing = compared.differing
    said = [f"{differing or 'no'} difference{'' if differing == 1 else 's'}"]
    open_ = sum(1 for decision, _ in decisions.values() if decision is Decision.TO_FOLLOW_UP)
    if open_:
        said.append(f"{open_} to follow up")
    return "Medicines reconciled: " + ", ".join(said)
