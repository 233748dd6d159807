"""The pathway's data, handed to `wholecare.outcomes`: one referral to the specification, or a
whole service to the engine behind `wholecare outcomes`, through the CLI's own file format.

Nothing here decides an outcome. Per referral it builds `spec.Referral`, `spec.Contact` and
`spec.Score` and calls `spec.referral_outcome`; for a service it writes the three input files of
docs/formats/outcomes.md and runs the same reading, engine and summary as the CLI, so the
dashboard equals `wholecare outcomes` run on the export.
"""

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from django.db.models import QuerySet
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.disclosure import suppress_count, suppress_rate
from wholecare.outcomes import engines, spec, summary
from wholecare.outcomes import io as outcomes_io
from wholecare.outcomes import output as outcomes_output
from wholecare.record import vocabulary
from wholecare.record.vocabulary import VALUE_SET_LABELS
from wholecare.talking_therapies import codes
from wholecare.talking_therapies.models import CareContact, MeasureScore, TTReferral

#: The CLI's engines give equal results (wholecare.outcomes tests them against the specification,
#: and tests/app/talking_therapies checks the dashboard against the CLI's default, DuckDB); pandas
#: starts fastest on one service's few thousand referrals.
ENGINE = "pandas"


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def spec_referral(referral: TTReferral) -> spec.Referral:
    return spec.Referral(
        referral_id=str(referral.public_id),
        received_date=referral.received_date,
        discharge_date=referral.discharge_date,
        problem_descriptor=referral.problem_descriptor or None,
    )


def spec_contacts(contacts: Iterable[CareContact]) -> list[spec.Contact]:
    return [spec.Contact(_day(c.starts_at), c.kind, c.attended) for c in contacts]


def spec_scores(scores: Iterable[MeasureScore]) -> list[spec.Score]:
    return [spec.Score(s.measured_on, s.measure, s.total) for s in scores]


def referral_outcome(referral: TTReferral) -> spec.Outcome:
    """The engine's outcome for one referral, from its contacts and scores in stored order."""
    return spec.referral_outcome(
        spec_referral(referral),
        spec_contacts(referral.contacts.order_by("starts_at", "pk")),
        spec_scores(referral.scores.order_by("pk")),
    )


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "not applicable"}[value]


def discharge_letter(referral: TTReferral, outcome: spec.Outcome, author: Staff) -> str:
    conditions = ", ".join(c.concept.display for c in referral.conditions.all()) or "none recorded"
    lines = [
        f"Dear colleagues,\n\n{referral.person.full_name} was discharged from {referral.service}"
        f" on {referral.discharge_date:%-d %B %Y}: {referral.ending_reason_label.lower()}.",
        f"Long-term condition(s): {conditions}.",
        f"Referred on {referral.received_date:%-d %B %Y}; treatment sessions attended:"
        f" {outcome.treatment_contacts}.",
    ]
    if outcome.phq9_first is not None and outcome.phq9_last is not None:
        lines.append(f"PHQ-9 from {outcome.phq9_first:g} to {outcome.phq9_last:g}.")
    if outcome.anxiety_first is not None and outcome.anxiety_last is not None:
        lines.append(
            f"{outcome.anxiety_measure} from {outcome.anxiety_first:g} to {outcome.anxiety_last:g}."
        )
    lines.append(
        f"Finished a course of treatment: {_yes_no(outcome.finished_treatment)}. Recovered:"
        f" {_yes_no(outcome.recovered)}. Reliable improvement:"
        f" {_yes_no(outcome.reliable_improvement)}. Reliable deterioration:"
        f" {_yes_no(outcome.reliable_deterioration)}."
    )
    lines.append(
        "Please contact the service if you have any concerns; the person can refer themselves"
        f" again at any time.\n\n{author.display_name}, {author.discipline_enum.label}"
    )
    return "\n".join(lines)


# The outcomes CLI's input files ----------------------------------------------------------------

