"""The published figures the synthetic population is built to match, each with its source.

Pure Python. The sources are those of the project's reference notes, listed again in
`docs/synthetic-population.md`; a figure marked ASSUMED has no published source behind it and is a
stated assumption, kept here so that it is visible and easy to replace. The docs show how close a
generated population comes to each target.
"""

from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from statistics import NormalDist

MAX_AGE = 104

# Census 2021, England, usual residents by five-year age band (% of all), as transcribed from ONS
# "Population and household estimates, England and Wales: Census 2021" in tom-draper/persona
# (england.json). (first age, last age, %). The last band, 90+, is spread over 90-104, thinning out.
CENSUS_2021_AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 4, 5.4), (5, 9, 5.9), (10, 14, 6.0), (15, 19, 5.7), (20, 24, 6.0), (25, 29, 6.6),
    (30, 34, 7.0), (35, 39, 6.7), (40, 44, 6.3), (45, 49, 6.4), (50, 54, 6.9), (55, 59, 6.7),
    (60, 64, 5.8), (65, 69, 4.9), (70, 74, 5.0), (75, 79, 3.6), (80, 84, 2.5), (85, 89, 1.5),
    (90, MAX_AGE, 0.9),
)  # fmt: skip

# Census 2021, England: females 51.04% of usual residents (same source). The age-by-sex cross-table
# was not found, so the female share by age is ASSUMED (women outlive men, so the share rises after
# 70); the shares below give 51.0% overall with the age bands above.
CENSUS_2021_FEMALE_PERCENT = 51.04
FEMALE_SHARE_BY_AGE: tuple[tuple[int, float], ...] = (
    (0, 0.489), (20, 0.506), (60, 0.514), (70, 0.527), (75, 0.547), (80, 0.572), (85, 0.612),
    (90, 0.682),
)  # fmt: skip


@dataclass(frozen=True)
class EthnicGroup:
    census_group: str
    percent: float
    nhs_code: str
    names: str
    """Which fictional name list (`names.NAME_GROUPS`) people of this group draw from."""


# Census 2021, England, ethnic group (19 categories, ONS TS021, via tom-draper/persona), with the
# NHS Data Dictionary ETHNIC CATEGORY letter. Gypsy or Irish Traveller and Roma have no letter of
# their own and are recorded as C, Arab as S (the reference notes' suggested mapping).
CENSUS_2021_ETHNICITY: tuple[EthnicGroup, ...] = (
    EthnicGroup(
        "White: English, Welsh, Scottish, Northern Irish or British", 73.54, "A", "british"
    ),
    EthnicGroup("White: Irish", 0.88, "B", "irish"),
    EthnicGroup("White: Gypsy or Irish Traveller", 0.11, "C", "irish"),
    EthnicGroup("White: Roma", 0.18, "C", "romanian"),
    EthnicGroup("White: Other White", 6.35, "C", "european"),
    EthnicGroup("Mixed: White and Black Caribbean", 0.88, "D", "mixed-caribbean"),
    EthnicGroup("Mixed: White and Black African", 0.43, "E", "mixed-african"),
    EthnicGroup("Mixed: White and Asian", 0.84, "F", "mixed-asian"),
    EthnicGroup("Mixed: Other Mixed", 0.80, "G", "mixed-other"),
    EthnicGroup("Asian: Indian", 3.26, "H", "indian"),
    EthnicGroup("Asian: Pakistani", 2.78, "J", "pakistani"),
    EthnicGroup("Asian: Bangladeshi", 1.12, "K", "bangladeshi"),
    EthnicGroup("Asian: Chinese", 0.76, "R", "chinese"),
    EthnicGroup("Asian: Other Asian", 1.69, "L", "other-asian"),
    EthnicGroup("Black: Caribbean", 1.10, "M", "caribbean"),
    EthnicGroup("Black: African", 2.60, "N", "african"),
    EthnicGroup("Black: Other Black", 0.52, "P", "caribbean"),
    EthnicGroup("Other: Arab", 0.57, "S", "arab"),
    EthnicGroup("Other: Any other ethnic group", 1.61, "S", "other"),
)

