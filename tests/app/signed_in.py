"""Test clients signed in as a member of staff, or as a person to their own record."""

import datetime as dt
from typing import Any

from django.test import Client

from tests import factories


def signed_in(staff: Any) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def on_care_team(discipline: str, person: Any) -> tuple[Any, Client]:
    """A new member of staff of `discipline` on the person's care team, and their client."""
    staff = factories.StaffFactory(discipline=discipline)
    factories.CareTeamMembershipFactory(person=person, staff=staff)
    return staff, signed_in(staff)


def signed_in_as_person(person: Any, *, online_since: dt.datetime | None = None) -> Client:
    """The person, given an account (set up at `online_since`, when given: decision 0040),
    signed in to their own record."""
    joined = {} if online_since is None else {"date_joined": online_since}
    person.user = factories.UserFactory(**joined)
    person.save()
    client = Client()
    client.force_login(person.user)
    return client
