"""How close a generated population comes to the published figures it aims at.

Pure Python. `python -m wholecare.demo.report --people 50000 --seed 1` prints the Markdown tables of
`docs/synthetic-population.md`; the tests use `summarise` to hold the generator to its targets.
"""

import argparse
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wholecare.demo import figures, population
from wholecare.demo.population import LONG_TERM_NAMES, PersonSpec
from wholecare.record import vocabulary

AS_OF = dt.date(2026, 11, 1)
"""A fixed date, so that the documented tables can be reproduced exactly."""

HYPERTENSION_BANDS = (
    (0, 19),
    (20, 29),
    (30, 39),
    (40, 49),
    (50, 59),
    (60, 69),
    (70, 79),
    (80, 200),
)
HYPERTENSION_BY_AGE = (0.04, 0.4, 1.7, 6.8, 17.8, 32.0, 48.5, 62.8)  # OpenSAFELY-TPP 2021-22
MULTIMORBIDITY_BANDS = (
    (0, 17),
    (18, 24),
    (25, 34),
    (35, 44),
    (45, 54),
    (55, 64),
    (65, 74),
    (75, 200),
)


@dataclass
class Summary:
    """Counts over a generated population, from which every comparison is a ratio."""

    people: int = 0
    ages: Counter[int] = field(default_factory=Counter)
    females: int = 0
    ethnic: Counter[str] = field(default_factory=Counter)
    deciles: Counter[int] = field(default_factory=Counter)
    with_condition: Counter[tuple[str, int]] = field(default_factory=Counter)
    """(figure name, age) -> people with it."""
    condition_counts: Counter[tuple[int, int, int]] = field(default_factory=Counter)
    """(age, imd decile, number of conditions) -> people."""
    ltc: int = 0
    ltc_with_depression_or_anxiety: int = 0
    physical_and_mental: Counter[int] = field(default_factory=Counter)
    """imd decile -> people with both a physical condition and a mental health condition."""
    with_needs: Counter[int] = field(default_factory=Counter)
    """age -> people with a social care need."""
    nhs_numbers: set[str] = field(default_factory=set)
    entries: int = 0
    entries_by_sensitivity: Counter[str] = field(default_factory=Counter)
    entries_by_discipline: Counter[str] = field(default_factory=Counter)
    open_referrals: Counter[str] = field(default_factory=Counter)
    closed_referrals: Counter[str] = field(default_factory=Counter)
    consents: Counter[tuple[str, str]] = field(default_factory=Counter)
    care_team: int = 0
    alerts: int = 0
    care_plans: Counter[str] = field(default_factory=Counter)
    """By title ("Living well with ..." counted as one)."""

    def between(self, counter: Counter[int], first: int, last: int) -> int:
        return sum(n for age, n in counter.items() if first <= age <= last)

    def aged(self, first: int, last: int = 200) -> int:
        return self.between(self.ages, first, last)

    def prevalence(self, name: str, first: int = 0, last: int = 200) -> float:
        """Percent of people aged first..last who have the condition."""
        have = sum(
            n for (c, age), n in self.with_condition.items() if c == name and first <= age <= last
        )
        return 100 * have / max(1, self.aged(first, last))

    def multimorbid(self, first: int = 0, last: int = 200, deciles: Sequence[int] = ()) -> float:
        """Percent with two or more conditions (any of the generated conditions)."""
        chosen = [
            (n, count)
            for (age, decile, count), n in self.condition_counts.items()
            if first <= age <= last and (not deciles or decile in deciles)
        ]
        total = sum(n for n, _ in chosen)
        return 100 * sum(n for n, count in chosen if count >= 2) / max(1, total)


