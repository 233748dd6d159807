"""Golden tables for the per-referral specification, one table per rule.

Each row names the NHS England construction it encodes (nhsengland/Talking-Therapies SQL, the
NHS Talking Therapies Manual and NHS Digital's metric definitions; full references in
docs/outcomes.md).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from wholecare.measures import INSTRUMENT_CODES
from wholecare.outcomes import rules
from wholecare.outcomes.spec import Contact, Referral, Score, referral_outcome

D0 = date(2024, 4, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def referral(discharge: int | None = 100, descriptor: str | None = "F32.1") -> Referral:
    return Referral("R1", D0, None if discharge is None else day(discharge), descriptor)


def treatments(*days: int) -> list[Contact]:
    return [Contact(day(n), "treatment", True) for n in days]


def scores(measure: str, *pairs: tuple[int, float]) -> list[Score]:
    return [Score(day(n), measure, value) for n, value in pairs]


def course(
    phq: tuple[float, float], anx: tuple[float, float], measure: str = "GAD7"
) -> list[Score]:
    """Two PHQ-9 and two anxiety scores, first on day 10 and last on day 80."""
    return scores("PHQ9", (10, phq[0]), (80, phq[1])) + scores(measure, (10, anx[0]), (80, anx[1]))


# Rule: treatment contact = attended, kind treatment, dated within the referral (received date to
# discharge date). NHS England counts attended therapy sessions (TreatmentCareContact_Count,
# TherapySession_FirstDate) within the referral's service request.
TREATMENT_CONTACTS = [
    # (contacts, discharge day, expected count, construction)
    ([Contact(day(5), "treatment", True)], 100, 1, "attended treatment session counts"),
    ([Contact(day(5), "treatment", False)], 100, 0, "DNA/cancelled is not a treatment contact"),
    ([Contact(day(5), "assessment", True)], 100, 0, "assessment is not treatment"),
    ([Contact(day(5), "follow_up", True)], 100, 0, "follow-up is not treatment"),
    ([Contact(day(-1), "treatment", True)], 100, 0, "before the referral was received"),
    ([Contact(day(0), "treatment", True)], 100, 1, "on the received date (inclusive)"),
    ([Contact(day(100), "treatment", True)], 100, 1, "on the discharge date (inclusive)"),
    ([Contact(day(101), "treatment", True)], 100, 0, "after discharge"),
    ([Contact(day(900), "treatment", True)], None, 1, "open referral: no end date"),
    (treatments(5, 5, 12), 100, 3, "two sessions on one day both count"),
]


@pytest.mark.parametrize(
    ("contacts", "discharge", "expected", "construction"),
    TREATMENT_CONTACTS,
    ids=[row[3] for row in TREATMENT_CONTACTS],
)
def test_treatment_contacts(contacts, discharge, expected, construction):
    outcome = referral_outcome(referral(discharge), contacts, [])
    assert outcome.treatment_contacts == expected, construction


# Rule: finished a course of treatment = discharged and at least two treatment contacts
# (NHS England CompletedTreatment_Flag, "Finished Treatment - 2 or more Apps"; NHS Digital M076).
FINISHED = [
    (treatments(5, 12), 100, True, "discharged after two treatment sessions"),
    (treatments(5), 100, False, "treated once: ended, not finished"),
    (treatments(5, 12, 19), None, False, "still open: not finished"),
    ([], 100, False, "discharged without treatment"),
]


@pytest.mark.parametrize(
    ("contacts", "discharge", "expected", "construction"),
    FINISHED,
    ids=[row[3] for row in FINISHED],
)
def test_finished_treatment(contacts, discharge, expected, construction):
    assert referral_outcome(referral(discharge), contacts, []).finished_treatment is expected


# Rule: waits. Referral received to first treatment within 6 weeks (<= 42 days) and 18 weeks
# (<= 126 days): NHS England "FinishedCourseTreatmentWaited6Weeks/18Weeks",
# DATEDIFF(dd, ReferralRequestReceivedDate, TherapySession_FirstDate) <= 42 / <= 126.
WAITS = [
    (42, 42, True, True, "exactly 6 weeks is within 6 weeks"),
    (43, 43, False, True, "one day over 6 weeks"),
    (126, 126, False, True, "exactly 18 weeks"),
    (127, 127, False, False, "over 18 weeks"),
    (0, 0, True, True, "treated on the day of referral"),
]


@pytest.mark.parametrize(
    ("first", "wait", "six", "eighteen", "construction"),
    WAITS,
    ids=[row[4] for row in WAITS],
)
def test_waits(first, wait, six, eighteen, construction):
    outcome = referral_outcome(referral(400), treatments(first, first + 7), [])
    assert outcome.first_treatment_date == day(first)
    assert outcome.wait_to_first_treatment_days == wait
    assert (outcome.within_6_weeks, outcome.within_18_weeks) == (six, eighteen)
    assert outcome.second_treatment_date == day(first + 7)


def test_waits_without_treatment_are_empty():
    outcome = referral_outcome(referral(), [Contact(day(3), "assessment", True)], [])
    assert outcome.first_treatment_date is None
    assert outcome.wait_to_first_treatment_days is None
    assert outcome.within_6_weeks is None
    assert outcome.within_18_weeks is None
    assert outcome.first_assessment_date == day(3)


def _needs(*measures: str) -> pytest.MarkDecorator:
    missing = [m for m in measures if m not in INSTRUMENT_CODES]
    return pytest.mark.skipif(bool(missing), reason=f"wholecare.measures lacks {missing}")


# Rule: the anxiety measure is the one paired with the problem descriptor (NHS England
# "CountAppropriatePairedADSM": F400 AgoraAlone, F401 SocialPhobia, F410 PanicDisorder, F42% OCD,
# F431 PTSD, F452 AnxietyInventory; 2022: BDD, CFS, IBS, MUS), falling back to GAD-7 when that
# measure has fewer than two scores on the referral; GAD-7 for any other descriptor or none.
ANXIETY_MEASURE = [
    ("F40.0", [("MI", 2)], "MI", "agoraphobia: Mobility Inventory"),
    ("F400", [("MI", 2)], "MI", "descriptor written without the dot"),
    ("f40.0", [("MI", 2)], "MI", "descriptor in lower case"),
    ("F40.0", [("MI", 1)], "GAD7", "one MI score: falls back to GAD-7"),
    ("F40.1", [("SPIN", 3)], "SPIN", "social phobia: SPIN"),
    ("F41.0", [("PDSS", 2)], "PDSS", "panic disorder: PDSS"),
    ("F42.1", [("OCI", 2)], "OCI", "F42.* obsessive-compulsive disorder: OCI"),
    ("F42", [("OCI", 2)], "OCI", "F42 without a fourth character: OCI"),
    ("F43.1", [("PCL5", 2), ("IESR", 2)], "PCL5", "PTSD: PCL-5 first"),
    ("F43.1", [("PCL5", 1), ("IESR", 2)], "IESR", "PTSD: IES-R when PCL-5 has one score"),
    ("F43.1", [("PCL5", 1), ("IESR", 1)], "GAD7", "PTSD: neither has two scores"),
    ("F45.2", [("HAI", 2)], "HAI", "hypochondriasis: HAI"),
    ("83482000", [("AAI", 2)], "AAI", "body dysmorphic disorder (SNOMED CT)"),
    ("G93.3", [("CFQ", 2)], "CFQ", "chronic fatigue syndrome"),
    ("K58.9", [("IBSSSS", 2)], "IBSSSS", "K58.* irritable bowel syndrome"),
    ("723916001", [("PHQ15", 2)], "PHQ15", "medically unexplained symptoms (SNOMED CT)"),
    ("F41.1", [("MI", 2)], "GAD7", "GAD: GAD-7 even with another measure recorded"),
    ("F32.1", [], "GAD7", "depression: GAD-7"),
    (None, [("OCI", 2)], "GAD7", "no descriptor: GAD-7"),
    ("F40.2", [("MI", 2)], "GAD7", "specific phobia has no paired measure"),
]


@pytest.mark.parametrize(
    ("descriptor", "recorded", "expected", "construction"),
    [
        pytest.param(*row, marks=_needs(*(m for m, _ in row[1])), id=row[3])
        for row in ANXIETY_MEASURE
    ],
)
def test_anxiety_measure(descriptor, recorded, expected, construction):
    given = [Score(day(10 + i), m, 0.0) for m, n in recorded for i in range(n)]
    outcome = referral_outcome(referral(descriptor=descriptor), [], given)
    if expected != rules.GAD7 and rules.thresholds(expected) is None:
        expected = rules.GAD7  # wholecare.measures gives it no caseness or reliable change value
    assert outcome.anxiety_measure == expected, construction


def test_paired_measure_without_thresholds_falls_back_to_gad7(monkeypatch):
    """A measure without caseness or reliable change cannot decide recovery: GAD-7 is used."""
    real = rules.thresholds
    monkeypatch.setattr(rules, "thresholds", lambda m: None if m == "OCI" else real(m))
    given = scores("OCI", (10, 50), (80, 10)) + scores("GAD7", (10, 9), (80, 3))
    outcome = referral_outcome(referral(descriptor="F42.1"), [], given)
    assert outcome.anxiety_measure == rules.GAD7
    assert (outcome.anxiety_first, outcome.anxiety_last) == (9, 3)


def test_pairing_table_covers_every_measure_it_names():
    named = {m for p in rules.PAIRINGS for m in p.measures}
    assert named == {
        "MI",
        "SPIN",
        "PDSS",
        "OCI",
        "PCL5",
        "IESR",
        "HAI",
        "AAI",
        "CFQ",
        "IBSSSS",
        "PHQ15",
    }


# Rule: only scores dated within the referral count, and first and last are by date, equal dates
# in file order (NHS England takes the first and last paired scores of the referral).
SCORE_ORDER = [
    (scores("PHQ9", (10, 20), (80, 5)), (2, 20, 5), "first and last by date"),
    (scores("PHQ9", (80, 5), (10, 20)), (2, 20, 5), "file order does not decide distinct dates"),
    (scores("PHQ9", (10, 20), (10, 15), (80, 5)), (3, 20, 5), "equal first dates: file order"),
    (scores("PHQ9", (10, 20), (80, 7), (80, 5)), (3, 20, 5), "equal last dates: file order"),
    (scores("PHQ9", (-1, 27), (10, 20), (80, 5)), (2, 20, 5), "before received: not counted"),
    (scores("PHQ9", (10, 20), (100, 5)), (2, 20, 5), "on the discharge date: counted"),
    (scores("PHQ9", (10, 20), (101, 5)), (1, 20, 20), "after discharge: not counted"),
    (scores("PHQ9", (10, 20)), (1, 20, 20), "a single score is first and last"),
]


@pytest.mark.parametrize(
    ("given", "expected", "construction"), SCORE_ORDER, ids=[row[2] for row in SCORE_ORDER]
)
def test_first_and_last_scores(given, expected, construction):
    outcome = referral_outcome(referral(), treatments(5, 12), given)
    _count, first, last = expected
    assert (outcome.phq9_first, outcome.phq9_last) == (first, last), construction
    assert outcome.paired is False


# Rule: paired = at least two PHQ-9 and two anxiety-measure scores; at caseness = paired and
# (first PHQ-9 >= 10 or first anxiety score at its caseness). NHS Digital M179 "ended not at
# caseness"; PHQ-9 cut-off 9 (caseness 10+), GAD-7 cut-off 7 (caseness 8+).
CASENESS = [
    ((10, 3), (0, 0), True, "PHQ-9 first 10: at caseness"),
    ((9, 3), (8, 2), True, "GAD-7 first 8: at caseness"),
    ((9, 3), (7, 2), False, "PHQ-9 9 and GAD-7 7: not at caseness"),
    ((3, 20), (2, 21), False, "caseness reads the first scores, not the last"),
]


@pytest.mark.parametrize(
    ("phq", "anx", "expected", "construction"), CASENESS, ids=[row[3] for row in CASENESS]
)
def test_caseness(phq, anx, expected, construction):
    outcome = referral_outcome(referral(), treatments(5, 12), course(phq, anx))
    assert outcome.paired is True
    assert outcome.at_caseness is expected, construction


def test_unpaired_has_no_caseness():
    given = scores("PHQ9", (10, 20), (80, 5)) + scores("GAD7", (10, 15))
    outcome = referral_outcome(referral(), treatments(5, 12), given)
    assert outcome.paired is False
    assert outcome.at_caseness is None


# Rules: recovered = finished, at caseness, last PHQ-9 < 10 and last anxiety below caseness
# (NHS Digital M191, Recovery_Flag); reliable improvement = a fall of at least the reliable change
# value (PHQ-9 6, GAD-7 4) on at least one measure and no reliable rise on either (M185);
# reliable deterioration the mirror (M189); no reliable change = neither (M187);
# reliable recovery = recovered and reliable improvement (M193, "ReliableImprovement_Flag AND
# Recovery_Flag").
# (phq first/last, anxiety first/last,
#  recovered, improvement, deterioration, no change, reliable recovery, construction)
OUTCOMES = [
    ((20, 9), (15, 7), True, True, False, False, True, "recovered with reliable falls on both"),
    ((20, 14), (10, 10), False, True, False, False, False, "PHQ-9 falls 6: reliable improvement"),
    ((20, 15), (10, 7), False, False, False, True, False, "falls of 5 and 3: no reliable change"),
    ((20, 16), (10, 6), False, True, False, False, False, "GAD-7 falls 4: reliable improvement"),
    ((20, 14), (5, 9), False, False, False, True, False, "fall on one, rise on other: no change"),
    ((10, 16), (8, 8), False, False, True, False, False, "PHQ-9 rises 6: deterioration"),
    ((10, 10), (8, 12), False, False, True, False, False, "GAD-7 rises 4: deterioration"),
    ((11, 8), (8, 6), True, False, False, True, False, "recovered without reliable change"),
    ((12, 9), (8, 8), False, False, False, True, False, "last GAD-7 8 still at caseness"),
    ((15, 10), (5, 2), False, False, False, True, False, "last PHQ-9 10 still at caseness"),
    ((9, 2), (7, 1), False, True, False, False, False, "not at caseness: cannot recover"),
]


@pytest.mark.parametrize(
    ("phq", "anx", "recovered", "improved", "deteriorated", "no_change", "rel_rec", "construction"),
    OUTCOMES,
    ids=[row[7] for row in OUTCOMES],
)
def test_outcome_flags(
    phq, anx, recovered, improved, deteriorated, no_change, rel_rec, construction
):
    outcome = referral_outcome(referral(), treatments(5, 12), course(phq, anx))
    assert outcome.finished_treatment
    assert outcome.paired
    assert (
        outcome.recovered,
        outcome.reliable_improvement,
        outcome.reliable_deterioration,
        outcome.no_reliable_change,
        outcome.reliable_recovery,
    ) == (recovered, improved, deteriorated, no_change, rel_rec), construction


def test_unfinished_referral_has_no_outcome_flags():
    outcome = referral_outcome(referral(None), treatments(5, 12), course((20, 5), (15, 3)))
    assert outcome.paired is True
    assert outcome.at_caseness is True
    assert outcome.recovered is None
    assert outcome.reliable_improvement is None
    assert outcome.reliable_recovery is None


def test_finished_unpaired_counts_as_not_recovered_and_no_change_false():
    """Finished but unpaired stays in the recovery denominator (finished - not caseness)."""
    outcome = referral_outcome(referral(), treatments(5, 12), scores("PHQ9", (10, 20)))
    assert (outcome.recovered, outcome.reliable_improvement) == (False, False)
    assert (outcome.reliable_deterioration, outcome.no_reliable_change) == (False, False)
    assert outcome.reliable_recovery is False


@_needs("MI")
def test_mobility_inventory_caseness_is_above_the_mean_cutoff():
    """Mobility Inventory: caseness is an item mean above 2.3 (NHS Data Dictionary)."""
    at = referral_outcome(
        referral(descriptor="F40.0"), treatments(5, 12), course((5, 5), (2.4, 1.0), "MI")
    )
    below = referral_outcome(
        referral(descriptor="F40.0"), treatments(5, 12), course((5, 5), (2.3, 1.0), "MI")
    )
    assert at.anxiety_measure == "MI"
    assert at.at_caseness is True
    assert below.at_caseness is False
