"""The synthetic population of a fictional integrated care area, modelled on Torbay and South Devon.

Pure Python (no Django): plain dataclasses, deterministic for a seed and a date. `build_area` makes
the organisations, services and staff; `generate_people` streams people one at a time, each with
conditions, social care needs, care team, referrals, sharing consents, alerts and a timeline, so
that a loader never holds the whole population. `wholecare.demo.load` writes both to the database.

Epidemiology comes from `figures` (published figures with sources); what happens to people
(reviews, referrals, therapy, home visits) follows the simple rules below, tuned to look like a
working area.
"""

import datetime as dt
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from random import Random
from zoneinfo import ZoneInfo

from wholecare.demo import allergies, appointments, care_plans, figures, medicines, names, texts
from wholecare.directory.disciplines import Discipline
from wholecare.record import nhs_number, vocabulary
from wholecare.record.vocabulary import Sensitivity

D = Discipline
LONDON = ZoneInfo("Europe/London")
HISTORY_DAYS = 730
"""The detailed timeline covers the last two years; diagnoses go back to their onset."""
AREA_NAME = "Torvale and South Moor"
PEOPLE_PER_PRACTICE = 8000
MIN_PRACTICES = 3
NHS_TEST_PREFIX = "999"
"""NHS Digital reserves 999 000 0000 - 999 999 9999 for test data: no real person has one."""
MAX_PEOPLE = 800_000
"""Only 10**6 nine-digit prefixes start 999, and a tenth of them have no valid check digit."""


# --------------------------------------------------------------------------------------------------
# The area: organisations, services, staff


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    key: str
    ods_code: str
    name: str
    kind: str
    postcode: str


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    key: str
    organisation: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class StaffSpec:
    key: str
    username: str
    given_name: str
    family_name: str
    discipline: Discipline
    organisation: str
    services: tuple[str, ...]
    registration: str
    demo: bool


@dataclass(frozen=True)
class Area:
    name: str
    organisations: tuple[OrganisationSpec, ...]
    services: tuple[ServiceSpec, ...]
    staff: tuple[StaffSpec, ...]
    practice_weights: tuple[float, ...]
    consultants: dict[str, str]
    """Fictional consultants who sign hospital letters (not staff on the record), by clinic."""
    pools: dict[tuple[Discipline, str], tuple[str, ...]]
    """Staff keys by (discipline, service key)."""

    @property
    def practices(self) -> tuple[OrganisationSpec, ...]:
        return tuple(o for o in self.organisations if o.kind == "gp-practice")

    def pool(self, discipline: Discipline, service: str) -> tuple[str, ...]:
        return self.pools[(discipline, service)]

    @property
    def staff_by_key(self) -> dict[str, StaffSpec]:
        return {s.key: s for s in self.staff}

    def service_name(self, key: str) -> str:
        return next(s.name for s in self.services if s.key == key)


DEMO_PRACTICE = "practice-1"

# Where each demo sign-in works: (organisation, services).
DEMO_PLACEMENT: dict[Discipline, tuple[str, tuple[str, ...]]] = {
    D.GP: (DEMO_PRACTICE, ("gp-1",)),
    D.PRACTICE_NURSE: (DEMO_PRACTICE, ("gp-1",)),
    D.DISTRICT_NURSE: ("community", ("district-nursing", "home-first")),
    D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER: ("mental-health", ("tt", "tt-ltc")),
    D.HIGH_INTENSITY_THERAPIST: ("mental-health", ("tt", "tt-ltc")),
    D.PSYCHIATRIST: ("mental-health", ("cmht", "memory")),
    D.MENTAL_HEALTH_NURSE: ("mental-health", ("cmht", "memory")),
    D.SOCIAL_WORKER: ("council", ("social-work",)),
    D.HOMECARE_WORKER: ("council", ("homecare",)),
    D.OCCUPATIONAL_THERAPIST: ("community", ("therapies", "home-first")),
    D.PHYSIOTHERAPIST: ("community", ("therapies", "home-first")),
    D.PHARMACIST: ("community", ("medicines",)),
    D.PEER_SUPPORT_WORKER: ("mental-health", ("cmht",)),
    D.CARE_COORDINATOR: ("community", ("home-first",)),
    D.VOLUNTARY_SECTOR_WORKER: ("voluntary-connect", ("connect",)),
    D.SERVICE_MANAGER: ("mental-health", ()),
    D.ANALYST: ("acute", ("analytics",)),
    D.ADMINISTRATOR: ("mental-health", ("tt", "tt-ltc")),
    D.PRIVACY_OFFICER: ("acute", ("ig",)),
}

REGISTERS: dict[Discipline, str] = {
    D.GP: "GMC",
    D.PSYCHIATRIST: "GMC",
    D.PRACTICE_NURSE: "NMC",
    D.DISTRICT_NURSE: "NMC",
    D.MENTAL_HEALTH_NURSE: "NMC",
    D.OCCUPATIONAL_THERAPIST: "HCPC",
    D.PHYSIOTHERAPIST: "HCPC",
    D.SOCIAL_WORKER: "SWE",
    D.PHARMACIST: "GPhC",
    D.HIGH_INTENSITY_THERAPIST: "BABCP",
    D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER: "BPS",
}

CLINICS = (
    ("clinic-diabetes", "Diabetes and endocrinology clinic"),
    ("clinic-heart-failure", "Heart failure clinic"),
    ("clinic-respiratory", "Respiratory clinic"),
    ("clinic-renal", "Renal clinic"),
    ("clinic-oncology", "Oncology clinic"),
    ("clinic-stroke", "Stroke and TIA clinic"),
    ("clinic-rheumatology", "Rheumatology clinic"),
)


def _count(people: int, per: int, minimum: int = 1) -> int:
    return max(minimum, round(people / per))


