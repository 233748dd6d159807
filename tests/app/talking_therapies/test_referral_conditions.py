"""The long-term conditions a referral is about change as the service learns: a condition
entered in error replaced by the right one, so the referral counts as LTC as it should."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.app.signed_in import signed_in
from tests.app.talking_therapies.conftest import (
    Setting,
    discharge,
    refer,
    refer_someone_else,
    treated_course,
)
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.directory.models import Staff
from wholecare.record import services as record_services
from wholecare.talking_therapies import selectors, services
from wholecare.talking_therapies.models import TTReferral

pytestmark = pytest.mark.django_db


def _entered_in_error_by_the_gp(tt: Setting) -> Staff:
    gp = factories.StaffFactory(
        discipline=Discipline.GP, user__first_name="Nia", user__last_name="Okafor"
    )
    factories.CareTeamMembershipFactory(person=tt.person, staff=gp)
    tt.diabetes.recorded_by = gp
    tt.diabetes.save()
    record_services.condition_enter_in_error(
        by=gp.user, condition=tt.diabetes, reason="Recorded on the wrong record"
    )
    return gp


def test_a_condition_entered_in_error_is_replaced_by_the_right_one(tt: Setting) -> None:
    referral = refer(tt)
    _entered_in_error_by_the_gp(tt)
    assert not referral.conditions.exists(), "it now counts as a referral without one"
    copd = factories.ConditionFactory(person=tt.person, snomed_code="13645005")
    referral.refresh_from_db()
    services.referral_conditions_record(
        by=tt.pwp.user, referral=referral, conditions=[copd], version=referral.version
    )
    assert list(referral.conditions.all()) == [copd]
    assert AuditEvent.objects.filter(
        person_id=tt.person.pk,
        what="Talking Therapies referral is about: Chronic obstructive lung disease"
        " (was: none; 1 entered in error since)",
    ).exists()
    assert not TTReferral.conditions.through.objects.filter(condition=tt.diabetes).exists(), (
        "the service has checked, so the link to the withdrawn condition goes"
    )


def test_the_service_is_told_to_check_when_a_condition_is_entered_in_error(tt: Setting) -> None:
    """HF32: the referral page and the caseloads say so, without naming the condition (it may be
    another person's), until the service records the conditions again."""
    allocated = treated_course(tt)
    _entered_in_error_by_the_gp(tt)
    client = signed_in(tt.pwp)
    page = reverse("talking_therapies:referral", args=[allocated.public_id])
    html = client.get(page).content.decode()
    assert "Check the long-term conditions" in html
    assert (
        "A long-term condition this referral was about was marked entered in error on "
        f"{timezone.localdate():%-d %B %Y} by Nia Okafor, GP." in html
    )
    assert "count this referral as not about a long-term condition" in html
    assert tt.diabetes.concept.display not in html, "it may be another person's"
    assert "wrong record" not in html
    assert (
        "Check long-term conditions"
        in client.get(reverse("talking_therapies:caseload")).content.decode()
    )

    waiting = refer_someone_else(tt, 3, snomed="13645005", recorded_by=Discipline.PRACTICE_NURSE)
    copd = waiting.conditions.get()
    record_services.condition_enter_in_error(by=tt.nurse.user, condition=copd, reason="Wrong")
    caseload = selectors.caseload(by=tt.therapist.user)
    assert caseload.conditions_to_check == {waiting.pk}

    allocated.refresh_from_db()
    client.post(
        reverse("talking_therapies:referral-conditions", args=[allocated.public_id]),
        {"version": allocated.version},
    )
    assert "Check the long-term conditions" not in client.get(page).content.decode()
    mine = selectors.caseload(by=tt.pwp.user)
    assert allocated.pk not in mine.conditions_to_check
    assert mine.conditions_to_check == {waiting.pk}, "not yet checked"


def test_a_discharged_referral_is_not_flagged(tt: Setting) -> None:
    """Its conditions can no longer change, so there is nothing for the service to do."""
    referral = treated_course(tt)
    discharge(tt, referral)
    _entered_in_error_by_the_gp(tt)
    page = selectors.referral_page(by=tt.pwp.user, public_id=referral.public_id)
    assert page.conditions_entered_in_error == []


def test_bad_changes_are_refused_and_nothing_changes(tt: Setting) -> None:
    referral = refer(tt)
    version = referral.version
    elsewhere = factories.ConditionFactory(snomed_code="13645005")
    with pytest.raises(ValidationError, match="not on this person's record"):
        services.referral_conditions_record(
            by=tt.pwp.user, referral=referral, conditions=[elsewhere], version=version
        )
    with pytest.raises(ValidationError, match="changed by someone else"):
        services.referral_conditions_record(
            by=tt.pwp.user, referral=referral, conditions=[], version=version - 1
        )
    with pytest.raises(AccessDenied):
        services.referral_conditions_record(
            by=tt.nurse.user, referral=referral, conditions=[], version=version
        )
    assert list(referral.conditions.all()) == [tt.diabetes]


def test_the_referral_page_changes_them(tt: Setting) -> None:
    referral = refer(tt)
    page = reverse("talking_therapies:referral", args=[referral.public_id])
    client = signed_in(tt.pwp)
    html = client.get(page).content.decode()
    assert "Change the long-term conditions it is about" in html
    assert f'value="{tt.diabetes.pk}" checked' in html
    action = reverse("talking_therapies:referral-conditions", args=[referral.public_id])
    done = client.post(action, {"version": referral.version})
    assert done["Location"] == page
    assert not referral.conditions.exists()
    assert "No long-term condition recorded" in client.get(page).content.decode()
    stale = client.post(action, {"version": referral.version, "conditions": [tt.diabetes.pk]})
    assert "changed by someone else" in stale.content.decode()
