"""The sharing rule for sensitive entries (access/rules.py), as a golden table.

Source: Wholecare's consent model (docs/decisions/0002-access-control.md): without a recorded
decision only the disciplines providing that care read a sensitive entry; a recorded decision wins.
"""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.access.rules import (
    DEFAULT_READERS,
    Reader,
    discipline_may_read,
    person_reads_entry,
    readable_sensitivities,
    readers,
)
from wholecare.directory.disciplines import Discipline
from wholecare.record.vocabulary import Sensitivity

D = Discipline
S = Sensitivity

GOLDEN = [
    (S.NORMAL, D.HOMECARE_WORKER, {}, True, "normal entries are shared with the care team"),
    (
        S.PSYCHOLOGICAL_THERAPY,
        D.HIGH_INTENSITY_THERAPIST,
        {},
        True,
        "therapists read therapy notes",
    ),
    (S.PSYCHOLOGICAL_THERAPY, D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER, {}, True, "so do PWPs"),
    (S.PSYCHOLOGICAL_THERAPY, D.GP, {}, False, "a GP needs the person's consent"),
    (
        S.PSYCHOLOGICAL_THERAPY,
        D.GP,
        {("psychological-therapy", "gp"): "permit"},
        True,
        "consent given to GPs",
    ),
    (
        S.PSYCHOLOGICAL_THERAPY,
        D.HIGH_INTENSITY_THERAPIST,
        {("psychological-therapy", "therapist"): "deny"},
        False,
        "the person can withdraw a default",
    ),
    (
        S.PSYCHOLOGICAL_THERAPY,
        D.SOCIAL_WORKER,
        {("psychological-therapy", "gp"): "permit"},
        False,
        "consent to one discipline is not consent to another",
    ),
    (S.SAFEGUARDING, D.SOCIAL_WORKER, {}, True, "social workers lead safeguarding"),
    (S.SAFEGUARDING, D.HOMECARE_WORKER, {}, False, "homecare workers do not read safeguarding"),
    (S.SEXUAL_HEALTH, D.GP, {}, True, "GPs read sexual health entries"),
    (S.SEXUAL_HEALTH, D.PHYSIOTHERAPIST, {}, False, "physiotherapists do not"),
]


@pytest.mark.parametrize(("sensitivity", "discipline", "decisions", "expected", "why"), GOLDEN)
def test_golden(sensitivity, discipline, decisions, expected, why) -> None:
    assert discipline_may_read(sensitivity, discipline, decisions) is expected, why


@given(
    st.sampled_from(list(Discipline)),
    st.dictionaries(
        st.tuples(st.sampled_from([s.value for s in S]), st.sampled_from([d.value for d in D])),
        st.sampled_from(["permit", "deny"]),
    ),
)
def test_normal_always_readable_and_decisions_win(discipline, decisions) -> None:
    readable = readable_sensitivities(discipline, decisions)
    assert S.NORMAL in readable
    for sensitivity in DEFAULT_READERS:
        decision = decisions.get((sensitivity.value, discipline.value))
        if decision is not None:
            assert (sensitivity in readable) is (decision == "permit")


def test_readers_say_who_reads_and_whether_the_person_decided() -> None:
    decisions = {
        ("psychological-therapy", "gp"): "permit",
        ("psychological-therapy", "pwp"): "deny",
    }
    found = readers(
        S.PSYCHOLOGICAL_THERAPY,
        [D.GP, D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER, D.PSYCHIATRIST, D.PHARMACIST],
        decisions,
    )
    assert found == [
        Reader(D.GP, reads=True, decided=True),
        Reader(D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER, reads=False, decided=True),
        Reader(D.PSYCHIATRIST, reads=True, decided=False),
        Reader(D.PHARMACIST, reads=False, decided=False),
    ]


@given(
    st.sampled_from([s for s in S if s is not S.NORMAL]),
    st.dictionaries(
        st.tuples(st.sampled_from([s.value for s in S]), st.sampled_from([d.value for d in D])),
        st.sampled_from(["permit", "deny"]),
    ),
)
def test_readers_agree_with_the_rule(sensitivity, decisions) -> None:
    for reader in readers(sensitivity, list(D), decisions):
        assert reader.reads is discipline_may_read(sensitivity, reader.discipline, decisions)
        assert reader.decided is ((sensitivity.value, reader.discipline.value) in decisions)


ONLINE = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
BEFORE = ONLINE - dt.timedelta(seconds=1)

#: (sensitivity, written, withheld, online since, reads, why: decision 0040)
PERSON_READS = [
    (S.NORMAL, ONLINE, False, ONLINE, True, "written as online access began: prospective"),
    (S.NORMAL, BEFORE, False, ONLINE, False, "written before online access: not prospective"),
    (S.NORMAL, ONLINE, False, None, False, "no account, or switched off: no online access"),
    (S.NORMAL, ONLINE, True, ONLINE, False, "withheld by a clinician on one of the two grounds"),
    (S.PSYCHOLOGICAL_THERAPY, ONLINE, False, ONLINE, True, "their own therapy notes"),
    (S.SEXUAL_HEALTH, ONLINE, False, ONLINE, True, "the sharing rule is for other disciplines"),
    (S.SAFEGUARDING, ONLINE, False, ONLINE, False, "safeguarding is never shown to the person"),
]


@pytest.mark.parametrize(
    ("sensitivity", "written", "withheld", "since", "reads", "why"), PERSON_READS
)
def test_the_person_reads_an_entry_only_as_the_rule_says(
    sensitivity: Sensitivity,
    written: dt.datetime,
    withheld: bool,
    since: dt.datetime | None,
    reads: bool,
    why: str,
) -> None:
    assert (
        person_reads_entry(
            sensitivity=sensitivity, written_at=written, withheld=withheld, online_since=since
        )
        is reads
    ), why
