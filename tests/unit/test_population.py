"""The synthetic population generator, without a database: determinism, epidemiology, validity."""

import datetime as dt
import math
from collections import Counter
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wholecare.demo import figures, medicines, population, report
from wholecare.directory.disciplines import MENTAL_HEALTH, Discipline
from wholecare.record import nhs_number, vocabulary
from wholecare.record.vocabulary import ConditionGroup, Sensitivity

AS_OF = dt.date(2026, 11, 1)
PEOPLE = 5000


def generate(people: int, seed: int) -> list[population.PersonSpec]:
    area = population.build_area(people=people, seed=seed)
    return list(population.generate_people(area, people=people, seed=seed, as_of=AS_OF))


@pytest.fixture(scope="module")
def summary() -> report.Summary:
    area = population.build_area(people=PEOPLE, seed=11)
    people = population.generate_people(area, people=PEOPLE, seed=11, as_of=AS_OF)
    return report.summarise(people, AS_OF)


def close_to(generated: float, target: float, denominator: int, slack: float = 0.0) -> bool:
    """Within four standard errors of sampling (percentages), plus any stated model slack."""
    p = target / 100
    standard_error = 100 * math.sqrt(p * (1 - p) / denominator)
    return abs(generated - target) <= 4 * standard_error + slack


def test_the_same_seed_gives_the_same_people() -> None:
    assert generate(300, seed=7) == generate(300, seed=7)


def test_another_seed_gives_other_people() -> None:
    first, second = generate(50, seed=1), generate(50, seed=2)
    assert [p.nhs_number for p in first] != [p.nhs_number for p in second]
    assert [p.given_name for p in first] != [p.given_name for p in second]


def test_the_area_is_the_same_for_a_seed_and_has_every_discipline() -> None:
    area = population.build_area(people=2000, seed=4)
    assert area == population.build_area(people=2000, seed=4)
    demo = [s for s in area.staff if s.demo]
    assert {s.discipline for s in demo} == set(Discipline)
    assert {s.username for s in demo} == {f"demo-{d.value}" for d in Discipline}
    assert len({s.username for s in area.staff}) == len(area.staff)
    assert len(area.practices) == population.MIN_PRACTICES


def test_practices_and_staff_grow_with_the_population() -> None:
    small = population.build_area(people=5000, seed=1)
    large = population.build_area(people=50_000, seed=1)
    assert len(large.practices) == round(50_000 / population.PEOPLE_PER_PRACTICE)
    gps = [sum(s.discipline is Discipline.GP for s in a.staff) for a in (small, large)]
    assert gps[1] > 4 * gps[0]


def test_nhs_numbers_are_valid_unique_and_in_the_test_range(summary: report.Summary) -> None:
    numbers = summary.nhs_numbers
    assert len(numbers) == PEOPLE
    assert all(nhs_number.is_valid(n) for n in numbers)
    assert all("9990000000" <= n <= "9999999999" for n in numbers)


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_any_seed_gives_valid_test_range_nhs_numbers(seed: int) -> None:
    import random

    rng, used = random.Random(seed), set[str]()
    numbers = [population.valid_nhs_number(rng, used) for _ in range(50)]
    assert len(set(numbers)) == 50
    assert all(nhs_number.is_valid(n) and n.startswith("999") for n in numbers)


def test_age_structure_follows_the_census(summary: report.Summary) -> None:
    for first, last, percent in figures.CENSUS_2021_AGE_BANDS:
        generated = 100 * summary.aged(first, last) / summary.people
        assert close_to(generated, percent, summary.people), (first, last, generated)
    assert close_to(100 * summary.females / summary.people, 51.04, summary.people)


def test_ethnicity_follows_the_census(summary: report.Summary) -> None:
    stated = summary.people - summary.ethnic["Z"]
    for code in ("A", "C", "H", "J", "N"):
        target = sum(g.percent for g in figures.CENSUS_2021_ETHNICITY if g.nhs_code == code)
        assert close_to(100 * summary.ethnic[code] / stated, target, stated), code
    assert set(summary.ethnic) <= set(vocabulary.ETHNIC_CATEGORIES)


@pytest.mark.parametrize(
    "name",
    [
        "hypertension",
        "diabetes",
        "asthma",
        "ckd",
        "cancer",
        "coronary-heart-disease",
        "copd",
        "chronic-pain",
        "smi",
        "dementia",
    ],
)
def test_condition_prevalence_is_close_to_its_target(summary: report.Summary, name: str) -> None:
    target = figures.PREVALENCE_BY_NAME[name]
    generated = summary.prevalence(name, target.min_age)
    assert close_to(generated, target.percent, summary.aged(target.min_age)), generated


def test_depression_register_is_close_to_qof(summary: report.Summary) -> None:
    generated = summary.prevalence("depression", 18)
    assert close_to(generated, figures.DEPRESSION_REGISTER_PERCENT, summary.aged(18), slack=1.0)


def test_about_a_third_of_people_with_a_long_term_condition_have_depression_or_anxiety(
    summary: report.Summary,
) -> None:
    share = summary.ltc_with_depression_or_anxiety / summary.ltc
    assert 0.29 <= share <= 0.38


