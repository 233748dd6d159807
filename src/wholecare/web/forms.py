"""Forms: they turn request data into typed values with messages in the NHS.UK style."""

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from wholecare.access.models import BreakGlassAccess, ProxyAccess, SharingConsent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Service, Staff
from wholecare.medicines.models import MedicinesReconciliation
from wholecare.medicines.reconciliation import Compared, Decision
from wholecare.medicines.requests import Kind
from wholecare.medicines.review import Outcome
from wholecare.medicines.selectors import Prescriber
from wholecare.medicines.services import NOTE_MOST
from wholecare.record import nhs_number, services, vocabulary
from wholecare.record.models import (
    Alert,
    CarePlan,
    CarePlanAction,
    Condition,
    Person,
    RecordEntry,
    Referral,
    SocialCareNeed,
)
from wholecare.record.vocabulary import Sensitivity, WithheldFromPerson


def posted(request: HttpRequest) -> QueryDict | None:
    """The data to bind a form with: a POST's, even an empty one, which `request.POST or None`
    would leave unbound and so refuse without saying why; None for any other method."""
    return request.POST if request.method == "POST" else None


def show_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: each message at its field where the form has one, the
    rest (and a refusal not keyed by field) above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password",
        "inactive": "This account has been switched off",
    }


class DateInputField(forms.MultiValueField):
    """The NHS.UK date input: day, month and year in three boxes. `what` names the date in its
    error messages ("Date of birth must be a real date")."""

    def __init__(self, *, what: str = "Date of birth", **kwargs: Any) -> None:
        fields = (
            forms.IntegerField(min_value=1, max_value=31),
            forms.IntegerField(min_value=1, max_value=12),
            forms.IntegerField(min_value=1900, max_value=2100),
        )
        widget = forms.MultiWidget(widgets=[forms.NumberInput()] * 3)
        self.what = what
        kwargs.setdefault(
            "error_messages", {"incomplete": f"{what} must include a day, month and year"}
        )
        super().__init__(fields=fields, widget=widget, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[int | None]) -> dt.date | None:
        if not data_list or all(part is None for part in data_list):
            return None
        if any(part is None for part in data_list):
            raise forms.ValidationError(f"{self.what} must include a day, month and year")
        day, month, year = data_list
        try:
            return dt.date(year, month, day)  # type: ignore[arg-type]
        except ValueError:
            raise forms.ValidationError(f"{self.what} must be a real date") from None


class NHSNumberField(forms.CharField):
    """An NHS number as typed (spaces allowed), normalised to its 10 digits; an invalid one is
    refused with the reason. Empty stays empty when the field is not required."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        if not text.strip():
            return ""
        try:
            return nhs_number.normalise(text)
        except nhs_number.InvalidNHSNumber as error:
            raise forms.ValidationError(str(error)) from None


class FindPersonForm(forms.Form):
    nhs_number = NHSNumberField(required=False)
    family_name = forms.CharField(required=False, max_length=100)
    date_of_birth = DateInputField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if not data.get("nhs_number") and not (
            data.get("family_name") and data.get("date_of_birth")
        ):
            raise forms.ValidationError("Enter an NHS number, or a family name and a date of birth")
        return data


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        min_length=10,
        widget=forms.Textarea,
        error_messages={
            "required": "Give the reason you need this record",
            "min_length": "Give the reason you need this record (at least 10 characters)",
            "max_length": "The reason must be 1,000 characters or fewer",
        },
    )


def withheld_from_person_field() -> forms.ChoiceField:
    """Whether the person reads what is being written in their own record (decision 0040): yes,
    unless the writer says on which ground it is withheld."""
    return forms.ChoiceField(
        choices=[("", "Yes")]
        + [(w.value, f"No: {w.label[0].lower()}{w.label[1:]}") for w in WithheldFromPerson],
        required=False,
        initial="",
    )


class _MayWithholdFromPerson(forms.Form):
    """A form writing a timeline entry, which asks whether the person reads it when they have
    online access to their record (`online`); without it, they will never read it and the
    question is not asked."""

    withheld_from_person = withheld_from_person_field()

    def __init__(self, *args: Any, online: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not online:
            del self.fields["withheld_from_person"]


class WithholdFromPersonForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(w.value, w.label) for w in WithheldFromPerson],
        error_messages={
            "required": "Choose why the person should not read this entry",
            "invalid_choice": "Choose why the person should not read this entry",
        },
    )


@dataclass(frozen=True)
class MedicineRow:
    """One medicine of a form asking about each (a reconciliation, a medication review): the
    comparison's row, and its two fields: the answer chosen, and what was found or agreed."""

    number: int
    medicine: Compared
    decision: forms.BoundField
    note: forms.BoundField
    asked_of: forms.BoundField | None = None
    """Whose prescriber is asked to correct it, where a reconciliation may ask (decision 0046)."""


