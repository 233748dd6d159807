"""What the public reaches without an account: the one-time questionnaire link and the
self-referral form."""

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.fhir.conftest import api_for
from tests.app.signed_in import signed_in
from tests.app.talking_therapies.conftest import PHQ9_SEVERE, treated_course
from wholecare.access.addresses import address_hash
from wholecare.access.permissions import AccessDenied
from wholecare.record import services as record_services
from wholecare.record.models import Person, RecordEntry, Referral
from wholecare.talking_therapies import services
from wholecare.talking_therapies.models import (
    MeasureScore,
    PublicAttempt,
    QuestionnaireInvitation,
    RiskTask,
    SelfReferral,
)

pytestmark = pytest.mark.django_db
CLIENT = address_hash("192.0.2.1")


def _invite(tt, referral, measures=("PHQ9",)):
    return services.invitation_create(
        by=tt.pwp.user, person=tt.person, referral=referral, measures_wanted=list(measures)
    )


def test_the_code_is_stored_hashed_and_works_once(tt):
    referral = treated_course(tt)
    new = _invite(tt, referral)
    stored = QuestionnaireInvitation.objects.get()
    assert new.code not in stored.code_hash
    assert len(new.code) == services.CODE_LENGTH
    scores = services.questionnaire_submit(
        code=new.code.lower(), client=CLIENT, answers={"PHQ9": [0, 0, 0, 0, 0, 0, 0, 0, 1]}
    )
    assert scores[0].entered_via == MeasureScore.EnteredVia.PERSON
    task = RiskTask.objects.get()
    assert task.assigned_to == tt.pwp, "straight to the responsible clinician"
    assert task.flag == "ITEM9_POSITIVE"
    with pytest.raises(ValidationError, match="That code does not work"):
        services.questionnaire_submit(code=new.code, client=CLIENT, answers={"PHQ9": PHQ9_SEVERE})
    assert MeasureScore.objects.filter(entered_via="person").count() == 1


def test_a_score_from_a_link_says_who_sent_it_and_earlier_ones_are_marked(tt):
    referral = treated_course(tt)
    new = _invite(tt, referral, measures=("PHQ9", "GAD7"))
    scores = services.questionnaire_submit(
        code=new.code, client=CLIENT, answers={"PHQ9": PHQ9_SEVERE, "GAD7": [1] * 7}
    )
    assert {s.requested_by for s in scores} == {tt.pwp}
    MeasureScore.objects.update(requested_by=None)
    migration = importlib.import_module(
        "wholecare.talking_therapies.migrations.0005_measure_score_requested_by"
    )
    migration.requested_by_the_sender(django_apps, None)
    assert set(
        MeasureScore.objects.filter(entered_via="person").values_list("requested_by", flat=True)
    ) == {tt.pwp.pk}
    assert not MeasureScore.objects.filter(entered_via="clinician", requested_by__isnull=False)


def test_an_expired_code_does_not_work(tt):
    new = _invite(tt, treated_course(tt))
    QuestionnaireInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="That code does not work"):
        services.invitation_for_code(code=new.code, client=CLIENT)


def test_out_of_range_answers_from_the_link_write_nothing_and_keep_the_code(tt):
    new = _invite(tt, treated_course(tt))
    before = MeasureScore.objects.count()
    with pytest.raises(ValidationError, match="out of range"):
        services.questionnaire_submit(
            code=new.code, client=CLIENT, answers={"PHQ9": [4, 0, 0, 0, 0, 0, 0, 0, 0]}
        )
    assert MeasureScore.objects.count() == before
    assert services.invitation_for_code(code=new.code, client=CLIENT).used_at is None


def test_guessing_codes_is_rate_limited(tt):
    new = _invite(tt, treated_course(tt))
    for _ in range(services.PUBLIC_LIMITS["questionnaire"]):
        with pytest.raises(ValidationError, match="That code does not work"):
            services.invitation_for_code(code="WRONGCODE1", client=CLIENT)
    with pytest.raises(ValidationError, match="Too many attempts"):
        services.invitation_for_code(code=new.code, client=CLIENT)
    assert services.invitation_for_code(code=new.code, client=address_hash("192.0.2.9"))
    PublicAttempt.objects.update(at=timezone.now() - services.PUBLIC_WINDOW - dt.timedelta(1))
    assert services.invitation_for_code(code=new.code, client=CLIENT), "waiting is enough"
    assert PublicAttempt.objects.filter(client_hash=CLIENT).count() == 1, "older tries go"


