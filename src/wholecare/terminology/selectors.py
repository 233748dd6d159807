"""Finding releases. Without a version, the current release of a code system, value set or concept
map is the one imported most recently. The resource as imported (`resource`, large for a big code
system) is left unread unless asked for."""

from typing import TypeVar

from django.db.models import QuerySet

from wholecare.terminology import errors
from wholecare.terminology.models import (
    CodeSystemRelease,
    ConceptMapRelease,
    ValueSetRelease,
)


def code_system_release(url: str, version: str | None = None) -> CodeSystemRelease:
    releases: QuerySet[CodeSystemRelease] = (
        CodeSystemRelease.objects.filter(code_system__url=url)
        .select_related("code_system")
        .defer("resource")
    )
    if not releases.exists():
        raise errors.UnknownCodeSystem(
            f"Code system {url} is not held by this server", expression="system"
        )
    return _pick(releases, version, f"Code system {url}")


def value_set_release(url: str, version: str | None = None) -> ValueSetRelease:
    releases: QuerySet[ValueSetRelease] = ValueSetRelease.objects.filter(
        value_set__url=url
    ).select_related("value_set")
    if not releases.exists():
        raise errors.UnknownValueSet(
            f"Value set {url} is not held by this server", expression="url"
        )
    return _pick(releases, version, f"Value set {url}")


def concept_map_release(url: str, version: str | None = None) -> ConceptMapRelease:
    releases: QuerySet[ConceptMapRelease] = (
        ConceptMapRelease.objects.filter(concept_map__url=url)
        .select_related("concept_map")
        .defer("resource")
    )
    if not releases.exists():
        raise errors.UnknownConceptMap(
            f"Concept map {url} is not held by this server", expression="url"
        )
    return _pick(releases, version, f"Concept map {url}")


def current_concept_map_releases() -> QuerySet[ConceptMapRelease]:
    """The current release of every concept map."""
    newest = {}
    for release_id, map_id in ConceptMapRelease.objects.order_by("id").values_list(
        "id", "concept_map_id"
    ):
        newest[map_id] = release_id
    return (
        ConceptMapRelease.objects.filter(id__in=newest.values())
        .select_related("concept_map")
        .defer("resource")
    )


R = TypeVar("R", CodeSystemRelease, ValueSetRelease, ConceptMapRelease)


def _pick(releases: QuerySet[R], version: str | None, what: str) -> R:
    if version:
        found = releases.filter(version=version).first()
        if found is None:
            held = ", ".join(releases.order_by("id").values_list("version", flat=True))
            raise errors.UnknownVersion(
                f"{what} has no version {version} (versions held: {held})", expression="version"
            )
        return found
    newest = releases.order_by("-id").first()
    assert newest is not None
    return newest