REFERRAL_COLUMNS = (
    "referral_id",
    "person_id",
    "received_date",
    "discharge_date",
    "problem_descriptor",
    "ltc",
    "ethnic_category",
    "imd_decile",
    "service_id",
)
CONTACT_COLUMNS = ("referral_id", "contact_date", "kind", "attended", "intensity", "integrated")
MEASURE_COLUMNS = ("referral_id", "measure_date", "measure", "score")


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends inclusive."""

    start: dt.date
    end: dt.date

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        start = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(start, following - dt.timedelta(days=1))

    @property
    def label(self) -> str:
        if self.start.day == 1 and self.end == Period.month(self.start.year, self.start.month).end:
            return f"{self.start:%B %Y}"
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"


def referrals_in(service_ids: Iterable[int], period: Period) -> QuerySet[TTReferral]:
    """The referrals a period's extract holds: received by its end, not discharged before it
    starts (the data set's "active in the reporting period")."""
    return (
        TTReferral.objects.filter(service_id__in=list(service_ids), received_date__lte=period.end)
        .exclude(discharge_date__lt=period.start)
        .select_related("person")
    )


@dataclass(frozen=True)
class Extract:
    """The rows of the extract as at the period's end (later discharges, contacts and scores are
    not yet known then), as plain values: one query per table, no model instances."""

    referrals: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    scores: list[dict[str, Any]]

    @property
    def registers(self) -> dict[str, list[str]]:
        """referral_id -> the LTC registers (value-set labels) it is about."""
        return {
            r["referral_id"]: sorted(
                {VALUE_SET_LABELS[vocabulary.condition(code).value_set] for code in r["conditions"]}
            )
            for r in self.referrals
        }


def extract(queryset: QuerySet[TTReferral], period: Period) -> Extract:
    end = dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    referrals = list(
        queryset.order_by("received_date", "pk").values(
            "pk",
            "public_id",
            "person_id",
            "person__public_id",
            "person__ethnic_category",
            "person__imd_decile",
            "received_date",
            "discharge_date",
            "problem_descriptor",
            "source",
            "ending_reason",
            "service_id",
        )
    )
    ids = {r["pk"]: str(r["public_id"]) for r in referrals}
    local = timezone.get_current_timezone()
    conditions: dict[int, list[str]] = {}
    links = TTReferral.conditions.through.objects.filter(ttreferral__in=queryset)
    for referral_id, code in links.values_list("ttreferral_id", "condition__snomed_code"):
        conditions.setdefault(referral_id, []).append(code)
    rows = []
    for r in referrals:
        discharged = r["discharge_date"]
        if discharged is not None and discharged > period.end:
            discharged = None
        rows.append(
            {
                "referral_id": ids[r["pk"]],
                "person_pk": r["person_id"],
                "person_id": str(r["person__public_id"]),
                "received_date": r["received_date"],
                "discharge_date": discharged,
                "problem_descriptor": r["problem_descriptor"],
                "source": r["source"],
                "ending_reason": r["ending_reason"] if discharged else "",
                "service_id": r["service_id"],
                "ethnic_category": r["person__ethnic_category"],
                "imd_decile": r["person__imd_decile"],
                "conditions": sorted(conditions.get(r["pk"], [])),
            }
        )
    contacts = [
        {
            "pk": pk,
            "referral_id": ids[referral],
            "starts_at": starts.astimezone(local),
            "kind": kind,
            "attendance": attendance,
            "attended": attendance == codes.ATTENDED,
            "mode": mode,
            "integrated_ltc": integrated,
            "therapy_type": therapy,
            "intensity": intensity,
        }
        for pk, referral, starts, kind, attendance, mode, integrated, therapy, intensity in (
            CareContact.objects.filter(referral__in=queryset, starts_at__lt=end)
            .order_by("referral__received_date", "referral_id", "starts_at", "pk")
            .values_list(
                "pk",
                "referral_id",
                "starts_at",
                "kind",
                "attendance",
                "mode",
                "integrated_ltc",
                "therapy_type",
                "intensity",
            )
        )
    ]
    scores = [
        {"referral_id": ids[referral], "measured_on": day, "measure": measure, "total": total}
        for referral, day, measure, total in (
            MeasureScore.objects.filter(referral__in=queryset, measured_on__lte=period.end)
            .order_by("referral__received_date", "referral_id", "pk")
            .values_list("referral_id", "measured_on", "measure", "total")
        )
    ]
    return Extract(rows, contacts, scores)


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else repr(value)


def _outcome_rows(found: Extract) -> dict[str, list[tuple[Any, ...]]]:
    """The three files' rows, in the column order of FILE_COLUMNS."""
    return {
        outcomes_io.REFERRALS: [
            (
                r["referral_id"],
                r["person_id"],
                r["received_date"].isoformat(),
                r["discharge_date"].isoformat() if r["discharge_date"] else "",
                r["problem_descriptor"],
                "Y" if r["conditions"] else "N",
                r["ethnic_category"],
                r["imd_decile"] or "",
                r["service_id"],
            )
            for r in found.referrals
        ],
        outcomes_io.CONTACTS: [
            (
                c["referral_id"],
                c["starts_at"].date().isoformat(),
                c["kind"],
                "Y" if c["attended"] else "N",
                c["intensity"],
                "Y" if c["integrated_ltc"] else "N",
            )
            for c in found.contacts
        ],
        outcomes_io.MEASURES: [
            (s["referral_id"], s["measured_on"].isoformat(), s["measure"], _number(s["total"]))
            for s in found.scores
        ],
    }


FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    outcomes_io.REFERRALS: REFERRAL_COLUMNS,
    outcomes_io.CONTACTS: CONTACT_COLUMNS,
    outcomes_io.MEASURES: MEASURE_COLUMNS,
}
FILE_NAMES: dict[str, str] = {role: f"{role}.csv" for role in FILE_COLUMNS}


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A header and the rows (values in column order) as CSV text."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return text.getvalue().encode()


