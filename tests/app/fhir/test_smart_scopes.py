"""The scopes an app may ask for at the authorization endpoint, and their plain-English meaning."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.fhir.registry import registered
from wholecare.fhir.scopes import (
    LAUNCH_SCOPES,
    PLAIN_TYPES,
    Context,
    InvalidScope,
    Permission,
    Scope,
    describe,
    parse_requested,
    parse_scope,
)

_letters = st.sets(st.sampled_from(list(Permission)), min_size=1)
_types = st.sampled_from(sorted(PLAIN_TYPES))
_app_scopes = st.builds(
    Scope, st.sampled_from([Context.PATIENT, Context.USER]), _types, _letters.map(frozenset)
)


def test_every_registered_type_has_a_plain_english_name() -> None:
    missing = set(registered()) - set(PLAIN_TYPES)
    assert not missing, (
        f"Say in scopes.PLAIN_TYPES what these hold, for the consent page: {missing}"
    )


@pytest.mark.parametrize(
    ("scope", "meaning"),
    [
        ("patient/*.rs", "See and search everything in the record for the person you choose"),
        (
            "user/Condition.cruds",
            "See, search, add, change and delete problems and diagnoses for the people whose"
            " records you may open",
        ),
        (
            "user/Observation.read",
            "See and search observations and measurements for the people"
            " whose records you may open",
        ),
        ("patient/Patient.r", "See personal details for the person you choose"),
    ],
)
def test_describe(scope: str, meaning: str) -> None:
    assert describe(parse_scope(scope)) == meaning


@given(
    st.lists(_app_scopes, min_size=1, max_size=4), st.sets(st.sampled_from(sorted(LAUNCH_SCOPES)))
)
def test_requested_scopes_round_trip(scopes: list[Scope], launch: set[str]) -> None:
    text = " ".join([*(str(s) for s in scopes), *sorted(launch)])
    requested = parse_requested(text)
    assert requested.scopes == tuple(scopes)
    assert set(requested.launch) == launch
    assert parse_requested(str(requested)) == requested
    assert requested.needs_patient == (
        "launch/patient" in launch or any(s.context is Context.PATIENT for s in scopes)
    )
    assert requested.refreshable == bool(launch & {"online_access", "offline_access"})
    for scope in scopes:
        assert describe(scope)[0].isupper()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "at least one SMART resource scope"),
        ("offline_access launch/patient", "at least one SMART resource scope"),
        ("user/*.rs openid", "'openid' is not a SMART scope"),
        ("user/*.rs fhirUser", "'fhirUser' is not a SMART scope"),
        ("user/*.rs launch", "'launch' is not a SMART scope"),
        ("system/*.rs", "system/ scopes are for back-end services"),
        ("user/*.x", "'user/*.x' is not a SMART scope"),
        ("user/*.", "'user/*.' is not a SMART scope"),
        ("user/*.sr", "'user/*.sr' is not a SMART scope"),
    ],
)
def test_unknown_or_unsuitable_scopes_are_refused_by_name(text: str, why: str) -> None:
    with pytest.raises(InvalidScope, match=why.replace("*", r"\*").replace(".", r"\.")):
        parse_requested(text)