class _EachMedicine(_MayWithholdFromPerson):
    """A form asking about each of `medicines` against the lists as seen (`fingerprint`): an
    answer among `CHOICES` (`ANSWER`_N) and what was found or agreed (`SAID`_N), numbered from 1,
    gathered by `clean` into `GATHERED` as {number: (answer, said)}. Any choice is taken here;
    the service checks each against its medicine."""

    ANSWER: ClassVar[str]
    SAID: ClassVar[str]
    GATHERED: ClassVar[str]
    CHOICES: ClassVar[list[tuple[str, str]]]
    ASKED: ClassVar[str]
    """What the answer is, in the error messages: "what you found"."""
    NOBODY_ASKED: ClassVar[str]
    """The choice of whom to ask (`asked_of_N`, decision 0046) that asks nobody."""

    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(
        widget=forms.Textarea,
        required=False,
        max_length=2000,
        error_messages={"max_length": "The note must be 2,000 characters or fewer"},
    )

    def __init__(
        self,
        *args: Any,
        fingerprint: str,
        medicines: Sequence[Compared],
        prescribers: Sequence[Prescriber],
        online: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, online=online, **kwargs)
        self.medicines = medicines
        self.fields["fingerprint"].initial = fingerprint
        for number, medicine in enumerate(medicines, start=1):
            self.fields[f"{self.ANSWER}_{number}"] = forms.ChoiceField(
                choices=self.CHOICES,
                required=False,
                initial=self.initial_answer(medicine),
                error_messages={"invalid_choice": f"{medicine.name}: choose {self.ASKED}"},
            )
            self.fields[f"{self.SAID}_{number}"] = forms.CharField(
                required=False,
                max_length=NOTE_MOST,
                error_messages={
                    "max_length": f"{medicine.name}: {self.ASKED} must be {NOTE_MOST:,}"
                    " characters or fewer"
                },
            )
            if self.asks(medicine):
                self.fields[f"asked_of_{number}"] = forms.ChoiceField(
                    choices=[
                        ("", self.NOBODY_ASKED),
                        *(
                            (p.organisation.ods_code, p.label(medicine.restricted))
                            for p in prescribers
                        ),
                    ],
                    required=False,
                    error_messages={
                        "invalid_choice": f"{medicine.name}: choose whom to ask from the list"
                    },
                )

    def initial_answer(self, medicine: Compared) -> str | None:
        raise NotImplementedError

    def asks(self, medicine: Compared) -> bool:
        """Whether the form asks whom to ask about `medicine` (decision 0046)."""
        raise NotImplementedError

    @property
    def rows(self) -> list[MedicineRow]:
        return [
            MedicineRow(
                n,
                medicine,
                self[f"{self.ANSWER}_{n}"],
                self[f"{self.SAID}_{n}"],
                self[f"asked_of_{n}"] if f"asked_of_{n}" in self.fields else None,
            )
            for n, medicine in enumerate(self.medicines, start=1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data[self.GATHERED] = {
            n: (
                data.pop(f"{self.ANSWER}_{n}", "") or "",
                data.pop(f"{self.SAID}_{n}", "") or "",
            )
            for n in range(1, len(self.medicines) + 1)
        }
        data["asked_of"] = {
            n: asked
            for n in range(1, len(self.medicines) + 1)
            if (asked := data.pop(f"asked_of_{n}", ""))
        }
        return data


class MedicinesReconciliationForm(_EachMedicine):
    """A medicines reconciliation (decision 0042): what was found of each medicine compared
    (`decision_N`, `note_N`), where it was checked, what the person takes that no list has, and
    a note. The page offers each medicine only the decisions it allows."""

    ANSWER, SAID, GATHERED, ASKED = "decision", "note", "found", "what you found"
    CHOICES = [(d.value, d.label) for d in Decision]
    NOBODY_ASKED = "Nobody"

    checked_with = forms.MultipleChoiceField(
        choices=MedicinesReconciliation.CheckedWith.choices,
        required=False,
        error_messages={"invalid_choice": "Choose where you checked from the list"},
    )
    others = forms.CharField(
        widget=forms.Textarea,
        required=False,
        max_length=5000,
        error_messages={"max_length": "The medicines in no list must be 5,000 characters or fewer"},
    )

    def initial_answer(self, medicine: Compared) -> str | None:
        """Taken as listed where the lists agree; where they differ, nothing until chosen."""
        return None if medicine.differences else Decision.AS_LISTED.value

    def asks(self, medicine: Compared) -> bool:
        return bool(medicine.differences)


class RequestAnswerForm(_MayWithholdFromPerson):
    """The answer to a request to the prescriber made of the user's organisation (decision
    0046), in the words of its `kind`; the service checks that leaving things as they are says
    why."""

    answer = forms.ChoiceField()
    note = forms.CharField(
        widget=forms.Textarea,
        required=False,
        max_length=NOTE_MOST,
        error_messages={"max_length": f"The answer must be {NOTE_MOST:,} characters or fewer"},
    )

    def __init__(self, *args: Any, kind: Kind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        question = (
            "Say whether your list has been corrected"
            if kind is Kind.CORRECTION
            else "Say whether the change has been made"
        )
        field = cast(forms.ChoiceField, self.fields["answer"])
        field.choices = kind.answer_choices()
        field.error_messages = {"required": question, "invalid_choice": question}


class RequestWithdrawForm(forms.Form):
    """Why whoever asked withdraws a request to the prescriber (decision 0046); the service
    checks that there is a reason."""

    reason = forms.CharField(
        widget=forms.Textarea,
        required=False,
        max_length=NOTE_MOST,
        error_messages={"max_length": f"The reason must be {NOTE_MOST:,} characters or fewer"},
    )


class MedicationReviewForm(_EachMedicine):
    """A structured medication review (decision 0045): what was agreed for each medicine taken
    (`outcome_N`, `how_N`), what matters to the person, whether they agreed, when to review
    again and a note."""

    ANSWER, SAID, GATHERED, ASKED = "outcome", "how", "agreed", "what was agreed"
    CHOICES = [(o.value, o.label) for o in Outcome]
    NOBODY_ASKED = "Nobody: it needs no prescriber, or you make it yourself"

    what_matters = forms.CharField(
        widget=forms.Textarea,
        required=False,
        max_length=2000,
        error_messages={
            "max_length": "What matters to the person must be 2,000 characters or fewer"
        },
    )
    agreed_with_person = forms.TypedChoiceField(
        choices=[
            ("yes", "Yes: the person (or whoever speaks for them) agreed"),
            ("no", "No: say why in the note"),
        ],
        coerce=lambda value: value == "yes",
        required=False,
        empty_value=None,
    )
    next_review = DateInputField(required=False, what="The next review")

    def initial_answer(self, medicine: Compared) -> str | None:
        return Outcome.CONTINUE.value

    def asks(self, medicine: Compared) -> bool:
        """Any medicine may be stopped, reduced or changed, and its prescriber asked to."""
        return True


class ProxyGrantForm(forms.Form):
    """Who may read the person's record on their behalf (decision 0041): the account they sign
    in with, who they are to the person, whether they read notes and letters, and why they may;
    the service checks the rest (`access.services.proxy_access_grant`)."""

    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Enter the email address they sign in to Wholecare with",
            "invalid": "Enter an email address like name@example.com",
        },
    )
    relationship = forms.CharField(
        max_length=100,
        error_messages={
            "required": "Say who they are to the person, like Daughter or Paid carer",
            "max_length": "Who they are to the person must be 100 characters or fewer",
        },
    )
    reads_notes = forms.TypedChoiceField(
        choices=[
            ("no", "No: the record without notes and letters"),
            ("yes", "Yes: notes and letters too, those written from now on"),
        ],
        coerce=lambda value: value == "yes",
        initial="no",
        error_messages={"required": "Choose whether they read notes and letters"},
    )
    basis = forms.ChoiceField(
        choices=ProxyAccess.Basis.choices,
        error_messages={
            "required": "Choose why they may act for the person",
            "invalid_choice": "Choose why they may act for the person",
        },
    )
    identity_checked = forms.BooleanField(
        error_messages={"required": "Check who they are before they can act for the person"}
    )


class ProxyEndForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why their access ends",
            "max_length": "The reason must be 1,000 characters or fewer",
        },
    )


