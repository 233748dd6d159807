"""factory_boy factories for the record. Synthetic people only: NHS numbers from the 999 test
range."""

import datetime as dt
import itertools

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.record import nhs_number
from wholecare.record.models import (
    CarePlan,
    CareTeamMembership,
    Condition,
    Person,
    RecordEntry,
    Referral,
    SocialCareNeed,
)

PASSWORD = "correct-horse-battery-staple"


def _test_range_nhs_numbers() -> "itertools.count[int]":
    return itertools.count(9990000000 // 10)


_numbers = _test_range_nhs_numbers()


def next_nhs_number() -> str:
    while True:
        first_nine = f"{next(_numbers):09d}"
        digit = nhs_number.check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    ods_code = factory.Sequence(lambda n: f"Z{n:05d}")
    name = factory.Sequence(lambda n: f"Test Medical Centre {n}")
    kind = Organisation.Kind.GP_PRACTICE


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    kind = Service.Kind.GENERAL_PRACTICE


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    user = factory.SubFactory(UserFactory)
    discipline = Discipline.GP
    organisation = factory.SubFactory(OrganisationFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    nhs_number = factory.LazyFunction(next_nhs_number)
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = dt.date(1958, 4, 12)
    sex = Person.Sex.FEMALE
    ethnic_category = "A"
    postcode = "TQ1 1AA"
    imd_decile = 4


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    person = factory.SubFactory(PersonFactory)
    snomed_code = "44054006"
    onset_date = dt.date(2015, 1, 1)
    recorded_by_discipline = Discipline.GP
    recorded_at = factory.LazyFunction(timezone.now)


class SocialCareNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialCareNeed

    person = factory.SubFactory(PersonFactory)
    need_code = "nutrition"
    status = SocialCareNeed.Status.AWAITING
    recorded_at = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyAttribute(lambda need: need.recorded_at)


class CareTeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamMembership

    person = factory.SubFactory(PersonFactory)
    staff = factory.SubFactory(StaffFactory)
    role = "Named GP"
    start_date = dt.date(2020, 1, 1)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    person = factory.SubFactory(PersonFactory)
    service = factory.SubFactory(ServiceFactory)
    received_date = dt.date(2026, 1, 5)

    class Params:
        closed = factory.Trait(
            status=Referral.Status.CLOSED,
            closed_date=dt.date(2026, 2, 1),
            outcome=Referral.Outcome.DISCHARGED,
        )


class RecordEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordEntry

    person = factory.SubFactory(PersonFactory)
    kind = RecordEntry.Kind.NOTE
    occurred_at = factory.LazyFunction(timezone.now)
    title = factory.Sequence(lambda n: f"Entry {n}")
    text = "Reviewed today."
    author = factory.SubFactory(StaffFactory)
    discipline = factory.LazyAttribute(lambda entry: entry.author.discipline)


class CarePlanFactory(factory.django.DjangoModelFactory):
    """A plan in force with no actions yet: add them with `plan.actions.create(...)`."""

    class Meta:
        model = CarePlan

    person = factory.SubFactory(PersonFactory)
    title = "Living well at home"
    what_matters = "Staying in my own home."
    review_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=90))
    agreed_with_person = True
    written_by = factory.SubFactory(StaffFactory)
    lead = factory.LazyAttribute(lambda plan: plan.written_by)
    written_at = factory.LazyFunction(timezone.now)
    changed_by = factory.LazyAttribute(lambda plan: plan.written_by)
    changed_at = factory.LazyAttribute(lambda plan: plan.written_at)
