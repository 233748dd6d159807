"""The pathway's data, handed to `wholecare.outcomes`: one referral to the specification, or a
whole service to the engine behind `wholecare outcomes`, as the CLI's own input files.

Nothing here decides an outcome. Per referral it builds `spec.Referral`, `spec.Contact` and
`spec.Score` and calls `spec.referral_outcome`. For a service it builds the three input files of
docs/formats/outcomes.md as typed tables, straight from the database; the export writes them as
CSV, and the dashboard hands them in memory to the CLI's own checks (`io.inputs_from_tables`, the
checks a Parquet file gets), engine and summary, so the dashboard equals `wholecare outcomes` run
on the export.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connections
from django.db.models import Case, CharField, DateField, F, QuerySet, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from wholecare.directory.models import Staff
from wholecare.disclosure import suppress, suppress_count, suppress_rate
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


# A period's extract: the data set's tables and the outcomes CLI's input files --------------------


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


# The extract is as at the period's end: later discharges, contacts and scores are not yet known.


def _known_discharge(period: Period) -> Case:
    """The discharge date, or none when the discharge came after the period's end."""
    return Case(
        When(discharge_date__gt=period.end, then=Value(None)),
        default=F("discharge_date"),
        output_field=DateField(),
    )


def _contacts_known(referrals: QuerySet[TTReferral], period: Period) -> QuerySet[CareContact]:
    end = dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    return CareContact.objects.filter(referral__in=referrals, starts_at__lt=end)


def _scores_known(referrals: QuerySet[TTReferral], period: Period) -> QuerySet[MeasureScore]:
    return MeasureScore.objects.filter(referral__in=referrals, measured_on__lte=period.end)


@dataclass(frozen=True)
class Extract:
    """The rows of the data set extract (`dataset.tables`) as plain values: one query per table,
    no model instances."""

    referrals: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    scores: list[dict[str, Any]]


def extract(queryset: QuerySet[TTReferral], period: Period) -> Extract:
    referrals = list(
        queryset.order_by("received_date", "pk")
        .annotate(discharged=_known_discharge(period))
        .values(
            "pk",
            "public_id",
            "person_id",
            "person__public_id",
            "received_date",
            "discharged",
            "problem_descriptor",
            "source",
            "ending_reason",
        )
    )
    ids = {r["pk"]: str(r["public_id"]) for r in referrals}
    local = timezone.get_current_timezone()
    conditions: dict[int, list[str]] = {}
    for referral_id, code in _condition_links(queryset):
        conditions.setdefault(referral_id, []).append(code)
    rows = [
        {
            "referral_id": ids[r["pk"]],
            "person_pk": r["person_id"],
            "person_id": str(r["person__public_id"]),
            "received_date": r["received_date"],
            "discharge_date": r["discharged"],
            "problem_descriptor": r["problem_descriptor"],
            "source": r["source"],
            "ending_reason": r["ending_reason"] if r["discharged"] else "",
            "conditions": sorted(conditions.get(r["pk"], [])),
        }
        for r in referrals
    ]
    contacts = [
        {
            "pk": pk,
            "referral_id": ids[referral],
            "starts_at": starts.astimezone(local),
            "kind": kind,
            "attendance": attendance,
            "mode": mode,
            "integrated_ltc": integrated,
            "therapy_type": therapy,
            "intensity": intensity,
        }
        for pk, referral, starts, kind, attendance, mode, integrated, therapy, intensity in (
            _contacts_known(queryset, period)
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
            _scores_known(queryset, period)
            .order_by("referral__received_date", "referral_id", "pk")
            .values_list("referral_id", "measured_on", "measure", "total")
        )
    ]
    return Extract(rows, contacts, scores)


@dataclass(frozen=True)
class OutcomeTables:
    """The three input files of `wholecare outcomes` (docs/formats/outcomes.md) as typed Arrow
    tables, rows in file order, and the LTC registers each referral is about."""

    referrals: pa.Table
    contacts: pa.Table
    measures: pa.Table
    registers: pa.Table
    """`referral_id`, `register` (a value-set label): one row per referral and register."""

    def by_role(self) -> dict[str, pa.Table]:
        return {
            outcomes_io.REFERRALS: self.referrals,
            outcomes_io.CONTACTS: self.contacts,
            outcomes_io.MEASURES: self.measures,
        }


