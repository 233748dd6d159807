"""`_sort`: by `_lastUpdated`, `date` and each type's date parameters, `-` for descending, empty
values last either way, unknown parameters refused with 400 naming them, and paging that neither
repeats nor skips a resource when many share a sort value."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.fhir.test_delete import observation
from wholecare.fhir.registry import registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    return person


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


def _observations(api: Any, person: Any, days: list[int]) -> list[str]:
    ids = []
    for day in days:
        created = api.post(
            "/fhir/Observation", observation(person, f"2026-01-{day:02d}T09:00:00+00:00")
        )
        assert created.status_code == 201, created.content
        ids.append(created.json()["id"])
    return ids


def test_observations_sort_by_date_both_ways(gp_api, mine):
    ids = _observations(gp_api, mine, [12, 3, 25])
    url = f"/fhir/Observation?patient={mine.public_id}&_sort="
    assert _ids(gp_api.get(url + "date").json()) == [ids[1], ids[0], ids[2]]
    assert _ids(gp_api.get(url + "-date").json()) == [ids[2], ids[0], ids[1]]


def test_sort_by_last_updated_follows_writes(gp_api, mine):
    first, second = _observations(gp_api, mine, [1, 2])
    gp_api.put(f"/fhir/Observation/{first}", {**observation(mine), "id": first})
    url = f"/fhir/Observation?patient={mine.public_id}&_sort="
    assert _ids(gp_api.get(url + "_lastUpdated").json()) == [second, first]
    assert _ids(gp_api.get(url + "-_lastUpdated").json()) == [first, second]


def test_patients_sort_by_birthdate_and_name(gp_api, gp):
    born = [dt.date(1980, 1, 1), dt.date(1950, 6, 1), dt.date(2001, 3, 3)]
    people = [
        factories.PersonFactory(date_of_birth=day, family_name=name)
        for day, name in zip(born, ["Brown", "Clark", "Adams"], strict=True)
    ]
    for person in people:
        factories.CareTeamMembershipFactory(person=person, staff=gp)
    ids = [str(p.public_id) for p in people]
    assert _ids(gp_api.get("/fhir/Patient?_sort=-birthdate").json()) == [ids[2], ids[0], ids[1]]
    assert _ids(gp_api.get("/fhir/Patient?_sort=family").json()) == [ids[2], ids[0], ids[1]]


def test_conditions_sort_by_onset_with_unknown_onsets_last_either_way(gp_api, mine):
    early = factories.ConditionFactory(person=mine, onset_date=dt.date(2001, 1, 1))
    unknown = factories.ConditionFactory(person=mine, snomed_code="195967001", onset_date=None)
    late = factories.ConditionFactory(
        person=mine, snomed_code="73211009", onset_date=dt.date(2020, 1, 1)
    )
    url = f"/fhir/Condition?patient={mine.public_id}&_sort="
    ascending = gp_api.get(url + "onset-date").json()
    descending = gp_api.get(url + "-onset-date").json()
    onsets = [e["resource"].get("onsetDateTime") for e in ascending["entry"]]
    assert onsets == [early.onset_date.isoformat(), late.onset_date.isoformat(), None]
    onsets = [e["resource"].get("onsetDateTime") for e in descending["entry"]]
    assert onsets == [late.onset_date.isoformat(), early.onset_date.isoformat(), None]
    assert unknown.onset_date is None


def test_referrals_sort_by_authored(gp_api, mine):
    days = [dt.date(2026, 3, 1), dt.date(2025, 1, 1), dt.date(2026, 1, 1)]
    for day in days:
        factories.ReferralFactory(person=mine, received_date=day)
    found = gp_api.get(f"/fhir/ServiceRequest?patient={mine.public_id}&_sort=-authored").json()
    assert [e["resource"]["authoredOn"] for e in found["entry"]] == [
        d.isoformat() for d in sorted(days, reverse=True)
    ]


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/fhir/Observation?_sort=colour", "'colour'"),
        ("/fhir/Observation?_sort=date,-code", "'code'"),
        ("/fhir/Patient?_sort=gender", "'gender'"),
        ("/fhir/Flag?_sort=date", "'date'"),
        ("/fhir/AuditEvent?_sort=date", "'date'"),
    ],
)
def test_unsupported_sort_parameters_are_400_naming_them(gp_api, url, named):
    refused = gp_api.get(url)
    assert refused.status_code == 400
    issue = refused.json()["issue"][0]
    assert named in issue["diagnostics"]
    assert "_sort" in issue["diagnostics"]


def test_an_empty_sort_parameter_is_400(gp_api):
    refused = gp_api.get("/fhir/Observation?_sort=date,")
    assert refused.status_code == 400
    assert refused.json()["issue"][0]["expression"] == ["_sort"]


def test_lenient_handling_ignores_an_unknown_sort_and_says_so(gp_api, mine):
    _observations(gp_api, mine, [1])
    found = gp_api.get("/fhir/Observation?_sort=colour", Prefer="handling=lenient")
    assert found.status_code == 200
    outcome = found.json()["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert "'colour'" in outcome["resource"]["issue"][0]["diagnostics"]


def test_paging_links_keep_the_sort(gp_api, mine):
    ids = _observations(gp_api, mine, [5, 4, 3])
    first = gp_api.get(f"/fhir/Observation?patient={mine.public_id}&_sort=date&_count=2").json()
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_sort=date" in following
    second = gp_api.get(following.split("testserver", 1)[1]).json()
    assert _ids(first) + _ids(second) == [ids[2], ids[1], ids[0]]


class StablePaging(TestCase):
    """Whatever the dates (many of them equal) and page size, paging a sorted search visits every
    resource exactly once, in sorted order."""

    def setUp(self) -> None:
        self.gp = factories.StaffFactory(discipline="gp")
        self.person = factories.CareTeamMembershipFactory(staff=self.gp).person
        self.api = api_for(self.gp)

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        days=st.lists(st.integers(1, 3), min_size=1, max_size=7),
        count=st.integers(1, 3),
        descending=st.booleans(),
    )
    def test_pages_neither_repeat_nor_skip(self, days, count, descending) -> None:
        ids = _observations(self.api, self.person, days)
        sort = "-date" if descending else "date"
        url = f"/fhir/Observation?_id={','.join(ids)}&_sort={sort}&_count={count}"
        seen: list[str] = []
        dates: list[str] = []
        while url:
            page = self.api.get(url.split("testserver", 1)[-1]).json()
            seen += _ids(page)
            dates += [e["resource"]["effectiveDateTime"] for e in page["entry"]]
            url = next((lk["url"] for lk in page["link"] if lk["relation"] == "next"), "")
        assert sorted(seen) == sorted(ids)
        assert dates == sorted(dates, reverse=descending)


@pytest.mark.parametrize("resource_type", sorted(registered()))
def test_the_capability_statement_lists_what_sorts(gp_api, mine, resource_type):
    statement = gp_api.get("/fhir/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == resource_type)
    sort = next((p for p in entry["searchParam"] if p["name"] == "_sort"), None)
    sortable = sorted(registered()[resource_type].sortable())
    if not sortable:
        assert sort is None
        assert gp_api.get(f"/fhir/{resource_type}?_sort=_lastUpdated").status_code == 400
        return
    assert sort is not None
    assert f"Sort by {', '.join(sortable)};" in sort["documentation"]
    for name in sortable:
        for way in ("", "-"):
            found = gp_api.get(f"/fhir/{resource_type}?_sort={way}{name}")
            assert found.status_code == 200, found.content