def test_hypertension_rises_with_age_as_published(summary: report.Summary) -> None:
    generated = [summary.prevalence("hypertension", a, b) for a, b in report.HYPERTENSION_BANDS]
    assert generated == sorted(generated)
    assert abs(generated[-1] - report.HYPERTENSION_BY_AGE[-1]) < 10


def test_multimorbidity_rises_with_age_and_deprivation(summary: report.Summary) -> None:
    by_age = [summary.multimorbid(a, b) for a, b in report.MULTIMORBIDITY_BANDS]
    assert by_age == sorted(by_age)
    assert summary.multimorbid(18, deciles=(1, 2)) > summary.multimorbid(18, deciles=(9, 10))
    assert 20 < summary.multimorbid(18) < 35


def test_social_care_needs_are_for_older_and_frailer_people(summary: report.Summary) -> None:
    shares = [
        summary.between(summary.with_needs, a, b) / max(1, summary.aged(a, b))
        for a, b, _ in figures.SOCIAL_CARE_NEEDS_TARGET
    ]
    assert shares == sorted(shares)
    assert shares[-1] > 0.15


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10**6), people=st.integers(1, 40))
def test_every_generated_record_is_consistent(seed: int, people: int) -> None:
    area = population.build_area(people=people, seed=seed)
    staff = area.staff_by_key
    services = {s.key for s in area.services}
    now = dt.datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=population.LONDON)
    for p in population.generate_people(area, people=people, seed=seed, as_of=AS_OF):
        assert p.date_of_birth <= AS_OF
        assert 1 <= p.imd_decile <= 10
        assert p.practice in {o.key for o in area.practices}
        assert len({c.snomed for c in p.conditions}) == len(p.conditions)
        for c in p.conditions:
            assert p.date_of_birth <= c.onset < AS_OF
            vocabulary.condition(c.snomed)
        assert len({n.code for n in p.needs}) == len(p.needs)
        assert all(n.code in vocabulary.SOCIAL_CARE_NEEDS_BY_CODE for n in p.needs)
        for m in p.care_team:
            assert m.staff in staff
            assert m.end is None or m.end >= m.start
        for r in p.referrals:
            assert r.service in services
            assert len(r.reason) <= 300
            assert r.closed is None or r.closed >= r.received
        for e in p.entries:
            assert e.occurred_at < now
            assert len(e.title) <= 200
            assert e.discipline is staff[e.author].discipline
            assert e.service is None or e.service in staff[e.author].services
            if e.sensitivity is Sensitivity.PSYCHOLOGICAL_THERAPY:
                assert e.discipline in MENTAL_HEALTH
        assert all(len(a.text) <= 300 for a in p.alerts)


def test_the_demo_patient_comes_first_with_physical_and_mental_health() -> None:
    area = population.build_area(people=20, seed=3)
    patient = next(population.generate_people(area, people=20, seed=3, as_of=AS_OF))
    assert patient.scenario == "demo-patient"
    groups = {vocabulary.condition(c.snomed).group for c in patient.conditions}
    assert groups == {ConditionGroup.LONG_TERM, ConditionGroup.MENTAL_HEALTH}
    authors = {e.discipline for e in patient.entries}
    assert {
        Discipline.GP,
        Discipline.PRACTICE_NURSE,
        Discipline.HIGH_INTENSITY_THERAPIST,
    } <= authors
    assert any(e.sensitivity is Sensitivity.PSYCHOLOGICAL_THERAPY for e in patient.entries)
    demo = {s.key for s in area.staff if s.demo}
    assert {m.staff for m in patient.care_team} <= demo


def test_a_population_needs_at_least_one_person() -> None:
    area = population.build_area(people=10, seed=1)
    with pytest.raises(ValueError, match="between 1 and"):
        population.generate_people(area, people=0, seed=1, as_of=AS_OF)


def test_a_heart_failure_clinic_list_differs_from_the_gps_as_clinics_do() -> None:
    taking = [
        medicines.Prescribed("Bisoprolol 2.5mg tablets", "One tablet once a day"),
        medicines.Prescribed("Furosemide 40mg tablets", "One tablet each morning"),
        medicines.Prescribed("Paracetamol 500mg tablets", "Two when needed"),
    ]
    seen = [medicines.heart_failure_clinic(Random(n), taking) for n in range(200)]
    for listed in seen:
        assert medicines.ClinicListed(
            "Bisoprolol 2.5mg tablets", "One tablet once a day", True
        ) in (listed)
        assert medicines.ClinicListed("Bisoprolol 5mg tablets", "One tablet once a day") in listed
    furosemide = Counter(
        next((m.dosage for m in listed if m.name.startswith("Furosemide")), "left off")
        for listed in seen
    )
    assert set(furosemide) == {"Two tablets each morning", "One tablet each morning", "left off"}
    added = sum(any(m.name.startswith("Dapagliflozin") for m in listed) for listed in seen)
    assert 0.45 < added / len(seen) < 0.75
    assert all(
        any(m.name.startswith("Dapagliflozin") for m in listed)
        for listed in (medicines.heart_failure_clinic(Random(n), [], adds=True) for n in range(20))
    )