class NotesOnlinePauseForm(forms.Form):
    """Why the person's notes and letters should no longer be shown to them online."""

    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why their notes should not be shown online",
            "max_length": "The reason must be 1,000 characters or fewer",
        },
    )


class EntryForm(_MayWithholdFromPerson):
    kind = forms.ChoiceField(choices=RecordEntry.Kind.choices)
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Enter a title",
            "max_length": "The title must be 200 characters or fewer",
        },
    )
    text = forms.CharField(
        max_length=20_000,
        widget=forms.Textarea,
        required=False,
        error_messages={"max_length": "The entry must be 20,000 characters or fewer"},
    )
    sensitivity = forms.ChoiceField(
        choices=[(s.value, s.label) for s in Sensitivity], initial=Sensitivity.NORMAL.value
    )
    occurred_on = DateInputField(required=False, what="The date it happened")
    occurred_time = forms.CharField(required=False, max_length=10)

    def clean(self) -> dict[str, Any]:
        """When it happened, from a date and a 24-hour time (`occurred_at`), for an entry written
        afterwards; neither given means now, a time alone means today."""
        data = super().clean() or {}
        day = data.pop("occurred_on", None)
        text = data.pop("occurred_time", "").strip()
        if self.errors:
            return data
        if not text:
            if day is not None:
                self.add_error("occurred_time", "Enter the time it happened, like 14:30")
            return data
        try:
            time = dt.time.fromisoformat(text.replace(".", ":").zfill(5))
        except ValueError:
            self.add_error("occurred_time", "Enter the time on the 24-hour clock, like 14:30")
            return data
        when = timezone.make_aware(dt.datetime.combine(day or timezone.localdate(), time))
        if when > timezone.now():
            where = "occurred_on" if day is not None else "occurred_time"
            self.add_error(where, "The date and time it happened must be in the past")
            return data
        data["occurred_at"] = when
        return data


