"""Writing the synthetic area and population to the database, and the demo sign-ins.

`load_demo` is what `wholecare demo` runs, and what other tests call to build a small demonstration
area inside a test database. People are generated in batches and written with `bulk_create` inside
one transaction, so memory stays flat however many people are loaded. Loading is a system action:
it writes one audit event for the whole population, not one per row.
"""

import datetime as dt
import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from tqdm import tqdm

from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent, ProxyAccess, SharingConsent
from wholecare.demo import allergies, population, reconciliation
from wholecare.demo.population import (
    AllergySpec,
    AppointmentSpec,
    Area,
    MedicineSpec,
    PersonSpec,
)
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir.base import StoredType
from wholecare.fhir.mappers.allergy_intolerance import (
    CLINICAL,
    VERIFICATION,
    AllergyIntoleranceType,
)
from wholecare.fhir.mappers.appointment import AppointmentType
from wholecare.fhir.mappers.medication import MedicationStatementType
from wholecare.fhir.models import Resource, ResourceVersion, SearchToken
from wholecare.record import nhs_number, services, vocabulary
from wholecare.record.models import (
    Alert,
    CarePlan,
    CarePlanAction,
    CareTeamMembership,
    Condition,
    Person,
    RecordEntry,
    Referral,
    SocialCareNeed,
)
from wholecare.record.vocabulary import Sensitivity

PASSWORD_VARIABLE = "WHOLECARE_DEMO_PASSWORD"  # noqa: S105 (the variable's name, not a password)
PATIENT_USERNAME = "demo-patient"
#: How long the demonstration's patient has used their record online: they read the notes
#: written since (decision 0040).
PATIENT_ONLINE_FOR = dt.timedelta(days=365)
CARER_USERNAME = "demo-carer"
#: The demonstration's carer reads the record of the frail woman at home, her mother, on her
#: behalf (decision 0041), and has done for this long.
CARED_FOR_SCENARIO = "frail-at-home"
CARER_ACTING_FOR = dt.timedelta(days=180)
PEOPLE_PER_BATCH = 500
ROWS_PER_INSERT = 1000
#: The time of day the demonstration's services accept referrals.
ACCEPTED_AT = dt.time(11, 0)
#: When the GP practice's system sent each medicine or allergy: the day it was recorded, started or
#: stopped, at this time.
SENT_AT = dt.time(9, 0)
#: How long a review the GP practice books lasts.
REVIEW_LENGTH = dt.timedelta(minutes=20)
SNOMED_CT = "http://snomed.info/sct"
"""At most this many rows in one INSERT (SQLite's bound-parameter limit may make it fewer)."""


class DemoAlreadyLoaded(Exception):
    """The database already holds people: loading again would double the population."""


@dataclass(frozen=True)
class SignIn:
    username: str
    role: str
    try_this: str


@dataclass(frozen=True)
class DemoResult:
    password: str
    sign_ins: tuple[SignIn, ...]
    people: int
    loaded: bool
    """False when people were already there and only the sign-ins were reset."""
    examples: dict[str, str]
    """NHS numbers of people worth opening, by what they show (see `examples`)."""

    @property
    def usernames(self) -> tuple[str, ...]:
        return tuple(s.username for s in self.sign_ins)


def demo_usernames() -> tuple[str, ...]:
    return (*(f"demo-{d.value}" for d in Discipline), PATIENT_USERNAME, CARER_USERNAME)


def demo_password(explicit: str | None = None) -> str:
    """The given password, else WHOLECARE_DEMO_PASSWORD, else a new random one."""
    return explicit or os.environ.get(PASSWORD_VARIABLE) or secrets.token_urlsafe(12)


def load_demo(
    *,
    people: int,
    seed: int,
    password: str | None = None,
    progress: bool = False,
) -> DemoResult:
    """Build the demonstration area with `people` people; refuse if anyone is already there."""
    if Person.objects.exists():
        raise DemoAlreadyLoaded(
            f"The database already holds {Person.objects.count():,} people; the demonstration "
            "population is loaded only into an empty database"
        )
    secret = demo_password(password)
    as_of = timezone.localdate()
    area = population.build_area(people=people, seed=seed)
    specs = population.generate_people(area, people=people, seed=seed, as_of=as_of)
    with transaction.atomic():
        loader = _Loader(area, make_password(secret))
        with tqdm(
            total=people, unit="people", desc="Loading demo", file=sys.stderr, disable=not progress
        ) as bar:
            for batch in _batches(specs, PEOPLE_PER_BATCH):
                loader.people(batch)
                bar.update(len(batch))
        reconciliation.ask_the_practice(
            Person.objects.filter(proxies__proxy__username=CARER_USERNAME).first()
        )
        audit(
            by=loader.users["demo-administrator"],
            action=AuditEvent.Action.CREATE,
            person=None,
            what=f"demo population loaded: {people} people, seed {seed}",
        )
    return _result(secret, loaded=True)


