"""The Talking Therapies LTC pathway in the demonstration area: a service co-located in each demo
GP practice, with referrals in every state, screens for case-finding, physical markers, risk
tasks, a self-referral and a referral the practice's system sent through the API (to start on the
pathway, decision 0022), so that a new user sees a living service.

Called by `wholecare demo` after the population is loaded:

    from wholecare.talking_therapies.demo import load_talking_therapies
    load_talking_therapies(seed=seed, progress=progress)

It writes one audit event for the whole load (a system action, as the demo loader does) and
refuses to run twice. Everything is synthetic.
"""

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from tqdm import tqdm

from wholecare import measures
from wholecare.access.audit import audit
from wholecare.access.models import AuditEvent
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir import registry
from wholecare.fhir.base import Ctx
from wholecare.fhir.bulk_import import import_grant
from wholecare.record import vocabulary
from wholecare.record.models import CareTeamMembership, Condition, Person, RecordEntry, Referral
from wholecare.talking_therapies import codes, engine, markers, stepping
from wholecare.talking_therapies.models import (
    CareContact,
    MeasureScore,
    PhysicalMarker,
    RiskTask,
    SelfReferral,
    StepChange,
    TTReferral,
)

REFERRALS_PER_SERVICE = 40
SCREENS_PER_PRACTICE = 12
SERVICE_NAME = "Talking Therapies LTC clinic at {practice}"
SENT_THROUGH_THE_API = (
    "Low mood and worry about managing a long-term condition; PHQ-9 and GAD-7 at caseness at the"
    " surgery. Sent from the practice's clinical system."
)
DEMO_USERS = {
    Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER: "demo-pwp",
    Discipline.HIGH_INTENSITY_THERAPIST: "demo-therapist",
    Discipline.SERVICE_MANAGER: "demo-service-manager",
}
# The states the referrals cycle through, so every service shows each of them.
STATES = (
    "awaiting-assessment",
    "awaiting-treatment",
    "in-treatment",
    "one-treatment",
    "discharged-recovered",
    "in-treatment",
    "discharged-improved",
    "awaiting-treatment-long",
    "discharged-dropped-out",
    "discharged-not-suitable",
    "in-treatment-risk",
)


OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PLANS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "diabetes": (
        "My diabetes care and support plan",
        "Bring my HbA1c down towards 53 mmol/mol and keep my feet healthy; walk most days.",
        (
            ("Structured education course for type 2 diabetes", "completed"),
            ("Annual foot check", "scheduled"),
            ("Retinal screening", "scheduled"),
            ("HbA1c every 3 months until below 58 mmol/mol", "in-progress"),
        ),
    ),
    "copd": (
        "Living well with COPD",
        "Stay out of hospital this winter; know what to do when my breathing gets worse.",
        (
            ("Pulmonary rehabilitation", "in-progress"),
            ("Rescue pack at home, with the plan for using it", "completed"),
            ("Flu and pneumococcal vaccines", "completed"),
        ),
    ),
    "heart-failure": (
        "Heart failure self-care plan",
        "Weigh myself every morning and call the heart failure nurse if it rises 2 kg in 3 days.",
        (
            ("Daily weight diary", "in-progress"),
            ("Cardiac rehabilitation", "scheduled"),
        ),
    ),
}
"""Care plans the demo practices' systems send, by the condition value set they are for."""


def _component(snomed: str, mm_hg: int) -> dict[str, object]:
    return {
        "code": {"coding": [{"system": markers.SNOMED_CT, "code": snomed}]},
        "valueQuantity": {"value": mm_hg, "unit": "mmHg", "system": markers.UCUM, "code": "mm[Hg]"},
    }


class AlreadyLoaded(Exception):
    """The demonstration area already has its Talking Therapies referrals."""


def answers_for(code: str, total: int, rng: Random, *, item9: int = 0) -> list[int | None]:
    """Answers to `code` that add up to `total` (clamped to the range), spread over the items;
    for the PHQ-9, item 9 is `item9`."""
    instrument = measures.instrument(code)
    top = max(instrument.items[0].options)
    fixed = {9: item9} if code == "PHQ9" else {}
    free = [i for i in range(instrument.item_count) if i + 1 not in fixed]
    remaining = max(0, min(total - sum(fixed.values()), top * len(free)))
    values = [0] * instrument.item_count
    for number, value in fixed.items():
        values[number - 1] = value
    while remaining:
        index = rng.choice(free)
        if values[index] < top:
            values[index] += 1
            remaining -= 1
    answers: list[int | None] = list(values)
    return answers