# GP records carry some people whose ethnicity was asked and not given (Z): ASSUMED 2%. The other
# 98% follow the Census shares above.
ETHNICITY_NOT_STATED = 0.02

# IMD 2019 deciles are tenths of England's neighbourhoods (LSOAs, of similar population), so 10% of
# people live in each decile by construction. Decile is drawn independently of age (a
# simplification: deprived areas are younger in reality).
IMD_DECILES = tuple(range(1, 11))

# Deprivation and multimorbidity: Barnett et al. 2012 (Lancet 380:37) found its onset 10-15 years
# earlier in the most deprived areas. The generator ages each person's physical health by this many
# years per decile either side of the middle (decile 1: +5.85 years, decile 10: -5.85 years: 11.7
# years apart).
DEPRIVATION_YEARS_PER_DECILE = 1.3


@dataclass(frozen=True)
class Prevalence:
    """How common one condition is, and how that varies by age, sex and deprivation."""

    name: str
    """A value set of `wholecare.record.vocabulary`, part of one (arthritis) or several (SMI)."""
    percent: float
    min_age: int
    """The denominator's youngest age: QOF counts some registers among adults only."""
    source: str
    age_shape: tuple[tuple[int, float], ...]
    """Relative prevalence at given ages, joined by straight lines, scaled to give `percent`."""
    age_shape_source: str
    male_to_female: float = 1.0
    deprivation: float | None = None
    """None: deprivation ages physical health (see above). A number: prevalence ratio, decile 1
    to decile 10."""
    youngest: int = 0
    """No one younger has the condition."""


QOF = "QOF 2019-20, England"
ASSUMED_SHAPE = "ASSUMED shape (no age-specific source in the reference notes)"