class ConditionForm(forms.Form):
    """A new condition from Wholecare's long-term and mental health value sets (other SNOMED CT
    concepts come from the systems that code them, through the API), less those the person
    already has."""

    snomed_code = forms.ChoiceField(
        error_messages={
            "required": "Choose the condition",
            "invalid_choice": "Choose a condition from the list (one already on the record"
            " cannot be recorded again)",
        },
    )
    onset_date = DateInputField(required=False, what="Onset date")
    clinical_status = forms.ChoiceField(
        choices=Condition.ClinicalStatus.choices,
        initial=Condition.ClinicalStatus.ACTIVE,
        error_messages={
            "required": "Choose whether the condition is active, in remission or resolved"
        },
    )

    def __init__(self, *args: Any, held: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = (
            (vocabulary.ConditionGroup.LONG_TERM, "Long-term conditions"),
            (vocabulary.ConditionGroup.MENTAL_HEALTH, "Mental health conditions"),
        )
        cast(forms.ChoiceField, self.fields["snomed_code"]).choices = [
            (
                label,
                sorted(
                    (
                        (c.snomed, c.display)
                        for c in vocabulary.CONDITIONS
                        if c.group == group and c.snomed not in held
                    ),
                    key=lambda choice: choice[1],
                ),
            )
            for group, label in groups
        ]


_NEED_STATUS_REQUIRED = "Choose awaiting assessment, assessed or met"


class SocialCareNeedForm(forms.Form):
    """A social care need the person does not yet have on the record; its status is chosen only
    by an assessor (decision 0018), and is awaiting assessment for everyone else."""

    need_code = forms.ChoiceField(
        error_messages={
            "required": "Choose the need",
            "invalid_choice": "Choose a need from the list (one already on the record cannot be"
            " recorded again)",
        },
    )
    status = forms.ChoiceField(
        choices=SocialCareNeed.Status.choices,
        initial=SocialCareNeed.Status.AWAITING,
        error_messages={"required": _NEED_STATUS_REQUIRED},
    )

    def __init__(self, *args: Any, held: set[str], may_assess: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs = [need for need in vocabulary.SOCIAL_CARE_NEEDS if need.code not in held]
        """The needs offered, with their plain descriptions for the hints."""
        cast(forms.ChoiceField, self.fields["need_code"]).choices = [
            (need.code, need.display) for need in self.needs
        ]
        if not may_assess:
            del self.fields["status"]


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=SocialCareNeed.Status.choices,
        error_messages={"required": _NEED_STATUS_REQUIRED},
    )


class CareTeamAddForm(forms.Form):
    """A colleague for the care team, chosen from a search of the directory (`candidates`)."""

    staff = forms.ChoiceField(
        error_messages={
            "required": "Choose who to add",
            "invalid_choice": "Choose someone from the list (search again if they are not on it)",
        },
    )
    role = forms.CharField(
        max_length=60,
        error_messages={
            "required": "Enter their role in the team, like Care coordinator or Key worker",
            "max_length": "The role must be 60 characters or fewer",
        },
    )

    def __init__(self, *args: Any, candidates: list[Staff], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {str(staff.pk): staff for staff in candidates}
        cast(forms.ChoiceField, self.fields["staff"]).choices = [
            (pk, staff.display_name) for pk, staff in self.candidates.items()
        ]

    def clean_staff(self) -> Staff:
        return self.candidates[self.cleaned_data["staff"]]


class ReferralForm(forms.Form):
    """A referral to one of the directory's services (`offered`), grouped by kind of service."""

    service = forms.ChoiceField(
        error_messages={
            "required": "Choose the service to refer to",
            "invalid_choice": "Choose a service from the list",
        },
    )
    priority = forms.ChoiceField(
        choices=Referral.Priority.choices,
        initial=Referral.Priority.ROUTINE,
        error_messages={"required": "Choose how soon the service should act"},
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why you are referring, so the service can decide what to do",
            "max_length": "The reason must be 300 characters or fewer",
        },
    )

    def __init__(self, *args: Any, offered: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {str(service.pk): service for service in offered}
        groups: dict[str, list[tuple[str, str]]] = {}
        for pk, service in self.offered.items():
            groups.setdefault(service.get_kind_display(), []).append(
                (pk, f"{service.name}, {service.organisation}")
            )
        cast(forms.ChoiceField, self.fields["service"]).choices = list(groups.items())

    def clean_service(self) -> Service:
        return self.offered[self.cleaned_data["service"]]


class ReferralCloseForm(_MayWithholdFromPerson):
    """How an open referral ended, from the outcomes the user may record (`closings`), what the
    referrer should know, and the day it closed (blank: today)."""

    outcome = forms.ChoiceField(error_messages={"required": "Choose how the referral ended"})
    outcome_note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea,
        error_messages={
            "max_length": "What the referrer should know must be 500 characters or fewer"
        },
    )
    closed_date = DateInputField(required=False, what="The date it closed")

    def __init__(
        self, *args: Any, closings: tuple[Referral.Outcome, ...], online: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, online=online, **kwargs)
        field = cast(forms.ChoiceField, self.fields["outcome"])
        field.choices = [(outcome.value, outcome.label) for outcome in closings]
        if len(closings) == 1:
            field.initial = closings[0].value


ALERT_HINTS = {
    Alert.Category.RISK: "A risk to the person or to others, like thoughts of suicide",
    Alert.Category.SAFETY: "Something staff must know to visit safely, like a dog at the home",
    Alert.Category.SAFEGUARDING: "A safeguarding concern or plan, for adults or children",
    Alert.Category.COMMUNICATION: "How to communicate, like British Sign Language or easy read",
    Alert.Category.CONTACT: "How and when to reach the person, like a key safe",
    Alert.Category.CLINICAL: "Something clinical every carer must know first",
}


class AlertForm(forms.Form):
    """An alert raised on Wholecare's pages (decision 0023): its kind, what it says, and the
    last day it applies when it ends on its own."""

    category = forms.ChoiceField(
        choices=[(c.value, c.label) for c in services.RAISED_ON_WHOLECARE_PAGES],
        error_messages={
            "required": "Choose what kind of alert it is",
            "invalid_choice": "Choose what kind of alert it is",
        },
    )
    text = forms.CharField(
        max_length=300,
        widget=forms.Textarea,
        error_messages={
            "required": "Enter what everyone caring for the person must know",
            "max_length": "The alert must be 300 characters or fewer",
        },
    )
    until = DateInputField(required=False, what="The day it applies until")

    def hints(self) -> list[tuple[str, str, str]]:
        """Each kind offered, with its label and a plain example, for the radios."""
        return [(c.value, c.label, ALERT_HINTS[c]) for c in services.RAISED_ON_WHOLECARE_PAGES]


class AlertEndForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why the alert no longer applies",
            "max_length": "The reason must be 300 characters or fewer",
        },
    )


