"""A Talking Therapies service co-located in a GP practice, its staff, and a person with diabetes
on the practice nurse's care team. Synthetic people only."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.record.models import Condition, Person
from wholecare.talking_therapies import services
from wholecare.talking_therapies.models import TTReferral

PHQ9_SEVERE = [3, 3, 2, 2, 2, 2, 2, 2, 0]  # 18, item 9 = 0
GAD7_MODERATE = [2, 2, 2, 2, 1, 1, 2]  # 12
PHQ9_WELL = [1, 1, 0, 1, 0, 0, 1, 0, 0]  # 4
GAD7_WELL = [1, 0, 1, 0, 1, 0, 0]  # 3


@dataclass
class Setting:
    practice: Organisation
    service: Service
    nurse: Staff
    pwp: Staff
    therapist: Staff
    manager: Staff
    person: Person
    diabetes: Condition


@pytest.fixture
def tt(db: None) -> Setting:
    practice = factories.OrganisationFactory(name="Harbour Street Surgery")
    service = factories.ServiceFactory(
        organisation=practice,
        name="Talking Therapies at Harbour Street",
        kind=Service.Kind.TALKING_THERAPIES,
    )

    def member(discipline: Discipline, username: str) -> Staff:
        staff = factories.StaffFactory(
            discipline=discipline, organisation=practice, user__username=username
        )
        if discipline is not Discipline.PRACTICE_NURSE:
            staff.services.add(service)
        return staff

    nurse = member(Discipline.PRACTICE_NURSE, "nurse")
    person = factories.PersonFactory(
        given_name="Ada", family_name="Trelawney", registered_practice=practice
    )
    diabetes = factories.ConditionFactory(person=person, snomed_code="44054006")
    factories.CareTeamMembershipFactory(person=person, staff=nurse, role="Practice nurse")
    return Setting(
        practice=practice,
        service=service,
        nurse=nurse,
        pwp=member(Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER, "pwp"),
        therapist=member(Discipline.HIGH_INTENSITY_THERAPIST, "therapist"),
        manager=member(Discipline.SERVICE_MANAGER, "manager"),
        person=person,
        diabetes=diabetes,
    )


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def refer(s: Setting, received: int = 60, **extra: Any) -> TTReferral:
    return services.tt_referral_create(
        by=s.nurse.user,
        person=s.person,
        service=s.service,
        source="A3",
        conditions=[s.diabetes],
        received_date=days_ago(received),
        **extra,
    )


def refer_someone_else(
    s: Setting,
    received: int,
    *,
    snomed: str = "44054006",
    recorded_by: Discipline = Discipline.GP,
    source: str = "A3",
    **person: Any,
) -> TTReferral:
    """Another person on the practice nurse's care team, with one long-term condition (recorded
    by `recorded_by`), referred by the nurse `received` days ago."""
    someone = factories.PersonFactory(**person)
    factories.CareTeamMembershipFactory(person=someone, staff=s.nurse)
    condition = factories.ConditionFactory(
        person=someone, snomed_code=snomed, recorded_by_discipline=recorded_by
    )
    return services.tt_referral_create(
        by=s.nurse.user,
        person=someone,
        service=s.service,
        source=source,
        conditions=[condition],
        received_date=days_ago(received),
    )


def contact(s: Setting, referral: TTReferral, day: dt.date, kind: str = "treatment", **extra: Any):
    values = {
        "attendance": "5",
        "mode": "gp-surgery",
        "intensity": "low",
        **extra,
    }
    return services.contact_record(
        by=s.pwp.user, referral=referral, starts_at=at(day), kind=kind, **values
    )


def score(
    s: Setting, referral: TTReferral, measure: str, answers: Sequence[int | None], day: dt.date
):
    return services.measure_record(
        by=s.pwp.user,
        person=s.person,
        referral=referral,
        measure=measure,
        answers=answers,
        measured_on=day,
    )


def discharge(s: Setting, referral: TTReferral, day: dt.date | None = None) -> TTReferral:
    """Discharged by the PWP as treatment completed (ending reason 46), yesterday by default."""
    return services.tt_referral_discharge(
        by=s.pwp.user,
        referral=referral,
        discharge_date=day or days_ago(1),
        ending_reason="46",
        version=referral.version,
    )


def treated_course(s: Setting, received: int = 60) -> TTReferral:
    """Assessed at caseness, step 2 with the PWP, three treatments, well at the end."""
    referral = refer(s, received)
    contact(s, referral, days_ago(received - 5), kind="assessment")
    score(s, referral, "PHQ9", [2, 2, 1, 2, 1, 1, 1, 1, 0], days_ago(received - 5))  # 11
    score(s, referral, "GAD7", GAD7_MODERATE, days_ago(received - 5))
    referral.refresh_from_db()
    referral = services.step_allocate(
        by=s.pwp.user, referral=referral, step="low", clinician=s.pwp, version=referral.version
    )
    for offset in (40, 30, 20):
        contact(s, referral, days_ago(offset), therapy_type="1026111000000108")
    score(s, referral, "PHQ9", PHQ9_WELL, days_ago(20))
    score(s, referral, "GAD7", GAD7_WELL, days_ago(20))
    referral.refresh_from_db()
    return referral
