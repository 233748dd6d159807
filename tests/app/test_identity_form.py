"""The web form that records identity details that were not known (an NHS number allocated to a
newborn): only unknown details are offered, bad input is refused with the field named, and a
known detail is never changed."""

import datetime as dt

import pytest
from django.urls import reverse

from tests import factories
from wholecare.access.models import AuditEvent
from wholecare.record.models import Person

pytestmark = pytest.mark.django_db

ALLOCATED = "9990000026"


@pytest.fixture
def newborn(gp):
    baby = factories.PersonFactory(
        nhs_number=None, given_name="", family_name="Baby of Okafor", date_of_birth=None
    )
    factories.CareTeamMembershipFactory(person=baby, staff=gp)
    return baby


def _url(person: Person) -> str:
    return reverse("web:person-identity", kwargs={"public_id": person.public_id})


def test_the_summary_links_to_the_form_only_while_a_detail_is_not_known(client, gp, newborn):
    client.force_login(gp.user)
    summary = reverse("web:person", kwargs={"public_id": newborn.public_id})
    assert "Record details that were not known" in client.get(summary).content.decode()
    page = client.get(_url(newborn)).content.decode()
    assert 'name="nhs_number"' in page
    assert 'name="given_name"' in page
    assert 'name="date_of_birth_0"' in page
    assert 'name="family_name"' not in page, "a known detail is not offered"
    Person.objects.filter(pk=newborn.pk).update(
        nhs_number=ALLOCATED, given_name="Ada", date_of_birth=dt.date(2026, 11, 1)
    )
    assert "Record details that were not known" not in client.get(summary).content.decode()
    assert client.get(_url(newborn)).status_code == 302


def test_an_allocated_nhs_number_and_birth_date_are_recorded_and_audited(client, gp, newborn):
    client.force_login(gp.user)
    response = client.post(
        _url(newborn),
        {
            "nhs_number": "999 000 0026",
            "date_of_birth_0": "1",
            "date_of_birth_1": "11",
            "date_of_birth_2": "2026",
        },
    )
    assert response.status_code == 302
    newborn.refresh_from_db()
    assert (newborn.nhs_number, newborn.date_of_birth, newborn.given_name) == (
        ALLOCATED,
        dt.date(2026, 11, 1),
        "",
    )
    assert AuditEvent.objects.filter(
        person_id=newborn.pk, what__contains="date_of_birth, nhs_number"
    ).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"nhs_number": "9990000010"}, "nhs_number", "check digit"),
        ({"nhs_number": " ", "given_name": ""}, None, "Enter at least one of the details"),
        (
            {"date_of_birth_0": "1", "date_of_birth_2": "2026"},
            "date_of_birth",
            "day, month and year",
        ),
        ({"nhs_number": "taken"}, "nhs_number", "already on the record"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, gp, newborn, data, field, message):
    if data.get("nhs_number") == "taken":
        factories.PersonFactory(nhs_number=ALLOCATED)
        data = {"nhs_number": ALLOCATED}
    client.force_login(gp.user)
    response = client.post(_url(newborn), data)
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field or "__all__")
    assert errors, form.errors
    assert message in " ".join(errors)
    assert "There is a problem" in response.content.decode()
    newborn.refresh_from_db()
    assert (newborn.nhs_number, newborn.date_of_birth) == (None, None)


def test_someone_without_a_relationship_is_refused(client, newborn):
    outsider = factories.StaffFactory()
    client.force_login(outsider.user)
    response = client.post(_url(newborn), {"nhs_number": ALLOCATED})
    assert response.status_code == 403
    newborn.refresh_from_db()
    assert newborn.nhs_number is None