class ConditionStatusForm(forms.Form):
    clinical_status = forms.ChoiceField(
        choices=Condition.ClinicalStatus.choices,
        error_messages={
            "required": "Choose whether the condition is active, in remission or resolved"
        },
    )


class EnteredInErrorForm(forms.Form):
    """Why something recorded (`what`: "condition", "entry") was never right."""

    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea,
        error_messages={"max_length": "The reason must be 1,000 characters or fewer"},
    )

    def __init__(self, *args: Any, what: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        required = f"Say why this {what} was entered in error"
        self.fields["reason"].error_messages["required"] = required


class IdentityForm(forms.Form):
    """The identity details not known for this person (an NHS number not yet allocated, a name
    or birth date not given): only those are offered, since a known one is never changed here."""

    nhs_number = NHSNumberField(required=False)
    given_name = forms.CharField(required=False, max_length=100)
    family_name = forms.CharField(required=False, max_length=100)
    date_of_birth = DateInputField(required=False)
    sex = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Choose"),
            *[(s.value, s.label) for s in Person.Sex if s != Person.Sex.UNKNOWN],
        ],
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if not services.not_known(person, name):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.known():
            raise forms.ValidationError("Enter at least one of the details")
        return data

    def known(self) -> dict[str, Any]:
        """The details given, by field."""
        return {
            name: value.strip() if isinstance(value, str) else value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") and not (isinstance(value, str) and not value.strip())
        }


PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()-]+$")
NEEDS_A_PHONE = frozenset({"3", "5", "9"})
"""Contact methods (NHS Data Dictionary) that need a telephone number: telephone, textphone,
SMS."""
NEEDS_AN_EMAIL = frozenset({"4"})


class ContactForm(forms.Form):
    """How the person is contacted and what they need to communicate (the Accessible Information
    Standard), changed by the person or by staff they tell."""

    contact_method = forms.ChoiceField(
        choices=[("", "No preference"), *vocabulary.CONTACT_METHODS.items()],
        required=False,
        error_messages={"invalid_choice": "Choose a way to be contacted from the list"},
    )
    phone = forms.CharField(
        max_length=20,
        required=False,
        error_messages={"max_length": "The telephone number must be 20 characters or fewer"},
    )
    email = forms.EmailField(
        max_length=254,
        required=False,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "The email address must be 254 characters or fewer",
        },
    )
    preferred_written_format = forms.ChoiceField(
        choices=[("", "Standard print"), *vocabulary.WRITTEN_FORMATS.items()],
        required=False,
        error_messages={"invalid_choice": "Choose a format from the list"},
    )
    main_language = forms.ChoiceField(
        choices=list(vocabulary.LANGUAGES.items()),
        error_messages={
            "required": "Choose the main language",
            "invalid_choice": "Choose a language from the list",
        },
    )
    interpreter_needed = forms.BooleanField(required=False)
    accessibility_needs = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.Textarea,
        error_messages={"max_length": "Communication needs must be 300 characters or fewer"},
    )

    @classmethod
    def for_person(cls, data: QueryDict | None, person: Person) -> "ContactForm":
        return cls(data, initial={name: getattr(person, name) for name in cls.base_fields})

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data["phone"]).strip()
        digits = sum(c.isdigit() for c in phone)
        if phone and (not PHONE_CHARACTERS.match(phone) or not 10 <= digits <= 15):
            raise ValidationError(
                "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
            )
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("contact_method", "")
        if method in NEEDS_A_PHONE and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", "Enter a telephone number to be contacted that way")
        if method in NEEDS_AN_EMAIL and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter an email address to be contacted by email")
        return data


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (BreakGlassAccess.Review.APPROPRIATE, BreakGlassAccess.Review.APPROPRIATE.label),
            (BreakGlassAccess.Review.INAPPROPRIATE, BreakGlassAccess.Review.INAPPROPRIATE.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the access was appropriate"},
    )
    note = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)