LONG_TERM_PREVALENCE: tuple[Prevalence, ...] = (
    Prevalence(
        "hypertension", 14.08, 0, QOF,
        ((10, 0.04), (25, 0.4), (35, 1.7), (45, 6.8), (55, 17.8), (65, 32.0), (75, 48.5),
         (85, 62.8)),
        "OpenSAFELY-TPP 2021-22 register by age (Wiedemann et al., Open Heart, table 2)",
        male_to_female=1.15, youngest=12,
    ),
    Prevalence(
        "diabetes", 7.07, 17, QOF,
        ((5, 0.2), (20, 0.5), (30, 1.0), (40, 3.0), (50, 6.5), (60, 11.0), (70, 18.0), (80, 16.0),
         (92, 12.0)),
        "Health Survey for England 2019, adult table 2 (second-hand; unverified); children ASSUMED",
        male_to_female=1.4, youngest=2,
    ),
    Prevalence(
        "asthma", 6.47, 0, QOF,
        ((3, 1.0), (8, 8.0), (15, 8.0), (25, 6.5), (45, 6.0), (65, 6.8), (85, 6.5)),
        ASSUMED_SHAPE, male_to_female=0.85, deprivation=1.06, youngest=2,
    ),
    Prevalence(
        "ckd", 4.05, 18, QOF,
        ((30, 0.2), (40, 0.5), (50, 1.5), (60, 4.0), (70, 10.0), (80, 22.0), (90, 35.0)),
        ASSUMED_SHAPE, male_to_female=0.75, youngest=25,
    ),
    Prevalence(
        "cancer", 3.13, 0, QOF,
        ((10, 0.05), (20, 0.2), (30, 0.5), (40, 1.0), (50, 2.5), (60, 5.0), (70, 9.0), (80, 13.0),
         (90, 14.0)),
        ASSUMED_SHAPE, male_to_female=0.9, deprivation=1.0,
    ),
    Prevalence(
        "coronary-heart-disease", 3.09, 0, QOF,
        ((35, 0.1), (45, 0.8), (55, 3.0), (65, 7.0), (75, 12.0), (85, 18.0), (95, 20.0)),
        ASSUMED_SHAPE, male_to_female=1.8, youngest=30,
    ),
    Prevalence(
        "copd", 1.94, 0, QOF,
        ((35, 0.1), (45, 0.6), (50, 2.2), (60, 5.5), (70, 7.4), (80, 8.6), (90, 8.0)),
        "PHE/Nacul COPD prevalence model by age (second-hand, via the reference notes); "
        "under 45s ASSUMED lower (the model includes undiagnosed COPD)",
        male_to_female=1.3, youngest=35,
    ),
    Prevalence(
        "stroke-tia", 1.80, 0, QOF,
        ((35, 0.1), (45, 0.5), (55, 1.5), (65, 3.5), (75, 6.5), (85, 10.0), (95, 11.0)),
        ASSUMED_SHAPE, male_to_female=1.1, youngest=25,
    ),
    Prevalence(
        "heart-failure", 0.89, 0, QOF,
        ((45, 0.1), (55, 0.4), (65, 1.2), (75, 3.0), (85, 7.0), (95, 10.0)),
        ASSUMED_SHAPE, male_to_female=1.3, youngest=40,
    ),
    Prevalence(
        "epilepsy", 0.80, 18, QOF,
        ((5, 0.5), (20, 0.8), (80, 0.9)),
        ASSUMED_SHAPE, male_to_female=1.1, deprivation=1.39, youngest=2,
    ),
    Prevalence(
        "rheumatoid-arthritis", 0.77, 16, QOF,
        ((20, 0.1), (40, 0.5), (60, 1.2), (75, 1.8), (90, 1.6)),
        ASSUMED_SHAPE, male_to_female=0.4, youngest=18,
    ),
    Prevalence(
        "osteoarthritis", 10.0, 45,
        "ASSUMED: recorded diagnosis about half the modelled 18.2% of over-45s with knee "
        "osteoarthritis (Arthritis Research UK MSK calculator)",
        ((40, 1.0), (50, 4.0), (60, 10.0), (70, 18.0), (80, 25.0), (90, 27.0)),
        ASSUMED_SHAPE, male_to_female=0.7, youngest=35,
    ),
    Prevalence(
        "chronic-pain", 10.1, 18,
        "Cassell et al. 2018, BJGP 68:e245 (England, CPRD, adults)",
        ((18, 3.0), (40, 8.0), (60, 13.0), (80, 16.0)),
        ASSUMED_SHAPE, male_to_female=0.7, youngest=16,
    ),
    Prevalence(
        "ibs", 4.5, 18,
        "ASSUMED: under half of the 10.5% community prevalence (Wilson et al. 2004, BJGP 54:495; "
        "men 6.6%, women 14.0%) has a diagnosis",
        ((18, 4.0), (40, 5.0), (60, 4.0), (80, 3.0)),
        ASSUMED_SHAPE, male_to_female=0.47, deprivation=1.0, youngest=14,
    ),
    Prevalence(
        "cfs-me", 0.4, 0,
        "NICE NG206 (2021): over 250,000 people in England and Wales, 2.4 women to each man",
        ((10, 0.1), (20, 0.4), (40, 0.6), (60, 0.5), (80, 0.2)),
        ASSUMED_SHAPE, male_to_female=1 / 2.4, deprivation=1.0, youngest=8,
    ),
    Prevalence(
        "multiple-sclerosis", 0.19, 0,
        "Public Health England 2020: 190 per 100,000 in England; women 272, men 106; peak at 60-69",
        ((20, 0.05), (30, 0.15), (40, 0.3), (50, 0.4), (65, 0.45), (80, 0.25), (95, 0.1)),
        "Public Health England 2020 (peak at 60-69); the rest ASSUMED",
        male_to_female=106 / 272, deprivation=1.0, youngest=18,
    ),
)  # fmt: skip

