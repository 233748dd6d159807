"""Code systems, value sets and concept maps, each held as immutable, versioned releases.

A code's meaning is tied to the release it came from (as in opencodelists): a concept row belongs to
one code system release, a value set release lists concept rows of particular code system releases,
and a concept map release records which code system versions its mappings were checked against.
A changed release is a new version, imported alongside the old one; nothing here is updated or
deleted once written (the models and their querysets refuse it).
"""

import re
from typing import Any, NoReturn

from django.db import models


class ReleaseIsImmutable(Exception):
    pass


def search_words(text: str) -> list[str]:
    """The lower-case words of a text, for `$expand` filters: letters and digits, split at anything
    else ("CFS/ME" is "cfs", "me")."""
    return re.findall(r"[^\W_]+", text.lower())


class _ImmutableQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ReleaseIsImmutable("terminology releases cannot be changed once imported")

    def delete(self) -> NoReturn:
        raise ReleaseIsImmutable("terminology releases cannot be deleted")


class _Immutable(models.Model):
    objects = _ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReleaseIsImmutable(f"{type(self).__name__} rows cannot be changed once imported")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ReleaseIsImmutable(f"{type(self).__name__} rows cannot be deleted")


class _Release(_Immutable):
    """What every release keeps: its version, FHIR metadata, where it came from and the resource as
    imported (canonical FHIR JSON), with a checksum that tells a re-import apart from a change."""

    version = models.CharField(max_length=200)
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20)
    date = models.CharField(max_length=40, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    copyright = models.TextField(blank=True)
    source = models.CharField(max_length=500, help_text="The file it was imported from.")
    checksum = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)
    resource = models.JSONField()

    class Meta:
        abstract = True


class CodeSystem(_Immutable):
    url = models.CharField(max_length=300, unique=True)

    def __str__(self) -> str:
        return self.url


class CodeSystemRelease(_Release):
    code_system = models.ForeignKey(CodeSystem, on_delete=models.PROTECT, related_name="releases")
    content = models.CharField(max_length=20, help_text="complete, fragment, example...")
    case_sensitive = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code_system", "version"], name="code_system_release_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code_system.url}|{self.version}"


class Concept(_Immutable):
    release = models.ForeignKey(
        CodeSystemRelease, on_delete=models.PROTECT, related_name="concepts"
    )
    code = models.CharField(max_length=200)
    display = models.CharField(max_length=1000, blank=True)
    definition = models.TextField(blank=True)
    glossary = models.TextField(
        blank=True, help_text="Plain English for a colleague from another discipline."
    )
    designations = models.JSONField(default=list)
    properties = models.JSONField(default=list)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    position = models.PositiveIntegerField(help_text="Order within the release.")
    search_text = models.TextField(
        help_text="The words of the code, display and designations, each after a space."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "code"], name="concept_once_per_release")
        ]
        indexes = [models.Index(fields=["release", "position"])]

    def __str__(self) -> str:
        return f"{self.code} {self.display}"


class ValueSet(_Immutable):
    url = models.CharField(max_length=300, unique=True)

    def __str__(self) -> str:
        return self.url


class ValueSetRelease(_Release):
    value_set = models.ForeignKey(ValueSet, on_delete=models.PROTECT, related_name="releases")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["value_set", "version"], name="value_set_release_once")
        ]

    def __str__(self) -> str:
        return f"{self.value_set.url}|{self.version}"


class ValueSetMember(_Immutable):
    """One concept in a value set release's expansion, computed once, at import."""

    release = models.ForeignKey(ValueSetRelease, on_delete=models.PROTECT, related_name="members")
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "concept"], name="value_set_member_once")
        ]
        indexes = [models.Index(fields=["release", "position"])]

    def __str__(self) -> str:
        return f"{self.release_id}:{self.concept_id}"


class ConceptMap(_Immutable):
    url = models.CharField(max_length=300, unique=True)

    def __str__(self) -> str:
        return self.url


class ConceptMapRelease(_Release):
    concept_map = models.ForeignKey(ConceptMap, on_delete=models.PROTECT, related_name="releases")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["concept_map", "version"], name="concept_map_release_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.concept_map.url}|{self.version}"


class Mapping(_Immutable):
    """One ConceptMap target: source code to target code (or to nothing, when `unmatched`), with
    the FHIR R4 equivalence, who says so, and whether that has been checked."""

    release = models.ForeignKey(
        ConceptMapRelease, on_delete=models.PROTECT, related_name="mappings"
    )
    source_system = models.CharField(max_length=300)
    source_version = models.CharField(max_length=200, blank=True)
    source_code = models.CharField(max_length=200)
    source_display = models.CharField(max_length=1000, blank=True)
    target_system = models.CharField(max_length=300)
    target_version = models.CharField(max_length=200, blank=True)
    target_code = models.CharField(max_length=200, blank=True)
    target_display = models.CharField(max_length=1000, blank=True)
    equivalence = models.CharField(max_length=20)
    comment = models.TextField(blank=True)
    provenance = models.TextField(blank=True, help_text="The source that supports the mapping.")
    verified = models.BooleanField(default=False)
    position = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["source_system", "source_code"]),
            models.Index(fields=["target_system", "target_code"]),
        ]

    def __str__(self) -> str:
        return f"{self.source_code} -> {self.target_code or '(none)'} ({self.equivalence})"
