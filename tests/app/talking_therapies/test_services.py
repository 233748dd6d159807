"""Writes on the pathway: referral intake, contacts, measures and risk, stepping, discharge, and
the bad input the issue names (clear errors, nothing written)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from tests.app.talking_therapies.conftest import (
    GAD7_MODERATE,
    PHQ9_SEVERE,
    at,
    contact,
    days_ago,
    discharge,
    refer,
    score,
    treated_course,
)
from wholecare.access import services as access_services
from wholecare.access.models import AuditEvent, SharingConsent
from wholecare.access.permissions import AccessDenied, can_open_record
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.outcomes import spec
from wholecare.record import selectors as record_selectors
from wholecare.record.models import RecordEntry, Referral
from wholecare.record.vocabulary import Sensitivity
from wholecare.talking_therapies import engine, services
from wholecare.talking_therapies.models import (
    CareContact,
    MeasureScore,
    RiskTask,
    StepChange,
    TTReferral,
)

pytestmark = pytest.mark.django_db


def _audited(person, text: str) -> bool:
    return AuditEvent.objects.filter(person_id=person.pk, what__contains=text).exists()


def test_referral_from_the_record_opens_it_to_the_service(tt):
    assert not can_open_record(tt.pwp, tt.person)
    referral = refer(tt)
    assert referral.referral.status == Referral.Status.OPEN
    assert referral.referral.pathway == Referral.Pathway.TALKING_THERAPIES, "closed by discharge"
    assert list(referral.conditions.all()) == [tt.diabetes]
    assert referral.source_label.startswith("Other primary health care")
    assert can_open_record(tt.pwp, tt.person)
    assert _audited(tt.person, "Talking Therapies referral")


def test_a_second_open_referral_to_the_same_service_is_refused(tt):
    refer(tt)
    with pytest.raises(ValidationError, match="already has an open referral"):
        refer(tt)
    assert TTReferral.objects.count() == 1
    assert Referral.objects.count() == 1


def test_referral_needs_an_ltc_of_the_person(tt):
    other = factories.ConditionFactory(snomed_code="44054006")
    depression = factories.ConditionFactory(person=tt.person, snomed_code="35489007")
    for conditions, message in (
        ([], "Choose the long-term condition"),
        ([other], "not on this person's record"),
        ([depression], "is not a long-term condition"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.tt_referral_create(
                by=tt.nurse.user,
                person=tt.person,
                service=tt.service,
                source="A3",
                conditions=conditions,
                received_date=days_ago(1),
            )
    assert not Referral.objects.exists()


def test_contact_before_the_referral_date_is_refused(tt):
    referral = refer(tt, received=10)
    with pytest.raises(ValidationError, match="cannot be before the referral was received"):
        contact(tt, referral, days_ago(11))
    assert not CareContact.objects.exists()


def test_contacts_move_the_referral_through_its_states(tt):
    referral = refer(tt, received=30)
    contact(tt, referral, days_ago(20), kind="assessment")
    referral.refresh_from_db()
    assert referral.status == TTReferral.Status.AWAITING_TREATMENT
    contact(tt, referral, days_ago(10), attendance="3")
    referral.refresh_from_db()
    assert referral.status == TTReferral.Status.AWAITING_TREATMENT, "a missed session treats no one"
    contact(tt, referral, days_ago(5))
    referral.refresh_from_db()
    assert referral.status == TTReferral.Status.IN_TREATMENT


def test_scores_out_of_range_are_refused_and_nothing_is_written(tt):
    referral = refer(tt)
    with pytest.raises(ValidationError, match="PHQ9 item 4: 5 is out of range"):
        score(tt, referral, "PHQ9", [1, 1, 1, 5, 1, 1, 1, 1, 0], days_ago(1))
    assert not MeasureScore.objects.exists()
    assert not RiskTask.objects.exists()


@pytest.mark.parametrize(
    ("item9", "flag"), [(1, "ITEM9_POSITIVE"), (3, "ITEM9_POSITIVE"), (None, "ITEM9_NOT_ANSWERED")]
)
def test_item9_positive_or_missing_raises_a_risk_task_with_the_score(tt, item9, flag):
    referral = treated_course(tt)
    recorded = score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, item9], days_ago(1))
    task = RiskTask.objects.get(score=recorded)
    assert task.flag == flag
    assert task.assigned_to == tt.pwp
    assert task.item9_answer == item9
    assert task.reviewed_at is None


def test_item9_zero_raises_no_risk_task(tt):
    referral = refer(tt)
    score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(1))
    assert not RiskTask.objects.exists()


def test_unscorable_phq9_with_positive_item9_still_reaches_the_clinician(tt):
    referral = treated_course(tt)
    with pytest.raises(ValidationError, match="3 items missing"):
        score(tt, referral, "PHQ9", [None, None, None, 1, 1, 1, 1, 1, 2], days_ago(1))
    task = RiskTask.objects.get()
    assert task.score is None
    assert task.flag == "ITEM9_POSITIVE"
    assert task.item9_answer == 2
    assert task.assigned_to == tt.pwp


def test_risk_review_needs_a_named_person_and_a_note(tt):
    referral = treated_course(tt)
    score(tt, referral, "PHQ9", [0, 0, 0, 0, 0, 0, 0, 0, 1], days_ago(1))
    task = RiskTask.objects.get()
    with pytest.raises(ValidationError, match="Describe the risk review"):
        services.risk_task_review(by=tt.pwp.user, task=task, note="ok")
    with pytest.raises(AccessDenied):
        services.risk_task_review(by=tt.nurse.user, task=task, note="Phoned, safety plan agreed")
    services.risk_task_review(by=tt.pwp.user, task=task, note="Phoned, safety plan agreed")
    task.refresh_from_db()
    assert task.reviewed_by == tt.pwp
    assert _audited(tt.person, "reviewed")


def test_step_allocation_follows_the_recommendation_or_says_why(tt):
    referral = refer(tt)
    with pytest.raises(ValidationError, match="Record the assessment's PHQ-9"):
        services.step_allocate(
            by=tt.pwp.user, referral=referral, step="low", clinician=tt.pwp, version=1
        )
    score(tt, referral, "PHQ9", PHQ9_SEVERE, days_ago(5))
    score(tt, referral, "GAD7", GAD7_MODERATE, days_ago(5))
    referral.refresh_from_db()
    with pytest.raises(ValidationError, match="needs a psychological wellbeing practitioner"):
        services.step_allocate(
            by=tt.pwp.user,
            referral=referral,
            step="low",
            clinician=tt.therapist,
            version=referral.version,
        )
    with pytest.raises(ValidationError, match="points to step 3"):
        services.step_allocate(
            by=tt.pwp.user,
            referral=referral,
            step="low",
            clinician=tt.pwp,
            version=referral.version,
        )
    referral = services.step_allocate(
        by=tt.pwp.user,
        referral=referral,
        step="low",
        clinician=tt.pwp,
        version=referral.version,
        reason="Prefers guided self-help first; reviewed in supervision",
    )
    referral = services.step_allocate(
        by=tt.pwp.user,
        referral=referral,
        step="high",
        clinician=tt.therapist,
        version=referral.version,
    )
    changes = list(StepChange.objects.values_list("from_step", "to_step", "recommended_step"))
    assert changes == [("", "low", "high"), ("low", "high", "high")]
    assert _audited(tt.person, "step stepped up")
    assert referral.clinician == tt.therapist


def test_a_stale_save_is_refused_never_overwrites(tt):
    referral = refer(tt)
    seen = referral.version
    services.problem_descriptor_record(
        by=tt.pwp.user, referral=referral, problem_descriptor="F41.1", version=seen
    )
    with pytest.raises(ValidationError, match="changed by someone else"):
        services.problem_descriptor_record(
            by=tt.therapist.user, referral=referral, problem_descriptor="F32.1", version=seen
        )
    referral.refresh_from_db()
    assert referral.problem_descriptor == "F41.1"


def test_problem_descriptor_must_be_icd10(tt):
    referral = refer(tt)
    with pytest.raises(ValidationError, match="ICD-10 code"):
        services.problem_descriptor_record(
            by=tt.pwp.user, referral=referral, problem_descriptor="anxiety", version=1
        )


def test_every_change_of_contact_kind_is_audited_with_its_reason(tt):
    referral = refer(tt, received=30)
    assessment = contact(tt, referral, days_ago(20), kind="assessment")
    with pytest.raises(ValidationError, match="Say why"):
        services.contact_change_kind(
            by=tt.pwp.user, contact=assessment, kind="treatment", reason=""
        )
    services.contact_change_kind(
        by=tt.pwp.user,
        contact=assessment,
        kind="treatment",
        reason="Session was treatment: started behavioural activation",
    )
    event = AuditEvent.objects.get(what__contains="changed from assessment to treatment")
    assert event.person_id == tt.person.pk
    assert event.why == "Session was treatment: started behavioural activation"
    referral.refresh_from_db()
    assert referral.status == TTReferral.Status.IN_TREATMENT


def test_discharge_before_the_last_contact_is_refused(tt):
    referral = treated_course(tt)
    with pytest.raises(ValidationError, match="before the last care contact"):
        discharge(tt, referral, days_ago(25))
    referral.refresh_from_db()
    assert referral.status == TTReferral.Status.IN_TREATMENT
    assert not RecordEntry.objects.filter(kind="letter").exists()


def test_discharge_needs_an_ending_reason(tt):
    referral = treated_course(tt)
    with pytest.raises(ValidationError, match="Choose the reason"):
        services.tt_referral_discharge(
            by=tt.pwp.user,
            referral=referral,
            discharge_date=days_ago(1),
            ending_reason="",
            version=referral.version,
        )


def test_the_discharge_letter_reaches_whom_the_person_agreed_and_the_closing_note_everyone(tt):
    homecare = factories.StaffFactory(discipline=Discipline.HOMECARE_WORKER)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    mental_health_nurse = factories.StaffFactory(discipline=Discipline.MENTAL_HEALTH_NURSE)
    for staff in (homecare, gp, mental_health_nurse):
        factories.CareTeamMembershipFactory(person=tt.person, staff=staff)
    discharge(tt, treated_course(tt))

    def timeline(staff: Staff) -> list[str]:
        summary = record_selectors.person_summary(by=staff.user, public_id=tt.person.public_id)
        return [entry.title for entry in summary.timeline.entries]

    letter = "NHS Talking Therapies discharge letter to the GP and long-term condition team"
    closing = RecordEntry.objects.get(kind="note", title__startswith="Referral to").title
    for staff in (homecare, gp, tt.nurse):
        assert timeline(staff) == [closing], staff.discipline
    assert letter in timeline(mental_health_nurse)
    access_services.sharing_consent_record(
        by=mental_health_nurse.user,
        person=tt.person,
        sensitivity=Sensitivity.PSYCHOLOGICAL_THERAPY,
        discipline=Discipline.GP,
        decision=SharingConsent.Decision.PERMIT,
    )
    assert letter in timeline(gp)
    assert letter not in timeline(homecare)


def test_discharge_audits_its_reason_writes_the_letter_and_closes_the_referral(tt):
    referral = treated_course(tt)
    referral = discharge(tt, referral)
    assert _audited(tt.person, "ending reason 46 (Mutually agreed completion of treatment)")
    letter = RecordEntry.objects.get(kind="letter")
    assert letter.sensitivity == "psychological-therapy", "its scores follow the sharing rule"
    assert "Recovered: yes. Reliable improvement: yes." in letter.text
    assert "PHQ-9 from 11 to 4." in letter.text
    shared = referral.referral
    assert (shared.status, shared.outcome, shared.closed_by, shared.closed_date) == (
        Referral.Status.CLOSED,
        Referral.Outcome.DISCHARGED,
        tt.pwp,
        days_ago(1),
    )
    assert shared.outcome_note == (
        "Discharged from NHS Talking Therapies: Mutually agreed completion of treatment"
    )
    outcome = engine.referral_outcome(referral)
    assert outcome.finished_treatment
    assert outcome.recovered
    assert outcome.reliable_improvement


def test_referral_outcome_is_the_specification_on_the_stored_rows(tt):
    referral = treated_course(tt)
    expected = spec.referral_outcome(
        spec.Referral(str(referral.public_id), referral.received_date, None, None),
        [
            spec.Contact(timezone.localtime(c.starts_at).date(), c.kind, c.attended)
            for c in referral.contacts.all()
        ],
        [spec.Score(s.measured_on, s.measure, s.total) for s in referral.scores.order_by("pk")],
    )
    assert engine.referral_outcome(referral) == expected


def test_nothing_more_is_recorded_after_discharge(tt):
    referral = treated_course(tt)
    discharge(tt, referral)
    with pytest.raises((ValidationError, AccessDenied)):
        contact(tt, referral, days_ago(0))


def test_markers_are_checked_for_plausible_values(tt):
    with pytest.raises(ValidationError, match="HbA1c must be between 20 and 200"):
        services.marker_record(
            by=tt.nurse.user, person=tt.person, code="hba1c", value=7.5, observed_on=days_ago(1)
        )
    found = services.marker_record(
        by=tt.nurse.user, person=tt.person, code="hba1c", value=68, observed_on=days_ago(1)
    )
    assert found.recorded_by == tt.nurse


def test_staff_outside_the_service_cannot_record_contacts(tt):
    referral = refer(tt)
    with pytest.raises(AccessDenied):
        services.contact_record(
            by=tt.nurse.user,
            referral=referral,
            starts_at=at(days_ago(1)),
            kind="treatment",
            attendance="5",
            mode="phone",
            intensity="low",
        )


def test_future_contacts_are_refused(tt):
    referral = refer(tt)
    with pytest.raises(ValidationError, match="once it has taken place"):
        contact(tt, referral, timezone.localdate() + dt.timedelta(days=2))
