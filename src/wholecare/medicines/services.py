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
from wholecare.directory.models import Organisation, Staff
from wholecare.medicines import review, selectors
from wholecare.medicines.models import (
    MedicationReview,
    MedicinesReconciliation,
    PrescriberRequest,
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
from wholecare.medicines.requests import Answer, Kind, answer_problem
from wholecare.record.models import Person, RecordEntry
from wholecare.record.services import entry_create
from wholecare.record.vocabulary import Sensitivity

CHANGED_SINCE_OPENED = (
    "The medicines lists have changed since you opened this page: here they are as they now"
    " stand. Check each medicine again, then save."
)
#: At most this many medicines the person takes that no list has, in one reconciliation.
OTHERS_MOST = 30
#: The longest account of what was found of one medicine.
NOTE_MOST = 1000
_ANSWERS = frozenset(a.value for a in Answer)


@transaction.atomic
def reconcile(
    *,
    by: AbstractBaseUser,
    person: Person,
    fingerprint: str,
    found: Mapping[int, tuple[str, str]],
    checked_with: Sequence[str],
    asked_of: Mapping[int, str] | None = None,
    others: str = "",
    note: str = "",
    withheld_from_person: str = "",
) -> MedicinesReconciliation:
    """Record a reconciliation of the lists as the user saw them (`fingerprint`): what was found
    of each medicine (`found`, by its number in the comparison from 1: a `Decision` and what
    was found), whose prescriber is asked to correct a medicine found so (`asked_of`, by number:
    the organisation's ODS code, among `selectors.prescribers_to_ask`), where what the person
    takes was checked, what they take that no list has (`others`, one a line) and a note. The
    timeline keeps it in words. AccessDenied unless `selectors.may_reconcile`."""
    staff, compared = _lists_as_seen(
        by,
        person,
        fingerprint,
        selectors.may_reconcile,
        "Only a pharmacist, GP or nurse caring for the person reconciles their medicines",
    )
    extra = other_medicines(others)
    errors = _errors(compared, found, checked_with, extra, note)
    settled = [n for n in found if f"decision_{n}" not in errors]
    asking = [n for n in settled if found[n][0] == Decision.PRESCRIBER_ASKED.value]
    asked = _asked_of(
        person,
        compared,
        compared.medicines,
        asking,
        asked_of or {},
        errors,
        required=True,
        not_asking=(
            [n for n in settled if n not in asking],
            "you chose whose prescriber to ask, but not that the prescriber was asked to"
            " correct it: choose that, or nobody",
        ),
    )
    sensitivity = _shared_as(compared.medicines, errors)
    if errors:
        raise ValidationError(errors)
    decisions = {n: (Decision(found[n][0]), found[n][1].strip()) for n in found}
    entry = _timeline_note(
        by,
        person,
        _title(compared, decisions),
        record_text(
            compared,
            decisions,
            extra,
            _checked_words(checked_with),
            note,
            {n: organisation.name for n, organisation in asked.items()},
        ),
        withheld_from_person,
        sensitivity,
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
    _ask(
        Kind.CORRECTION,
        entry,
        staff,
        {n: (compared.medicines[n - 1], o, decisions[n][1]) for n, o in asked.items()},
    )
    return reconciliation


def _asked_of(
    person: Person,
    compared: Comparison,
    medicines: Sequence[Compared],
    asking: Sequence[int],
    asked_of: Mapping[int, str],
    errors: dict[str, list[str]],
    *,
    required: bool,
    not_asking: tuple[Sequence[int], str],
) -> dict[int, Organisation]:
    """The organisation asked about each of `asking` (numbers among `medicines`, from 1), as
    `asked_of` names it by ODS code; an error at the medicine (in `errors`) for one not among
    those offered (`selectors.prescribers_to_ask`), or for none named when `required`. Whom
    to ask named for a medicine whose answer asks nobody (`not_asking`: their numbers, and
    what to say) is an error too, lest the user believe someone was asked."""
    numbers, problem = not_asking
    for n in numbers:
        if asked_of.get(n) and 0 < n <= len(medicines):
            errors[f"asked_of_{n}"] = [f"{medicines[n - 1].name}: {problem}"]
    asking = [n for n in asking if 0 < n <= len(medicines)]
    if not asking:
        return {}
    offered = {
        p.organisation.ods_code: p.organisation
        for p in selectors.prescribers_to_ask(person, compared.sources)
    }
    asked = {}
    for n in asking:
        name, code = medicines[n - 1].name, asked_of.get(n, "")
        if code in offered:
            asked[n] = offered[code]
        elif code:
            errors[f"asked_of_{n}"] = [f"{name}: choose whom to ask from the list"]
        elif required:
            errors[f"asked_of_{n}"] = [f"{name}: choose whose prescriber you asked to correct it"]
    return asked


def _ask(
    kind: Kind,
    entry: RecordEntry,
    staff: Staff,
    asked: Mapping[int, tuple[Compared, Organisation, str]],
) -> None:
    """The requests to the prescriber a note makes: of each medicine, whom it asks, and what was
    found or agreed; each shared as the medicine it names, not as the note (decision 0048)."""
    PrescriberRequest.objects.bulk_create(
        PrescriberRequest(
            person=entry.person,
            kind=kind,
            asked_in=entry,
            asked_by=staff,
            asked_at=entry.occurred_at,
            asked_of=organisation,
            medicine=medicine.name[:300],
            as_listed=[describe(item) for item in medicine.listed],
            asked=said,
            sensitivity=_one_kind(medicine.restricted),
        )
        for _, (medicine, organisation, said) in sorted(asked.items())
    )


@transaction.atomic
def request_answer(
    *,
    by: AbstractBaseUser,
    request: PrescriberRequest,
    answer: str,
    note: str = "",
    withheld_from_person: str = "",
) -> PrescriberRequest:
    """Answer a request to the prescriber made of the user's organisation (decision 0046): done,
    or not and why. The answer is a note on the timeline, shared as the request (decision
    0048), for whoever asked and the rest of the care team. ValidationError once answered or
    withdrawn (or the note that asked entered in error); AccessDenied unless
    `selectors.may_answer` and the sharing rule lets the user read the request."""
    request, _ = _still_waiting(by, request, selectors.may_answer)
    kind = request.kind_enum
    problem = answer_problem(kind, request.medicine, answer, note)
    if problem is None and len(note.strip()) > NOTE_MOST:
        problem = f"{request.medicine}: the answer must be {NOTE_MOST:,} characters or fewer"
    if problem is not None:
        raise ValidationError({"note" if answer in _ANSWERS else "answer": [problem]})
    answered = Answer(answer)
    request.answer = answered.value
    request.answer_entry = _timeline_note(
        by,
        request.person,
        f"{kind.label}: {request.medicine[:120]} {kind.answered(answered)}",
        _asked_words(request)
        + f"\nAnswer: {kind.answer_label(answered)}."
        + (f" {note.strip()}" if note.strip() else ""),
        withheld_from_person,
        request.sensitivity,
    )
    request.save(update_fields=["answer", "answer_entry"])
    return request


@transaction.atomic
def request_withdraw(
    *, by: AbstractBaseUser, request: PrescriberRequest, reason: str
) -> PrescriberRequest:
    """Withdraw a request to the prescriber the user or a colleague made, unanswered, saying why
    (resolved on the telephone, asked in error): a note on the timeline, shared as the request
    and withheld from the person as the note that asked, tells the organisation asked.
    ValidationError once answered or withdrawn, or without a reason; AccessDenied unless
    `selectors.may_withdraw`."""
    request, staff = _still_waiting(by, request, selectors.may_withdraw)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why you withdraw the request"]})
    if len(reason) > NOTE_MOST:
        raise ValidationError({"reason": [f"The reason must be {NOTE_MOST:,} characters or fewer"]})
    request.withdrawal_entry = _timeline_note(
        by,
        request.person,
        f"{request.kind_enum.label} withdrawn: {request.medicine[:120]}",
        _asked_words(request) + f"\nWithdrawn by {staff.display_name}: {reason}",
        request.asked_in.withheld_from_person,
        request.sensitivity,
    )
    request.save(update_fields=["withdrawal_entry"])
    return request


def _still_waiting(
    by: AbstractBaseUser,
    request: PrescriberRequest,
    may: Callable[[Staff, Relationship | None, PrescriberRequest], bool],
) -> tuple[PrescriberRequest, Staff]:
    """The request, locked, and the user, who `may` act on it and reads it;
    ValidationError unless it still waits."""
    staff = staff_of(by)
    request = (
        PrescriberRequest.objects.select_for_update(of=("self",))
        .select_related("asked_of", "asked_in", "asked_by__user", "person")
        .get(pk=request.pk)
    )
    if not may(staff, check_can_open_record(staff, request.person), request):
        raise AccessDenied(
            f"Only the pharmacists, prescribers and nurses of {request.asked_of.name} answer this"
            f" request, and whoever asked or a colleague covering for them withdraws it, while"
            f" caring for the person"
        )
    if not PrescriberRequest.objects.filter(
        selectors.request_readable_q(staff), pk=request.pk
    ).exists():
        raise AccessDenied("The sharing rule keeps this request from you")
    if not selectors.waiting().filter(pk=request.pk).exists():
        raise ValidationError(
            "This request has already been answered or withdrawn, or the note that asked it was"
            " entered in error"
        )
    return request, staff


def _asked_words(request: PrescriberRequest) -> str:
    """What was asked, of whom, by whom and when, as the answer's or withdrawal's note says."""
    where = {
        Kind.CORRECTION: "medicines reconciliation",
        Kind.CHANGE: "structured medication review",
    }[request.kind_enum]
    return (
        f"Asked of {request.asked_of.name} by {request.asked_by.display_name} in the {where} of"
        f" {timezone.localtime(request.asked_at):%-d %B %Y}: {request.asked}"
    )


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


def _shared_as(medicines: Sequence[Compared], errors: dict[str, list[str]]) -> str:
    """The sensitivity of a note naming `medicines`: that of the statements among them the
    sharing rule restricts, so the note reaches nobody they are withheld from (decision 0047);
    an error (in `errors`) when they are restricted in more than one way, as one note cannot
    follow two rules."""
    restricted = _restricted(medicines)
    if len(restricted) > 1:
        kinds = " and ".join(sorted(Sensitivity(k).entries for k in restricted))
        errors.setdefault("__all__", []).append(
            f"These lists name medicines shared only as {kinds} are, and one note cannot be"
            " shared both ways: write what you found on the timeline, a note for each"
        )
        return Sensitivity.NORMAL.value
    return _one_kind(restricted)


def _restricted(medicines: Sequence[Compared]) -> frozenset[str]:
    """How the sharing rule restricts the statements of `medicines`: none, or the kinds."""
    return frozenset[str]().union(*(m.restricted for m in medicines))


def _one_kind(restricted: frozenset[str]) -> str:
    return next(iter(restricted)) if restricted else Sensitivity.NORMAL.value


def _timeline_note(
    by: AbstractBaseUser,
    person: Person,
    title: str,
    text: str,
    withheld_from_person: str,
    sensitivity: str,
) -> RecordEntry:
    """The note on the timeline, shared as `sensitivity`; ValidationError at the note when
    `text` is longer than a timeline entry holds."""
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
        sensitivity=sensitivity,
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
    asked_of: Mapping[int, str] | None = None,
    note: str = "",
    withheld_from_person: str = "",
) -> MedicationReview:
    """Record a structured medication review made with the person (decision 0045), of the
    medicines they take as the lists the user saw had them (`fingerprint`): what was agreed for
    each (`agreed`, by its number among those in force from 1: a `review.Outcome` and how), whom
    to ask to make a change agreed (`asked_of`, by number: an ODS code among
    `selectors.prescribers_to_ask`; optional), what matters to them, whether they agreed, and
    when to review again. The timeline keeps it in words. AccessDenied unless
    `selectors.may_review`."""
    staff, compared = _lists_as_seen(
        by,
        person,
        fingerprint,
        selectors.may_review,
        "Only a pharmacist or GP caring for the person records a structured medication review",
    )
    taking = [m for m in compared.medicines if m.in_force]
    errors = _review_errors(taking, agreed, what_matters, agreed_with_person, next_review, note)
    settled = [n for n in agreed if f"outcome_{n}" not in errors]
    changing = [n for n in settled if agreed[n][0] != review.Outcome.CONTINUE.value]
    asked = _asked_of(
        person,
        compared,
        taking,
        changing,
        asked_of or {},
        errors,
        required=False,
        not_asking=(
            [n for n in settled if n not in changing],
            "a prescriber is asked to stop, reduce or change a medicine, not to continue it:"
            " choose nobody, or what was agreed",
        ),
    )
    sensitivity = _shared_as(taking, errors)
    if errors:
        raise ValidationError(errors)
    outcomes = {n: (review.Outcome(agreed[n][0]), agreed[n][1].strip()) for n in agreed}
    entry = _timeline_note(
        by,
        person,
        _review_title(outcomes),
        _review_text(
            taking,
            outcomes,
            what_matters,
            bool(agreed_with_person),
            next_review,
            note,
            {n: organisation.name for n, organisation in asked.items()},
        ),
        withheld_from_person,
        sensitivity,
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
    _ask(
        Kind.CHANGE,
        entry,
        staff,
        {
            n: (taking[n - 1], organisation, f"{outcomes[n][0].label}. {outcomes[n][1]}")
            for n, organisation in asked.items()
        },
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
    asked_of: Mapping[int, str],
) -> str:
    """The review in plain words, as the timeline keeps it, naming whom each change agreed was
    asked of (`asked_of`, by number)."""
    lines = [f"What matters to the person: {what_matters.strip()}"]
    for n, medicine in enumerate(taking, start=1):
        outcome, how = outcomes[n]
        asked = f" (asked of {asked_of[n]})" if n in asked_of else ""
        lines.append(f"{n}. {medicine.name}: {outcome.label}{asked}" + (f". {how}" if how else ""))
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
