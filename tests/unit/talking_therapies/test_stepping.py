"""Golden table for the stepped-care recommendation: each row cites the guidance it encodes."""

import pytest

from wholecare.talking_therapies.stepping import Presentation, Step, change_kind, recommend

LOW, HIGH = Step.LOW_INTENSITY, Step.HIGH_INTENSITY

GOLDEN = [
    # (descriptor, PHQ-9, GAD-7, WSAS, step, source)
    (
        "F32.1",
        12,
        9,
        15,
        LOW,
        "NICE NG222 1.5: less severe depression (PHQ-9 < 16): guided self-help",
    ),
    ("F32.1", 15, 9, 15, LOW, "NICE NG222: PHQ-9 15 is still less severe"),
    ("F32.2", 16, 9, 15, HIGH, "NICE NG222 1.6: more severe depression starts at PHQ-9 16"),
    (
        "F41.1",
        9,
        14,
        12,
        LOW,
        "NICE CG113 1.2.8: GAD without marked impairment: low intensity first",
    ),
    ("F41.1", 9, 15, 12, HIGH, "GAD-7 15-21 severe band (Spitzer 2006); NICE CG113 1.2.13"),
    ("F43.1", 5, 5, 5, HIGH, "NICE NG116 1.6: PTSD gets trauma-focused therapy, no step 2"),
    (
        "F40.1",
        5,
        5,
        5,
        HIGH,
        "NICE CG159 1.4.5: do not routinely offer low intensity for social anxiety",
    ),
    ("F41.0", 10, 12, 18, LOW, "NICE CG113 1.3: panic disorder: guided self-help first"),
    ("F42", 10, 10, 18, LOW, "NICE CG31 1.5.1: OCD with mild impairment: low-intensity CBT (ERP)"),
    ("F41.2", 10, 10, 21, HIGH, "WSAS above 20: moderately severe impairment (Mundt 2002)"),
    ("F41.2", 10, 10, 20, LOW, "WSAS 20 is not above 20 (Mundt 2002)"),
    ("", None, None, None, LOW, "No scores yet: stepped care starts at the least intensive step"),
]


@pytest.mark.parametrize(("descriptor", "phq9", "gad7", "wsas", "step", "source"), GOLDEN)
def test_golden(descriptor, phq9, gad7, wsas, step, source):
    result = recommend(Presentation(descriptor, phq9, gad7, wsas))
    assert result.step is step, source
    assert result.reasons


def test_every_reason_that_applies_is_given():
    result = recommend(Presentation("F43.1", 20, 17, 25))
    assert len(result.reasons) == 4


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (None, LOW, "allocated"),
        (LOW, HIGH, "stepped up"),
        (HIGH, LOW, "stepped down"),
        (LOW, LOW, "unchanged"),
    ],
)
def test_change_kind(before, after, kind):
    assert change_kind(before, after) == kind
