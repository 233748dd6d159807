"""Every shipped definition loads, and every threshold says where it comes from."""

from __future__ import annotations

import math
from typing import Protocol

import pytest

from wholecare.measures import (
    INSTRUMENT_CODES,
    Cutoff,
    Instrument,
    InstrumentDefinitionError,
    all_instruments,
    instrument,
)
from wholecare.measures.loader import definition_files, parse_instrument, read_definition


def test_codes_match_the_shipped_files() -> None:
    assert sorted(INSTRUMENT_CODES) == list(definition_files())


def test_all_instruments_in_code_order() -> None:
    assert tuple(m.code for m in all_instruments()) == INSTRUMENT_CODES


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_definition_loads(code: str) -> None:
    measure = instrument(code)
    assert measure.code == code
    assert measure.name
    assert measure.licence.strip()
    assert measure.item_count == len(measure.items) > 0


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_every_threshold_has_a_source(code: str) -> None:
    measure = instrument(code)
    for threshold in _thresholds(measure).values():
        if threshold is not None:
            assert threshold.source.strip()


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_unverified_names_exactly_the_unverified_values(code: str) -> None:
    measure = instrument(code)
    expected = {
        name
        for name, threshold in _thresholds(measure).items()
        if threshold is not None and not threshold.verified
    }
    assert set(measure.unverified) == expected


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_item_text_only_where_the_licence_allows(code: str) -> None:
    measure = instrument(code)
    if any(item.text for item in measure.items):
        assert "Item wording is shipped" in measure.licence
        assert all(item.text for item in measure.items)


class _Sourced(Protocol):
    @property
    def source(self) -> str: ...
    @property
    def verified(self) -> bool: ...


def _thresholds(measure: Instrument) -> dict[str, _Sourced | None]:
    return {
        "caseness": measure.caseness,
        "reliable_change": measure.reliable_change,
        "severity": measure.severity,
        "missing": measure.missing,
    }


def test_phq9_published_values() -> None:
    phq9 = instrument("PHQ9")
    assert phq9.caseness == Cutoff(10, True, True, phq9.caseness.source if phq9.caseness else "")
    assert phq9.reliable_change is not None
    assert phq9.reliable_change.value == 6
    assert (phq9.snomed, phq9.loinc) == ("720433000", "44261-6")
    assert (phq9.total_min, phq9.total_max, phq9.total_is_integer) == (0, 27, True)
    assert phq9.unverified == ()


def test_gad7_published_values() -> None:
    gad7 = instrument("GAD7")
    assert gad7.caseness is not None
    assert (gad7.caseness.value, gad7.caseness.inclusive) == (8, True)
    assert gad7.reliable_change is not None
    assert gad7.reliable_change.value == 4
    assert (gad7.snomed, gad7.loinc) == ("445455005", "70274-6")
    assert gad7.severity is not None
    assert [b.label for b in gad7.severity.bands] == ["minimal", "mild", "moderate", "severe"]


def test_is_valid_total() -> None:
    phq9 = instrument("PHQ9")
    assert phq9.is_valid_total(0)
    assert phq9.is_valid_total(27.0)
    assert not phq9.is_valid_total(28)
    assert not phq9.is_valid_total(-1)
    assert not phq9.is_valid_total(9.5)
    assert not phq9.is_valid_total(math.nan)


def _phq9_with(**changes: object) -> dict[str, object]:
    data = dict(read_definition("PHQ9"))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total": {"min": 0, "max": 30, "integer": True}}, "the items give"),
        ({"caseness": {"value": 10, "inclusive": True, "verified": True, "source": " "}}, "source"),
        ({"caseness": {"value": 10, "inclusive": True, "verified": True}}, "'source'"),
        (
            {"caseness": {"value": 40, "inclusive": True, "verified": True, "source": "x"}},
            "outside",
        ),
        ({"scoring": "median"}, "median"),
        ({"missing": {"max_missing": 9, "verified": True, "source": "x"}}, "max_missing"),
        (
            {
                "severity": {
                    "verified": True,
                    "source": "x",
                    "bands": [
                        {"label": "low", "lower": 0, "upper": 9},
                        {"label": "high", "lower": 11, "upper": 27},
                    ],
                }
            },
            "do not meet",
        ),
    ],
)
def test_inconsistent_definitions_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InstrumentDefinitionError, match=message):
        parse_instrument(_phq9_with(**changes))


def test_mobility_inventory_caseness_is_strict() -> None:
    mi = instrument("MI")
    assert mi.caseness is not None
    assert (mi.caseness.value, mi.caseness.inclusive, mi.caseness.verified) == (2.3, False, True)
    assert mi.at_caseness(2.3) is False
    assert mi.at_caseness(2.31) is True
    assert not mi.total_is_integer
    assert mi.is_valid_total(2.5)
    assert mi.severity_band(3.0) is None


def test_instrument_without_cutoff() -> None:
    assert instrument("WSAS").at_caseness(40) is None


def test_severity_band_outside_range_is_none() -> None:
    phq9 = instrument("PHQ9")
    assert phq9.severity_band(-1) is None
    assert phq9.severity_band(28) is None
    assert phq9.severity_band(14.625) == "moderate"


def test_instruments_are_frozen() -> None:
    with pytest.raises(AttributeError):
        instrument("PHQ9").code = "X"  # type: ignore[misc]


def test_item_lookup() -> None:
    gad7 = instrument("GAD7")
    assert gad7.item(7).text == "Feeling afraid as if something awful might happen"
    with pytest.raises(ValueError, match="GAD7 has items 1 to 7, not 8"):
        gad7.item(8)


def test_definition_without_code_is_refused() -> None:
    data = dict(read_definition("GAD7"))
    del data["code"]
    with pytest.raises(InstrumentDefinitionError, match=r"^<no code>: missing key 'code'$"):
        parse_instrument(data)


def test_unknown_risk_flag_is_refused() -> None:
    risk = {"item": 9, "positive_above": 0, "positive": "X", "not_answered": "X", "invalid": "X"}
    with pytest.raises(InstrumentDefinitionError, match="RiskFlag"):
        parse_instrument(_phq9_with(risk=[risk]))
