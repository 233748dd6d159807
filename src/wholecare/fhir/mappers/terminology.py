"""CodeSystem, ValueSet and ConceptMap: the terminology app's releases (decision 0008), read-only.

Each release is served as imported (`release.resource`), with the release's row id as its FHIR id
(releases are immutable, so there is one version of each) and `version` its business version.
Search by `url` and `version`; the operations ($lookup, $validate-code, $expand, $translate) are
`wholecare.fhir.terminology_views`.
"""

from abc import abstractmethod
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from wholecare.fhir.base import Ctx, Page, ResourceType
from wholecare.fhir.keys import record_key
from wholecare.fhir.search import Criterion, Param, SearchRequest
from wholecare.fhir.store import Item
from wholecare.terminology.models import CodeSystemRelease, ConceptMapRelease, ValueSetRelease

Release = CodeSystemRelease | ValueSetRelease | ConceptMapRelease
OPERATION = "http://hl7.org/fhir/OperationDefinition"


class ReleaseType(ResourceType):
    """A read-only type backed by one kind of terminology release."""

    interactions = frozenset({"read", "search-type"})
    parent: ClassVar[str]
    """The release's foreign key to what it is a release of (which has the `url`)."""
    params: ClassVar[dict[str, Param]] = {
        "_id": Param("_id", "token", "The release's id"),
        "url": Param("url", "uri", "The canonical URL"),
        "version": Param("version", "token", "The business version of the release"),
    }

    @abstractmethod
    def releases(self) -> QuerySet[Any]: ...

    def item(self, release: Release) -> Item:
        resource = dict(release.resource)
        resource["id"] = str(release.pk)
        resource.pop("meta", None)
        return Item(self.name, str(release.pk), 1, release.imported_at, resource)

    def find(self, ctx: Ctx, fhir_id: str) -> Item | None:
        key = record_key(fhir_id)
        if key is None:
            return None
        release = self.releases().filter(pk=key).first()
        return None if release is None else self.item(release)

    def search(self, ctx: Ctx, request: SearchRequest) -> Page:
        found = self.releases()
        for criterion in request.criteria:
            found = found.filter(self._filter(criterion))
        total = found.count()
        page = found.order_by("pk")[request.offset : request.offset + request.count]
        return Page([self.item(release) for release in page], total)

    def _filter(self, criterion: Criterion) -> Q:
        values = list(criterion.values)
        if criterion.name == "_id":
            return Q(pk__in=[k for k in map(record_key, values) if k is not None])
        if criterion.name == "url":
            return Q(**{f"{self.parent}__url__in": values})
        return Q(version__in=values)


class CodeSystemType(ReleaseType):
    name = "CodeSystem"
    parent = "code_system"
    operations: ClassVar[dict[str, str]] = {
        "lookup": f"{OPERATION}/CodeSystem-lookup",
        "validate-code": f"{OPERATION}/CodeSystem-validate-code",
    }
    documentation = (
        "Code system releases held by the terminology service (SNOMED CT and ICD-10 subsets,"
        " UK Core and Wholecare code systems); immutable, one resource per release."
    )

    def releases(self) -> QuerySet[CodeSystemRelease]:
        return CodeSystemRelease.objects.select_related("code_system")


class ValueSetType(ReleaseType):
    name = "ValueSet"
    parent = "value_set"
    operations: ClassVar[dict[str, str]] = {
        "expand": f"{OPERATION}/ValueSet-expand",
        "validate-code": f"{OPERATION}/ValueSet-validate-code",
    }
    documentation = "Value set releases, expanded once at import against named code systems."

    def releases(self) -> QuerySet[ValueSetRelease]:
        return ValueSetRelease.objects.select_related("value_set")


class ConceptMapType(ReleaseType):
    name = "ConceptMap"
    parent = "concept_map"
    operations: ClassVar[dict[str, str]] = {"translate": f"{OPERATION}/ConceptMap-translate"}
    documentation = (
        "Concept map releases (SNOMED CT <-> ICD-10, social care needs -> SNOMED CT, disciplines"
        " -> SDS job roles), each mapping saying whether it is verified."
    )

    def releases(self) -> QuerySet[ConceptMapRelease]:
        return ConceptMapRelease.objects.select_related("concept_map")