def _condition_links(referrals: QuerySet[TTReferral]) -> QuerySet[Any]:
    """(referral pk, SNOMED CT code) of each referral's long-term conditions, leaving out any
    marked entered in error (a join through the link table does not apply the default manager)."""
    return TTReferral.conditions.through.objects.filter(
        ttreferral__in=referrals, condition__entered_in_error_at__isnull=True
    ).values_list("ttreferral_id", "condition__snomed_code")


def _fetch(rows: QuerySet[Any], schema: pa.Schema) -> pa.Table:
    """A `values_list` query's rows as an Arrow table of `schema` (one field per value), as the
    database driver returns them: no model instances and none of Django's per-value converters,
    so dates and times are selected as text (`Cast`), the same on SQLite and PostgreSQL."""
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    values = pa.array(fetched, pa.struct(list(schema)))
    return pa.Table.from_batches([pa.RecordBatch.from_struct_array(values)], schema=schema)


def _uuid_text(values: pa.ChunkedArray, db: str) -> pa.ChunkedArray:
    """UUIDs as text with hyphens (SQLite holds them as 32 hex digits, PostgreSQL as uuid)."""
    if connections[db].features.has_native_uuid_field:
        return values
    cuts = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
    return pc.binary_join_element_wise(
        *(pc.utf8_slice_codeunits(values, a, b) for a, b in cuts), "-"
    )


def _local_dates(moments: pa.ChunkedArray, db: str) -> pa.Array:
    """The local calendar day of each moment, from the database's text for it: wall-clock time
    in the connection's time zone ("YYYY-MM-DD HH:MM:SS", then maybe a fraction or offset)."""
    text = pc.utf8_slice_codeunits(moments, 0, 19)
    stored = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="s")
    local = (
        pd.DatetimeIndex(stored.to_numpy())
        .tz_localize(connections[db].timezone)
        .tz_convert(timezone.get_current_timezone())
        .tz_localize(None)
    )
    return pa.array(local.to_numpy().astype("datetime64[D]"), pa.date32())


Positions = np.ndarray[Any, np.dtype[np.intp]]


def _positions(keys: pa.Array | pa.ChunkedArray, among: pa.Array | pa.ChunkedArray) -> Positions:
    """Where each of `keys` is in `among` (whose values are distinct); -1 where absent."""
    found: Positions = pd.Index(among.to_numpy(zero_copy_only=False)).get_indexer(
        keys.to_numpy(zero_copy_only=False)
    )
    return found


def _by_referral(rank: Positions) -> Positions:
    """Rows in their referral's order, stably (so SQL's order within a referral stays), without
    rows of referrals the referrals query did not see: on PostgreSQL each query sees what was
    committed when it started, so a referral may arrive between two of them."""
    known = np.flatnonzero(rank >= 0)
    order: Positions = known[np.argsort(rank[known], kind="stable")]
    return order


_TEXT = CharField()