def _pick_weighted(rng: Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _staff_name(rng: Random, female: bool) -> tuple[str, str]:
    group = _pick_weighted(rng, names.STAFF_NAME_GROUPS)
    birth_year = rng.randrange(1962, 2001)
    return _given_name(rng, group, female, birth_year), rng.choice(_family_names(group))


def build_area(*, people: int, seed: int) -> Area:
    """Organisations, services and staff sized for `people` (deterministic for the seed)."""
    rng = Random(f"wholecare-demo-area:{seed}")
    practice_count = max(MIN_PRACTICES, round(people / PEOPLE_PER_PRACTICE))
    weights = tuple(rng.uniform(0.7, 1.3) for _ in range(practice_count))
    list_sizes = [people * w / sum(weights) for w in weights]
    towns = names.TOWNS

    organisations: list[OrganisationSpec] = []
    services: list[ServiceSpec] = []
    practice_names = rng.sample(
        names.PRACTICE_NAMES, min(practice_count, len(names.PRACTICE_NAMES))
    )
    for i in range(practice_count):
        town, district, _ = towns[i % len(towns)]
        base = practice_names[i % len(practice_names)].replace("-", " ")
        suffix = rng.choice(("Medical Practice", "Surgery", "Health Centre", "Family Practice"))
        name = f"{base} {suffix}, {town}" if i < len(practice_names) else f"{base} {suffix} {i + 1}"
        organisations.append(
            OrganisationSpec(
                f"practice-{i + 1}",
                f"ZZG{i + 1:03d}",
                name,
                "gp-practice",
                _postcode(rng, district),
            )
        )
        services.append(
            ServiceSpec(f"gp-{i + 1}", f"practice-{i + 1}", "General practice", "general-practice")
        )
    organisations += [
        OrganisationSpec(
            "acute",
            "ZZA01",
            "Torvale and South Moor Hospitals NHS Foundation Trust",
            "acute-trust",
            "TQ2 7ZZ",
        ),
        OrganisationSpec(
            "community",
            "ZZC01",
            "South Moor Community Health NHS Trust",
            "community-trust",
            "TQ12 9ZZ",
        ),
        OrganisationSpec(
            "mental-health",
            "ZZM01",
            "Moorland and Bay Partnership NHS Foundation Trust",
            "mental-health-trust",
            "TQ3 8ZZ",
        ),
        OrganisationSpec(
            "council", "ZZL01", "Torvale Council Adult Social Care", "adult-social-care", "TQ1 9ZZ"
        ),
        OrganisationSpec(
            "voluntary-connect", "ZZV01", "Torvale Community Connect", "voluntary", "TQ1 8ZZ"
        ),
        OrganisationSpec(
            "voluntary-carers", "ZZV02", "South Moor Carers' Hub", "voluntary", "TQ12 8ZZ"
        ),
    ]
    services += [ServiceSpec(key, "acute", name, "hospital-clinic") for key, name in CLINICS]
    services += [
        ServiceSpec("ig", "acute", "Information governance", "information-governance"),
        ServiceSpec("analytics", "acute", "Business intelligence", "analytics"),
        ServiceSpec("district-nursing", "community", "District nursing", "district-nursing"),
        ServiceSpec("home-first", "community", "Home First rapid response", "rapid-response"),
        ServiceSpec("therapies", "community", "Community therapies", "therapies"),
        ServiceSpec("medicines", "community", "Medicines optimisation", "pharmacy"),
        ServiceSpec("tt", "mental-health", "NHS Talking Therapies", "talking-therapies"),
        ServiceSpec(
            "tt-ltc",
            "mental-health",
            "NHS Talking Therapies: long-term conditions pathway",
            "talking-therapies",
        ),
        ServiceSpec(
            "cmht", "mental-health", "Community mental health team", "community-mental-health"
        ),
        ServiceSpec(
            "memory", "mental-health", "Memory assessment service", "community-mental-health"
        ),
        ServiceSpec("social-work", "council", "Adult social work", "adult-social-care"),
        ServiceSpec("homecare", "council", "Reablement and homecare", "homecare"),
        ServiceSpec(
            "connect",
            "voluntary-connect",
            "Community connectors (social prescribing)",
            "voluntary-support",
        ),
        ServiceSpec("carers", "voluntary-carers", "Carers' support", "voluntary-support"),
    ]
    clinic_keys = tuple(key for key, _ in CLINICS)

    # (organisation, discipline, how many, services, every third also in these services). Service
    # managers belong to an organisation but to no service: an open referral to a service lets its
    # staff open the person's record, which a manager, who gives no direct care, should not get.
    plan: list[tuple[str, Discipline, int, tuple[str, ...], tuple[str, ...]]] = []
    for i, size in enumerate(list_sizes):
        org, gp = f"practice-{i + 1}", (f"gp-{i + 1}",)
        plan += [
            (org, D.GP, _count(int(size), 1700), gp, ()),
            (org, D.PRACTICE_NURSE, _count(int(size), 4000), gp, ()),
            (org, D.ADMINISTRATOR, _count(int(size), 3000), gp, ()),
            (org, D.SERVICE_MANAGER, 1, (), ()),
        ]
    plan += [
        ("acute", D.ADMINISTRATOR, _count(people, 8000), clinic_keys, ()),
        ("acute", D.SERVICE_MANAGER, 1, (), ()),
        ("acute", D.PRIVACY_OFFICER, 1 + people // 100_000, ("ig",), ()),
        ("acute", D.ANALYST, _count(people, 50_000), ("analytics",), ()),
        (
            "community",
            D.DISTRICT_NURSE,
            _count(people, 2500),
            ("district-nursing",),
            ("home-first",),
        ),
        (
            "community",
            D.OCCUPATIONAL_THERAPIST,
            _count(people, 8000),
            ("therapies",),
            ("home-first",),
        ),
        ("community", D.PHYSIOTHERAPIST, _count(people, 8000), ("therapies",), ("home-first",)),
        ("community", D.CARE_COORDINATOR, _count(people, 10_000), ("home-first",), ()),
        ("community", D.PHARMACIST, _count(people, 12_000), ("medicines",), ()),
        ("community", D.SERVICE_MANAGER, 1, (), ()),
        ("community", D.ADMINISTRATOR, _count(people, 25_000), ("district-nursing",), ()),
        (
            "mental-health",
            D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
            _count(people, 6000),
            ("tt",),
            ("tt-ltc",),
        ),
        ("mental-health", D.HIGH_INTENSITY_THERAPIST, _count(people, 6000), ("tt",), ("tt-ltc",)),
        ("mental-health", D.PSYCHIATRIST, _count(people, 20_000), ("cmht", "memory"), ()),
        ("mental-health", D.MENTAL_HEALTH_NURSE, _count(people, 5000), ("cmht",), ("memory",)),
        ("mental-health", D.PEER_SUPPORT_WORKER, _count(people, 15_000), ("cmht",), ()),
        ("mental-health", D.SERVICE_MANAGER, 1, (), ()),
        ("mental-health", D.ADMINISTRATOR, _count(people, 20_000), ("tt", "tt-ltc"), ()),
        ("council", D.SOCIAL_WORKER, _count(people, 4000), ("social-work",), ()),
        ("council", D.HOMECARE_WORKER, _count(people, 200, 2), ("homecare",), ()),
        ("council", D.SERVICE_MANAGER, 1, (), ()),
        ("council", D.ADMINISTRATOR, 1, ("social-work",), ()),
        ("voluntary-connect", D.VOLUNTARY_SECTOR_WORKER, _count(people, 10_000), ("connect",), ()),
        ("voluntary-carers", D.VOLUNTARY_SECTOR_WORKER, _count(people, 20_000), ("carers",), ()),
    ]

    staff: list[StaffSpec] = []
    for discipline in Discipline:  # the demo sign-ins first, so their keys are stable
        org, placed = DEMO_PLACEMENT[discipline]
        given, family = _staff_name(rng, rng.random() < 0.6)
        staff.append(_staff(len(staff), discipline, org, placed, given, family, demo=True))
    for org, discipline, count, placed, also in plan:
        for n in range(count):
            given, family = _staff_name(rng, rng.random() < 0.65)
            extra = also if n % 3 == 0 else ()
            staff.append(_staff(len(staff), discipline, org, placed + extra, given, family, False))

    pools: dict[tuple[Discipline, str], list[str]] = {}
    for member in staff:
        for service in member.services:
            pools.setdefault((member.discipline, service), []).append(member.key)
    consultants = {
        key: " ".join(_staff_name(rng, rng.random() < 0.5)) for key in (*clinic_keys, "memory")
    }
    return Area(
        name=AREA_NAME,
        organisations=tuple(organisations),
        services=tuple(services),
        staff=tuple(staff),
        practice_weights=weights,
        consultants=consultants,
        pools={k: tuple(v) for k, v in pools.items()},
    )


def _staff(
    n: int,
    discipline: Discipline,
    org: str,
    services: tuple[str, ...],
    given: str,
    family: str,
    demo: bool,
) -> StaffSpec:
    register = REGISTERS.get(discipline)
    return StaffSpec(
        key=f"staff-{n}",
        username=f"demo-{discipline.value}" if demo else f"staff-{n:05d}",
        given_name=given,
        family_name=family,
        discipline=discipline,
        organisation=org,
        services=services,
        registration=f"{register} DEMO{n:05d}" if register else "",
        demo=demo,
    )


# --------------------------------------------------------------------------------------------------
# People


@dataclass(slots=True)
class ConditionSpec:
    snomed: str
    onset: dt.date
    status: str
    recorded_by: str | None
    discipline: Discipline
    recorded_at: dt.datetime


@dataclass(slots=True)
class MedicineSpec:
    """A MedicationStatement the person's GP practice's (or a hospital clinic's) system sent."""

    fhir_id: uuid.UUID
    name: str
    dosage: str
    reason_snomed: str
    start: dt.date
    end: dt.date | None
    """When they stopped it; None while they take it."""
    sent_by: str
    category: str = "community"
    """Where the sender's list is kept (FHIR medication-statement-category): `community` for a
    GP practice's, `outpatient` for a hospital clinic's."""
    listed_on: dt.date | None = None
    """When a clinic listed it, where that is not the day it started or stopped."""


@dataclass(slots=True)
class AllergySpec:
    """An AllergyIntolerance the person's GP practice's system sent (`allergies.KINDS`)."""

    fhir_id: uuid.UUID
    kind: str
    recorded: dt.date
    sent_by: str


@dataclass(slots=True)
class AppointmentSpec:
    """A review the person's GP practice booked, as its system sent it."""

    fhir_id: uuid.UUID
    review: appointments.Review
    starts: dt.datetime
    channel: str
    """UK Core's delivery channel code: In-person or Telephone."""
    sent_by: str
    """Who booked it, and whom it is with."""


@dataclass(slots=True)
class NeedSpec:
    code: str
    status: str
    recorded_by: str | None
    recorded_at: dt.datetime


@dataclass(slots=True)
class MembershipSpec:
    staff: str
    role: str
    start: dt.date
    end: dt.date | None = None


#: The demonstration's services accept a referral two days after it arrives; those newer still
#: await acceptance.
ACCEPTED_AFTER_DAYS = 2


@dataclass(slots=True)
class ReferralSpec:
    service: str
    referred_by: str | None
    received: dt.date
    reason: str
    closed: dt.date | None = None
    closed_by: str | None = None
    accepted: dt.date | None = None
    """When the service accepted it, having triaged it."""
    declined: bool = False
    """Closed because the person declined the service, rather than discharged."""
    outcome_note: str = ""

    @property
    def status(self) -> str:
        return "open" if self.closed is None else "closed"

    @property
    def outcome(self) -> str:
        if self.closed is None:
            return ""
        return "declined" if self.declined else "discharged"


@dataclass(slots=True)
class ConsentSpec:
    sensitivity: Sensitivity
    discipline: Discipline
    decision: str
    recorded_by: str | None
    recorded_at: dt.datetime


@dataclass(slots=True)
class AlertSpec:
    category: str
    text: str
    raised_by: str | None
    raised_at: dt.datetime


@dataclass(slots=True)
class CarePlanSpec:
    text: care_plans.PlanText
    statuses: tuple[str, ...]
    """How far each action has got."""
    written_by: str
    discipline: Discipline
    written_at: dt.datetime
    review_date: dt.date


@dataclass(slots=True)
class EntrySpec:
    public_id: uuid.UUID
    kind: str
    occurred_at: dt.datetime
    title: str
    text: str
    author: str
    discipline: Discipline
    service: str | None
    sensitivity: Sensitivity


@dataclass(slots=True)
class PersonSpec:
    index: int
    public_id: uuid.UUID
    nhs_number: str
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: dt.date
    sex: str
    gender_identity: str
    ethnic_category: str
    address: str
    postcode: str
    imd_decile: int
    main_language: str
    interpreter_needed: bool
    accessibility_needs: str
    preferred_written_format: str
    disability: str
    sexual_orientation: str
    contact_method: str
    phone: str
    email: str
    practice: str
    scenario: str
    """"" for most people; the name of a demonstration scenario (e.g. "demo-patient") otherwise."""
    conditions: list[ConditionSpec] = field(default_factory=list)
    needs: list[NeedSpec] = field(default_factory=list)
    care_team: list[MembershipSpec] = field(default_factory=list)
    referrals: list[ReferralSpec] = field(default_factory=list)
    consents: list[ConsentSpec] = field(default_factory=list)
    alerts: list[AlertSpec] = field(default_factory=list)
    entries: list[EntrySpec] = field(default_factory=list)
    care_plans: list[CarePlanSpec] = field(default_factory=list)
    medicines: list[MedicineSpec] = field(default_factory=list)
    allergies: list[AllergySpec] = field(default_factory=list)
    appointments: list[AppointmentSpec] = field(default_factory=list)

    def age(self, on: dt.date) -> int:
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def value_sets(self) -> set[str]:
        return {vocabulary.condition(c.snomed).value_set for c in self.conditions}


# The codes each figure's condition is recorded with: (SNOMED CT, weight).
CONCEPTS: dict[str, tuple[tuple[str, float], ...]] = {
    "hypertension": (("38341003", 1.0),),
    "asthma": (("195967001", 1.0),),
    "ckd": (("433144002", 0.93), ("431857002", 0.06), ("433146000", 0.01)),
    "cancer": (("363346000", 1.0),),
    "coronary-heart-disease": (("414545008", 0.6), ("22298006", 0.2), ("194828000", 0.2)),
    "copd": (("13645005", 1.0),),
    "stroke-tia": (("230690007", 0.55), ("266257000", 0.45)),
    "heart-failure": (("84114007", 1.0),),
    "epilepsy": (("84757009", 1.0),),
    "rheumatoid-arthritis": (("69896004", 1.0),),
    "osteoarthritis": (("396275006", 1.0),),
    "chronic-pain": (("82423001", 1.0),),
    "ibs": (("10743008", 1.0),),
    "cfs-me": (("52702003", 1.0),),
    "multiple-sclerosis": (("24700007", 1.0),),
    "smi": (("58214004", 0.4), ("69322001", 0.25), ("13746004", 0.35)),
    "dementia": (("52448006", 0.6), ("26929004", 0.4)),
    "ptsd": (("47505003", 1.0),),
    "ocd": (("191736004", 1.0),),
    "personality-disorder": (("33449004", 1.0),),
    "depression": (("35489007", 0.85), ("370143000", 0.15)),
    "anxiety": (("21897009", 0.6), ("371631005", 0.18), ("25501002", 0.14), ("70691001", 0.08)),
}
DIABETES = {"type-1": "46635009", "type-2": "44054006", "unspecified": "73211009"}
HEART_FAILURE = "84114007"
LONG_TERM_NAMES = frozenset(p.name for p in figures.LONG_TERM_PREVALENCE) | {"diabetes"}

# Longest time since onset, in years (a condition started no earlier than this before today).
MAX_DURATION: dict[str, int] = {
    "hypertension": 30,
    "diabetes": 40,
    "asthma": 90,
    "ckd": 15,
    "cancer": 20,
    "coronary-heart-disease": 25,
    "copd": 20,
    "stroke-tia": 20,
    "heart-failure": 10,
    "epilepsy": 90,
    "rheumatoid-arthritis": 30,
    "osteoarthritis": 25,
    "chronic-pain": 20,
    "ibs": 30,
    "cfs-me": 20,
    "multiple-sclerosis": 35,
    "smi": 40,
    "dementia": 8,
    "ptsd": 20,
    "ocd": 30,
    "personality-disorder": 30,
    "depression": 30,
    "anxiety": 30,
}

# Conditions the practice nurse reviews each year (QOF-style registers), in review order.
NURSE_REVIEWED = (
    "diabetes",
    "hypertension",
    "asthma",
    "copd",
    "coronary-heart-disease",
    "heart-failure",
    "stroke-tia",
    "ckd",
)

# Contact rates: GP consultations a year by age (ASSUMED, after Hobbs et al. 2016, Lancet: about
# five consultations a person a year in English general practice, GPs doing a little over half).
GP_RATE_BY_AGE = ((0, 2.0), (5, 1.0), (15, 1.4), (45, 2.0), (65, 2.6), (75, 3.4), (85, 4.0))
GP_RATE_PER_CONDITION = 0.45
GP_RATE_FEMALE_15_44 = 1.8

NEEDS_THRESHOLD = 5.0
"""Social care needs: the chance of a recorded need is 1 / (1 + e^(NEEDS_THRESHOLD - frailty)),
where frailty adds up age over 60 and conditions (see `_PersonBuilder.social_care`). ASSUMED, tuned
to `figures.SOCIAL_CARE_NEEDS_TARGET`."""
NEED_CHANCES: tuple[tuple[str, float], ...] = (
    ("personal-care", 0.6),
    ("mobility", 0.55),
    ("nutrition", 0.25),
    ("medication", 0.35),
    ("continence", 0.2),
    ("isolation", 0.3),
    ("housing", 0.05),
    ("carer-support", 0.1),
    ("finance", 0.1),
    ("safeguarding", 0.03),
)

ALLERGIES = (
    "Penicillin allergy: rash",
    "Allergic to codeine: vomiting",
    "Allergic to sticking plasters",
    "Ibuprofen: breathing problems (asthma)",
    "Trimethoprim allergy: rash",
)

NICKNAMES = {
    "Margaret": "Peggy",
    "William": "Bill",
    "Robert": "Bob",
    "Elizabeth": "Liz",
    "Patricia": "Pat",
    "Michael": "Mike",
    "Christopher": "Chris",
    "Richard": "Rick",
    "Kenneth": "Ken",
    "Susan": "Sue",
    "Deborah": "Debbie",
    "Jacqueline": "Jackie",
    "Benjamin": "Ben",
    "Samuel": "Sam",
    "Rebecca": "Becky",
    "Alexandra": "Alex",
    "Muhammad": "Mo",
    "Mohammed": "Mo",
    "Oluwaseun": "Seun",
    "Katarzyna": "Kasia",
}


@dataclass(frozen=True)
class Scenario:
    """A person placed first in every population, so each demo sign-in has something to show."""

    name: str
    age: int
    sex: str
    conditions: tuple[str, ...]
    team: frozenset[Discipline]
    """Wherever one of these disciplines is picked for this person, the demo sign-in is."""
    needs: tuple[str, ...] = ()
    needs_status: str = "assessed"
    therapy: Discipline | None = None
    therapy_service: str = "tt"
    gp_consent: str = "permit"
    cmht: bool = False
    housebound: bool = False
    voluntary: bool = False
    medication_review: bool = False
    clinics: tuple[str, ...] = ()


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "demo-patient",
        54,
        "female",
        ("44054006", "38341003", "35489007"),
        frozenset(
            {
                D.GP,
                D.PRACTICE_NURSE,
                D.HIGH_INTENSITY_THERAPIST,
                D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
                D.PHARMACIST,
            }
        ),
        therapy=D.HIGH_INTENSITY_THERAPIST,
        therapy_service="tt-ltc",
        medication_review=True,
        clinics=("clinic-diabetes",),
    ),
    Scenario(
        "therapy-notes-withheld-from-gp",
        34,
        "male",
        ("371631005", "195967001"),
        frozenset(
            {
                D.GP,
                D.PRACTICE_NURSE,
                D.HIGH_INTENSITY_THERAPIST,
                D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
            }
        ),
        therapy=D.HIGH_INTENSITY_THERAPIST,
        gp_consent="deny",
    ),
    Scenario(
        "guided-self-help",
        27,
        "female",
        ("35489007", "10743008"),
        frozenset({D.GP, D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER}),
        therapy=D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER,
    ),
    Scenario(
        "frail-at-home",
        86,
        "female",
        ("84114007", "433144002", "396275006", "52448006"),
        frozenset(
            {
                D.GP,
                D.PRACTICE_NURSE,
                D.DISTRICT_NURSE,
                D.SOCIAL_WORKER,
                D.HOMECARE_WORKER,
                D.OCCUPATIONAL_THERAPIST,
                D.PHYSIOTHERAPIST,
                D.CARE_COORDINATOR,
                D.PHARMACIST,
            }
        ),
        needs=("personal-care", "mobility", "memory", "medication"),
        housebound=True,
        medication_review=True,
        clinics=("clinic-heart-failure",),
    ),
    Scenario(
        "community-mental-health",
        41,
        "male",
        ("58214004", "44054006"),
        frozenset({D.GP, D.PSYCHIATRIST, D.MENTAL_HEALTH_NURSE, D.PEER_SUPPORT_WORKER}),
        cmht=True,
    ),
    Scenario(
        "lonely-with-copd",
        72,
        "male",
        ("13645005", "35489007"),
        frozenset({D.GP, D.PRACTICE_NURSE, D.VOLUNTARY_SECTOR_WORKER}),
        needs=("isolation",),
        needs_status="awaiting",
        voluntary=True,
    ),
    Scenario(
        "safeguarding",
        79,
        "female",
        ("230690007", "38341003", "370143000"),
        frozenset({D.GP, D.SOCIAL_WORKER, D.HOMECARE_WORKER, D.DISTRICT_NURSE}),
        needs=("personal-care", "safeguarding"),
        housebound=True,
    ),
)


