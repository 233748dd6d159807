"""Writes to the record: bad input is refused with a message saying what and where; nothing is
written."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.record import services, vocabulary
from wholecare.record.models import Alert, Condition, Person, RecordEntry, Referral

pytestmark = pytest.mark.django_db


def _create(gp, **overrides):
    fields: dict[str, Any] = {
        "nhs_number_text": "943 476 5919",
        "given_name": "Ada",
        "family_name": "Okafor",
        "date_of_birth": dt.date(1961, 2, 3),
        "sex": Person.Sex.FEMALE,
    }
    fields.update(overrides)
    return services.person_create(by=gp.user, **fields)


def test_person_created_and_audited(gp):
    person = _create(gp)
    assert person.nhs_number == "9434765919"
    event = AuditEvent.objects.get(person_id=person.pk)
    assert (event.action, event.actor_username) == (AuditEvent.Action.CREATE, "gp")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nhs_number_text": "943476591"}, "nhs_number", "must be 10 digits long"),
        ({"nhs_number_text": "9434765910"}, "nhs_number", "check digit does not match"),
        ({"date_of_birth": dt.date(2999, 1, 1)}, "date_of_birth", "today or in the past"),
        ({"given_name": "A" * 101}, "given_name", "at most 100 characters"),
        ({"sex": "dragon"}, "sex", "not a valid choice"),
        ({"ethnic_category": "Q"}, "ethnic_category", "not a valid choice"),
        ({"imd_decile": 11}, "__all__", "person_imd_decile_1_to_10"),
    ],
)
def test_bad_person_refused_with_message(gp, overrides, field, message):
    with pytest.raises(ValidationError) as error:
        _create(gp, **overrides)
    assert message in " ".join(error.value.message_dict[field])
    assert not Person.objects.exists()
    assert not AuditEvent.objects.exists()


def test_duplicate_nhs_number_refused(gp):
    _create(gp)
    with pytest.raises(ValidationError, match="already on the record"):
        _create(gp, given_name="Other")
    assert Person.objects.count() == 1


def test_condition_needs_a_snomed_ct_concept_and_any_one_is_held(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    with pytest.raises(ValidationError, match="not of a concept"):
        services.condition_record(by=gp.user, person=person, snomed_code="123456")
    other = services.condition_record(
        by=gp.user, person=person, snomed_code="26322001", display=" Bleeding from ear "
    )
    assert (other.concept.display, other.concept.icd10) == ("Bleeding from ear", "")
    assert other.concept.group is vocabulary.ConditionGroup.UNCLASSIFIED
    with pytest.raises(ValidationError, match="already has this condition"):
        services.condition_record(by=gp.user, person=person, snomed_code="26322001")
    with pytest.raises(ValidationError, match="before the person's date of birth"):
        services.condition_record(
            by=gp.user, person=person, snomed_code="44054006", onset_date=dt.date(1900, 1, 1)
        )
    condition = services.condition_record(
        by=gp.user, person=person, snomed_code="44054006", onset_date=dt.date(2010, 5, 1)
    )
    assert condition.concept.icd10 == "E11"
    assert Condition.objects.count() == 2


def test_writes_need_a_relationship(gp, person):
    with pytest.raises(AccessDenied):
        services.entry_create(by=gp.user, person=person, kind="note", title="x", text="y")
    assert not RecordEntry.objects.exists()


def test_entry_refuses_future_dates_and_long_text(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    with pytest.raises(ValidationError, match="future"):
        services.entry_create(
            by=gp.user,
            person=person,
            kind="note",
            title="x",
            text="y",
            occurred_at=timezone.now() + dt.timedelta(days=1),
        )
    with pytest.raises(ValidationError) as error:
        services.entry_create(by=gp.user, person=person, kind="note", title="x" * 201, text="")
    assert "title" in error.value.message_dict
    assert not RecordEntry.objects.exists()


def test_second_open_referral_to_same_service_refused(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    service = factories.ServiceFactory()
    services.referral_create(
        by=gp.user, person=person, service=service, received_date=dt.date(2026, 1, 1)
    )
    with pytest.raises(ValidationError, match="already has an open referral"):
        services.referral_create(
            by=gp.user, person=person, service=service, received_date=dt.date(2026, 1, 2)
        )
    assert Referral.objects.count() == 1


def test_contact_update_lists_changes_in_audit(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    services.person_update_contact(
        by=gp.user, person=person, phone="01803 000000", interpreter_needed=True
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.what == "contact details updated: interpreter_needed, phone"
    with pytest.raises(ValidationError, match="cannot be changed here: nhs_number"):
        services.person_update_contact(by=gp.user, person=person, nhs_number="9434765919")


def test_a_person_whose_nhs_number_is_not_known_is_registered_without_one(gp):
    first = _create(gp, nhs_number_text=None)
    second = _create(gp, nhs_number_text=None, given_name="Other", date_of_birth=None)
    assert (first.nhs_number, second.nhs_number, second.date_of_birth) == (None, None, None)
    assert Person.objects.filter(nhs_number__isnull=True).count() == 2


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_nhs_number_is_not_taken_for_not_known(gp, blank):
    """A form left empty is a missing answer, not a statement that the number is not known."""
    with pytest.raises(ValidationError) as error:
        _create(gp, nhs_number_text=blank)
    assert "nhs_number" in error.value.message_dict
    assert not Person.objects.exists()


def test_person_new_applies_the_same_rules_as_person_create_without_writing(gp):
    taken = {"9434765919"}
    with pytest.raises(ValidationError) as error:
        services.person_new(
            nhs_number_text="943 476 5919",
            given_name="Ada",
            family_name="Okafor",
            date_of_birth=dt.date(2999, 1, 1),
            sex="female",
            taken=taken.__contains__,
        )
    assert set(error.value.message_dict) == {"nhs_number", "date_of_birth"}
    assert not Person.objects.exists()


def test_referrals_to_one_service_differ_by_request(gp, person):
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    service = factories.ServiceFactory()
    ct = (vocabulary.SNOMED_CT, "169069000", "CT of chest")
    ecg = (vocabulary.SNOMED_CT, "268400002", "12 lead ECG")
    for request in (ct, ecg):
        services.referral_create(
            by=gp.user,
            person=person,
            service=service,
            received_date=dt.date(2026, 1, 1),
            request=request,
        )
    with pytest.raises(ValidationError, match=r"already has an open referral .* for CT of chest"):
        services.referral_create(
            by=gp.user,
            person=person,
            service=service,
            received_date=dt.date(2026, 1, 2),
            request=ct,
        )
    with pytest.raises(ValidationError, match="exactly one"):
        services.referral_create(
            by=gp.user, person=person, received_date=dt.date(2026, 1, 2), request=ct
        )
    assert Referral.objects.count() == 2


def test_an_alert_needs_a_relationship_words_a_snomed_ct_code_and_an_end_after_its_start(
    gp, person
):
    start = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    fields: dict[str, Any] = {"category": "diet", "text": "Peanut-free diet", "raised_at": start}
    with pytest.raises(AccessDenied):
        services.alert_record(by=gp.user, person=person, **fields)
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"text": "  "}, "text"),
        ({"code": "226201008"}, "code"),
        ({"code_system": "http://read.info/ctv3", "code": "XaB1"}, "code_system"),
        ({"code_system": vocabulary.SNOMED_CT, "code": "0226201008"}, "code"),
        ({"ended_at": start - dt.timedelta(days=1)}, "ended_at"),
        ({"category": "pets"}, "category"),
    ]
    for bad, field in refusals:
        with pytest.raises(ValidationError) as refused:
            services.alert_record(by=gp.user, person=person, **{**fields, **bad})
        assert field in refused.value.message_dict, bad
    assert not Alert.objects.exists()
    alert = services.alert_record(
        by=gp.user,
        person=person,
        **fields,
        code_system=vocabulary.SNOMED_CT,
        code="226201008",
        source="GP system",
    )
    services.alert_update(by=gp.user, alert=alert, active=False, ended_at=start)
    alert.refresh_from_db()
    assert (alert.active, alert.ended_at, alert.source) == (False, start, "GP system")
    whats = list(
        AuditEvent.objects.filter(person_id=person.pk).order_by("pk").values_list("what", flat=True)
    )
    assert whats == [
        "alert (diet): Peanut-free diet (from GP system)",
        f"alert (diet): Peanut-free diet now inactive, ends {start.isoformat()}",
    ]
    with pytest.raises(ValidationError):
        services.alert_update(
            by=gp.user, alert=alert, active=False, ended_at=start - dt.timedelta(seconds=1)
        )