MENTAL_HEALTH_PREVALENCE: tuple[Prevalence, ...] = (
    Prevalence(
        "smi", 0.93, 0, QOF + ": mental health register (schizophrenia, bipolar, other psychoses)",
        ((16, 0.0), (20, 0.6), (30, 1.1), (50, 1.2), (70, 1.0), (90, 0.8)),
        ASSUMED_SHAPE, male_to_female=1.1, deprivation=1.64, youngest=17,
    ),
    Prevalence(
        "dementia", 0.78, 0, QOF + " (recent: 4.28% of people aged 65 and over)",
        ((55, 0.02), (65, 0.5), (70, 1.2), (75, 3.0), (80, 6.5), (85, 12.0), (90, 20.0),
         (95, 28.0)),
        ASSUMED_SHAPE, male_to_female=0.7, deprivation=1.0, youngest=50,
    ),
    Prevalence(
        "ptsd", 0.8, 18, "ASSUMED: recorded PTSD diagnoses (APMS screens positive far more often)",
        ((18, 1.0), (40, 1.0), (70, 0.5), (90, 0.3)),
        ASSUMED_SHAPE, male_to_female=0.6, deprivation=1.5, youngest=16,
    ),
    Prevalence(
        "ocd", 0.5, 18, "ASSUMED: recorded OCD diagnoses",
        ((18, 1.0), (40, 1.0), (70, 0.5), (90, 0.3)),
        ASSUMED_SHAPE, male_to_female=0.9, deprivation=1.2, youngest=14,
    ),
    Prevalence(
        "personality-disorder", 0.5, 18, "ASSUMED: recorded personality disorder diagnoses",
        ((18, 1.0), (40, 1.0), (70, 0.4), (90, 0.2)),
        ASSUMED_SHAPE, male_to_female=0.7, deprivation=1.6, youngest=18,
    ),
)  # fmt: skip

PREVALENCE: tuple[Prevalence, ...] = LONG_TERM_PREVALENCE + MENTAL_HEALTH_PREVALENCE
PREVALENCE_BY_NAME = {p.name: p for p in PREVALENCE}

# Correlation between conditions beyond what age, sex and deprivation explain: one latent "health"
# factor shared by all of a person's physical conditions (a Gaussian copula, so each condition's own
# prevalence is kept exactly). ASSUMED, tuned so that multimorbidity comes out near the published
# figures (section "Multimorbidity" of the docs).
CONDITION_CORRELATION = 0.1

# Depression and anxiety. QOF 2019-20: depression register 11.55% of adults. Naylor et al. 2012
# (King's Fund): about 30% of people with a long-term condition also have a mental health problem,
# which the generator aims at (a third). The odds of a mental disorder rise with the number of
# physical conditions: Barnett 2012 aOR 1.95 for one, 6.74 for five or more; two to four are
# interpolated (geometric). Women's odds ASSUMED 1.8 times men's; deprivation odds ratio decile 1 to
# 10 1.29 (QOF depression, crude, table 4 of the notes).
DEPRESSION_REGISTER_PERCENT = 11.55
LTC_WITH_DEPRESSION_OR_ANXIETY_TARGET = 1 / 3
ODDS_RATIO_BY_PHYSICAL_CONDITIONS: tuple[float, ...] = (1.0, 1.95, 2.66, 3.63, 4.94, 6.74)
DEPRESSION_ANXIETY_BASE_ODDS = 0.16
"""Odds for an adult man aged 25-64, in a middle decile, with no physical condition: tuned to give a
third of people with a long-term condition depression or anxiety."""
DEPRESSION_ANXIETY_FEMALE_ODDS = 1.8
DEPRESSION_ANXIETY_DEPRIVATION_ODDS = 1.29
DEPRESSION_ANXIETY_AGE_ODDS: tuple[tuple[int, float], ...] = (
    (0, 0.0), (12, 0.15), (16, 0.6), (18, 1.1), (25, 1.0), (65, 0.95), (80, 0.85),
)  # fmt: skip
"""ASSUMED: recorded depression and anxiety are rare in childhood and a little less often recorded
in old age. (first age, odds ratio)."""
# Of people with depression or anxiety: depression alone, both, anxiety alone. ASSUMED split, tuned
# so that the depression register comes out near QOF's 11.55% of adults.
DEPRESSION_ONLY, DEPRESSION_AND_ANXIETY = 0.37, 0.10

# Social care needs: share of people with a recorded need, by age. ASSUMED (no source in the
# reference notes): a little above the share receiving long-term council support, since needs also
# include those awaiting assessment and those met by family or the voluntary sector.
SOCIAL_CARE_NEEDS_TARGET: tuple[tuple[int, int, float], ...] = (
    (18, 64, 1.0), (65, 74, 4.0), (75, 84, 12.0), (85, MAX_AGE, 30.0),
)  # fmt: skip


def _interpolate(points: tuple[tuple[int, float], ...], x: float) -> float:
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