def valid_nhs_number(rng: Random, used: set[str]) -> str:
    """A fresh valid NHS number in the 999 test range."""
    while True:
        first_nine = f"{NHS_TEST_PREFIX}{rng.randrange(1_000_000):06d}"
        check = nhs_number.check_digit(first_nine)
        number = f"{first_nine}{check}"
        if check is not None and number not in used:
            used.add(number)
            return number


def generate_people(area: Area, *, people: int, seed: int, as_of: dt.date) -> Iterator[PersonSpec]:
    """`people` people, one at a time: the demonstration scenarios first, then the population."""
    if not 0 < people <= MAX_PEOPLE:
        raise ValueError(f"people must be between 1 and {MAX_PEOPLE:,} (got {people:,})")
    return _people(area, people=people, seed=seed, as_of=as_of)


def _people(area: Area, *, people: int, seed: int, as_of: dt.date) -> Iterator[PersonSpec]:
    rng = Random(f"wholecare-demo-people:{seed}")
    world = _World(area, as_of)
    used: set[str] = set()
    for index in range(people):
        scenario = SCENARIOS[index] if index < len(SCENARIOS) else None
        yield _PersonBuilder(rng, world, index, valid_nhs_number(rng, used), scenario).build()


def _uuid(rng: Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _given_name(rng: Random, group: str, female: bool, birth_year: int) -> str:
    if group == "british" or group in names.MIXED_PARENTS:
        cohorts = names.BRITISH_FEMALE_BY_COHORT if female else names.BRITISH_MALE_BY_COHORT
        chosen = cohorts[0][1]
        for first_year, given in cohorts:
            if birth_year >= first_year:
                chosen = given
        if group in names.MIXED_PARENTS and rng.random() < 0.4:
            other = names.NAME_GROUPS[names.MIXED_PARENTS[group][1]]
            chosen = other.female if female else other.male
        return rng.choice(chosen)
    source = names.NAME_GROUPS[group]
    return rng.choice(source.female if female else source.male)


def _family_names(group: str) -> tuple[str, ...]:
    if group == "british":
        return names.BRITISH_FAMILY
    if group in names.MIXED_PARENTS:
        return names.NAME_GROUPS[names.MIXED_PARENTS[group][1]].family + names.BRITISH_FAMILY
    return names.NAME_GROUPS[group].family


UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _postcode(rng: Random, district: str) -> str:
    return f"{district} {rng.randrange(1, 10)}{rng.choice(UNIT_LETTERS)}{rng.choice(UNIT_LETTERS)}"


class _World:
    """Precomputed tables shared by every person."""

    def __init__(self, area: Area, as_of: dt.date) -> None:
        self.area = area
        self.as_of = as_of
        self.last_day = as_of - dt.timedelta(days=1)
        self.window_start = as_of - dt.timedelta(days=HISTORY_DAYS)
        self.practice_keys = tuple(p.key for p in area.practices)
        self.practice_cum = _cumulative(area.practice_weights)
        self.age_cum = _cumulative(figures.age_weights())
        self.ethnic_groups = figures.CENSUS_2021_ETHNICITY
        self.ethnic_cum = _cumulative([g.percent for g in self.ethnic_groups])
        self.thresholds = {p.name: figures.threshold_table(p.name) for p in figures.PREVALENCE}
        self.demo = {s.discipline: s.key for s in area.staff if s.demo}
        self.staff_discipline = {s.key: s.discipline for s in area.staff}
        self.staff_family = {s.key: s.family_name for s in area.staff}
        self.town_cum = _cumulative([w for _, _, w in names.TOWNS])
        self.service_names = {s.key: s.name for s in area.services}


def _cumulative(weights: tuple[float, ...] | list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class _PersonBuilder:
    def __init__(
        self, rng: Random, world: _World, index: int, number: str, scenario: Scenario | None
    ) -> None:
        self.rng = rng
        self.w = world
        self.area = world.area
        self.scenario = scenario
        self.index = index
        self.number = number

    # -- helpers ---------------------------------------------------------------------------------

    def pick(self, discipline: Discipline, service: str) -> str:
        if self.scenario is not None and discipline in self.scenario.team:
            return self.w.demo[discipline]
        return self.rng.choice(self.area.pool(discipline, service))

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def at(self, day: dt.date, *, weekdays: bool = True, hour: int | None = None) -> dt.datetime:
        """A time that day: office hours (weekends moved to the Friday), or in the given hour."""
        if weekdays and day.weekday() >= 5:
            day -= dt.timedelta(days=day.weekday() - 4)
        if hour is None:
            minutes = 8 * 60 + self.rng.randrange(0, 120) * 5
        else:
            minutes = hour * 60 + self.rng.randrange(0, 12) * 5
        return dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=LONDON)

    def entry(
        self,
        kind: str,
        day: dt.date,
        text: tuple[str, str],
        author: str,
        service: str | None,
        sensitivity: Sensitivity = Sensitivity.NORMAL,
        *,
        weekdays: bool = True,
        hour: int | None = None,
    ) -> None:
        day = min(max(day, self.p.date_of_birth), self.w.last_day)
        self.p.entries.append(
            EntrySpec(
                public_id=_uuid(self.rng),
                kind=kind,
                occurred_at=self.at(day, weekdays=weekdays, hour=hour),
                title=text[0],
                text=text[1],
                author=author,
                discipline=self.w.staff_discipline[author],
                service=service,
                sensitivity=sensitivity,
            )
        )

    def member(self, staff: str, role: str, start: dt.date, end: dt.date | None = None) -> None:
        start = max(start, self.p.date_of_birth)
        if end is not None:
            end = max(end, start)
        self.p.care_team.append(MembershipSpec(staff, role, start, end))

    def poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        limit, k, product = math.exp(-mean), 0, self.rng.random()
        while product > limit:
            k += 1
            product *= self.rng.random()
        return k

    def sessions(self, start: dt.date, count: int, gap: tuple[int, int]) -> list[dt.date]:
        days, day = [], start
        for _ in range(count):
            if day > self.w.last_day:
                break
            days.append(day)
            day += dt.timedelta(days=self.rng.randint(*gap))
        return days

    # -- the person ------------------------------------------------------------------------------

    def build(self) -> PersonSpec:
        self.demographics()
        self.health()
        self.medicines()
        self.gp_care()
        self.social_care()
        self.mental_health_care()
        self.community_care()
        self.hospital_care()
        self.alerts()
        self.care_plan()
        for referral in self.p.referrals:
            triaged = referral.received + dt.timedelta(days=ACCEPTED_AFTER_DAYS)
            if triaged < (referral.closed or self.w.as_of):
                referral.accepted = triaged
        return self.p

    def demographics(self) -> None:
        rng, w, s = self.rng, self.w, self.scenario
        as_of = w.as_of
        if s is not None:
            age, sex = s.age, s.sex
        else:
            age = _bisect(w.age_cum, rng.random() * w.age_cum[-1])
            sex = "female" if rng.random() < figures.female_share(age) else "male"
        female = sex == "female"
        born = as_of - dt.timedelta(days=round(age * 365.25) + rng.randrange(365))
        if rng.random() < figures.ETHNICITY_NOT_STATED and s is None:
            code, group = "Z", _pick_weighted(rng, (("british", 0.8), ("european", 0.2)))
        else:
            g = w.ethnic_groups[_bisect(w.ethnic_cum, rng.random() * w.ethnic_cum[-1])]
            code, group = g.nhs_code, g.names
        given = _given_name(rng, group, female, born.year)
        family = rng.choice(_family_names(group))
        language, interpreter = "en", False
        source = names.NAME_GROUPS.get(group)
        if source is not None and age >= 16:
            roll = rng.random()
            for code_, share in source.languages:
                if roll < share:
                    language, interpreter = code_, rng.random() < 0.6
                    break
                roll -= share
        town, district, _ = names.TOWNS[_bisect(w.town_cum, rng.random() * w.town_cum[-1])]
        address = (
            f"{rng.randrange(1, 120)} {rng.choice(names.STREETS)} "
            f"{rng.choice(names.STREET_KINDS)}, "
            f"{town}"
        )
        practice = (
            DEMO_PRACTICE
            if s is not None
            else w.practice_keys[_bisect(w.practice_cum, rng.random() * w.practice_cum[-1])]
        )
        accessibility, written, disability, contact = "", "", "", ""
        roll = rng.random()
        if roll < 0.0051:  # QOF 2019-20 learning disability register: 0.51%
            disability = "Learning disability"
            accessibility = "Easy read information; allow a longer appointment"
        elif roll < 0.0066:  # ASSUMED: about 0.15% use British Sign Language
            disability, language, interpreter = "Deaf", "q4", True
            accessibility, contact = "British Sign Language interpreter for appointments", "7"
        elif age >= 70 and roll < 0.04:
            disability = "Sight impaired"
            accessibility, written = "Large print letters", "11"
        elif age >= 70 and roll < 0.12:
            disability = "Hard of hearing"
            accessibility = "Speak clearly and face the person; hearing loop"
        if not contact:
            if age < 16:
                contact = "6"
            elif age >= 75:
                contact = _pick_weighted(rng, (("3", 0.5), ("1", 0.35), ("9", 0.15)))
            else:
                contact = _pick_weighted(rng, (("9", 0.55), ("3", 0.25), ("4", 0.1), ("1", 0.1)))
        # Ofcom's ranges reserved for drama (07700 900000-900999, 01632 960000-960999) and the
        # reserved example.com domain: no contact detail can reach anyone real.
        phone = (
            f"01632 960{rng.randrange(1000):03d}"
            if age >= 70 and rng.random() < 0.6
            else f"07700 900{rng.randrange(1000):03d}"
        )
        email = ""
        if 18 <= age < 80 and rng.random() < 0.45:
            local = "".join(ch for ch in f"{given}.{family}".lower() if ch.isalnum() or ch == ".")
            email = f"{local}{rng.randrange(100)}@example.com"
        orientation = ""
        if age >= 16 and rng.random() < 0.4:  # recorded for some adults; shares from Census 2021
            orientation = _pick_weighted(
                rng,
                (
                    ("heterosexual", 0.894),
                    ("gay-lesbian", 0.015),
                    ("bisexual", 0.013),
                    ("other", 0.003),
                    ("not-stated", 0.075),
                ),
            )
        gender_identity = ""
        if age >= 16 and rng.random() < 0.005:  # Census 2021: about 0.5% (ASSUMED from ONS)
            gender_identity = rng.choice(("Non-binary", "Trans woman", "Trans man"))
        preferred = NICKNAMES.get(given, "") if rng.random() < 0.3 else ""
        self.p = PersonSpec(
            index=self.index,
            public_id=_uuid(rng),
            nhs_number=self.number,
            given_name=given,
            family_name=family,
            preferred_name=preferred,
            date_of_birth=born,
            sex=sex,
            gender_identity=gender_identity,
            ethnic_category=code,
            address=address,
            postcode=_postcode(rng, district),
            imd_decile=rng.randrange(1, 11),
            main_language=language,
            interpreter_needed=interpreter,
            accessibility_needs=accessibility,
            preferred_written_format=written,
            disability=disability,
            sexual_orientation=orientation,
            contact_method=contact,
            phone=phone,
            email=email,
            practice=practice,
            scenario=s.name if s is not None else "",
        )
        self.age = self.p.age(as_of)
        self.female = female
        registered_years = rng.uniform(0, min(self.age + 1, 40))
        self.registered = max(born, as_of - dt.timedelta(days=round(registered_years * 365.25)))
        if s is not None:
            self.registered = min(self.registered, as_of - dt.timedelta(days=12 * 365))
            self.registered = max(self.registered, born)
        self.gp_service = "gp-" + practice.removeprefix("practice-")
        self.gp = self.pick(D.GP, self.gp_service)
        # Everyone has had a named GP since 2015; the current one for up to ten years.
        named_since = as_of - dt.timedelta(days=rng.randrange(10 * 365))
        self.member(self.gp, "Named GP", max(self.registered, named_since))

    def health(self) -> None:
        """Conditions (correlated through one latent factor), then depression and anxiety."""
        rng, p, s = self.rng, self.p, self.scenario
        present: dict[str, str] = {}  # figure name -> SNOMED code
        if s is not None:
            for code in s.conditions:
                present[_figure_for(code)] = code
        else:
            rho = figures.CONDITION_CORRELATION
            a, b = math.sqrt(rho), math.sqrt(1 - rho)
            latent = rng.gauss(0.0, 1.0)
            age = min(self.age, figures.MAX_AGE)
            female, decile = int(self.female), p.imd_decile - 1
            for name, table in self.w.thresholds.items():
                threshold = table[age][female][decile]
                if threshold > -math.inf and a * latent + b * rng.gauss(0.0, 1.0) < threshold:
                    present[name] = ""
            physical = sum(1 for name in present if name in LONG_TERM_NAMES)
            odds = figures.depression_anxiety_odds(self.age, self.female, p.imd_decile, physical)
            if rng.random() < odds / (1 + odds):
                roll = rng.random()
                if roll < figures.DEPRESSION_ONLY + figures.DEPRESSION_AND_ANXIETY:
                    present["depression"] = ""
                if roll >= figures.DEPRESSION_ONLY:
                    present["anxiety"] = ""
        self.names = present
        for name, code in present.items():
            onset = self.onset(name)
            if not code:
                if name == "diabetes":
                    onset_age = (onset - p.date_of_birth).days / 365.25
                    kind = (
                        "unspecified"
                        if rng.random() < 0.03
                        else "type-1"
                        if rng.random() < (0.85 if onset_age < 30 else 0.03)
                        else "type-2"
                    )
                    code = DIABETES[kind]
                else:
                    options = CONCEPTS[name]
                    code = rng.choices([c for c, _ in options], weights=[w for _, w in options])[0]
            status = "active"
            years = (self.w.as_of - onset).days / 365.25
            remits = {"cancer": 0.7, "depression": 0.35, "anxiety": 0.35}.get(name, 0.0)
            if remits and years > 2 and rng.random() < remits:
                status = "remission"
            summarised = onset < self.registered
            recorded_on = self.registered if summarised else onset
            p.conditions.append(
                ConditionSpec(
                    snomed=code,
                    onset=onset,
                    status=status,
                    recorded_by=None if summarised else self.gp,
                    discipline=D.GP,
                    recorded_at=self.at(recorded_on),
                )
            )
            concept = vocabulary.condition(code)
            self.entry(
                "note",
                recorded_on,
                texts.diagnosis(concept.display, concept.plain, f"{onset:%B %Y}", summarised),
                self.gp,
                self.gp_service,
            )
        self.codes = {c.snomed for c in p.conditions}
        self.physical = sum(1 for name in present if name in LONG_TERM_NAMES)
        self.mental = {"depression", "anxiety"} & set(present)

    def medicines(self) -> None:
        """What the person's GP practice's system sends: their coming reviews, their allergies,
        and what they take for their conditions, from their own Random (so the rest of the
        population is as it was before these were added); a depression or anxiety in remission
        was treated, and the medicine stopped."""
        rng = Random(f"medicines:{self.number}")
        figures = {_figure_for(c.snomed) for c in self.p.conditions if c.status == "active"}
        for review in appointments.booked(rng, figures):
            day = self.w.as_of + dt.timedelta(days=rng.randint(1, 42))
            if day.weekday() >= 5:
                day += dt.timedelta(days=7 - day.weekday())
            minutes = 9 * 60 + rng.randrange(0, 15) * 30
            starts = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=LONDON)
            channel = "Telephone" if rng.random() < 0.25 else "In-person"
            self.p.appointments.append(
                AppointmentSpec(_uuid(rng), review, starts, channel, self.gp)
            )
        for kind in allergies.recorded(rng):
            span = max(0, (self.w.as_of - self.registered).days)
            day = self.registered + dt.timedelta(days=rng.randrange(span + 1))
            self.p.allergies.append(AllergySpec(_uuid(rng), kind, day, self.gp))
        taken: set[str] = set()
        for condition in self.p.conditions:
            figure = _figure_for(condition.snomed)
            if figure == "diabetes":
                figure = (
                    "diabetes-type-1"
                    if condition.snomed == DIABETES["type-1"]
                    else "diabetes-type-2"
                )
            for medicine in medicines.prescribed(rng, figure):
                if medicine.name in taken:
                    continue
                taken.add(medicine.name)
                start = min(condition.onset + dt.timedelta(days=rng.randrange(61)), self.w.as_of)
                end = None
                if condition.status == "remission":
                    end = max(start, self.w.as_of - dt.timedelta(days=rng.randint(5, 400)))
                self.p.medicines.append(
                    MedicineSpec(
                        _uuid(rng),
                        medicine.name,
                        medicine.dosage,
                        condition.snomed,
                        start,
                        end,
                        self.gp,
                    )
                )

    def clinic_medicines(self, sent_by: str) -> None:
        """The heart failure clinic's list as its system last sent it, after a review in the
        last two months, from its own Random (so the rest of the population is as it was
        before it was added)."""
        rng = Random(f"clinic-medicines:{self.number}")
        day = self.w.as_of - dt.timedelta(days=rng.randint(3, 60))
        taking = [medicines.Prescribed(m.name, m.dosage) for m in self.p.medicines if m.end is None]
        gp_list = {m.name: m for m in self.p.medicines if m.end is None}
        for listed in medicines.heart_failure_clinic(rng, taking, adds=self.scenario is not None):
            known = gp_list.get(listed.name)
            self.p.medicines.append(
                MedicineSpec(
                    _uuid(rng),
                    listed.name,
                    listed.dosage,
                    known.reason_snomed if known else HEART_FAILURE,
                    min(known.start, day) if known else day,
                    day if listed.stopped else None,
                    sent_by,
                    category="outpatient",
                    listed_on=day,
                )
            )

    def onset(self, name: str) -> dt.date:
        prevalence = figures.PREVALENCE_BY_NAME.get(name)
        youngest = prevalence.youngest if prevalence is not None else 12
        if name in {"depression", "anxiety"}:
            youngest = 12
        span = max(0.0, min(self.age - youngest, MAX_DURATION[name]))
        if self.scenario is not None:
            span = min(span, 8.0)
        years_ago = self.rng.random() ** 1.3 * span
        onset = self.w.as_of - dt.timedelta(days=round(years_ago * 365.25) + 30)
        return min(max(onset, self.p.date_of_birth), self.w.last_day)

    # -- general practice ------------------------------------------------------------------------

    def gp_care(self) -> None:
        rng, w, p = self.rng, self.w, self.p
        rate = _step(GP_RATE_BY_AGE, self.age) + GP_RATE_PER_CONDITION * len(self.names)
        if self.female and 15 <= self.age < 45:
            rate *= GP_RATE_FEMALE_15_44
        start = max(w.window_start, p.date_of_birth)
        years = (w.as_of - start).days / 365.25
        count = self.poisson(rate * years)
        if self.scenario is not None:
            count = max(count, 3)
        names_ = list(self.names)
        for _ in range(count):
            day = self.day_between(start, w.last_day)
            clinician = self.gp if rng.random() < 0.7 else self.pick(D.GP, self.gp_service)
            self.entry(
                "encounter",
                day,
                texts.gp_consultation(rng, age=self.age, condition_names=names_),
                clinician,
                self.gp_service,
            )
        if 16 <= self.age < 45 and rng.random() < 0.03:
            self.entry(
                "encounter",
                self.day_between(start, w.last_day),
                texts.sexual_health(rng),
                self.gp,
                self.gp_service,
                Sensitivity.SEXUAL_HEALTH,
            )
        reviewed = [n for n in NURSE_REVIEWED if n in self.names]
        if reviewed:
            self.nurse = self.pick(D.PRACTICE_NURSE, self.gp_service)
            first = min(c.onset for c in p.conditions)
            self.member(self.nurse, "Practice nurse (long-term conditions)", max(first, start))
            self.reviews(reviewed, start)
        polypharmacy = self.physical >= 4 or (self.physical >= 3 and self.age >= 65)
        s = self.scenario
        if (s is not None and s.medication_review) or (polypharmacy and rng.random() < 0.6):
            pharmacist = self.pick(D.PHARMACIST, "medicines")
            day = self.day_between(max(start, w.as_of - dt.timedelta(days=300)), w.last_day)
            self.member(pharmacist, "Clinical pharmacist (medication review)", day)
            p.referrals.append(
                ReferralSpec(
                    "medicines",
                    self.gp,
                    day - dt.timedelta(days=14),
                    "Structured medication review",
                    day,
                )
            )
            self.entry(
                "note",
                day,
                texts.medication_review(rng, 3 + 2 * self.physical),
                pharmacist,
                "medicines",
            )

    def reviews(self, reviewed: list[str], start: dt.date) -> None:
        rng, w = self.rng, self.w
        hba1c = round(min(100, max(40, rng.gauss(57, 10))))
        systolic = round(min(175, max(105, rng.gauss(134 + 0.2 * max(0, self.age - 50), 12))))
        diastolic = round(min(100, max(60, rng.gauss(80, 8))))
        egfr = {
            "433144002": rng.randint(30, 59),
            "431857002": rng.randint(15, 29),
            "433146000": rng.randint(7, 14),
        }
        stage = next((c for c in ("433146000", "431857002", "433144002") if c in self.codes), "")
        fev1 = rng.randint(35, 85)
        day = self.day_between(start, start + dt.timedelta(days=365))
        while day <= w.last_day:
            h = round(min(110, max(38, hba1c + rng.gauss(0, 4))))
            sy, di = round(systolic + rng.gauss(0, 6)), round(diastolic + rng.gauss(0, 4))
            e = round(egfr.get(stage, 60) + rng.gauss(0, 2))
            f = round(fev1 + rng.gauss(0, 3))
            values = {
                "hba1c": str(h),
                "bp": f"{sy}/{di}",
                "reliever": str(rng.randint(0, 4)),
                "fev1": str(f),
                "egfr": str(e),
            }
            self.entry(
                "encounter",
                day,
                texts.ltc_review(rng, reviewed, values),
                self.nurse,
                self.gp_service,
            )
            if "diabetes" in reviewed:
                self.entry("result", day, texts.hba1c_result(h), self.nurse, self.gp_service)
                half = day + dt.timedelta(days=rng.randint(150, 200))
                if half <= w.last_day:
                    h2 = round(min(110, max(38, h + rng.gauss(-1, 4))))
                    self.entry("result", half, texts.hba1c_result(h2), self.nurse, self.gp_service)
            if {"hypertension", "ckd", "coronary-heart-disease", "stroke-tia"} & set(reviewed):
                self.entry(
                    "result",
                    day,
                    texts.bp_result(sy, di, self.age >= 80),
                    self.nurse,
                    self.gp_service,
                )
            if "ckd" in reviewed:
                self.entry("result", day, texts.egfr_result(e), self.nurse, self.gp_service)
            if "copd" in reviewed:
                self.entry("result", day, texts.fev1_result(f), self.nurse, self.gp_service)
            hba1c, systolic = round(hba1c + rng.gauss(0, 2)), round(systolic + rng.gauss(-1, 3))
            day += dt.timedelta(days=rng.randint(330, 400))

    # -- social care, home and community -------------------------------------------------------

    def social_care(self) -> None:
        rng, w, p, s = self.rng, self.w, self.p, self.scenario
        self.housebound = False
        if s is not None:
            chosen, status = list(s.needs), s.needs_status
        else:
            if self.age < 18:
                return
            frailty = (
                0.1 * max(0, self.age - 60)
                + 0.35 * self.physical
                + 1.6 * ("dementia" in self.names)
                + 1.0 * ("stroke-tia" in self.names)
                + 0.8 * ("heart-failure" in self.names)
                + 1.5 * ("multiple-sclerosis" in self.names)
                + 0.5 * ("copd" in self.names)
                + 0.8 * ("smi" in self.names)
                + 0.6 * ("cfs-me" in self.names)
                + 1.5 * (p.disability == "Learning disability")
            )
            if rng.random() >= 1 / (1 + math.exp(NEEDS_THRESHOLD - frailty)):
                return
            chosen = [code for code, chance in NEED_CHANCES if rng.random() < chance]
            if "dementia" in self.names and rng.random() < 0.9:
                chosen.append("memory")
            if not chosen:
                chosen = ["mobility"]
            roll = rng.random()
            status = "awaiting" if roll < 0.15 else "met" if roll < 0.25 else "assessed"
        if not chosen:
            return
        start = max(w.window_start, p.date_of_birth)
        if status == "awaiting":
            received = self.day_between(w.as_of - dt.timedelta(days=60), w.last_day)
            p.referrals.append(
                ReferralSpec(
                    "social-work", self.gp, received, "Assessment of care and support needs"
                )
            )
            for code in chosen:
                p.needs.append(NeedSpec(code, "awaiting", None, self.at(received)))
            self.voluntary(force=s is not None and s.voluntary)
            return
        received = self.day_between(start, w.as_of - dt.timedelta(days=90))
        assessed = received + dt.timedelta(days=rng.randint(14, 40))
        worker = self.pick(D.SOCIAL_WORKER, "social-work")
        p.referrals.append(
            ReferralSpec(
                "social-work", self.gp, received, "Assessment of care and support needs", assessed
            )
        )
        for code in chosen:
            p.needs.append(NeedSpec(code, status, worker, self.at(assessed)))
        labels = [vocabulary.SOCIAL_CARE_NEEDS_BY_CODE[c].display for c in chosen]
        self.entry(
            "note",
            assessed,
            texts.social_care_assessment(rng, labels, p.given_name),
            worker,
            "social-work",
        )
        if status == "met":
            return
        named_worker = s is not None and D.SOCIAL_WORKER in s.team
        if named_worker or rng.random() < 0.6:
            self.member(worker, "Social worker", assessed)
        review = assessed + dt.timedelta(days=rng.randint(300, 380))
        if review <= w.last_day:
            self.entry(
                "note", review, texts.social_care_review(rng, p.given_name), worker, "social-work"
            )
        if "safeguarding" in chosen:
            first = self.day_between(assessed, w.last_day)
            for n, day in enumerate(self.sessions(first, rng.randint(2, 3), (10, 40))):
                self.entry(
                    "note",
                    day,
                    texts.safeguarding(rng, n == 0),
                    worker,
                    "social-work",
                    Sensitivity.SAFEGUARDING,
                )
            p.alerts.append(
                AlertSpec(
                    "safeguarding",
                    "Safeguarding enquiry open: speak to the social work team before "
                    "sharing information with family",
                    worker,
                    self.at(first),
                )
            )
        self.housebound = (s is not None and s.housebound) or (
            bool({"personal-care", "mobility"} & set(chosen)) and rng.random() < 0.6
        )
        if "personal-care" in chosen and (s is not None or rng.random() < 0.7):
            self.homecare(assessed)
        if self.housebound:
            self.district_nursing()
            self.home_first()
        if "isolation" in chosen or "carer-support" in chosen:
            self.voluntary(force=s is not None and s.voluntary)
        complex_needs = self.physical >= 4 or (s is not None and D.CARE_COORDINATOR in s.team)
        if complex_needs and (s is not None or rng.random() < 0.5):
            coordinator = self.pick(D.CARE_COORDINATOR, "home-first")
            self.member(coordinator, "Care coordinator", assessed)
            for day in self.sessions(assessed + dt.timedelta(days=20), 8, (60, 100)):
                self.entry("note", day, texts.care_coordination(rng), coordinator, "home-first")

    def homecare(self, start: dt.date) -> None:
        rng, w, p = self.rng, self.w, self.p
        p.referrals.append(ReferralSpec("homecare", None, start, "Homecare: personal care"))
        workers = [self.pick(D.HOMECARE_WORKER, "homecare")]
        if rng.random() < 0.5:
            workers.append(rng.choice(self.area.pool(D.HOMECARE_WORKER, "homecare")))
        for worker in dict.fromkeys(workers):
            self.member(worker, "Homecare worker", start + dt.timedelta(days=7))
        recent = max(start + dt.timedelta(days=7), w.as_of - dt.timedelta(days=60))
        for day in self.sessions(recent, rng.randint(4, 8), (5, 10)):
            text, hour = texts.homecare_visit(rng, p.given_name)
            author = rng.choice(workers)
            self.entry("note", day, text, author, "homecare", weekdays=False, hour=hour)

    def district_nursing(self) -> None:
        rng, w, p = self.rng, self.w, self.p
        received = self.day_between(w.window_start, w.as_of - dt.timedelta(days=120))
        nurse = self.pick(D.DISTRICT_NURSE, "district-nursing")
        p.referrals.append(
            ReferralSpec("district-nursing", self.gp, received, "Housebound: nursing care at home")
        )
        self.member(nurse, "District nurse", received)
        for day in self.sessions(received + dt.timedelta(days=3), rng.randint(4, 14), (14, 45)):
            self.entry(
                "encounter",
                day,
                texts.district_nurse_visit(rng),
                nurse,
                "district-nursing",
                weekdays=False,
            )
        for discipline in (D.OCCUPATIONAL_THERAPIST, D.PHYSIOTHERAPIST):
            s = self.scenario
            if (s is not None and discipline in s.team) or rng.random() < 0.35:
                self.therapies(discipline)

    def therapies(self, discipline: Discipline) -> None:
        rng, w, p = self.rng, self.w, self.p
        received = self.day_between(w.window_start, w.as_of - dt.timedelta(days=30))
        therapist = self.pick(discipline, "therapies")
        visits = self.sessions(received + dt.timedelta(days=10), rng.randint(2, 6), (7, 21))
        closed = None
        if visits and (visits[-1] + dt.timedelta(days=14) < w.as_of) and rng.random() < 0.7:
            closed = visits[-1] + dt.timedelta(days=14)
        role = (
            "Occupational therapist"
            if discipline is D.OCCUPATIONAL_THERAPIST
            else "Physiotherapist"
        )
        p.referrals.append(
            ReferralSpec(
                "therapies",
                self.gp,
                received,
                f"{role}: falls and mobility at home",
                closed,
                closed_by=therapist if closed else None,
                outcome_note="Goals met: moving safely at home with the equipment in place"
                if closed
                else "",
            )
        )
        self.member(therapist, role, received, closed)
        for day in visits:
            self.entry(
                "encounter",
                day,
                texts.therapy_contact(rng, discipline.value),
                therapist,
                "therapies",
            )

    def home_first(self) -> None:
        rng, w, p, s = self.rng, self.w, self.p, self.scenario
        if s is None and rng.random() >= 0.25:
            return
        start = self.day_between(w.window_start, w.as_of - dt.timedelta(days=5))
        if s is not None:
            start = w.as_of - dt.timedelta(days=rng.randint(20, 60))
        closed = start + dt.timedelta(days=rng.randint(3, 10))
        p.referrals.append(
            ReferralSpec(
                "home-first",
                None,
                start,
                "Urgent community response: crisis at home",
                closed if closed < w.as_of else None,
            )
        )
        team = (D.DISTRICT_NURSE, D.OCCUPATIONAL_THERAPIST, D.CARE_COORDINATOR)
        for day_number in range(3):
            author = self.pick(team[day_number], "home-first")
            self.entry(
                "encounter",
                start + dt.timedelta(days=day_number),
                texts.rapid_response(rng, day_number),
                author,
                "home-first",
                weekdays=False,
            )

    def voluntary(self, *, force: bool) -> None:
        rng, w, p = self.rng, self.w, self.p
        if not force and rng.random() >= 0.6:
            return
        service = "connect" if force or rng.random() < 0.7 else "carers"
        worker = self.pick(D.VOLUNTARY_SECTOR_WORKER, service)
        received = self.day_between(
            w.as_of - dt.timedelta(days=300), w.as_of - dt.timedelta(days=20)
        )
        closed = None if force or rng.random() < 0.5 else received + dt.timedelta(days=90)
        if closed is not None and closed >= w.as_of:
            closed = None
        # Without another draw, which would change every later person: one in four who close
        # declined the groups offered.
        declined = closed is not None and received.toordinal() % 4 == 0
        p.referrals.append(
            ReferralSpec(
                service,
                self.gp,
                received,
                "Loneliness and social isolation: social prescribing",
                closed,
                closed_by=worker if closed else None,
                declined=declined,
                outcome_note=(
                    "Did not want to join a group for now; given the directory of local groups"
                    if declined
                    else "Goes to a walking group and a lunch club each week"
                )
                if closed
                else "",
            )
        )
        self.member(worker, "Community connector", received, closed)
        for day in self.sessions(received + dt.timedelta(days=7), rng.randint(2, 5), (14, 30)):
            if closed is None or day <= closed:
                self.entry("note", day, texts.voluntary_note(rng, p.given_name), worker, service)

    # -- mental health -------------------------------------------------------------------------

    def mental_health_care(self) -> None:
        rng, s = self.rng, self.scenario
        if s is not None:
            if s.therapy is not None:
                self.talking_therapies(force=s.therapy)
            if s.cmht:
                self.community_mental_health(force=True)
            return
        treatable = self.mental | ({"ptsd", "ocd"} & set(self.names))
        if self.age >= 18 and treatable and rng.random() < 0.3:
            self.talking_therapies(force=None)
        severe = (
            ("smi" in self.names and rng.random() < 0.55)
            or ("personality-disorder" in self.names and rng.random() < 0.4)
            or ("370143000" in self.codes and rng.random() < 0.08)
        )
        if severe:
            self.community_mental_health(force=False)
        if "dementia" in self.names:
            onset = next(
                c.onset
                for c in self.p.conditions
                if vocabulary.condition(c.snomed).value_set == "dementia"
            )
            if onset >= self.w.window_start:
                self.memory_assessment(onset)

    def talking_therapies(self, *, force: Discipline | None) -> None:
        """One course of NHS Talking Therapies: referral, assessment, sessions, discharge.

        Shapes after NHS England's published figures: 1.82 million referrals in 2023-24, most seen
        within six weeks, about seven or eight sessions in a finished course, about half recovering.
        """
        rng, w, p = self.rng, self.w, self.p
        ltc = self.physical > 0 and rng.random() < 0.6
        service = (
            self.scenario.therapy_service
            if self.scenario is not None
            else ("tt-ltc" if ltc else "tt")
        )
        problem = rng.choice([c.snomed for c in p.conditions if c.snomed in texts.THERAPIES])
        problem_name = vocabulary.condition(problem).display
        guided_self_help, high_intensity = texts.THERAPIES[problem]
        if force is not None:
            received = w.as_of - dt.timedelta(days=rng.randint(60, 80))
            wants_step_two = force is D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER
        else:
            received = self.day_between(w.window_start, w.last_day)
            wants_step_two = rng.random() < 0.55
        step_two = wants_step_two and guided_self_help is not None
        ltc_label = next(
            (
                vocabulary.condition(c.snomed).display.lower()
                for c in p.conditions
                if vocabulary.condition(c.snomed).group is vocabulary.ConditionGroup.LONG_TERM
            ),
            None,
        )
        reason = (
            f"{problem_name} alongside {ltc_label} (long-term conditions pathway)"
            if service == "tt-ltc" and ltc_label
            else problem_name
        )
        referral = ReferralSpec(service, self.gp if rng.random() < 0.6 else None, received, reason)
        p.referrals.append(referral)
        assessed = received + dt.timedelta(days=rng.randint(7, 28))
        if assessed > w.last_day:
            return  # waiting for assessment
        assessor = self.pick(D.PSYCHOLOGICAL_WELLBEING_PRACTITIONER, service)
        phq, gad = rng.randint(10, 22), rng.randint(8, 19)
        self.entry(
            "note",
            assessed,
            texts.therapy_assessment(
                problem=problem_name,
                phq9=phq,
                gad7=gad,
                ltc=ltc_label if service == "tt-ltc" else None,
                step_two=step_two,
            ),
            assessor,
            service,
            Sensitivity.PSYCHOLOGICAL_THERAPY,
        )
        decision = (
            self.scenario.gp_consent
            if self.scenario is not None
            else "permit"
            if rng.random() < 0.85
            else "deny"
        )
        consent_at = self.at(assessed)
        p.consents.append(
            ConsentSpec(Sensitivity.PSYCHOLOGICAL_THERAPY, D.GP, decision, assessor, consent_at)
        )
        if service == "tt-ltc" and rng.random() < 0.5:
            p.consents.append(
                ConsentSpec(
                    Sensitivity.PSYCHOLOGICAL_THERAPY,
                    D.PRACTICE_NURSE,
                    "permit",
                    assessor,
                    consent_at,
                )
            )
        if step_two and guided_self_help is not None:
            clinician, therapy = assessor, guided_self_help
            first = assessed + dt.timedelta(days=rng.randint(7, 21))
            planned = rng.randint(4, 8)
            role = "Psychological wellbeing practitioner"
        else:
            clinician = self.pick(D.HIGH_INTENSITY_THERAPIST, service)
            therapy = rng.choice(high_intensity)
            first = assessed + dt.timedelta(days=rng.randint(14, 56))
            planned = rng.randint(8, 16)
            role = "High-intensity therapist"
        if force is not None:
            first = min(first, w.as_of - dt.timedelta(days=28))
        dropped = force is None and rng.random() < 0.25
        if dropped:
            planned = rng.randint(1, max(1, planned // 2))
        days = self.sessions(max(first, assessed + dt.timedelta(days=1)), planned, (6, 10))
        if not days:
            return
        recovered = rng.random() < 0.5
        end_phq = rng.randint(3, 9) if recovered else max(4, phq - rng.randint(0, 8))
        end_gad = rng.randint(2, 7) if recovered else max(3, gad - rng.randint(0, 7))
        for n, day in enumerate(days, start=1):
            share = n / planned
            self.entry(
                "note",
                day,
                texts.therapy_session(
                    rng,
                    number=n,
                    therapy=therapy,
                    phq9=max(0, min(27, round(phq + (end_phq - phq) * share + rng.gauss(0, 1)))),
                    gad7=max(0, min(21, round(gad + (end_gad - gad) * share + rng.gauss(0, 1)))),
                ),
                clinician,
                service,
                Sensitivity.PSYCHOLOGICAL_THERAPY,
            )
        finished = len(days) == planned and force is None
        closed = days[-1] + dt.timedelta(days=rng.randint(1, 14)) if finished else None
        if closed is not None and closed > w.last_day:
            closed = None
        self.member(clinician, role, assessed, closed)
        if closed is not None:
            referral.closed = closed
            self.entry(
                "letter",
                closed,
                texts.therapy_discharge(
                    sessions=len(days),
                    therapy=therapy,
                    start=(phq, gad),
                    end=(end_phq, end_gad),
                    completed=not dropped,
                ),
                clinician,
                service,
            )

    def community_mental_health(self, *, force: bool) -> None:
        rng, w, p = self.rng, self.w, self.p
        years = rng.uniform(0.2, 8) if not force else rng.uniform(1, 4)
        received = max(p.date_of_birth, w.as_of - dt.timedelta(days=round(years * 365.25)))
        p.referrals.append(
            ReferralSpec(
                "cmht", self.gp, received, "Severe mental illness: care coordination and treatment"
            )
        )
        psychiatrist = self.pick(D.PSYCHIATRIST, "cmht")
        nurse = self.pick(D.MENTAL_HEALTH_NURSE, "cmht")
        self.member(psychiatrist, "Consultant psychiatrist", received)
        self.member(nurse, "Care coordinator (mental health nurse)", received)
        start = max(received, w.window_start)
        for day in self.sessions(
            self.day_between(start, start + dt.timedelta(days=180)), 4, (150, 200)
        ):
            self.entry("encounter", day, texts.cmht_review(rng), psychiatrist, "cmht")
        for day in self.sessions(
            self.day_between(start, start + dt.timedelta(days=30)), 24, (21, 42)
        ):
            self.entry("encounter", day, texts.mental_health_nurse_contact(rng), nurse, "cmht")
        s = self.scenario
        if (s is not None and D.PEER_SUPPORT_WORKER in s.team) or rng.random() < 0.3:
            peer = self.pick(D.PEER_SUPPORT_WORKER, "cmht")
            begin = self.day_between(start, w.as_of - dt.timedelta(days=60))
            self.member(peer, "Peer support worker", begin)
            for day in self.sessions(begin, rng.randint(3, 6), (10, 20)):
                self.entry("note", day, texts.peer_support(rng, p.given_name), peer, "cmht")
        if rng.random() < 0.2:
            p.alerts.append(
                AlertSpec(
                    "risk",
                    "Crisis plan in the care plan: if unwell, contact "
                    "the care coordinator or the crisis team",
                    nurse,
                    self.at(start),
                )
            )

    def care_plan(self) -> None:
        """A personalised care and support plan where care most needs one: people cared for at
        home, under the community mental health team, with a link worker, and half of those with
        a long-term condition and low mood whom a practice nurse reviews. Drawn from a generator
        of its own (seeded by the NHS number), so the rest of the population is the same with or
        without plans."""
        team = {
            self.w.staff_discipline[m.staff]: m.staff for m in self.p.care_team if m.end is None
        }
        rng = Random(f"care-plan-{self.number}")
        lead = team.get(D.CARE_COORDINATOR) or team.get(D.SOCIAL_WORKER)
        if self.housebound and (lead or team.get(D.DISTRICT_NURSE)):
            kind, author = care_plans.AT_HOME, lead or team[D.DISTRICT_NURSE]
        elif D.MENTAL_HEALTH_NURSE in team:
            kind, author = care_plans.RECOVERY, team[D.MENTAL_HEALTH_NURSE]
        elif D.VOLUNTARY_SECTOR_WORKER in team:
            kind, author = care_plans.CONNECTING, team[D.VOLUNTARY_SECTOR_WORKER]
        elif (
            D.PRACTICE_NURSE in team
            and self.mental
            and (self.scenario is not None or rng.random() < 0.5)
        ):
            kind, author = care_plans.LIVING_WELL, team[D.PRACTICE_NURSE]
        else:
            return
        text = care_plans.plan_text(rng, kind, self.p.given_name, set(self.names))
        written = self.w.as_of - dt.timedelta(days=rng.randint(7, 240))
        steps = (care_plans.NOT_STARTED, care_plans.IN_PROGRESS, care_plans.DONE)
        self.p.care_plans.append(
            CarePlanSpec(
                text=text,
                statuses=tuple(
                    rng.choice(steps[: 1 + min(2, (self.w.as_of - written).days // 60)])
                    for _ in text.actions
                ),
                written_by=author,
                discipline=self.w.staff_discipline[author],
                written_at=dt.datetime.combine(written, dt.time(11, 0), tzinfo=LONDON),
                review_date=written + dt.timedelta(days=rng.choice((91, 182, 365))),
            )
        )

    def memory_assessment(self, onset: dt.date) -> None:
        rng, p = self.rng, self.p
        received = max(p.date_of_birth, onset - dt.timedelta(days=rng.randint(40, 90)))
        psychiatrist = self.pick(D.PSYCHIATRIST, "memory")
        p.referrals.append(ReferralSpec("memory", self.gp, received, "Memory assessment", onset))
        self.entry(
            "letter",
            onset,
            texts.clinic_letter(
                rng,
                service="memory",
                service_name=self.w.service_names["memory"],
                given=p.given_name,
                family=p.family_name,
                gp=self.w.staff_family[self.gp],
                consultant=self.area.consultants["memory"],
            ),
            psychiatrist,
            "memory",
        )

    # -- hospital --------------------------------------------------------------------------------

    def community_care(self) -> None:
        """District nursing for people housebound by illness alone, without social care."""
        if self.housebound or self.age < 70:
            return
        if ("heart-failure" in self.names or "copd" in self.names) and self.rng.random() < 0.1:
            self.housebound = True
            self.district_nursing()

    def hospital_care(self) -> None:
        rng, s, names_ = self.rng, self.scenario, self.names
        wanted: list[tuple[str, bool]] = []  # (clinic, open)
        if s is not None:
            wanted = [(clinic, True) for clinic in s.clinics]
        else:
            if "46635009" in self.codes:
                wanted.append(("clinic-diabetes", True))
            elif "diabetes" in names_ and rng.random() < 0.1:
                wanted.append(("clinic-diabetes", rng.random() < 0.5))
            if "heart-failure" in names_ and rng.random() < 0.6:
                wanted.append(("clinic-heart-failure", rng.random() < 0.5))
            if ("copd" in names_ and rng.random() < 0.15) or (
                "asthma" in names_ and rng.random() < 0.03
            ):
                wanted.append(("clinic-respiratory", rng.random() < 0.4))
            if self.codes & {"431857002", "433146000"} and rng.random() < 0.8:
                wanted.append(("clinic-renal", True))
            cancer = next((c for c in self.p.conditions if c.snomed == "363346000"), None)
            if cancer is not None and (cancer.status == "active" or rng.random() < 0.3):
                wanted.append(("clinic-oncology", cancer.status == "active"))
            if "stroke-tia" in names_ and any(
                c.onset >= self.w.window_start
                for c in self.p.conditions
                if c.snomed in {"230690007", "266257000"}
            ):
                wanted.append(("clinic-stroke", False))
            if "69896004" in self.codes and rng.random() < 0.7:
                wanted.append(("clinic-rheumatology", True))
        for clinic, is_open in wanted:
            self.clinic(clinic, is_open)

    def clinic(self, clinic: str, is_open: bool) -> None:
        rng, w, p = self.rng, self.w, self.p
        received = self.day_between(w.window_start, w.as_of - dt.timedelta(days=60))
        letters = self.sessions(
            received + dt.timedelta(days=rng.randint(14, 42)), rng.randint(1, 3), (90, 200)
        )
        closed = None if is_open else (letters[-1] if letters else received)
        p.referrals.append(
            ReferralSpec(
                clinic,
                self.gp,
                received,
                f"Referral to the {w.service_names[clinic].lower()}",
                closed,
            )
        )
        secretary = rng.choice(self.area.pool(D.ADMINISTRATOR, clinic))
        if clinic == "clinic-heart-failure" and is_open:
            self.clinic_medicines(secretary)
        for day in letters:
            self.entry(
                "letter",
                day,
                texts.clinic_letter(
                    rng,
                    service=clinic,
                    service_name=w.service_names[clinic],
                    given=p.given_name,
                    family=p.family_name,
                    gp=w.staff_family[self.gp],
                    consultant=self.area.consultants[clinic],
                ),
                secretary,
                clinic,
            )

    def alerts(self) -> None:
        rng, p = self.rng, self.p
        if rng.random() < 0.04:
            p.alerts.append(
                AlertSpec("allergy", rng.choice(ALLERGIES), self.gp, self.at(self.registered))
            )
        if p.interpreter_needed:
            language = vocabulary.LANGUAGES[p.main_language]
            p.alerts.append(
                AlertSpec(
                    "communication",
                    f"Needs a {language} interpreter for appointments",
                    self.gp,
                    self.at(self.registered),
                )
            )
        if "46635009" in self.codes and rng.random() < 0.5:
            p.alerts.append(
                AlertSpec(
                    "clinical",
                    "Insulin-treated diabetes: check blood sugar if drowsy or confused",
                    self.gp,
                    self.at(self.registered),
                )
            )
        if self.housebound and rng.random() < 0.1:
            p.alerts.append(
                AlertSpec(
                    "risk",
                    "Lone working: dog at the property, telephone before visiting",
                    None,
                    self.at(self.registered),
                )
            )


def _figure_for(code: str) -> str:
    if code in DIABETES.values():
        return "diabetes"
    return next(name for name, options in CONCEPTS.items() if code in {c for c, _ in options})


def _bisect(cumulative: list[float], value: float) -> int:
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _step(points: tuple[tuple[int, float], ...], x: int) -> float:
    value = points[0][1]
    for first, v in points:
        if x >= first:
            value = v
    return value