def outcome_files(found: Extract) -> dict[str, bytes]:
    """referrals.csv, contacts.csv and measures.csv, as `wholecare outcomes` reads them."""
    rows = _outcome_rows(found)
    return {
        FILE_NAMES[role]: csv_bytes(columns, rows[role]) for role, columns in FILE_COLUMNS.items()
    }


@dataclass(frozen=True)
class Figures:
    summary: dict[str, Any]
    """summary.json, exactly as `wholecare outcomes` writes it for these files."""
    by_register: dict[str, dict[str, Any]]
    """The same figures by LTC register (a referral about two LTCs counts in both)."""


def figures(found: Extract, period: Period) -> Figures:
    """Run the CLI's reader, engine and summary on the extract's files."""
    with tempfile.TemporaryDirectory(prefix="wholecare-tt-") as folder:
        paths = {}
        for role, content in outcome_files(found).items():
            path = Path(folder) / role
            path.write_bytes(content)
            paths[role.removesuffix(".csv")] = path
        inputs = outcomes_io.read_inputs(paths)
        result = engines.run(inputs, ENGINE)
    rejected = outcomes_output.ordered_rejections(
        pa.concat_tables([inputs.rejected, result.rejected.cast(outcomes_io.REJECTED_SCHEMA)])
    )
    accepted_counts = rejected["file"].to_pandas().value_counts()
    rows_accepted = {
        role: inputs.rows_read[role] - int(accepted_counts.get(role, 0))
        for role in outcomes_io.FILES
    }
    engine_period = summary.Period(period.start, period.end)
    document = summary.build(
        result.outcomes,
        period=engine_period,
        rejected=rejected,
        rows_read=inputs.rows_read,
        rows_accepted=rows_accepted,
    )
    return Figures(document, _by_register(result.outcomes, engine_period, found.registers))


def _by_register(
    outcomes: pa.Table, period: summary.Period, registers: Mapping[str, list[str]]
) -> dict[str, dict[str, Any]]:
    """Counts per LTC register, suppressed with `wholecare.disclosure` as published figures."""
    columns = pd.DataFrame(summary.measure_columns(outcomes, period))
    columns["register"] = [registers.get(rid, []) for rid in outcomes["referral_id"].to_pylist()]
    totals = columns.explode("register").dropna(subset=["register"]).groupby("register").sum()
    shown: dict[str, dict[str, Any]] = {}
    for register, row in totals.iterrows():
        counts = {str(name): int(value) for name, value in row.items()}
        rates = {}
        for rate, numerator, plus, minus in summary.RATES:
            denominator = sum(counts[n] for n in plus) - sum(counts[n] for n in minus)
            rates[rate] = suppress_rate(counts[numerator], denominator) if denominator > 0 else ""
        shown[str(register)] = {
            "counts": {name: suppress_count(value) for name, value in counts.items()},
            "rates": rates,
        }
    return shown
