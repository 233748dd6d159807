"""Fixtures of the app's tests beyond the foundation's (`tests/conftest.py`), for the tests of
medicines notes and requests to the prescriber on the pages and through the API: the lists of a
person the GP practice and a heart failure clinic both prescribe for, and of one whose mental
health trust sends a therapy record; reconciliations that ask the practice to correct its list."""

import pytest
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import medicine_taken, send_as
from tests.app.signed_in import on_care_team
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Staff
from wholecare.medicines import selectors, services
from wholecare.medicines.models import PrescriberRequest
from wholecare.medicines.reconciliation import Decision
from wholecare.record.models import Person, RecordEntry


@pytest.fixture
def clinic() -> Staff:
    return factories.StaffFactory(
        discipline=Discipline.PHARMACIST,
        organisation=factories.OrganisationFactory(
            name="Torbay Hospital heart failure clinic", kind=Organisation.Kind.ACUTE_TRUST
        ),
    )


@pytest.fixture
def lists(gp: Staff, clinic: Staff, person: Person) -> Person:
    """The practice lists furosemide at one tablet, the clinic at two; the clinic alone lists
    dapagliflozin."""
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    factories.CareTeamMembershipFactory(person=person, staff=clinic)
    send_as(gp, medicine_taken(person, "Furosemide 40mg tablets", dosage="One each morning"))
    send_as(clinic, medicine_taken(person, "Furosemide 40mg tablets", dosage="Two each morning"))
    send_as(clinic, medicine_taken(person, "Dapagliflozin 10mg tablets"))
    return person


def asked_of_practice(by: Staff, person: Person, gp: Staff) -> PrescriberRequest:
    """A reconciliation by `by` asking the practice to add dapagliflozin (medicine 1)."""
    compared = selectors.comparison(by, person, timezone.localdate())
    services.reconcile(
        by=by.user,
        person=person,
        fingerprint=compared.fingerprint,
        found={
            1: (Decision.PRESCRIBER_ASKED.value, "Started in clinic on 2 Nov; not on GP list."),
            2: (Decision.INTENDED.value, "Doubled in clinic."),
        },
        asked_of={1: gp.organisation.ods_code},
        checked_with=["person"],
    )
    return PrescriberRequest.objects.get()


PSY = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]}


@pytest.fixture
def therapy_medicine(gp: Staff, person: Person) -> Staff:
    """The GP practice lists atorvastatin; the mental health trust lists mirtazapine as a
    psychological therapy record, which the GP (not a default reader) does not read. Returns the
    psychiatrist, who reads both."""
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    psychiatrist: Staff = on_care_team(Discipline.PSYCHIATRIST, person)[0]
    send_as(gp, medicine_taken(person, "Atorvastatin 20mg tablets"))
    send_as(psychiatrist, medicine_taken(person, "Mirtazapine 15mg tablets", meta=PSY))
    return psychiatrist


def reconcile_asking(by: Staff, person: Person, ask: str = "") -> RecordEntry:
    """Reconcile as `by`, asking `ask` (an ODS code) to correct every medicine whose lists
    differ, or finding each difference intended."""
    compared = selectors.comparison(by, person, timezone.localdate())
    differing = [n for n, m in enumerate(compared.medicines, start=1) if m.differences]
    found = dict.fromkeys(range(1, len(compared.medicines) + 1), (Decision.AS_LISTED.value, ""))
    decision = Decision.PRESCRIBER_ASKED if ask else Decision.INTENDED
    found.update(dict.fromkeys(differing, (decision.value, "Not on the practice list.")))
    return services.reconcile(
        by=by.user,
        person=person,
        fingerprint=compared.fingerprint,
        found=found,
        asked_of=dict.fromkeys(differing, ask),
        checked_with=["person"],
    ).entry