def reset_sign_ins(*, password: str | None = None) -> DemoResult:
    """Set a (new) password on the demo sign-ins that exist, leaving everything else alone."""
    secret = demo_password(password)
    encoded = make_password(secret)
    with transaction.atomic():
        get_user_model().objects.filter(username__in=demo_usernames()).update(
            password=encoded, is_active=True
        )
    return _result(secret, loaded=False)


def _batches(items: Iterator[PersonSpec], size: int) -> Iterator[list[PersonSpec]]:
    while batch := list(islice(items, size)):
        yield batch


class _Loader:
    """Writes the area once, then people batch by batch, mapping the generator's keys to row ids."""

    def __init__(self, area: Area, demo_password_hash: str) -> None:
        User = get_user_model()
        self.organisations = {
            spec.key: org.pk
            for spec, org in zip(
                area.organisations,
                Organisation.objects.bulk_create(
                    Organisation(ods_code=o.ods_code, name=o.name, kind=o.kind, postcode=o.postcode)
                    for o in area.organisations
                ),
                strict=True,
            )
        }
        self.services = {
            spec.key: service.pk
            for spec, service in zip(
                area.services,
                Service.objects.bulk_create(
                    Service(
                        organisation_id=self.organisations[s.organisation], name=s.name, kind=s.kind
                    )
                    for s in area.services
                ),
                strict=True,
            )
        }
        self.demo_password_hash = demo_password_hash
        users = User.objects.bulk_create(
            [
                User(
                    username=s.username,
                    first_name=s.given_name,
                    last_name=s.family_name,
                    email=f"{s.username}@example.org",
                    password=demo_password_hash if s.demo else make_password(None),
                )
                for s in area.staff
            ],
            batch_size=ROWS_PER_INSERT,
        )
        self.users = {u.get_username(): u for u in users}
        staff = Staff.objects.bulk_create(
            [
                Staff(
                    user=user,
                    discipline=s.discipline.value,
                    organisation_id=self.organisations[s.organisation],
                    professional_registration=s.registration,
                )
                for s, user in zip(area.staff, users, strict=True)
            ],
            batch_size=ROWS_PER_INSERT,
        )
        self.members = {s.key: member for s, member in zip(area.staff, staff, strict=True)}
        self.staff = {key: member.pk for key, member in self.members.items()}
        Staff.services.through.objects.bulk_create(
            [
                Staff.services.through(staff_id=self.staff[s.key], service_id=self.services[key])
                for s in area.staff
                for key in s.services
            ],
            batch_size=ROWS_PER_INSERT,
        )

    def people(self, batch: list[PersonSpec]) -> None:
        created = Person.objects.bulk_create(
            [self.person(spec) for spec in batch], batch_size=ROWS_PER_INSERT
        )
        staff, services = self.staff, self.services
        conditions, needs, team, referrals, consents, alerts, entries = [], [], [], [], [], [], []
        for spec, person in zip(batch, created, strict=True):
            pk = person.pk
            conditions += [
                Condition(
                    person_id=pk,
                    snomed_code=c.snomed,
                    onset_date=c.onset,
                    clinical_status=c.status,
                    recorded_by_id=staff.get(c.recorded_by or ""),
                    recorded_by_discipline=c.discipline.value,
                    recorded_at=c.recorded_at,
                )
                for c in spec.conditions
            ]
            needs += [
                SocialCareNeed(
                    person_id=pk,
                    need_code=n.code,
                    status=n.status,
                    recorded_by_id=staff.get(n.recorded_by or ""),
                    recorded_at=n.recorded_at,
                    status_changed_by_id=staff.get(n.recorded_by or ""),
                    status_changed_at=n.recorded_at,
                )
                for n in spec.needs
            ]
            team += [
                CareTeamMembership(
                    person_id=pk,
                    staff_id=staff[m.staff],
                    role=m.role,
                    start_date=m.start,
                    end_date=m.end,
                )
                for m in spec.care_team
            ]
            referrals += [
                Referral(
                    person_id=pk,
                    service_id=services[r.service],
                    referred_by_id=staff.get(r.referred_by or ""),
                    received_date=r.received,
                    reason=r.reason,
                    status=r.status,
                    closed_date=r.closed,
                    outcome=r.outcome,
                    outcome_note=r.outcome_note,
                    closed_by_id=staff.get(r.closed_by or ""),
                    accepted_at=None
                    if r.accepted is None
                    else timezone.make_aware(dt.datetime.combine(r.accepted, ACCEPTED_AT)),
                )
                for r in spec.referrals
            ]
            consents += [
                SharingConsent(
                    person_id=pk,
                    sensitivity=c.sensitivity.value,
                    discipline=c.discipline.value,
                    decision=c.decision,
                    recorded_by_id=staff.get(c.recorded_by or ""),
                    recorded_at=c.recorded_at,
                )
                for c in spec.consents
            ]
            alerts += [
                Alert(
                    person_id=pk,
                    category=a.category,
                    text=a.text,
                    raised_by_id=staff.get(a.raised_by or ""),
                    raised_at=a.raised_at,
                )
                for a in spec.alerts
            ]
            entries += [
                RecordEntry(
                    public_id=e.public_id,
                    person_id=pk,
                    kind=e.kind,
                    occurred_at=e.occurred_at,
                    title=e.title,
                    text=e.text,
                    author_id=staff[e.author],
                    discipline=e.discipline.value,
                    service_id=services[e.service] if e.service else None,
                    sensitivity=e.sensitivity.value,
                )
                for e in spec.entries
            ]
        Condition.objects.bulk_create(conditions, batch_size=ROWS_PER_INSERT)
        SocialCareNeed.objects.bulk_create(needs, batch_size=ROWS_PER_INSERT)
        CareTeamMembership.objects.bulk_create(team, batch_size=ROWS_PER_INSERT)
        Referral.objects.bulk_create(referrals, batch_size=ROWS_PER_INSERT)
        SharingConsent.objects.bulk_create(consents, batch_size=ROWS_PER_INSERT)
        Alert.objects.bulk_create(alerts, batch_size=ROWS_PER_INSERT)
        entries += self.care_plans(batch, created)
        for spec, person in zip(batch, created, strict=True):
            if spec.scenario == CARED_FOR_SCENARIO:
                self.carer(spec, person)
        self.sent_from_gp_systems(batch, created)
        RecordEntry.objects.bulk_create(entries, batch_size=ROWS_PER_INSERT)
        # The demonstration's notes were written as they happened, not when it was loaded.
        RecordEntry.objects.filter(person__in=created).update(created_at=F("occurred_at"))

    def care_plans(self, batch: list[PersonSpec], created: list[Person]) -> list[RecordEntry]:
        """The batch's care plans and their actions, and the timeline notes of their writing."""
        written = [
            (
                person,
                spec_plan,
                CarePlan(
                    person=person,
                    title=spec_plan.text.title,
                    what_matters=spec_plan.text.what_matters,
                    if_things_change=spec_plan.text.if_things_change,
                    review_date=spec_plan.review_date,
                    agreed_with_person=True,
                    lead=self.members[spec_plan.written_by],
                    written_by_id=self.staff[spec_plan.written_by],
                    written_at=spec_plan.written_at,
                    changed_by_id=self.staff[spec_plan.written_by],
                    changed_at=spec_plan.written_at,
                ),
            )
            for spec, person in zip(batch, created, strict=True)
            for spec_plan in spec.care_plans
        ]
        CarePlan.objects.bulk_create([plan for _, _, plan in written], batch_size=ROWS_PER_INSERT)
        actions: list[CarePlanAction] = []
        notes = []
        for person, spec_plan, plan in written:
            its_actions = [
                CarePlanAction(plan=plan, position=n, what=what, who=who, status=status)
                for n, ((what, who), status) in enumerate(
                    zip(spec_plan.text.actions, spec_plan.statuses, strict=True), start=1
                )
            ]
            actions += its_actions
            notes.append(
                RecordEntry(
                    person_id=person.pk,
                    kind=RecordEntry.Kind.NOTE,
                    occurred_at=plan.written_at,
                    title=services.care_plan_note_title(plan, "written"),
                    text=services.care_plan_text(plan, its_actions),
                    author_id=plan.written_by_id,
                    discipline=spec_plan.discipline.value,
                )
            )
        CarePlanAction.objects.bulk_create(actions, batch_size=ROWS_PER_INSERT)
        return notes

    def sent_from_gp_systems(self, batch: list[PersonSpec], created: list[Person]) -> None:
        """The batch's MedicationStatements and AllergyIntolerances, kept whole and indexed
        exactly as the FHIR API keeps those a GP practice's (or a hospital clinic's) system
        sends (decisions 0037 and 0038), each sent on the day it was recorded, started or
        stopped."""
        statement, allergy = MedicationStatementType(), AllergyIntoleranceType()
        appointment = AppointmentType()
        kept: list[tuple[Resource, tuple[tuple[str, str, str], ...]]] = []
        for spec, person in zip(batch, created, strict=True):
            for medicine in spec.medicines:
                kept.append(
                    self.kept(
                        statement,
                        _statement(medicine, person),
                        person,
                        medicine.end or medicine.listed_on or medicine.start,
                        medicine.sent_by,
                    )
                )
            for booked in spec.appointments:
                kept.append(
                    self.kept(
                        appointment,
                        self.appointment(booked, person),
                        person,
                        timezone.localdate(),
                        booked.sent_by,
                    )
                )
            for recorded in spec.allergies:
                kept.append(
                    self.kept(
                        allergy,
                        _allergy(recorded, person),
                        person,
                        recorded.recorded,
                        recorded.sent_by,
                    )
                )
        Resource.objects.bulk_create([r for r, _ in kept], batch_size=ROWS_PER_INSERT)
        ResourceVersion.objects.bulk_create(
            [
                ResourceVersion(
                    resource=r,
                    version=1,
                    last_updated=r.last_updated,
                    method="POST",
                    content=r.content,
                )
                for r, _ in kept
            ],
            batch_size=ROWS_PER_INSERT,
        )
        SearchToken.objects.bulk_create(
            [
                SearchToken(resource=r, param=param, system=system, value=value)
                for r, tokens in kept
                for param, system, value in tokens
            ],
            batch_size=ROWS_PER_INSERT,
        )

    def appointment(self, booked: AppointmentSpec, person: Person) -> dict[str, Any]:
        """The Appointment a GP practice's system would send for a review it booked."""
        found: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": str(booked.fhir_id),
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeliveryChannel",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeliveryChannel",
                                "code": booked.channel,
                                "display": "In person"
                                if booked.channel == "In-person"
                                else booked.channel,
                            }
                        ]
                    },
                }
            ],
            "status": "booked",
            "description": booked.review.what,
            "start": booked.starts.isoformat(),
            "end": (booked.starts + REVIEW_LENGTH).isoformat(),
            "participant": [
                {"actor": {"reference": f"Patient/{person.public_id}"}, "status": "accepted"},
                {
                    "actor": {"display": self.members[booked.sent_by].display_name},
                    "status": "accepted",
                },
            ],
        }
        if booked.review.instructions:
            found["patientInstruction"] = booked.review.instructions
        return found

    def kept(
        self, kind: StoredType, content: dict[str, Any], person: Person, day: dt.date, by: str
    ) -> tuple[Resource, tuple[tuple[str, str, str], ...]]:
        prepared = kind.prepared(content, person)
        return (
            Resource(
                resource_type=kind.name,
                fhir_id=content["id"],
                version=1,
                last_updated=dt.datetime.combine(
                    day, SENT_AT, tzinfo=timezone.get_current_timezone()
                ),
                person=person,
                status=prepared.status,
                date_start=prepared.dates[0],
                date_end=prepared.dates[1],
                content=prepared.content,
                sensitivity=prepared.sensitivity.value,
                author_id=self.staff[by],
            ),
            prepared.tokens,
        )

    def carer(self, spec: PersonSpec, person: Person) -> None:
        """The cared-for woman's daughter, given access by the care coordinator (or whoever first
        cared for her) with her mother's agreement, notes and letters included."""
        since = timezone.now() - CARER_ACTING_FOR
        daughter = get_user_model().objects.create(
            username=CARER_USERNAME,
            first_name="Tamsin",
            last_name=spec.family_name,
            email=f"{CARER_USERNAME}@example.org",
            password=self.demo_password_hash,
            date_joined=since,
        )
        team = [m.staff for m in spec.care_team if m.end is None]
        coordinators = [
            key for key in team if self.members[key].discipline == Discipline.CARE_COORDINATOR
        ]
        ProxyAccess.objects.create(
            person=person,
            proxy=daughter,
            relationship="Daughter",
            reads_notes=True,
            basis=ProxyAccess.Basis.PERSON_AGREED,
            granted_by_id=self.staff[(coordinators or team)[0]],
            granted_at=since,
        )

    def person(self, spec: PersonSpec) -> Person:
        user = None
        if spec.scenario == PATIENT_USERNAME:
            user = get_user_model().objects.create(
                username=PATIENT_USERNAME,
                first_name=spec.given_name,
                last_name=spec.family_name,
                email=f"{PATIENT_USERNAME}@example.org",
                password=self.demo_password_hash,
                date_joined=timezone.now() - PATIENT_ONLINE_FOR,
            )
        return Person(
            public_id=spec.public_id,
            nhs_number=spec.nhs_number,
            given_name=spec.given_name,
            family_name=spec.family_name,
            preferred_name=spec.preferred_name,
            date_of_birth=spec.date_of_birth,
            sex=spec.sex,
            gender_identity=spec.gender_identity,
            ethnic_category=spec.ethnic_category,
            address=spec.address,
            postcode=spec.postcode,
            imd_decile=spec.imd_decile,
            main_language=spec.main_language,
            interpreter_needed=spec.interpreter_needed,
            accessibility_needs=spec.accessibility_needs,
            preferred_written_format=spec.preferred_written_format,
            disability=spec.disability,
            sexual_orientation=spec.sexual_orientation,
            contact_method=spec.contact_method,
            phone=spec.phone,
            email=spec.email,
            registered_practice_id=self.organisations[spec.practice],
            user=user,
        )


