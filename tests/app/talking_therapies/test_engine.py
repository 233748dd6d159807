"""The dashboard's input to the outcomes engine: the extract as typed tables straight from the
database, checked in memory exactly as the CLI checks a Parquet file of the same tables."""

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.app.talking_therapies.conftest import (
    contact,
    days_ago,
    discharge,
    refer,
    score,
    treated_course,
)
from wholecare.outcomes import io
from wholecare.talking_therapies import engine, services

DATES = st.one_of(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), st.none())
TEXT = st.one_of(st.sampled_from(["", "r1", "r2", "r3", "F41.1", "x"]), st.none())
SCHEMAS = {
    io.REFERRALS: pa.schema(
        [
            ("referral_id", pa.string()),
            ("person_id", pa.string()),
            ("received_date", pa.date32()),
            ("discharge_date", pa.date32()),
            ("problem_descriptor", pa.string()),
            ("ltc", pa.bool_()),
            ("ethnic_category", pa.string()),
            ("imd_decile", pa.int64()),
            ("service_id", pa.int64()),
        ]
    ),
    io.CONTACTS: pa.schema(
        [
            ("referral_id", pa.string()),
            ("contact_date", pa.date32()),
            ("kind", pa.string()),
            ("attended", pa.bool_()),
            ("intensity", pa.string()),
            ("integrated", pa.bool_()),
        ]
    ),
    io.MEASURES: pa.schema(
        [
            ("referral_id", pa.string()),
            ("measure_date", pa.date32()),
            ("measure", pa.string()),
            ("score", pa.float64()),
        ]
    ),
}
ROWS = {
    io.REFERRALS: st.tuples(
        TEXT,
        TEXT,
        DATES,
        DATES,
        st.one_of(st.sampled_from(["", "F32.1", "F41.1", "F43.1", "f40.1"]), st.none()),
        st.one_of(st.booleans(), st.none()),
        st.one_of(st.sampled_from(["", "A", "H"]), st.none()),
        st.one_of(st.integers(-1, 12), st.none()),
        st.one_of(st.integers(1, 3), st.none()),
    ),
    io.CONTACTS: st.tuples(
        TEXT,
        DATES,
        st.one_of(st.sampled_from(["assessment", "treatment", "other", "session", ""]), st.none()),
        st.one_of(st.booleans(), st.none()),
        st.one_of(st.sampled_from(["low", "high", "medium", ""]), st.none()),
        st.one_of(st.booleans(), st.none()),
    ),
    io.MEASURES: st.tuples(
        TEXT,
        DATES,
        st.one_of(st.sampled_from(["PHQ9", "GAD7", "SPIN", "WSAS", "NOTAMEASURE", ""]), st.none()),
        st.one_of(st.sampled_from([0.0, 4.0, 11.5, 27.0, 28.0, -1.0, 300.0]), st.none()),
    ),
}


def _table(role: str, rows: list[tuple[object, ...]]) -> pa.Table:
    schema = SCHEMAS[role]
    return pa.table(
        {name: [row[i] for row in rows] for i, name in enumerate(schema.names)}, schema=schema
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({role: st.lists(rows, max_size=12) for role, rows in ROWS.items()}))
def test_tables_in_memory_are_checked_as_parquet_files_of_them(
    rows: dict[str, list[tuple[object, ...]]],
) -> None:
    tables = {role: _table(role, found) for role, found in rows.items()}
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for role, table in tables.items():
            paths[role] = Path(folder) / f"{role}.parquet"
            pq.write_table(table, paths[role])
        from_files = io.read_inputs(paths)
    in_memory = io.inputs_from_tables(tables)
    assert in_memory.rows_read == from_files.rows_read
    assert in_memory.rejected.equals(from_files.rejected)
    for role in io.FILES:
        assert getattr(in_memory, role).equals(getattr(from_files, role)), role


def test_a_table_with_a_bad_header_is_refused_by_name() -> None:
    tables = {role: _table(role, []) for role in io.FILES}
    tables[io.CONTACTS] = tables[io.CONTACTS].drop_columns(["kind"])
    with pytest.raises(io.InputError, match="contacts table: bad header: missing column"):
        io.inputs_from_tables(tables)


def _summer_day() -> dt.date:
    """A past day, at least five days ago, on which London is an hour ahead of UTC."""
    day = days_ago(5)
    while timezone.localtime(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)).hour == 12:
        day -= dt.timedelta(days=1)
    return day


