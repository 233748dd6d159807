"""The long-term conditions a referral is about change as the service learns: a condition
entered in error replaced by the right one, so the referral counts as LTC as it should."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests import factories
from tests.app.signed_in import signed_in
from tests.app.talking_therapies.conftest import Setting, refer
from wholecare.access.models import AuditEvent
from wholecare.access.permissions import AccessDenied
from wholecare.directory.disciplines import Discipline
from wholecare.record import services as record_services
from wholecare.talking_therapies import services

pytestmark = pytest.mark.django_db


def test_a_condition_entered_in_error_is_replaced_by_the_right_one(tt: Setting) -> None:
    referral = refer(tt)
    gp = factories.StaffFactory(discipline=Discipline.GP)
    factories.CareTeamMembershipFactory(person=tt.person, staff=gp)
    tt.diabetes.recorded_by = gp
    tt.diabetes.save()
    record_services.condition_enter_in_error(by=gp.user, condition=tt.diabetes, reason="Wrong")
    assert not referral.conditions.exists(), "it now counts as a referral without one"
    copd = factories.ConditionFactory(person=tt.person, snomed_code="13645005")
    referral.refresh_from_db()
    services.referral_conditions_record(
        by=tt.pwp.user, referral=referral, conditions=[copd], version=referral.version
    )
    assert list(referral.conditions.all()) == [copd]
    assert AuditEvent.objects.filter(
        person_id=tt.person.pk,
        what="Talking Therapies referral is about: Chronic obstructive lung disease (was: none)",
    ).exists()


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
