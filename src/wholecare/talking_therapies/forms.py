"""Forms: request data to typed values, with messages in the NHS.UK style. Rules live in the
services; these only parse."""

import datetime as dt
from typing import Any

from django import forms
from django.core import signing
from django.utils import timezone

from wholecare import measures
from wholecare.directory.models import Service
from wholecare.record.models import Condition
from wholecare.talking_therapies import codes, markers
from wholecare.talking_therapies.stepping import Step
from wholecare.web.forms import withheld_from_person_field

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _required(what: str) -> dict[str, str]:
    return {"required": f"Enter {what}", "invalid": f"Enter {what} as a real date"}


class _LongTermConditionsForm(forms.Form):
    """The long-term conditions (among `conditions`, the person's) a referral is about."""

    conditions = forms.ModelMultipleChoiceField(
        queryset=Condition.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose the long-term condition(s) it is about"},
    )

    def __init__(self, *args: Any, conditions: list[Condition], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].queryset = Condition.objects.filter(  # type: ignore[attr-defined]
            pk__in=[c.pk for c in conditions]
        )
        self.fields["conditions"].label_from_instance = lambda c: c.concept.display  # type: ignore[attr-defined]


class ConditionsForm(_LongTermConditionsForm):
    """A change to the conditions an open referral is about; none leaves it without one."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, conditions: list[Condition], **kwargs: Any):
        super().__init__(*args, conditions=conditions, **kwargs)
        self.fields["conditions"].required = False


class _PathwayReferralForm(_LongTermConditionsForm):
    """What the pathway needs of every referral: where it came from, and the long-term
    conditions it is about."""

    source = forms.ChoiceField(
        choices=codes.choices(codes.SOURCES_OF_REFERRAL),
        error_messages={"required": "Choose where the referral comes from"},
    )
    field_order = ["source", "conditions"]


class ReferForm(_PathwayReferralForm):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose a service"},
    )
    received_date = forms.DateField(widget=DATE, error_messages=_required("the date received"))
    field_order = ["service", "source", "conditions", "received_date"]

    def __init__(self, *args: Any, services: Any, conditions: list[Condition], **kwargs: Any):
        super().__init__(*args, conditions=conditions, **kwargs)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["received_date"].initial = timezone.localdate().isoformat()


class StartForm(_PathwayReferralForm):
    """Starting on the pathway a referral another system sent: it may be about no long-term
    condition, and its problem descriptor may be known already."""

    problem_descriptor = forms.CharField(max_length=8, required=False)

    def __init__(self, *args: Any, conditions: list[Condition], **kwargs: Any):
        super().__init__(*args, conditions=conditions, **kwargs)
        choices = [("", "Choose where it came from"), *codes.choices(codes.SOURCES_OF_REFERRAL)]
        self.fields["source"].choices = choices  # type: ignore[attr-defined]
        self.fields["conditions"].required = False


def questionnaire_items(code: str, bound: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """What the template needs to draw one instrument's items as radio groups."""
    instrument = measures.instrument(code)
    items = []
    for item in instrument.items:
        name = f"{prefix}{code}_{item.number - 1}"
        labels = instrument.option_labels or tuple(str(o) for o in item.options)
        items.append(
            {
                "number": item.number,
                "text": item.text or f"Item {item.number}",
                "name": name,
                "chosen": str(bound.get(name, "")),
                "options": [
                    {"value": str(value), "label": labels[i] if i < len(labels) else str(value)}
                    for i, value in enumerate(item.options)
                ],
            }
        )
    return items


def parse_answers(data: Any, code: str, prefix: str = "") -> tuple[list[int | None], list[str]]:
    """Answers in item order from radio groups named `<prefix><CODE>_<index>`: None when left
    blank, and a message for anything that is not a whole number (the service checks range)."""
    instrument = measures.instrument(code)
    answers: list[int | None] = []
    problems = []
    for index in range(instrument.item_count):
        raw = str(data.get(f"{prefix}{code}_{index}", "")).strip()
        if raw == "":
            answers.append(None)
            continue
        try:
            answers.append(int(raw))
        except ValueError:
            problems.append(f"{code} item {index + 1}: {raw!r} is not a whole number")
            answers.append(None)
    return answers, problems


class MeasureForm(forms.Form):
    measure = forms.ChoiceField(choices=[(c, c) for c in measures.INSTRUMENT_CODES])
    measured_on = forms.DateField(widget=DATE, error_messages=_required("the date"))


class ScreenForm(forms.Form):
    measured_on = forms.DateField(widget=DATE, error_messages=_required("the date of the screen"))


class DescriptorForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    problem_descriptor = forms.CharField(
        max_length=8, error_messages={"required": "Enter the problem descriptor"}
    )


class StepForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    step = forms.ChoiceField(
        choices=[(s.value, s.label) for s in Step],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose step 2 or step 3"},
    )
    clinician = forms.IntegerField(error_messages={"required": "Choose the clinician"})
    reason = forms.CharField(max_length=500, required=False, widget=forms.Textarea)


class ContactForm(forms.Form):
    day = forms.DateField(widget=DATE, error_messages=_required("the date of the contact"))
    time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Enter the time", "invalid": "Enter a real time, like 14:30"},
    )
    kind = forms.ChoiceField(choices=list(codes.CONTACT_KIND_LABELS.items()))
    attendance = forms.ChoiceField(choices=codes.choices(codes.ATTENDANCE))
    mode = forms.ChoiceField(choices=codes.choices(codes.MODES))
    intensity = forms.ChoiceField(choices=codes.choices(codes.INTENSITIES))
    therapy_type = forms.ChoiceField(
        choices=[("", "None"), *codes.choices(codes.THERAPY_TYPES)], required=False
    )
    integrated_ltc = forms.BooleanField(required=False)

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["day"],
            self.cleaned_data["time"],
            tzinfo=timezone.get_current_timezone(),
        )


class ContactKindForm(forms.Form):
    kind = forms.ChoiceField(choices=list(codes.CONTACT_KIND_LABELS.items()))
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea,
        error_messages={"required": "Say why the kind of contact is changing"},
    )


class DischargeForm(forms.Form):
    """The discharge, and whether the person reads its letter and closing note in their record
    online (asked only when they have online access: decision 0040)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    discharge_date = forms.DateField(widget=DATE, error_messages=_required("the discharge date"))
    ending_reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *codes.choices(codes.ENDING_REASONS)],
        error_messages={"required": "Choose the reason for discharge"},
    )
    withheld_from_person = withheld_from_person_field()


class RiskReviewForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea,
        error_messages={"required": "Describe the risk review"},
    )


class MarkerForm(forms.Form):
    code = forms.ChoiceField(choices=[(m.code, m.label) for m in markers.MARKERS])
    value = forms.FloatField(
        error_messages={"required": "Enter the value", "invalid": "Enter a number"}
    )
    observed_on = forms.DateField(widget=DATE, error_messages=_required("the date"))


class InviteForm(forms.Form):
    measures = forms.MultipleChoiceField(
        choices=[(c, c) for c in measures.INSTRUMENT_CODES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one questionnaire"},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=20, error_messages={"required": "Enter the code you were given"}
    )


BOT_SALT = "wholecare.talking-therapies.self-referral"
MIN_SECONDS = 3
MAX_SECONDS = 2 * 60 * 60


def form_stamp() -> str:
    """A signed time stamp: a form sent back faster than a person can fill it is a bot's."""
    return signing.dumps(timezone.now().timestamp(), salt=BOT_SALT)


class SelfReferralForm(forms.Form):
    given_name = forms.CharField(
        max_length=100, error_messages={"required": "Enter your first name"}
    )
    family_name = forms.CharField(
        max_length=100, error_messages={"required": "Enter your last name"}
    )
    date_of_birth = forms.DateField(widget=DATE, error_messages=_required("your date of birth"))
    nhs_number = forms.CharField(max_length=20, required=False)
    postcode = forms.CharField(max_length=8, error_messages={"required": "Enter your postcode"})
    phone = forms.CharField(max_length=20, required=False)
    email = forms.EmailField(
        required=False, error_messages={"invalid": "Enter an email address like name@example.com"}
    )
    long_term_conditions = forms.MultipleChoiceField(
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    what_would_help = forms.CharField(max_length=2000, widget=forms.Textarea, required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose a service"},
    )
    website = forms.CharField(required=False)
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, services: Any, conditions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["long_term_conditions"].choices = conditions  # type: ignore[attr-defined]
        if not self.is_bound:
            self.fields["stamp"].initial = form_stamp()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("website"):
            raise forms.ValidationError("This form could not be sent. Please phone the service.")
        try:
            started = float(
                signing.loads(self.data.get("stamp", ""), salt=BOT_SALT, max_age=MAX_SECONDS)
            )
        except signing.BadSignature:
            raise forms.ValidationError("This form has expired. Please fill it in again.") from None
        if timezone.now().timestamp() - started < MIN_SECONDS:
            raise forms.ValidationError("This form could not be sent. Please phone the service.")
        return data