@pytest.mark.django_db
def test_outcome_tables_hold_the_extract_as_at_the_period_end(tt) -> None:
    """Local contact days, discharges and later rows unknown at the period's end, one register
    per referral however many of its conditions fall in it, ids as the export writes them."""
    summer = _summer_day()
    tt.person.ethnic_category, tt.person.imd_decile = "H", 3
    tt.person.save()
    second_diabetes = factories.ConditionFactory(person=tt.person, snomed_code="73211009")
    referral = services.tt_referral_create(
        by=tt.nurse.user,
        person=tt.person,
        service=tt.service,
        source="A3",
        conditions=[tt.diabetes, second_diabetes],
        received_date=summer - dt.timedelta(days=30),
        problem_descriptor="F41.1",
    )
    # 23:30 UTC in summer is 00:30 the next day in London: the contact is on the next day.
    late = contact(tt, referral, summer)
    late.starts_at = dt.datetime.combine(summer, dt.time(23, 30), tzinfo=dt.UTC)
    late.save()
    contact(tt, referral, summer + dt.timedelta(days=2))
    score(tt, referral, "GAD7", [1] * 7, summer + dt.timedelta(days=1))
    score(tt, referral, "GAD7", [2] * 7, summer + dt.timedelta(days=2))
    referral.refresh_from_db()
    discharge(tt, referral, summer + dt.timedelta(days=3))
    period = engine.Period(summer - dt.timedelta(days=40), summer + dt.timedelta(days=1))

    found = engine.outcome_tables(engine.referrals_in([tt.service.pk], period), period)

    assert found.referrals.to_pylist() == [
        {
            "referral_id": str(referral.public_id),
            "person_id": str(tt.person.public_id),
            "received_date": summer - dt.timedelta(days=30),
            "discharge_date": None,  # discharged after the period's end
            "problem_descriptor": "F41.1",
            "ltc": True,
            "ethnic_category": "H",
            "imd_decile": 3,
            "service_id": tt.service.pk,
        }
    ]
    assert found.contacts.to_pylist() == [
        {
            "referral_id": str(referral.public_id),
            "contact_date": summer + dt.timedelta(days=1),
            "kind": "treatment",
            "attended": True,
            "intensity": "low",
            "integrated": False,
        }
    ]
    assert found.measures.to_pylist() == [
        {
            "referral_id": str(referral.public_id),
            "measure_date": summer + dt.timedelta(days=1),
            "measure": "GAD7",
            "score": 7.0,
        }
    ]
    assert found.registers.to_pylist() == [
        {"referral_id": str(referral.public_id), "register": "Diabetes"}
    ]
    assert engine.spec_contacts([late])[0].contact_date == summer + dt.timedelta(days=1)


@pytest.mark.django_db
def test_outcome_files_are_in_referral_then_time_order(tt) -> None:
    """Referrals by date received; each one's contacts by time and scores as stored."""
    later = treated_course(tt, received=50)
    tt.person = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=tt.person, staff=tt.nurse)
    tt.diabetes = factories.ConditionFactory(person=tt.person, snomed_code="44054006")
    earlier = refer(tt, received=70)
    contact(tt, earlier, days_ago(10))
    contact(tt, earlier, days_ago(65), kind="assessment")
    score(tt, earlier, "PHQ9", [3] * 8 + [0], days_ago(9))
    score(tt, earlier, "PHQ9", [1] * 8 + [0], days_ago(64))
    period = engine.Period(days_ago(100), days_ago(0))

    files = engine.outcome_files(
        engine.outcome_tables(engine.referrals_in([tt.service.pk], period), period)
    )

    ids = (str(earlier.public_id), str(later.public_id))
    contacts = files["contacts.csv"].decode().splitlines()
    assert contacts[0] == "referral_id,contact_date,kind,attended,intensity,integrated"
    assert [line.split(",")[:3] for line in contacts[1:3]] == [
        [ids[0], days_ago(65).isoformat(), "assessment"],
        [ids[0], days_ago(10).isoformat(), "treatment"],
    ]
    assert {line.split(",")[0] for line in contacts[3:]} == {ids[1]}
    measures = files["measures.csv"].decode().splitlines()[1:]
    assert measures[:2] == [
        f"{ids[0]},{days_ago(9).isoformat()},PHQ9,24",
        f"{ids[0]},{days_ago(64).isoformat()},PHQ9,8",
    ]
    referrals = files["referrals.csv"].decode().splitlines()[1:]
    assert [line.split(",")[0] for line in referrals] == list(ids)


@pytest.mark.django_db
def test_rows_of_a_referral_arriving_between_the_queries_are_left_out(tt, monkeypatch) -> None:
    """On PostgreSQL each query sees what was committed when it started: contacts, scores and
    conditions of a referral newer than the referrals query must not break the extract."""
    seen = treated_course(tt)
    tt.person = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=tt.person, staff=tt.nurse)
    tt.diabetes = factories.ConditionFactory(person=tt.person, snomed_code="13645005")
    newer = treated_course(tt)
    fetch = engine._fetch

    def before_the_newer_referral(rows: Any, schema: pa.Schema) -> pa.Table:
        found = fetch(rows, schema)
        if "referral_id" in schema.names and "person_id" in schema.names:
            return found.filter(pc.not_equal(found["pk"], newer.pk))
        return found

    monkeypatch.setattr(engine, "_fetch", before_the_newer_referral)
    period = engine.Period(days_ago(100), days_ago(0))

    found = engine.outcome_tables(engine.referrals_in([tt.service.pk], period), period)

    ids = {str(seen.public_id)}
    for table in (found.referrals, found.contacts, found.measures, found.registers):
        assert set(table["referral_id"].to_pylist()) == ids
    assert found.contacts.num_rows == seen.contacts.count()
    assert found.measures.num_rows == seen.scores.count()


@pytest.mark.django_db
def test_a_condition_entered_in_error_leaves_the_extract_and_the_registers(tt) -> None:
    """The extract reaches conditions through the referral's link table, which the record's
    default manager does not filter: it must leave out a condition marked entered in error."""
    wrong = factories.ConditionFactory(person=tt.person, snomed_code="13645005")
    received = days_ago(20)
    referral = services.tt_referral_create(
        by=tt.nurse.user,
        person=tt.person,
        service=tt.service,
        source="A3",
        conditions=[tt.diabetes, wrong],
        received_date=received,
        problem_descriptor="F41.1",
    )
    type(wrong).objects.filter(pk=wrong.pk).update(
        entered_in_error_at=timezone.now(), entered_in_error_reason="Wrong person"
    )
    period = engine.Period(received - dt.timedelta(days=1), days_ago(0))
    referrals = engine.referrals_in([tt.service.pk], period)

    [row] = engine.extract(referrals, period).referrals
    assert row["conditions"] == [tt.diabetes.snomed_code]
    registers = engine.outcome_tables(referrals, period).registers.to_pylist()
    assert registers == [{"referral_id": str(referral.public_id), "register": "Diabetes"}]