# --------------------------------------------------------------------------------------------------
# What each sign-in can try


def examples() -> dict[str, str]:
    """NHS numbers (3 3 4) of the people the sign-in table points to, found by what they show."""
    people = Person.objects.order_by("pk")
    on_team = {
        name: people.filter(care_team__staff__user__username=username)
        for name, username in (
            ("gp", "demo-gp"),
            ("social-worker", "demo-social-worker"),
            ("psychiatrist", "demo-psychiatrist"),
            ("voluntary", "demo-voluntary-sector-worker"),
        )
    }
    found = {
        "patient": people.filter(user__username=PATIENT_USERNAME).first(),
        "cared-for": people.filter(proxies__proxy__username=CARER_USERNAME).first(),
        "therapy-withheld-from-gp": on_team["gp"]
        .filter(
            sharing_consents__sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY.value,
            sharing_consents__discipline=Discipline.GP.value,
            sharing_consents__decision=SharingConsent.Decision.DENY,
        )
        .first(),
        "prescriber-request": people.filter(
            prescriber_requests__asked_of__staff__user__username="demo-gp"
        ).first(),
        "social-worker-on-team": on_team["social-worker"].first(),
        "community-mental-health": on_team["psychiatrist"].first(),
        "social-prescribing": on_team["voluntary"].first(),
    }
    return {
        name: nhs_number.formatted(p.nhs_number)
        for name, p in found.items()
        if p is not None and p.nhs_number
    }