@dataclass
class _Team:
    pwp: Staff
    therapist: Staff
    manager: Staff | None


class _Loader:
    def __init__(self, rng: Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.tz = timezone.get_current_timezone()

    def at(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)

    def score(
        self, referral: TTReferral | None, person: Person, code: str, total: int, day: dt.date,
        by: Staff | None, *, item9: int = 0,
    ) -> MeasureScore:  # fmt: skip
        result = measures.score(code, answers_for(code, total, self.rng, item9=item9))
        found = MeasureScore.objects.create(
            person=person,
            referral=referral,
            measured_on=day,
            measure=code,
            answers=list(result.answers),
            total=result.total,
            at_caseness=result.at_caseness,
            risk_flags=[f.value for f in result.risk_flags],
            entered_by=by,
            entered_via=MeasureScore.EnteredVia.CLINICIAN if by else MeasureScore.EnteredVia.PERSON,
            recorded_at=self.at(day, 9),
        )
        for flag in result.risk_flags:
            RiskTask.objects.create(
                referral=referral,
                person=person,
                service=referral.service if referral else None,
                score=found,
                flag=flag.value,
                item9_answer=item9,
                raised_at=timezone.now() - dt.timedelta(hours=self.rng.choice([1, 30])),
                assigned_to=referral.clinician if referral else by,
            )
        return found

    def contact(
        self, referral: TTReferral, day: dt.date, kind: str, clinician: Staff, *,
        attended: bool = True,
    ) -> None:  # fmt: skip
        step = referral.step or stepping.Step.LOW_INTENSITY.value
        CareContact.objects.create(
            referral=referral,
            starts_at=self.at(day, self.rng.choice([9, 10, 11, 14, 15])),
            kind=kind,
            attendance=codes.ATTENDED if attended else self.rng.choice(["3", "2"]),
            mode=self.rng.choice(["gp-surgery", "gp-surgery", "ltc-clinic", "phone", "video"]),
            integrated_ltc=self.rng.random() < 0.4,
            therapy_type=(
                ("1026111000000108" if step == "low" else "228557008")
                if kind == "treatment"
                else ""
            ),
            intensity=step,
            clinician=clinician,
            recorded_at=self.at(day, 17),
        )

    def markers(self, person: Person, value_sets: set[str], nurse: Staff, start: dt.date) -> None:
        for marker in markers.for_value_sets(value_sets):
            level = {"hba1c": 64.0, "fev1": 58.0, "cat": 22.0, "systolic-bp": 148.0}[marker.code]
            day = start
            while day <= self.today:
                level = min(max(level + self.rng.uniform(-4, 2), marker.low), marker.high)
                PhysicalMarker.objects.create(
                    person=person,
                    code=marker.code,
                    value=round(level),
                    observed_on=day,
                    recorded_by=nurse,
                    recorded_at=self.at(day, 12),
                )
                day += dt.timedelta(days=self.rng.randint(40, 90))

    def sent_by_the_practice(self, person: Person, conditions: list[Condition]) -> None:
        """What the practice's clinical system sent through the API, acting as the named GP: the
        latest blood pressure (a panel, as UK Core codes it) and, for some, a care plan; kept
        through the same FHIR create as a real client's (decision 0026, 0027)."""
        named_gp = _named_gp(person)
        if named_gp is None:
            return
        ctx = _the_practice(named_gp)
        subject = {"reference": f"Patient/{person.public_id}"}
        day = self.today - dt.timedelta(days=self.rng.randint(3, 60))
        systolic, diastolic = self.rng.randint(118, 162), self.rng.randint(70, 96)
        registry.resource_type("Observation").create(
            ctx,
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
                "code": {"coding": [{"system": markers.SNOMED_CT, "code": "75367002"}]},
                "subject": subject,
                "effectiveDateTime": day.isoformat(),
                "component": [
                    _component("72313002", systolic),
                    _component("1091811000000102", diastolic),
                ],
            },
        )
        plans = [PLANS[c.concept.value_set] for c in conditions if c.concept.value_set in PLANS]
        if plans and self.rng.random() < 0.5:
            title, description, activities = plans[0]
            start = self.today - dt.timedelta(days=self.rng.randint(30, 300))
            registry.resource_type("CarePlan").create(
                ctx,
                {
                    "resourceType": "CarePlan",
                    "status": "active",
                    "intent": "plan",
                    "title": title,
                    "description": description,
                    "subject": subject,
                    "period": {
                        "start": start.isoformat(),
                        "end": (start + dt.timedelta(days=365)).isoformat(),
                    },
                    "author": {"display": named_gp.staff.display_name},
                    "activity": [
                        {"detail": {"status": status, "description": what}}
                        for what, status in activities
                    ],
                },
            )

    def takes_a_tricyclic(self, person: Person) -> None:
        """The practice's system lists amitriptyline, taken for pain and sleep, for the person
        whose PHQ-9 raises a risk to review: the medicine more toxic in overdose that the review
        names (decision 0044). Drawn from nothing random, so the rest of the area is as before."""
        named_gp = _named_gp(person)
        if named_gp is None:
            return
        registry.resource_type("MedicationStatement").create(
            _the_practice(named_gp),
            {
                "resourceType": "MedicationStatement",
                "status": "active",
                "medicationCodeableConcept": {"text": "Amitriptyline 10mg tablets"},
                "subject": {"reference": f"Patient/{person.public_id}"},
                "effectivePeriod": {"start": (self.today - dt.timedelta(days=240)).isoformat()},
                "reasonCode": [{"text": "Chronic pain and poor sleep"}],
                "dosage": [{"text": "One or two tablets at night"}],
            },
        )

    def referral(
        self, person: Person, conditions: list[Condition], service: Service, team: _Team,
        nurse: Staff, state: str,
    ) -> TTReferral:  # fmt: skip
        rng, today = self.rng, self.today
        received = today - dt.timedelta(
            days={
                "awaiting-assessment": rng.randint(2, 30),
                "awaiting-treatment": rng.randint(20, 38),
                "awaiting-treatment-long": rng.randint(50, 140),
                "one-treatment": rng.randint(60, 130),
            }.get(state, rng.randint(90, 200))
        )
        shared = Referral.objects.create(
            person=person,
            service=service,
            referred_by=nurse,
            received_date=received,
            reason="NHS Talking Therapies, long-term conditions pathway",
            pathway=Referral.Pathway.TALKING_THERAPIES,
        )
        descriptor = rng.choice(["F32.1", "F41.1", "F41.2", "F41.2", "F43.1", "F40.1"])
        referral = TTReferral.objects.create(
            referral=shared,
            person=person,
            service=service,
            received_date=received,
            source=rng.choice(["A1", "A3", "A3", "B1"]),
            referred_by=nurse,
        )
        referral.conditions.set(conditions)
        if state == "in-treatment-risk":
            self.takes_a_tricyclic(person)
        self.markers(
            person, {c.concept.value_set for c in conditions}, nurse, received - dt.timedelta(90)
        )
        if state == "awaiting-assessment":
            return referral
        assessed = received + dt.timedelta(days=rng.randint(5, 14))
        phq, gad = rng.randint(10, 21), rng.randint(8, 18)
        self.contact(referral, assessed, "assessment", team.pwp)
        for code, total in (("PHQ9", phq), ("GAD7", gad), ("WSAS", rng.randint(8, 26))):
            self.score(referral, person, code, total, assessed, team.pwp)
        referral.problem_descriptor = descriptor
        if state == "discharged-not-suitable":
            return self.discharge(referral, assessed, "12", team.pwp)
        recommended = stepping.recommend(stepping.Presentation(descriptor, phq, gad, None)).step
        clinician = team.pwp if recommended is stepping.Step.LOW_INTENSITY else team.therapist
        referral.step, referral.clinician = recommended.value, clinician
        referral.status = TTReferral.Status.AWAITING_TREATMENT
        referral.save()
        StepChange.objects.create(
            referral=referral,
            to_step=recommended.value,
            recommended_step=recommended.value,
            changed_by=team.pwp,
            changed_at=self.at(assessed, 16),
        )
        if state.startswith("awaiting-treatment"):
            return referral
        sessions = {"one-treatment": 1, "discharged-dropped-out": 1}.get(state, rng.randint(3, 8))
        day = assessed + dt.timedelta(days=rng.randint(7, 21))
        improving = state != "discharged-dropped-out" and rng.random() < 0.75
        for n in range(sessions):
            if day >= today:
                break
            attended = n == 0 or rng.random() > 0.12
            self.contact(referral, day, "treatment", clinician, attended=attended)
            if attended:
                share = (n + 1) / sessions
                phq_now = round(phq - (phq - rng.randint(2, 8)) * share) if improving else phq
                gad_now = round(gad - (gad - rng.randint(1, 6)) * share) if improving else gad
                risk = 1 if state == "in-treatment-risk" and n == sessions - 1 else 0
                self.score(referral, person, "PHQ9", phq_now, day, clinician, item9=risk)
                self.score(referral, person, "GAD7", gad_now, day, clinician)
            day += dt.timedelta(days=rng.randint(6, 14))
        referral.status = TTReferral.Status.IN_TREATMENT
        referral.save()
        last = referral.contacts.order_by("-starts_at").first()
        end = timezone.localtime(last.starts_at).date() if last else assessed
        if state == "discharged-dropped-out":
            return self.discharge(referral, end, "47", clinician)
        if state.startswith("discharged"):
            return self.discharge(referral, end, "46", clinician)
        return referral

    def discharge(
        self, referral: TTReferral, day: dt.date, reason: str, clinician: Staff
    ) -> TTReferral:
        referral.status = TTReferral.Status.DISCHARGED
        referral.discharge_date = day
        referral.ending_reason = reason
        referral.save()
        Referral.objects.filter(pk=referral.referral_id).update(
            status=Referral.Status.CLOSED,
            closed_date=day,
            outcome=Referral.Outcome.DISCHARGED,
            outcome_note=f"Discharged from NHS Talking Therapies: {referral.ending_reason_label}",
            closed_by=clinician,
        )
        RecordEntry.objects.create(
            person=referral.person,
            kind=RecordEntry.Kind.LETTER,
            occurred_at=self.at(day, 17),
            title="NHS Talking Therapies discharge letter to the GP and long-term condition team",
            text=engine.discharge_letter(referral, engine.referral_outcome(referral), clinician),
            author=clinician,
            discipline=clinician.discipline,
            service=referral.service,
        )
        return referral