@cache
def age_weights() -> tuple[float, ...]:
    """Share of people at each single year of age 0..MAX_AGE (Census bands, even within a band; the
    90+ band thins out by a third each year)."""
    weights = [0.0] * (MAX_AGE + 1)
    total = sum(percent for _, _, percent in CENSUS_2021_AGE_BANDS)
    for first, last, percent in CENSUS_2021_AGE_BANDS:
        if last == MAX_AGE:
            shape = [0.75**k for k in range(last - first + 1)]
        else:
            shape = [1.0] * (last - first + 1)
        for age, s in zip(range(first, last + 1), shape, strict=True):
            weights[age] = percent / total * s / sum(shape)
    return tuple(weights)


def female_share(age: int) -> float:
    share = FEMALE_SHARE_BY_AGE[0][1]
    for first, value in FEMALE_SHARE_BY_AGE:
        if age >= first:
            share = value
    return share


def deprivation_years(imd_decile: int) -> float:
    return DEPRIVATION_YEARS_PER_DECILE * (5.5 - imd_decile)


def _unscaled(p: Prevalence, age: int, female: bool, imd_decile: int) -> float:
    if age < p.youngest:
        return 0.0
    sex = 1 / (1 + p.male_to_female) if female else p.male_to_female / (1 + p.male_to_female)
    if p.deprivation is None:
        return _interpolate(p.age_shape, age + deprivation_years(imd_decile)) * 2 * sex
    ratio: float = p.deprivation ** ((5.5 - imd_decile) / 9)
    return _interpolate(p.age_shape, age) * 2 * sex * ratio


MAX_PREVALENCE = 0.95


@cache
def prevalence_table(name: str) -> tuple[tuple[tuple[float, ...], ...], ...]:
    """Probability of having the condition, indexed [age][female][imd_decile - 1], scaled so that
    the expected prevalence over the target's denominator, in a Census-shaped population, is the
    target."""
    p = PREVALENCE_BY_NAME[name]
    weights = age_weights()
    raw = [
        [[_unscaled(p, age, bool(female), imd) for imd in IMD_DECILES] for female in (0, 1)]
        for age in range(MAX_AGE + 1)
    ]
    target = p.percent / 100
    scale = 1.0
    for _ in range(20):  # fixed point: the cap at MAX_PREVALENCE makes scaling slightly non-linear
        expected = denominator = 0.0
        for age in range(p.min_age, MAX_AGE + 1):
            f = female_share(age)
            for female, share in ((0, 1 - f), (1, f)):
                for value in raw[age][female]:
                    w = weights[age] * share / len(IMD_DECILES)
                    expected += w * min(MAX_PREVALENCE, value * scale)
                    denominator += w
        expected /= denominator
        if abs(expected - target) < 1e-7:
            break
        scale *= target / expected
    return tuple(
        tuple(tuple(min(MAX_PREVALENCE, v * scale) for v in by_sex) for by_sex in by_age)
        for by_age in raw
    )


@cache
def threshold_table(name: str) -> tuple[tuple[tuple[float, ...], ...], ...]:
    """The copula thresholds: a person has the condition when their correlated normal score is below
    the threshold for their age, sex and decile."""
    normal = NormalDist()
    return tuple(
        tuple(
            tuple(normal.inv_cdf(v) if v > 0 else float("-inf") for v in by_sex)
            for by_sex in by_age
        )
        for by_age in prevalence_table(name)
    )


def depression_anxiety_odds(age: int, female: bool, imd_decile: int, physical: int) -> float:
    odds = DEPRESSION_ANXIETY_BASE_ODDS * _step(DEPRESSION_ANXIETY_AGE_ODDS, age)
    if female:
        odds *= DEPRESSION_ANXIETY_FEMALE_ODDS
    deprivation: float = DEPRESSION_ANXIETY_DEPRIVATION_ODDS ** ((5.5 - imd_decile) / 9)
    odds *= deprivation
    ratios = ODDS_RATIO_BY_PHYSICAL_CONDITIONS
    return odds * ratios[min(physical, len(ratios) - 1)]


def _step(points: tuple[tuple[int, float], ...], x: int) -> float:
    value = points[0][1]
    for first, v in points:
        if x >= first:
            value = v
    return value
