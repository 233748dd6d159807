"""Prepared queries (`wholecare.fhir.prepared`) find exactly what the ORM finds for the same
values: the Patient read's access-checked lookup against `openable_people` on every route to a
record, and the bearer token lookup."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests import factories
from wholecare.access.models import BreakGlassAccess
from wholecare.directory.disciplines import Discipline
from wholecare.fhir.access import openable_people, openable_person
from wholecare.fhir.auth import Grant, client_register, grant_for, token_issue
from wholecare.fhir.base import unique_row
from wholecare.fhir.errors import FhirError
from wholecare.fhir.prepared import PreparedQuery, Slot
from wholecare.fhir.scopes import Permission, parse_scopes
from wholecare.record.models import Person

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


class PatientReadTests(TestCase):
    @settings(max_examples=80)
    @given(
        team=st.sampled_from(["none", "current", "ended yesterday", "ends today", "from tomorrow"]),
        referral=st.sampled_from(["none", "open", "closed", "open elsewhere"]),
        glass=st.sampled_from(["none", "active", "expired"]),
        discipline=st.sampled_from([Discipline.GP, Discipline.SOCIAL_WORKER, Discipline.ANALYST]),
        scope=st.sampled_from(["user/*.rs", "patient/*.rs this", "patient/*.rs other"]),
    )
    def test_the_prepared_read_finds_what_openable_people_finds(
        self, team: str, referral: str, glass: str, discipline: Discipline, scope: str
    ) -> None:
        staff = factories.StaffFactory(discipline=discipline)
        theirs = factories.ServiceFactory()
        staff.services.add(theirs)
        person, other = factories.PersonFactory(), factories.PersonFactory()
        if team != "none":
            start, end = {
                "current": (TODAY - 30 * DAY, None),
                "ended yesterday": (TODAY - 30 * DAY, TODAY - DAY),
                "ends today": (TODAY - 30 * DAY, TODAY),
                "from tomorrow": (TODAY + DAY, None),
            }[team]
            factories.CareTeamMembershipFactory(
                person=person, staff=staff, start_date=start, end_date=end
            )
        if referral != "none":
            factories.ReferralFactory(
                person=person,
                service=factories.ServiceFactory() if referral == "open elsewhere" else theirs,
                closed=referral == "closed",
            )
        if glass != "none":
            now = timezone.now()
            BreakGlassAccess.objects.create(
                staff=staff,
                person=person,
                reason="Unconscious in A&E",
                started_at=now - dt.timedelta(hours=2),
                expires_at=now + dt.timedelta(hours=1 if glass == "active" else -1),
            )
        text, _, whose = scope.partition(" ")
        client, _ = client_register(name="app", staff=staff, allowed_scopes=text)
        patient = {"": None, "this": person, "other": other}[whose]
        grant = Grant(staff=staff, client=client, scopes=parse_scopes(text), patient=patient)

        for public_id in (person.public_id, other.public_id, uuid.uuid4()):
            expected = unique_row(
                openable_people(grant, "Patient", Permission.READ).filter(public_id=public_id)
            )
            assert openable_person(grant, "Patient", Permission.READ, public_id) == expected
        if team == "current" and discipline is not Discipline.ANALYST and whose != "other":
            assert openable_person(grant, "Patient", Permission.READ, person.public_id) == person


@pytest.mark.django_db
def test_the_prepared_read_loads_the_registered_practice_in_the_same_query(
    gp, person, django_assert_num_queries
) -> None:
    person.registered_practice = gp.organisation
    person.save()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    client, _ = client_register(name="app", staff=gp, allowed_scopes="user/*.rs")
    grant = Grant(staff=gp, client=client, scopes=parse_scopes("user/*.rs"), patient=None)
    with django_assert_num_queries(1):
        found = openable_person(grant, "Patient", Permission.READ, person.public_id)
        assert found is not None
        assert found.registered_practice is not None
        assert found.registered_practice.ods_code == gp.organisation.ods_code


@pytest.mark.django_db
def test_the_prepared_read_still_refuses_a_scope_that_does_not_allow_it(gp, person) -> None:
    client, _ = client_register(name="app", staff=gp, allowed_scopes="user/Condition.rs")
    grant = Grant(staff=gp, client=client, scopes=parse_scopes("user/Condition.rs"), patient=None)
    with pytest.raises(FhirError) as refused:
        openable_person(grant, "Patient", Permission.READ, person.public_id)
    assert refused.value.status == 403


@pytest.mark.django_db
def test_the_prepared_token_lookup_finds_live_tokens_only(gp) -> None:
    client, _ = client_register(name="app", staff=gp, allowed_scopes="user/*.rs")
    token, _ = token_issue(client=client, scope="user/*.rs")
    grant = grant_for(f"Bearer {token}")
    assert grant is not None
    assert (grant.staff, grant.client) == (gp, client)
    client.tokens.update(expires_at=timezone.now() - DAY)
    with pytest.raises(FhirError):
        grant_for(f"Bearer {token}")


@pytest.mark.django_db
def test_a_prepared_query_takes_exactly_its_slots() -> None:
    people = PreparedQuery(
        Person.objects.filter(family_name=Slot("name", Person._meta.get_field("family_name")))
    )
    factories.PersonFactory(family_name="Okafor")
    assert [p.family_name for p in people.rows(name="Okafor")] == ["Okafor"]
    assert people.rows(name="Nobody") == []
    with pytest.raises(ValueError, match="name"):
        people.rows()
    with pytest.raises(ValueError, match="name"):
        people.rows(name="Okafor", other="x")
    with pytest.raises(ValueError, match="at least one Slot"):
        PreparedQuery(Person.objects.all()).rows()