def outcome_tables(queryset: QuerySet[TTReferral], period: Period) -> OutcomeTables:
    """The period's extract as `wholecare outcomes` reads it, straight from the database: only
    the columns needed, no model instances, no Python per row. Files in the order of the data
    set extract: referrals by date received, their contacts by time, their scores as stored."""
    db = queryset.db
    found = _fetch(
        queryset.order_by("received_date", "pk")
        .annotate(
            rid=Cast("public_id", _TEXT),
            pid=Cast("person__public_id", _TEXT),
            received=Cast("received_date", _TEXT),
            discharged=Cast(_known_discharge(period), _TEXT),
        )
        .values_list(
            "pk",
            "rid",
            "pid",
            "received",
            "discharged",
            "problem_descriptor",
            "person__ethnic_category",
            "person__imd_decile",
            "service_id",
        ),
        pa.schema(
            [
                ("pk", pa.int64()),
                ("referral_id", pa.string()),
                ("person_id", pa.string()),
                ("received_date", pa.string()),
                ("discharge_date", pa.string()),
                ("problem_descriptor", pa.string()),
                ("ethnic_category", pa.string()),
                ("imd_decile", pa.int64()),
                ("service_id", pa.int64()),
            ]
        ),
    )
    referral_pks = found["pk"]
    referral_id = _uuid_text(found["referral_id"], db)
    links = _fetch(
        _condition_links(queryset),
        pa.schema([("pk", pa.int64()), ("code", pa.string())]),
    )
    referrals = pa.table(
        {
            "referral_id": referral_id,
            "person_id": _uuid_text(found["person_id"], db),
            "received_date": found["received_date"].cast(pa.date32()),
            "discharge_date": found["discharge_date"].cast(pa.date32()),
            "problem_descriptor": found["problem_descriptor"],
            "ltc": pc.is_in(referral_pks, value_set=links["pk"].combine_chunks()),
            "ethnic_category": found["ethnic_category"],
            "imd_decile": found["imd_decile"],
            "service_id": found["service_id"],
        }
    )
    codes_found = pc.unique(links["code"]).to_pylist()
    register_of = pa.array(
        [VALUE_SET_LABELS[vocabulary.condition(code).value_set] for code in codes_found],
        pa.string(),
    )
    rank = _positions(links["pk"], referral_pks)
    order = _by_referral(rank)
    registers = (
        pa.table(
            {
                "referral_id": referral_id.take(rank[order]),
                "register": register_of.take(
                    _positions(links["code"].take(order), pa.array(codes_found))
                ),
            }
        )
        .group_by(["referral_id", "register"])
        .aggregate([])
    )  # two codes, one register: once

    # SQL orders rows within a referral; a stable sort on the referral's rank does the rest.
    contacts = _fetch(
        _contacts_known(queryset, period)
        .order_by("referral_id", "starts_at", "pk")
        .annotate(at=Cast("starts_at", _TEXT))
        .values_list("referral_id", "at", "kind", "attendance", "intensity", "integrated_ltc"),
        pa.schema(
            [
                ("referral", pa.int64()),
                ("at", pa.string()),
                ("kind", pa.string()),
                ("attendance", pa.string()),
                ("intensity", pa.string()),
                ("integrated", pa.bool_()),
            ]
        ),
    )
    rank = _positions(contacts["referral"], referral_pks)
    order = _by_referral(rank)
    contacts = contacts.take(order)
    contacts = pa.table(
        {
            "referral_id": referral_id.take(rank[order]),
            "contact_date": _local_dates(contacts["at"], db),
            "kind": contacts["kind"],
            "attended": pc.equal(contacts["attendance"], codes.ATTENDED),
            "intensity": contacts["intensity"],
            "integrated": contacts["integrated"],
        }
    )
    scores = _fetch(
        _scores_known(queryset, period)
        .order_by("referral_id", "pk")
        .annotate(on=Cast("measured_on", _TEXT))
        .values_list("referral_id", "on", "measure", "total"),
        pa.schema(
            [
                ("referral", pa.int64()),
                ("on", pa.string()),
                ("measure", pa.string()),
                ("score", pa.float64()),
            ]
        ),
    )
    rank = _positions(scores["referral"], referral_pks)
    order = _by_referral(rank)
    scores = scores.take(order)
    measures = pa.table(
        {
            "referral_id": referral_id.take(rank[order]),
            "measure_date": scores["on"].cast(pa.date32()),
            "measure": scores["measure"],
            "score": scores["score"],
        }
    )
    return OutcomeTables(referrals, contacts, measures, registers)


FILE_NAMES: dict[str, str] = {role: f"{role}.csv" for role in outcomes_io.FILES}


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A header and the rows (values in column order) as CSV text."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return text.getvalue().encode()


def _field(column: pa.ChunkedArray) -> list[str]:
    """A column as the CLI's CSV writes it: ISO dates, Y/N, shortest numbers, empty if none."""
    if pa.types.is_boolean(column.type):
        column = pc.if_else(column, "Y", "N")
    values: list[str] = pc.fill_null(column.cast(pa.string()), "").to_pylist()
    return values


def outcome_files(tables: OutcomeTables) -> dict[str, bytes]:
    """referrals.csv, contacts.csv and measures.csv, as `wholecare outcomes` reads them."""
    return {
        FILE_NAMES[role]: csv_bytes(
            table.column_names, zip(*(_field(c) for c in table.columns), strict=True)
        )
        for role, table in tables.by_role().items()
    }


#: The dashboard's count beside summary.json's: referrals whose first treatment session (the
#: engine's `first_treatment_date`) falls in the period, NHS England's "entered treatment".
ENTERED_TREATMENT = "entered_treatment"


