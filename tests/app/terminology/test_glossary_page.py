"""A social worker reading a GP's condition entry sees what it means and its ICD-10 equivalent."""

import pytest
from django.urls import reverse

from tests import factories
from wholecare.directory.disciplines import Discipline

pytestmark = pytest.mark.django_db


def _details(body: str) -> list[str]:
    return [
        part.split("</details>", 1)[0] for part in body.split('<details class="nhsuk-details')[1:]
    ]


def test_person_summary_explains_each_condition_with_its_equivalents(client):
    person = factories.PersonFactory()
    factories.ConditionFactory(person=person, snomed_code="10743008")
    social_worker = factories.StaffFactory(discipline=Discipline.SOCIAL_WORKER)
    factories.CareTeamMembershipFactory(person=person, staff=social_worker, role="Social worker")
    client.force_login(social_worker.user)
    body = client.get(
        reverse("web:person", kwargs={"public_id": person.public_id})
    ).content.decode()
    (details,) = _details(body)
    assert "What this means" in details
    assert "A long-term gut condition: pain, bloating, diarrhoea or constipation." in details
    assert "SNOMED CT 10743008: Irritable bowel syndrome" in details
    assert "ICD-10 K58.9: Irritable bowel syndrome without diarrhoea" in details
    assert "(a narrower meaning; mapping not yet verified)" in details
    assert "From SNOMED CT (Wholecare subset) version wholecare-subset-1." in details


def test_every_condition_in_the_vocabulary_has_an_explanation(client, gp):
    person = factories.PersonFactory()
    factories.CareTeamMembershipFactory(person=person, staff=gp)
    for code in ("35489007", "44054006", "24700007"):
        factories.ConditionFactory(person=person, snomed_code=code)
    client.force_login(gp.user)
    body = client.get(
        reverse("web:person", kwargs={"public_id": person.public_id})
    ).content.decode()
    explained = _details(body)
    assert len(explained) == 3
    assert any("ICD-10 G35: Multiple sclerosis" in d and "the same meaning" in d for d in explained)
