"""Identity and versions: every resource the API has seen gets an id and a version, and every
version is kept.

Record-backed resources are rendered from the record's own rows. The first time the API sees a row
it gets version 1; whenever its rendering differs from the last version kept (a change through the
API, or through the web UI since), a new version is kept. Resources kept here whole (Observation,
QuestionnaireResponse, ...) get a new version on every write.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from wholecare.fhir.models import Resource, ResourceVersion, SearchToken
from wholecare.fhir.prepared import PreparedQuery, Slot

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Item:
    """One version of one resource, ready to send."""

    resource_type: str
    fhir_id: str
    version: int
    last_updated: datetime
    content: dict[str, Any]
    sensitivity: str = "normal"
    person_id: int | None = None


def item(resource: Resource) -> Item:
    return Item(
        resource.resource_type,
        resource.fhir_id,
        resource.version,
        resource.last_updated,
        resource.content,
        resource.sensitivity,
        resource.person_id,
    )


def new_id() -> str:
    return str(uuid.uuid4())


# A read syncs one row: its lookup is prepared (`wholecare.fhir.prepared`).
_KEPT_FOR_ROW = PreparedQuery(
    Resource.objects.filter(
        resource_type=Slot("resource_type", Resource._meta.get_field("resource_type")),
        record_pk=Slot("record_pk", Resource._meta.get_field("record_pk")),
    )
)


def sync(
    resource_type: str,
    rows: Sequence[M],
    *,
    render: Callable[[M, str], dict[str, Any]],
    fhir_id: Callable[[M], str | None],
    person_id: Callable[[M], int | None],
    sensitivity: Callable[[M], str],
) -> list[Resource]:
    """The Resource row of each record row, created or moved on to a new version as needed.
    A row's sensitivity is set when its Resource is made: the record never relabels a row."""
    if len(rows) == 1:
        kept = _KEPT_FOR_ROW.rows(resource_type=resource_type, record_pk=rows[0].pk)
    else:
        kept = list(
            Resource.objects.filter(
                resource_type=resource_type, record_pk__in=[row.pk for row in rows]
            )
        )
    known = {r.record_pk: r for r in kept}
    now = timezone.now()
    synced = []
    for row in rows:
        found = known.get(row.pk)
        if found is None:
            chosen = fhir_id(row) or new_id()
            first = render(row, chosen)
            try:
                with transaction.atomic():
                    found = Resource.objects.create(
                        resource_type=resource_type,
                        fhir_id=chosen,
                        version=1,
                        last_updated=now,
                        person_id=person_id(row),
                        record_pk=row.pk,
                        content=first,
                        sensitivity=sensitivity(row),
                    )
                    ResourceVersion.objects.create(
                        resource=found,
                        version=1,
                        last_updated=now,
                        method="POST",
                        content=found.content,
                    )
            except IntegrityError:
                # Another request gave this row its id first: use theirs.
                found = Resource.objects.get(resource_type=resource_type, record_pk=row.pk)
        content = render(row, found.fhir_id)
        if content != found.content:
            with transaction.atomic():
                found = Resource.objects.select_for_update().get(pk=found.pk)
                if content != found.content:
                    record_version(found, content, method="PUT", when=now)
        synced.append(found)
    return synced


def record_version(
    resource: Resource, content: dict[str, Any], *, method: str, when: datetime | None = None
) -> Resource:
    """Move a resource on to its next version and keep that version."""
    resource.version += 1
    resource.last_updated = when or timezone.now()
    resource.content = content
    resource.save(update_fields=["version", "last_updated", "content"])
    ResourceVersion.objects.create(
        resource=resource,
        version=resource.version,
        last_updated=resource.last_updated,
        method=method,
        content=content,
    )
    return resource


def store_new(
    resource_type: str,
    content: dict[str, Any],
    *,
    fhir_id: str,
    tokens: Sequence[tuple[str, str, str]] = (),
    **fields: Any,
) -> Resource:
    """Keep a new resource whole (version 1) with its search tokens."""
    now = timezone.now()
    resource = Resource.objects.create(
        resource_type=resource_type,
        fhir_id=fhir_id,
        version=1,
        last_updated=now,
        content=content,
        **fields,
    )
    ResourceVersion.objects.create(
        resource=resource, version=1, last_updated=now, method="POST", content=content
    )
    _tokens(resource, tokens)
    return resource


def store_update(
    resource: Resource,
    content: dict[str, Any],
    *,
    tokens: Sequence[tuple[str, str, str]] = (),
    **fields: Any,
) -> Resource:
    for name, value in fields.items():
        setattr(resource, name, value)
    resource.save(update_fields=list(fields))
    record_version(resource, content, method="PUT")
    resource.tokens.all().delete()
    _tokens(resource, tokens)
    return resource


def _tokens(resource: Resource, tokens: Sequence[tuple[str, str, str]]) -> None:
    SearchToken.objects.bulk_create(
        SearchToken(resource=resource, param=param, system=system[:200], value=value[:200])
        for param, system, value in tokens
    )