def _self_refer(tt, **changes):
    values = {
        "service": tt.service,
        "client": CLIENT,
        "given_name": "Ada",
        "family_name": "Trelawney",
        "date_of_birth": tt.person.date_of_birth,
        "postcode": "tq1 1aa",
        "phone": "01632 960001",
        "long_term_conditions": ["44054006"],
    }
    return services.self_referral_submit(**{**values, **changes})


def test_self_referral_creates_no_person_and_links_to_the_existing_record(tt):
    people = Person.objects.count()
    submission = _self_refer(tt)
    assert Person.objects.count() == people
    assert services.matching_people(submission) == [tt.person]
    with pytest.raises(ValidationError, match="matches a record already held"):
        services.self_referral_accept(
            by=tt.pwp.user, submission=submission, nhs_number_text=factories.next_nhs_number()
        )
    referral = services.self_referral_accept(
        by=tt.pwp.user, submission=submission, person=tt.person
    )
    assert Person.objects.count() == people
    assert referral.source == "B1"
    assert list(referral.conditions.all()) == [tt.diabetes]
    assert referral.referral.pathway == "talking-therapies"


def test_a_self_referral_is_one_on_the_shared_record_and_in_what_it_says(tt):
    referral = services.self_referral_accept(
        by=tt.pwp.user, submission=_self_refer(tt), person=tt.person
    ).referral
    assert referral.self_referral
    assert referral.referred_by is None
    summary = signed_in(tt.nurse).get(reverse("web:person", args=[tt.person.public_id]))
    assert "· self-referral" in summary.content.decode()
    requester = api_for(tt.nurse).get(f"/fhir/ServiceRequest?patient={tt.person.public_id}")
    assert requester.json()["entry"][0]["resource"]["requester"] == {
        "reference": f"Patient/{tt.person.public_id}",
        "display": tt.person.full_name,
    }

    record_services.pathway_referral_close(
        referral_id=referral.pk, staff=tt.pwp, closed_date=timezone.localdate(), note=""
    )
    note = RecordEntry.objects.get(person=tt.person, title__startswith="Referral to")
    assert note.text.startswith("Ada Trelawney referred themselves on ")


def test_self_referrals_accepted_before_the_record_said_so_are_marked(tt):
    referral = services.self_referral_accept(
        by=tt.pwp.user, submission=_self_refer(tt), person=tt.person
    ).referral
    Referral.objects.filter(pk=referral.pk).update(self_referral=False)
    phoned = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=phoned, staff=tt.nurse)
    staff_made = services.tt_referral_create(
        by=tt.nurse.user,
        person=phoned,
        service=tt.service,
        source="B1",
        conditions=[factories.ConditionFactory(person=phoned, snomed_code="44054006")],
        received_date=timezone.localdate(),
    )
    migration = importlib.import_module(
        "wholecare.talking_therapies.migrations.0004_self_referrals_on_the_shared_record"
    )
    migration.mark(django_apps, None)
    assert Referral.objects.get(pk=referral.pk).self_referral
    assert not Referral.objects.get(pk=staff_made.referral_id).self_referral, (
        "recorded by staff, who are its referrer"
    )


def test_self_referral_for_someone_new_needs_a_traced_nhs_number(tt):
    submission = _self_refer(tt, given_name="Wren", family_name="Pollard")
    with pytest.raises(ValidationError, match="already on the record"):
        services.self_referral_accept(
            by=tt.pwp.user, submission=submission, nhs_number_text=tt.person.nhs_number
        )
    referral = services.self_referral_accept(
        by=tt.pwp.user, submission=submission, nhs_number_text=factories.next_nhs_number()
    )
    assert referral.person.family_name == "Pollard"
    assert SelfReferral.objects.get().tt_referral == referral


def test_self_referral_is_checked_and_rate_limited(tt):
    with pytest.raises(ValidationError, match="phone number or an email"):
        _self_refer(tt, phone="")
    with pytest.raises(ValidationError, match="must be 10 digits"):
        _self_refer(tt, nhs_number_text="123", client=address_hash("198.51.100.7"))
    for _ in range(services.PUBLIC_LIMITS["self-referral"] - 1):
        _self_refer(tt)
    with pytest.raises(ValidationError, match="Too many attempts"):
        _self_refer(tt)


def test_only_the_service_accepts_its_self_referrals(tt):
    submission = _self_refer(tt)
    with pytest.raises(AccessDenied):
        services.self_referral_accept(by=tt.nurse.user, submission=submission, person=tt.person)