class SharingDecisionForm(forms.Form):
    """One of the person's sharing decisions: which kind of sensitive entry, which discipline,
    and whether to share (decision 0029)."""

    sensitivity = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose which notes the decision is about",
            "invalid_choice": "Choose which notes the decision is about, from the list",
        },
    )
    discipline = forms.ChoiceField(
        error_messages={
            "required": "Choose who the decision is about",
            "invalid_choice": "Choose who the decision is about, from the list",
        },
    )
    decision = forms.ChoiceField(
        choices=SharingConsent.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether to share them",
            "invalid_choice": "Choose whether to share them",
        },
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[Sensitivity],
        disciplines: list[Discipline],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["sensitivity"]).choices = [
            (kind.value, kind.entries.capitalize()) for kind in kinds
        ]
        cast(forms.ChoiceField, self.fields["discipline"]).choices = [
            ("", "Choose a discipline"),
            *((d.value, d.label) for d in disciplines),
        ]


#: Blank action rows a care plan's form offers beyond those filled in.
BLANK_ACTION_ROWS = 3


@dataclass(frozen=True)
class ActionRow:
    number: int
    what: forms.BoundField
    who: forms.BoundField
    status: forms.BoundField


class CarePlanForm(forms.Form):
    """A care plan written with the person (decision 0031), with up to
    `services.CARE_PLAN_ACTIONS` action rows: what will be done, by whom, and how far it has got.
    A row left blank is no action; `version` is the version of the plan the form was opened on."""

    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Enter a title for the plan",
            "max_length": "The title must be 200 characters or fewer",
        },
    )
    what_matters = forms.CharField(
        max_length=2000,
        widget=forms.Textarea,
        error_messages={
            "required": "Enter what matters to the person",
            "max_length": "What matters to the person must be 2,000 characters or fewer",
        },
    )
    if_things_change = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea,
        error_messages={
            "max_length": "What to do if things change must be 2,000 characters or fewer"
        },
    )
    review_date = DateInputField(
        what="The review date", error_messages={"required": "Enter the date to review the plan by"}
    )
    agreed_with_person = forms.BooleanField(required=False)
    lead = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Choose who coordinates the plan",
            "invalid_choice": "Choose who coordinates the plan from those listed",
        },
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, leads: list[Staff], **kwargs: Any) -> None:
        """`leads`: who may coordinate the plan (`selectors.care_plan_leads`), the first chosen
        unless the plan names another."""
        super().__init__(*args, **kwargs)
        self.leads = {staff.pk: staff for staff in leads}
        lead = cast(forms.TypedChoiceField, self.fields["lead"])
        lead.choices = [
            (staff.pk, f"{staff.display_name}, {Discipline(staff.discipline).label}")
            for staff in leads
        ]
        lead.initial = self.initial.get("lead", leads[0].pk)
        for n in range(1, services.CARE_PLAN_ACTIONS + 1):
            self.fields[f"action_{n}_what"] = forms.CharField(
                max_length=300,
                required=False,
                error_messages={
                    "max_length": f"Action {n}: what will be done must be 300 characters or fewer"
                },
            )
            self.fields[f"action_{n}_who"] = forms.CharField(
                max_length=100,
                required=False,
                error_messages={
                    "max_length": f"Action {n}: who does it must be 100 characters or fewer"
                },
            )
            self.fields[f"action_{n}_status"] = forms.ChoiceField(
                choices=CarePlanAction.Status.choices,
                required=False,
                initial=CarePlanAction.Status.NOT_STARTED,
                error_messages={"invalid_choice": f"Action {n}: choose how far it has got"},
            )

    @classmethod
    def for_plan(cls, data: QueryDict | None, plan: CarePlan, leads: list[Staff]) -> "CarePlanForm":
        """The form on `plan` as it stands, for changing it."""
        initial: dict[str, Any] = {
            "lead": plan.lead_id,
            "title": plan.title,
            "what_matters": plan.what_matters,
            "if_things_change": plan.if_things_change,
            "review_date": [plan.review_date.day, plan.review_date.month, plan.review_date.year],
            "agreed_with_person": plan.agreed_with_person,
            "version": plan.version,
        }
        for n, action in enumerate(plan.actions.all(), start=1):
            initial |= {
                f"action_{n}_what": action.what,
                f"action_{n}_who": action.who,
                f"action_{n}_status": action.status,
            }
        return cls(data, initial=initial, leads=leads)

    def _filled(self, n: int) -> bool:
        return any(
            str(self[f"action_{n}_{part}"].value() or "").strip() for part in ("what", "who")
        )

    def action_rows(self) -> list[ActionRow]:
        """The rows filled in, then `BLANK_ACTION_ROWS` blank ones to add actions."""
        filled = max(
            (n for n in range(1, services.CARE_PLAN_ACTIONS + 1) if self._filled(n)), default=0
        )
        shown = min(services.CARE_PLAN_ACTIONS, filled + BLANK_ACTION_ROWS)
        return [
            ActionRow(
                n, self[f"action_{n}_what"], self[f"action_{n}_who"], self[f"action_{n}_status"]
            )
            for n in range(1, shown + 1)
        ]

    def clean(self) -> dict[str, Any]:
        """The filled rows as `actions`; a row with only what or only who is refused."""
        data = super().clean() or {}
        actions: list[services.PlannedAction] = []
        for n in range(1, services.CARE_PLAN_ACTIONS + 1):
            what = data.pop(f"action_{n}_what", "").strip()
            who = data.pop(f"action_{n}_who", "").strip()
            status = data.pop(f"action_{n}_status", "") or CarePlanAction.Status.NOT_STARTED
            if what and not who:
                self.add_error(f"action_{n}_who", f"Action {n}: say who will do it")
            elif who and not what:
                self.add_error(f"action_{n}_what", f"Action {n}: say what will be done")
            elif what:
                actions.append(services.PlannedAction(what, who, status))
        data["actions"] = actions
        if "lead" in data:
            data["lead"] = self.leads[data["lead"]]
        return data


class CarePlanEndForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (CarePlan.Status.COMPLETED.value, "Finished: it did what it set out to do"),
            (CarePlan.Status.REVOKED.value, "Stopped: it no longer fits the person's needs"),
        ],
        error_messages={
            "required": "Choose whether the plan is finished or stopped",
            "invalid_choice": "Choose whether the plan is finished or stopped",
        },
    )
    end_reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why the plan has ended",
            "max_length": "The reason must be 300 characters or fewer",
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