@dataclass(frozen=True)
class Figures:
    summary: dict[str, Any]
    """summary.json, exactly as `wholecare outcomes` writes it for these files."""
    entered_treatment: dict[str, Any]
    """`overall` (exact) and, for each of summary.json's groupings, each group's count
    (suppressed as the grouped counts there)."""
    by_register: dict[str, dict[str, Any]]
    """The figures by LTC register (a referral about two LTCs counts in both), suppressed."""

    def overall_counts(self) -> dict[str, Any]:
        return {
            **self.summary["overall"]["counts"],
            ENTERED_TREATMENT: self.entered_treatment["overall"],
        }

    def grouped(self, grouping: str) -> dict[str, dict[str, Any]]:
        """summary.json's figures for a grouping, each group's counts with entered treatment."""
        entered = self.entered_treatment[grouping]
        return {
            group: {**shown, "counts": {**shown["counts"], ENTERED_TREATMENT: entered[group]}}
            for group, shown in self.summary[grouping].items()
        }


def figures(tables: OutcomeTables, period: Period) -> Figures:
    """The CLI's checks, engine and summary on the extract's tables, handed over in memory."""
    inputs = outcomes_io.inputs_from_tables(tables.by_role())
    result = engines.run(inputs, ENGINE)
    rejected = outcomes_output.ordered_rejections(
        pa.concat_tables([inputs.rejected, result.rejected.cast(outcomes_io.REJECTED_SCHEMA)])
    )
    rejected_counts = rejected["file"].to_pandas().value_counts()
    rows_accepted = {
        role: inputs.rows_read[role] - int(rejected_counts.get(role, 0))
        for role in outcomes_io.FILES
    }
    engine_period = summary.Period(period.start, period.end)
    outcomes = result.outcomes
    document = summary.build(
        outcomes,
        period=engine_period,
        rejected=rejected,
        rows_read=inputs.rows_read,
        rows_accepted=rows_accepted,
    )
    measures = summary.measure_columns(outcomes, engine_period)
    first = outcomes["first_treatment_date"]
    measures[ENTERED_TREATMENT] = np.asarray(
        pc.fill_null(
            pc.and_(pc.greater_equal(first, period.start), pc.less_equal(first, period.end)),
            False,
        ).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    return Figures(
        document,
        _entered_treatment(outcomes, measures[ENTERED_TREATMENT]),
        _by_register(outcomes, measures, tables.registers),
    )


def _entered_treatment(outcomes: pa.Table, entered: np.ndarray) -> dict[str, Any]:
    found: dict[str, Any] = {"overall": int(entered.sum())}
    for grouping, (groups, labels) in summary.groupings(outcomes).items():
        counts = np.bincount(groups, weights=entered, minlength=len(labels))
        present = np.bincount(groups, minlength=len(labels)) > 0
        found[grouping] = {
            label: suppress(int(counts[i])) for i, label in enumerate(labels) if present[i]
        }
    return found


def _by_register(
    outcomes: pa.Table, measures: Mapping[str, np.ndarray], registers: pa.Table
) -> dict[str, dict[str, Any]]:
    """Counts per LTC register, suppressed with `wholecare.disclosure` as published figures."""
    rows = _positions(registers["referral_id"].combine_chunks(), outcomes["referral_id"])
    counted = rows >= 0  # a referral the engine rejected has no outcome
    groups, labels = pd.factorize(
        registers["register"].to_numpy()[counted], sort=True, use_na_sentinel=False
    )
    totals = {
        name: np.bincount(groups, weights=values[rows[counted]], minlength=len(labels))
        for name, values in measures.items()
    }
    shown: dict[str, dict[str, Any]] = {}
    for i, register in enumerate(labels):
        counts = {name: int(total[i]) for name, total in totals.items()}
        rates = {}
        for rate, numerator, plus, minus in summary.RATES:
            denominator = sum(counts[n] for n in plus) - sum(counts[n] for n in minus)
            rates[rate] = suppress_rate(counts[numerator], denominator) if denominator > 0 else ""
        shown[str(register)] = {
            "counts": {name: suppress_count(value) for name, value in counts.items()},
            "rates": rates,
        }
    return shown