TRY_THIS: dict[str, str] = {
    "gp": "My caseload (named GP of {gp_people} people). Open {patient}: diabetes and depression "
    "side by side, therapy notes shared with you; {therapy-withheld-from-gp}: therapy notes "
    "withheld. A pharmacist asked your practice to correct {prescriber-request}'s medicines"
    " list: answer from My caseload.",
    "practice-nurse": "Long-term condition reviews with HbA1c and blood pressure: open {patient}."
    " Talking Therapies > Case-finding: people with an LTC not screened in 12 months.",
    "district-nurse": "Home visits to housebound people: open {social-worker-on-team} and their"
    " care plan; My caseload lists the care plans you wrote that are due for review.",
    "pwp": "Talking Therapies: your caseload, risk tasks and the waiting list; guided self-help "
    "notes are psychological therapy notes. A risk to review names the medicines the person"
    " takes that are more toxic in overdose.",
    "therapist": "Therapy notes for {patient} and {therapy-withheld-from-gp}; the GP cannot read "
    "the second person's.",
    "psychiatrist": "Community mental health team caseload: open {community-mental-health}.",
    "mental-health-nurse": "Care coordination in the community: open {community-mental-health}.",
    "social-worker": "On {social-worker-on-team}'s care team, not on {patient}'s: break glass "
    "with a reason to open it.",
    "homecare-worker": "Homecare visit notes: open {social-worker-on-team}.",
    "occupational-therapist": "Falls and equipment at home: open {social-worker-on-team}.",
    "physiotherapist": "Strength and balance at home: open {social-worker-on-team}.",
    "pharmacist": "My caseload lists whom to consider for a structured medication review, and"
    " why: open one and record the review with them. Reconcile {cared-for}'s medicines: the heart"
    " failure clinic's list differs from the GP practice's.",
    "peer-support-worker": "Peer support in the community team: open {community-mental-health}.",
    "care-coordinator": "Integrated care for frail people at home: open {social-worker-on-team}"
    " and change the care plan you wrote with them.",
    "voluntary-sector-worker": "Social prescribing for loneliness: open {social-prescribing}.",
    "service-manager": "Talking Therapies dashboard, waiting list and escalated risk tasks;"
    " de-identified figures for the area.",
    "analyst": "De-identified aggregates only: no one's record opens.",
    "administrator": "Talking Therapies referrals: therapy notes are withheld from you.",
    "privacy-officer": "The break-glass review queue and anyone's access history.",
    "patient": "Your own record ({patient}): the notes and letters written since you went"
    " online a year ago; your care plan, where you record how far each action has got; who has"
    " looked at your record; who may read your therapy notes (you decide).",
    "carer": "People I help: your mother's record ({cared-for}), with her notes and letters, on"
    " her behalf; she sees each time you read it.",
}


