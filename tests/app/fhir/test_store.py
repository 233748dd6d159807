"""Ids and versions: a record row seen by two requests at once gets one id, and every change
becomes a kept version."""

import pytest
from django.utils import timezone

from wholecare.fhir import store
from wholecare.fhir.models import Resource, ResourceVersion

pytestmark = pytest.mark.django_db


def test_first_sighting_race_uses_the_id_the_other_request_gave(person):
    def render_while_another_request_syncs(row, fhir_id):
        if not Resource.objects.exists():
            Resource.objects.create(
                resource_type="Patient",
                fhir_id="given-elsewhere",
                version=1,
                last_updated=timezone.now(),
                person=row,
                record_pk=row.pk,
                content={"id": "given-elsewhere"},
            )
        return {"id": fhir_id}

    [found] = store.sync(
        "Patient",
        [person],
        render=render_while_another_request_syncs,
        fhir_id=lambda row: None,
        person_id=lambda row: row.pk,
        sensitivity=lambda row: "normal",
    )
    assert found.fhir_id == "given-elsewhere"
    assert found.version == 1
    assert Resource.objects.count() == 1


def test_a_changed_rendering_is_kept_as_the_next_version(person):
    content = {"n": 1}
    sync = lambda: store.sync(  # noqa: E731
        "Patient",
        [person],
        render=lambda row, fhir_id: dict(content),
        fhir_id=lambda row: None,
        person_id=lambda row: row.pk,
        sensitivity=lambda row: "normal",
    )[0]
    assert sync().version == 1
    assert sync().version == 1
    content["n"] = 2
    assert sync().version == 2
    kept = ResourceVersion.objects.order_by("version").values_list("version", "content")
    assert list(kept) == [(1, {"n": 1}), (2, {"n": 2})]
