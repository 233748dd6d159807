"""Writes for medicines reconciliation (decision 0042) and structured medication reviews
(decision 0045). Atomic; bad input raises ValidationError keyed by field, saying what is wrong
and for which medicine, and nothing is written."""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wholecare.access.permissions import (
    AccessDenied,
    Relationship,
    check_can_open_record,
    staff_of,
)
from wholecare.directory.models import Staff
from wholecare.medicines import review, selectors
from wholecare.medicines.models import (
    MedicationReview,
    MedicinesReconciliation,
    ReconciledMedicine,
    ReviewedMedicine,
)
from wholecare.medicines.reconciliation import (
    Compared,
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
    staff, compared = _lists_as_seen(
        by,
        person,
        fingerprint,
        selectors.may_reconcile,
        "Only a pharmacist, GP or nurse caring for the person reconciles their medicines",
    )
    extra = other_medicines(others)
    errors = _errors(compared, found, checked_with, extra, note)
    if errors:
        raise ValidationError(errors)
    decisions = {n: (Decision(found[n][0]), found[n][1].strip()) for n in found}
    entry = _timeline_note(
        by,
        person,
        _title(compared, decisions),
        record_text(compared, decisions, extra, _checked_words(checked_with), note),
        withheld_from_person,
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


def _lists_as_seen(
    by: AbstractBaseUser,
    person: Person,
    fingerprint: str,
    may: Callable[[Staff, Relationship | None], bool],
    refusal: str,
) -> tuple[Staff, Comparison]:
    """The user, and the lists as they now stand, which must be those the user saw
    (`fingerprint`); AccessDenied saying `refusal` unless `may`."""
    staff = staff_of(by)
    if not may(staff, check_can_open_record(staff, person)):
        raise AccessDenied(refusal)
    compared = selectors.comparison(staff, person, timezone.localdate())
    if compared.fingerprint != fingerprint:
        raise ValidationError(CHANGED_SINCE_OPENED)
    return staff, compared


def _timeline_note(
    by: AbstractBaseUser, person: Person, title: str, text: str, withheld_from_person: str
) -> RecordEntry:
    """The note on the timeline; ValidationError at the note when `text` is longer than a
    timeline entry holds."""
    longest = RecordEntry._meta.get_field("text").max_length or 20_000
    if len(text) > longest:
        raise ValidationError(
            {
                "note": [
                    f"All that was recorded comes to {len(text):,} characters, more than the"
                    f" {longest:,} a timeline entry holds: shorten the note or what was said"
                    " of some medicines"
                ]
            }
        )
    return entry_create(
        by=by,
        person=person,
        kind=RecordEntry.Kind.NOTE,
        title=title,
        text=text,
        withheld_from_person=withheld_from_person,
    )


@transaction.atomic
def medication_review_record(
    *,
    by: AbstractBaseUser,
    person: Person,
    fingerprint: str,
    agreed: Mapping[int, tuple[str, str]],
    what_matters: str,
    agreed_with_person: bool | None,
    next_review: dt.date | None = None,
    note: str = "",
    withheld_from_person: str = "",
) -> MedicationReview:
    """Record a structured medication review made with the person (decision 0045), of the
    medicines they take as the lists the user saw had them (`fingerprint`): what was agreed for
    each (`agreed`, by its number among those in force from 1: a `review.Outcome` and how), what
    matters to them, whether they agreed, and when to review again. The timeline keeps it in
    words. AccessDenied unless `selectors.may_review`."""
    staff, compared = _lists_as_seen(
        by,
        person,
        fingerprint,
        selectors.may_review,
        "Only a pharmacist or GP caring for the person records a structured medication review",
    )
    taking = [m for m in compared.medicines if m.in_force]
    errors = _review_errors(taking, agreed, what_matters, agreed_with_person, next_review, note)
    if errors:
        raise ValidationError(errors)
    outcomes = {n: (review.Outcome(agreed[n][0]), agreed[n][1].strip()) for n in agreed}
    entry = _timeline_note(
        by,
        person,
        _review_title(outcomes),
        _review_text(taking, outcomes, what_matters, bool(agreed_with_person), next_review, note),
        withheld_from_person,
    )
    recorded = MedicationReview.objects.create(
        person=person,
        entry=entry,
        reviewed_by=staff,
        reviewed_at=entry.occurred_at,
        what_matters=what_matters.strip(),
        agreed_with_person=bool(agreed_with_person),
        next_review=next_review,
        note=note.strip(),
    )
    ReviewedMedicine.objects.bulk_create(
        ReviewedMedicine(
            review=recorded,
            position=n,
            name=medicine.name[:300],
            as_listed=[describe(item) for item in medicine.listed],
            outcome=outcomes[n][0],
            note=outcomes[n][1],
        )
        for n, medicine in enumerate(taking, start=1)
    )
    return recorded


def _review_errors(
    taking: Sequence[Compared],
    agreed: Mapping[int, tuple[str, str]],
    what_matters: str,
    agreed_with_person: bool | None,
    next_review: dt.date | None,
    note: str,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not taking:
        errors["__all__"] = [
            "No system lists a medicine the person takes now, so there is nothing to review:"
            " write what you discussed on the timeline instead"
        ]
    for n, medicine in enumerate(taking, start=1):
        outcome, how = agreed.get(n, ("", ""))
        problem = review.outcome_problem(medicine.name, outcome, how)
        if problem is None and len(how.strip()) > NOTE_MOST:
            problem = f"{medicine.name}: what was agreed must be {NOTE_MOST:,} characters or fewer"
        if problem is not None:
            errors[f"outcome_{n}"] = [problem]
    if set(agreed) - set(range(1, len(taking) + 1)):
        errors.setdefault("__all__", []).append(CHANGED_SINCE_OPENED)
    if not what_matters.strip():
        errors["what_matters"] = ["Say what matters to the person about their medicines"]
    elif len(what_matters.strip()) > 2000:
        errors["what_matters"] = ["What matters to the person must be 2,000 characters or fewer"]
    if agreed_with_person is None:
        errors["agreed_with_person"] = ["Say whether the person agreed what was decided"]
    today = timezone.localdate()
    if next_review is not None and not today < next_review <= today + review.REVIEWED_FOR:
        errors["next_review"] = ["The next review must be after today and within 12 months"]
    if len(note.strip()) > 2000:
        errors["note"] = ["The note must be 2,000 characters or fewer"]
    return errors


def _review_text(
    taking: Sequence[Compared],
    outcomes: Mapping[int, tuple[review.Outcome, str]],
    what_matters: str,
    agreed_with_person: bool,
    next_review: dt.date | None,
    note: str,
) -> str:
    """The review in plain words, as the timeline keeps it."""
    lines = [f"What matters to the person: {what_matters.strip()}"]
    for n, medicine in enumerate(taking, start=1):
        outcome, how = outcomes[n]
        lines.append(f"{n}. {medicine.name}: {outcome.label}" + (f". {how}" if how else ""))
        lines.extend(f"   {describe(item)}" for item in medicine.listed)
    lines.append("Agreed with the person." if agreed_with_person else "Not agreed with the person.")
    if next_review is not None:
        lines.append(f"Next review by {next_review:%-d %B %Y}.")
    if note.strip():
        lines.append(note.strip())
    return "\n".join(lines)


def _review_title(outcomes: Mapping[int, tuple[review.Outcome, str]]) -> str:
    """ "Structured medication review: 1 to stop, 1 to reduce, 5 to continue"."""
    counts = {o: sum(1 for outcome, _ in outcomes.values() if outcome is o) for o in review.Outcome}
    words = {
        review.Outcome.STOP: "to stop",
        review.Outcome.REDUCE: "to reduce",
        review.Outcome.CHANGE: "to change",
        review.Outcome.CONTINUE: "to continue",
    }
    said = [f"{counts[o]} {words[o]}" for o in words if counts[o]]
    return "Structured medication review: " + ", ".join(said)