def _result(password: str, *, loaded: bool) -> DemoResult:
    found = examples()
    named = CareTeamMembership.objects.filter(staff__user__username="demo-gp", role="Named GP")
    values = {**found, "gp_people": f"{named.count():,}"}
    existing = set(
        get_user_model()
        .objects.filter(username__in=demo_usernames())
        .values_list("username", flat=True)
    )
    sign_ins = []
    for discipline in Discipline:
        username = f"demo-{discipline.value}"
        if username in existing:
            text = _fill(TRY_THIS[discipline.value], values)
            sign_ins.append(SignIn(username, discipline.label, text))
    if PATIENT_USERNAME in existing:
        sign_ins.append(SignIn(PATIENT_USERNAME, "Patient", _fill(TRY_THIS["patient"], values)))
    if CARER_USERNAME in existing:
        sign_ins.append(SignIn(CARER_USERNAME, "Carer", _fill(TRY_THIS["carer"], values)))
    return DemoResult(
        password=password,
        sign_ins=tuple(sign_ins),
        people=Person.objects.count(),
        loaded=loaded,
        examples=found,
    )


def _statement(medicine: MedicineSpec, person: Person) -> dict[str, Any]:
    """The MedicationStatement a GP practice's (or a hospital clinic's) system would send: the
    medicine in words only (no made-up dm+d code), where its list is kept, for the condition it
    treats."""
    period = {"start": medicine.start.isoformat()}
    if medicine.end is not None:
        period["end"] = medicine.end.isoformat()
    concept = vocabulary.condition(medicine.reason_snomed)
    return {
        "resourceType": "MedicationStatement",
        "id": str(medicine.fhir_id),
        "status": "active" if medicine.end is None else "stopped",
        "category": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medication-statement-category",
                    "code": medicine.category,
                    "display": medicine.category.capitalize(),
                }
            ]
        },
        "medicationCodeableConcept": {"text": medicine.name},
        "subject": {"reference": f"Patient/{person.public_id}"},
        "effectivePeriod": period,
        "reasonCode": [
            {"coding": [{"system": SNOMED_CT, "code": concept.snomed, "display": concept.display}]}
        ],
        "dosage": [{"text": medicine.dosage}],
    }


def _allergy(recorded: AllergySpec, person: Person) -> dict[str, Any]:
    """The AllergyIntolerance a GP practice's system would send for this kind of record."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": str(recorded.fhir_id),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active", "display": "Active"}]},
        "verificationStatus": {
            "coding": [{"system": VERIFICATION, "code": "confirmed", "display": "Confirmed"}]
        },
        **allergies.KINDS[recorded.kind][1],
        "patient": {"reference": f"Patient/{person.public_id}"},
        "recordedDate": recorded.recorded.isoformat(),
    }


def _fill(template: str, values: dict[str, str]) -> str:
    """Put the examples into the text; an example not found reads as a person on the caseload."""
    return re.sub(
        r"\{([a-z_-]+)\}", lambda m: values.get(m.group(1), "a person on your caseload"), template
    )