def _named_gp(person: Person) -> CareTeamMembership | None:
    return (
        CareTeamMembership.objects.filter(person=person, staff__discipline=Discipline.GP)
        .select_related("staff__user")
        .first()
    )


def _the_practice(named_gp: CareTeamMembership) -> Ctx:
    """The API context of the practice's clinical system, acting as the person's named GP."""
    return Ctx(grant=import_grant(named_gp.staff, "the practice's clinical system"), base="")


def _staff(discipline: Discipline) -> list[Staff]:
    return list(Staff.objects.filter(discipline=discipline).select_related("user").order_by("pk"))


def _first(pool: Sequence[Staff], username: str, index: int) -> Staff:
    demo = next((s for s in pool if s.user.username == username), None)
    if index == 0 and demo is not None:
        return demo
    return pool[index % len(pool)]


def load_talking_therapies(*, seed: int, progress: bool = False) -> None:
    """Add the pathway to an already-loaded demonstration area (see the module docstring)."""
    if TTReferral.objects.exists():
        raise AlreadyLoaded("The demonstration area already has Talking Therapies referrals")
    pwps = _staff(Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER)
    therapists = _staff(Discipline.HIGH_INTENSITY_THERAPIST)
    managers = _staff(Discipline.SERVICE_MANAGER)
    nurses = _staff(Discipline.PRACTICE_NURSE)
    if not (pwps and therapists and nurses):
        raise ValueError("Load the demonstration area first: it has no PWPs, therapists or nurses")
    demo_nurse = next((n for n in nurses if n.user.username == "demo-practice-nurse"), nurses[0])
    practices = sorted(
        Organisation.objects.filter(kind=Organisation.Kind.GP_PRACTICE),
        key=lambda p: (p.pk != demo_nurse.organisation_id, p.ods_code),
    )
    rng = Random(f"wholecare-talking-therapies:{seed}")
    loader = _Loader(rng, timezone.localdate())
    ltc_codes = [
        c.snomed for c in vocabulary.CONDITIONS if c.group is vocabulary.ConditionGroup.LONG_TERM
    ]
    with transaction.atomic():
        for index, practice in enumerate(
            tqdm(practices, desc="Talking Therapies", file=sys.stderr, disable=not progress)
        ):
            service = Service.objects.create(
                organisation=practice,
                name=SERVICE_NAME.format(practice=practice.name),
                kind=Service.Kind.TALKING_THERAPIES,
            )
            team = _Team(
                pwp=_first(
                    pwps, DEMO_USERS[Discipline.PSYCHOLOGICAL_WELLBEING_PRACTITIONER], index
                ),
                therapist=_first(
                    therapists, DEMO_USERS[Discipline.HIGH_INTENSITY_THERAPIST], index
                ),
                manager=_first(managers, DEMO_USERS[Discipline.SERVICE_MANAGER], index)
                if managers
                else None,
            )
            for member in (team.pwp, team.therapist, team.manager):
                if member is not None:
                    member.services.add(service)
            nurse = (
                demo_nurse
                if practice.pk == demo_nurse.organisation_id
                else next((n for n in nurses if n.organisation_id == practice.pk), demo_nurse)
            )
            active_ltc = Condition.objects.filter(
                person=OuterRef("pk"),
                snomed_code__in=ltc_codes,
                clinical_status=Condition.ClinicalStatus.ACTIVE,
            )
            people = list(
                Person.objects.filter(
                    Exists(active_ltc), registered_practice=practice, date_of_death__isnull=True
                ).order_by("pk")[: REFERRALS_PER_SERVICE + SCREENS_PER_PRACTICE]
            )
            rng.shuffle(people)
            for n, person in enumerate(people[:REFERRALS_PER_SERVICE]):
                conditions = [
                    c
                    for c in person.conditions.filter(snomed_code__in=ltc_codes)
                    if c.clinical_status == Condition.ClinicalStatus.ACTIVE
                ]
                loader.referral(person, conditions, service, team, nurse, STATES[n % len(STATES)])
                loader.sent_by_the_practice(person, conditions)
            for person in people[REFERRALS_PER_SERVICE:]:
                day = loader.today - dt.timedelta(days=rng.randint(5, 200))
                at_caseness = rng.random() < 0.5
                loader.score(
                    None,
                    person,
                    "PHQ9",
                    rng.randint(10, 18) if at_caseness else rng.randint(0, 8),
                    day,
                    nurse,
                )
                loader.score(
                    None,
                    person,
                    "GAD7",
                    rng.randint(8, 15) if at_caseness else rng.randint(0, 6),
                    day,
                    nurse,
                )
            if len(people) > REFERRALS_PER_SERVICE:
                Referral.objects.create(
                    person=people[-1],
                    service=service,
                    referred_by=Staff.objects.filter(
                        discipline=Discipline.GP, organisation=practice
                    ).first(),
                    received_date=loader.today - dt.timedelta(days=2 + index % 5),
                    reason=SENT_THROUGH_THE_API,
                )
            SelfReferral.objects.create(
                service=service,
                given_name="Morwenna",
                family_name=f"Selfreferrer{index + 1}",
                date_of_birth=dt.date(1971, 5, 1 + index % 28),
                postcode=practice.postcode or "TQ1 1ZZ",
                phone="01632 960999",
                long_term_conditions=["44054006"],
                what_would_help="Worrying a lot since my diabetes diagnosis.",
                submitted_at=timezone.now() - dt.timedelta(hours=rng.randint(2, 40)),
            )
        audit(
            by=demo_nurse.user,
            action=AuditEvent.Action.CREATE,
            person=None,
            what=f"demo Talking Therapies loaded: {len(practices)} services, seed {seed}",
        )