def summarise(people: Iterable[PersonSpec], as_of: dt.date) -> Summary:
    s = Summary()
    for p in people:
        age = p.age(as_of)
        s.people += 1
        s.ages[age] += 1
        s.females += p.sex == "female"
        s.ethnic[p.ethnic_category] += 1
        s.deciles[p.imd_decile] += 1
        s.nhs_numbers.add(p.nhs_number)
        value_sets = p.value_sets()
        figures_present = {population._figure_for(c.snomed) for c in p.conditions}
        for name in figures_present:
            s.with_condition[(name, age)] += 1
        s.condition_counts[(age, p.imd_decile, len(figures_present))] += 1
        physical = bool(figures_present & LONG_TERM_NAMES)
        mental = bool(value_sets & {"depression", "anxiety"})
        if physical:
            s.ltc += 1
            s.ltc_with_depression_or_anxiety += mental
            s.physical_and_mental[p.imd_decile] += mental
        if p.needs:
            s.with_needs[age] += 1
        s.entries += len(p.entries)
        for e in p.entries:
            s.entries_by_sensitivity[e.sensitivity.value] += 1
            s.entries_by_discipline[e.discipline.value] += 1
        for r in p.referrals:
            (s.open_referrals if r.closed is None else s.closed_referrals)[r.service] += 1
        for c in p.consents:
            s.consents[(c.discipline.value, c.decision)] += 1
        s.care_team += len(p.care_team)
        s.alerts += len(p.alerts)
        s.care_plans.update(plan.text.title.split(" with ")[0] for plan in p.care_plans)
    return s


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(s: Summary, area: population.Area) -> str:
    """Every comparison table, in Markdown."""
    out: list[str] = []
    out.append("### Age and sex (Census 2021, England)\n")
    rows: list[tuple[str, ...]] = []
    for first, last, percent in figures.CENSUS_2021_AGE_BANDS:
        label = f"{first}-{last}" if last < figures.MAX_AGE else f"{first}+"
        rows.append((label, f"{percent:.1f}%", _pct(100 * s.aged(first, last) / s.people)))
    rows.append(
        ("Female", f"{figures.CENSUS_2021_FEMALE_PERCENT:.2f}%", _pct(100 * s.females / s.people))
    )
    out.append(_table(("Age band", "Census 2021", "Generated"), rows))

    out.append("\n\n### Ethnicity (Census 2021, England; NHS ethnic category)\n")
    stated = s.people - s.ethnic["Z"]
    by_code: Counter[str] = Counter()
    for group in figures.CENSUS_2021_ETHNICITY:
        by_code[group.nhs_code] += group.percent  # type: ignore[assignment]
    rows = [
        (
            code,
            vocabulary.ETHNIC_CATEGORIES[code],
            f"{by_code[code]:.2f}%",
            _pct(100 * s.ethnic[code] / stated),
        )
        for code in sorted(by_code)
    ]
    rows.append(
        (
            "Z",
            "Not stated (share of everyone; assumed 2%)",
            "-",
            _pct(100 * s.ethnic["Z"] / s.people),
        )
    )
    out.append(_table(("Code", "Category", "Census 2021", "Generated (of those stated)"), rows))

    out.append("\n\n### Deprivation (IMD 2019 decile, 1 = most deprived)\n")
    out.append(
        _table(
            ("Decile", "England", "Generated"),
            [(str(d), "10%", _pct(100 * s.deciles[d] / s.people)) for d in figures.IMD_DECILES],
        )
    )

    out.append("\n\n### Condition prevalence\n")
    rows = []
    for p in figures.PREVALENCE:
        denominator = "all ages" if p.min_age == 0 else f"{p.min_age}+"
        rows.append(
            (
                p.name,
                denominator,
                f"{p.percent:.2f}%",
                _pct(s.prevalence(p.name, p.min_age)),
                p.source,
            )
        )
    rows.append(
        (
            "depression (register)",
            "18+",
            f"{figures.DEPRESSION_REGISTER_PERCENT:.2f}%",
            _pct(s.prevalence("depression", 18)),
            figures.QOF,
        )
    )
    rows.append(
        (
            "anxiety disorders",
            "18+",
            "-",
            _pct(s.prevalence("anxiety", 18)),
            "no target: follows from the depression-or-anxiety model",
        )
    )
    rows.append(
        (
            "dementia",
            "65+",
            "4.28%",
            _pct(s.prevalence("dementia", 65)),
            "pcnd.info (recent, undated)",
        )
    )
    out.append(
        _table(("Condition", "Denominator", "Target", "Generated", "Source of target"), rows)
    )

    out.append("\n\n### Hypertension by age (OpenSAFELY-TPP 2021-22)\n")
    out.append(
        _table(
            ("Age", "Published", "Generated"),
            [
                (
                    f"{a}-{b}" if b < 200 else f"{a}+",
                    f"{target}%",
                    _pct(s.prevalence("hypertension", a, b)),
                )
                for (a, b), target in zip(HYPERTENSION_BANDS, HYPERTENSION_BY_AGE, strict=True)
            ],
        )
    )

    out.append("\n\n### Long-term conditions with depression or anxiety\n")
    out.append(
        _table(
            ("Measure", "Target", "Generated"),
            [
                (
                    "People with a long-term condition who also have depression or anxiety",
                    "about a third (Naylor et al. 2012)",
                    _pct(100 * s.ltc_with_depression_or_anxiety / max(1, s.ltc)),
                ),
                (
                    "Physical and mental comorbidity, deciles 1-2 vs 9-10",
                    "11.0% vs 5.9% (Barnett 2012, Scotland)",
                    f"{_comorbid(s, (1, 2))} vs {_comorbid(s, (9, 10))}",
                ),
            ],
        )
    )

    out.append("\n\n### Multimorbidity (two or more of the generated conditions)\n")
    rows = [
        ("Adults (18+)", "27.2% (Cassell 2018, 36 conditions)", _pct(s.multimorbid(18))),
        ("All ages", "23.2% (Barnett 2012, 40 conditions)", _pct(s.multimorbid())),
        ("25-34", "8.1% (McLean 2014)", _pct(s.multimorbid(25, 34))),
        ("75+", "76.1% (McLean 2014)", _pct(s.multimorbid(75))),
        (
            "Adults, deciles 1-2",
            "higher: 30.0% most deprived quintile (Cassell)",
            _pct(s.multimorbid(18, deciles=(1, 2))),
        ),
        (
            "Adults, deciles 9-10",
            "lower: 25.8% least deprived quintile (Cassell)",
            _pct(s.multimorbid(18, deciles=(9, 10))),
        ),
    ]
    rows += [
        (f"{a}-{b}" if b < 200 else f"{a}+", "rises with age", _pct(s.multimorbid(a, b)))
        for a, b in MULTIMORBIDITY_BANDS
    ]
    out.append(_table(("Group", "Published", "Generated"), rows))

    out.append("\n\n### People with a social care need\n")
    out.append(
        _table(
            ("Age", "Target (ASSUMED)", "Generated"),
            [
                (
                    f"{a}-{b}" if b < figures.MAX_AGE else f"{a}+",
                    f"{target:.0f}%",
                    _pct(100 * s.between(s.with_needs, a, b) / max(1, s.aged(a, b))),
                )
                for a, b, target in figures.SOCIAL_CARE_NEEDS_TARGET
            ],
        )
    )

    out.append("\n\n### Services, staff and timeline\n")
    staff = Counter(m.discipline.label for m in area.staff)
    rows = [
        ("People", f"{s.people:,}"),
        ("Organisations", str(len(area.organisations))),
        ("Services", str(len(area.services))),
        ("Staff", str(len(area.staff))),
    ]
    rows += [(f"Staff: {label}", str(n)) for label, n in sorted(staff.items())]
    rows += [
        ("Care team memberships", f"{s.care_team:,}"),
        (
            "Referrals open / closed",
            f"{sum(s.open_referrals.values()):,} / {sum(s.closed_referrals.values()):,}",
        ),
        (
            "Open referrals to NHS Talking Therapies (both services)",
            f"{s.open_referrals['tt'] + s.open_referrals['tt-ltc']:,}",
        ),
        (
            "Therapy clients sharing notes with their GP (permit / deny)",
            f"{s.consents[('gp', 'permit')]:,} / {s.consents[('gp', 'deny')]:,}",
        ),
        ("Alerts", f"{s.alerts:,}"),
        (
            "Care plans",
            f"{s.care_plans.total():,} ("
            + ", ".join(f"{title}: {n:,}" for title, n in s.care_plans.most_common())
            + ")",
        ),
        ("Timeline entries", f"{s.entries:,} ({s.entries / s.people:.1f} a person)"),
    ]
    rows += [(f"Entries marked {k}", f"{n:,}") for k, n in sorted(s.entries_by_sensitivity.items())]
    out.append(_table(("What", "Generated"), rows))
    return "\n".join(out) + "\n"


def _comorbid(s: Summary, deciles: Sequence[int]) -> str:
    people = sum(s.deciles[d] for d in deciles)
    return _pct(100 * sum(s.physical_and_mental[d] for d in deciles) / max(1, people))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    area = population.build_area(people=args.people, seed=args.seed)
    people = population.generate_people(area, people=args.people, seed=args.seed, as_of=AS_OF)
    print(f"Generated with `--people {args.people} --seed {args.seed}`, as of {AS_OF}.\n")
    print(markdown(summarise(people, AS_OF), area))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
