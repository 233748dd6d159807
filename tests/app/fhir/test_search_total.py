"""A search Bundle's `total` is the number of matches on every page, whether it is counted or
known from a short last page (which spares the count query), and past the end too."""

import pytest

from tests import factories
from tests.app.fhir.test_sort import _observations

pytestmark = pytest.mark.django_db

PAGES = [(count, offset) for count in (0, 1, 2, 3, 5, 6) for offset in (0, 1, 2, 4, 5, 7)]


@pytest.mark.parametrize(("count", "offset"), PAGES)
def test_patient_total_on_every_page(gp_api, gp, count, offset):
    for _ in range(5):
        factories.CareTeamMembershipFactory(staff=gp)
    found = gp_api.get(f"/fhir/Patient?_count={count}&_offset={offset}").json()
    assert found["total"] == 5
    assert len(found.get("entry", [])) == max(0, min(count, 5 - offset))


@pytest.mark.parametrize(("count", "offset"), PAGES)
def test_kept_resource_total_on_every_page(gp_api, gp, person, count, offset):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    _observations(gp_api, person, [1, 2, 3, 4, 5])
    found = gp_api.get(
        f"/fhir/Observation?patient={person.public_id}&_count={count}&_offset={offset}"
    ).json()
    assert found["total"] == 5
    assert len(found.get("entry", [])) == max(0, min(count, 5 - offset))
