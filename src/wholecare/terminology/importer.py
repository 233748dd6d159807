"""Importing terminology releases: `import_paths` reads every file first (reporting every file that
cannot be read or validated), then writes all of them in one transaction, so a bad file writes
nothing. Importing a release that is already held with the same content changes nothing; the same
URL and version with different content is refused: a changed release needs a new version.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from wholecare.terminology import errors, selectors
from wholecare.terminology.fhir_io import (
    DESIGNATION_USE_SYSTEM,
    MAPPING_SOURCE_EXTENSION,
    MAPPING_VERIFIED_EXTENSION,
    PLAIN_ENGLISH,
    ImportFailed,
    Problem,
    SourcedResource,
    checksum,
    files_in,
    read_file,
)
from wholecare.terminology.models import (
    CodeSystem,
    CodeSystemRelease,
    Concept,
    ConceptMap,
    ConceptMapRelease,
    Mapping,
    ValueSet,
    ValueSetMember,
    ValueSetRelease,
    search_words,
)

# Code systems first, then value sets (which list their concepts), then concept maps (which are
# checked against the code systems they name).
_ORDER = {"CodeSystem": 0, "ValueSet": 1, "ConceptMap": 2}
EQUIVALENCES = frozenset(
    {
        "relatedto",
        "equivalent",
        "equal",
        "wider",
        "subsumes",
        "narrower",
        "specializes",
        "inexact",
        "unmatched",
        "disjoint",
    }
)
_NO_TARGET_CODE = frozenset({"unmatched", "disjoint"})


@dataclass(frozen=True)
class ImportResult:
    source: str
    resource_type: str
    url: str
    version: str
    created: bool
    size: int

    def __str__(self) -> str:
        what = "imported" if self.created else "already held, unchanged:"
        unit = {"CodeSystem": "concepts", "ValueSet": "members", "ConceptMap": "mappings"}
        return (
            f"{what} {self.resource_type} {self.url}|{self.version}"
            f" ({self.size} {unit[self.resource_type]}) from {self.source}"
        )


def import_paths(paths: Sequence[Path]) -> list[ImportResult]:
    resources: list[SourcedResource] = []
    problems: list[Problem] = []
    files = list(files_in(paths))
    if not files:
        raise ImportFailed([Problem(", ".join(map(str, paths)), "", "holds no .json or .xml file")])
    for path in files:
        try:
            resources.extend(read_file(path))
        except ImportFailed as failed:
            problems.extend(failed.problems)
    if problems:
        raise ImportFailed(problems)
    return import_resources(resources)


@transaction.atomic
def import_resources(resources: Iterable[SourcedResource]) -> list[ImportResult]:
    importers = {
        "CodeSystem": _import_code_system,
        "ValueSet": _import_value_set,
        "ConceptMap": _import_concept_map,
    }
    ordered = sorted(resources, key=lambda item: _ORDER[item.resource_type])
    return [importers[item.resource_type](item) for item in ordered]


def _release_fields(item: SourcedResource) -> dict[str, Any]:
    resource = item.resource
    for required in ("url", "version"):
        if not resource.get(required):
            raise item.problem(
                f".{required}",
                "is missing: Wholecare keeps each release by its URL and version",
            )
    return {
        "version": resource["version"],
        "name": resource.get("name", ""),
        "title": resource.get("title", ""),
        "status": resource.get("status", ""),
        "date": resource.get("date", ""),
        "publisher": resource.get("publisher", ""),
        "description": resource.get("description", ""),
        "copyright": resource.get("copyright", ""),
        "source": item.source,
        "checksum": checksum(resource),
        "resource": resource,
    }


def _existing(
    item: SourcedResource,
    release: CodeSystemRelease | ValueSetRelease | ConceptMapRelease | None,
    fields: dict[str, Any],
    size: int,
) -> ImportResult | None:
    if release is None:
        return None
    if release.checksum != fields["checksum"]:
        raise item.problem(
            ".version",
            f"{item.resource_type} {item.resource['url']} version {release.version} is already"
            f" held (imported from {release.source}) with different content: a changed release"
            " needs a new version",
        )
    return ImportResult(
        item.source, item.resource_type, item.resource["url"], release.version, False, size
    )


# Code systems ------------------------------------------------------------------------------------


def _import_code_system(item: SourcedResource) -> ImportResult:
    fields = _release_fields(item)
    url = item.resource["url"]
    held = CodeSystemRelease.objects.filter(code_system__url=url, version=fields["version"]).first()
    if found := _existing(item, held, fields, held.concepts.count() if held else 0):
        return found
    flat = list(_flatten(item, item.resource.get("concept", []), ".concept", None))
    code_system, _ = CodeSystem.objects.get_or_create(url=url)
    release = CodeSystemRelease.objects.create(
        code_system=code_system,
        content=item.resource.get("content", ""),
        case_sensitive=item.resource.get("caseSensitive", True),
        **fields,
    )
    by_path: dict[str, Concept] = {}
    depth = 0
    while level := [entry for entry in flat if entry[0] == depth]:
        concepts = [
            _concept(release, position, data, by_path.get(parent_path) if parent_path else None)
            for _, position, path, parent_path, data in level
        ]
        Concept.objects.bulk_create(concepts, batch_size=1000)
        for (_, _, path, _, _), concept in zip(level, concepts, strict=True):
            by_path[path] = concept
        depth += 1
    return ImportResult(item.source, "CodeSystem", url, release.version, True, len(flat))


def _flatten(
    item: SourcedResource,
    concepts: list[dict[str, Any]],
    prefix: str,
    parent_path: str | None,
    depth: int = 0,
    seen: dict[str, str] | None = None,
) -> Iterable[tuple[int, int, str, str | None, dict[str, Any]]]:
    """(depth, position, path, parent path, concept) in document order; duplicates refused."""
    seen = {} if seen is None else seen
    for index, data in enumerate(concepts):
        path = f"{prefix}[{index}]"
        code = data["code"]
        if code in seen:
            raise item.problem(
                f"{path}.code",
                f"code {code!r} appears twice (first at {item.path}{seen[code]}.code)",
            )
        seen[code] = path
        yield depth, len(seen), path, parent_path, data
        yield from _flatten(item, data.get("concept", []), f"{path}.concept", path, depth + 1, seen)


def _concept(
    release: CodeSystemRelease, position: int, data: dict[str, Any], parent: Concept | None
) -> Concept:
    designations = []
    glossary = ""
    for designation in data.get("designation", []):
        use = designation.get("use", {})
        if use.get("system") == DESIGNATION_USE_SYSTEM and use.get("code") == PLAIN_ENGLISH:
            glossary = glossary or designation["value"]
        else:
            designations.append(designation)
    display = data.get("display", "")
    words = search_words(" ".join([data["code"], display, *(d["value"] for d in designations)]))
    return Concept(
        release=release,
        code=data["code"],
        display=display,
        definition=data.get("definition", ""),
        glossary=glossary,
        designations=designations,
        properties=data.get("property", []),
        parent=parent,
        position=position,
        search_text="".join(f" {word}" for word in words),
    )


# Value sets --------------------------------------------------------------------------------------


def _import_value_set(item: SourcedResource) -> ImportResult:
    fields = _release_fields(item)
    url = item.resource["url"]
    held = ValueSetRelease.objects.filter(value_set__url=url, version=fields["version"]).first()
    if found := _existing(item, held, fields, held.members.count() if held else 0):
        return found
    compose = item.resource.get("compose")
    if not compose:
        raise item.problem(
            ".compose", "is missing: Wholecare expands value sets from their compose"
        )
    members: dict[int, None] = {}
    for index, include in enumerate(compose.get("include", [])):
        members.update(dict.fromkeys(_selection(item, include, f".compose.include[{index}]")))
    for index, exclude in enumerate(compose.get("exclude", [])):
        for concept_id in _selection(item, exclude, f".compose.exclude[{index}]"):
            members.pop(concept_id, None)
    value_set, _ = ValueSet.objects.get_or_create(url=url)
    release = ValueSetRelease.objects.create(value_set=value_set, **fields)
    ValueSetMember.objects.bulk_create(
        [
            ValueSetMember(release=release, concept_id=concept_id, position=position)
            for position, concept_id in enumerate(members)
        ],
        batch_size=1000,
    )
    return ImportResult(item.source, "ValueSet", url, release.version, True, len(members))


def _selection(item: SourcedResource, rule: dict[str, Any], path: str) -> list[int]:
    """The concept ids one include or exclude selects, in order."""
    selections: list[list[int]] = []
    if system := rule.get("system"):
        release = _held_release(item, system, rule.get("version"), path)
        selections.append(_from_system(item, release, rule, path))
    for index, canonical in enumerate(rule.get("valueSet", [])):
        url, _, version = canonical.partition("|")
        try:
            value_set = selectors.value_set_release(url, version or None)
        except errors.NotFound as error:
            raise item.problem(f"{path}.valueSet[{index}]", error.message) from None
        selections.append(
            list(value_set.members.order_by("position").values_list("concept_id", flat=True))
        )
    if not selections:
        raise item.problem(path, "names neither a system nor a value set")
    chosen = selections[0]
    for other in selections[1:]:
        keep = set(other)
        chosen = [concept_id for concept_id in chosen if concept_id in keep]
    return chosen


def _held_release(
    item: SourcedResource, system: str, version: str | None, path: str
) -> CodeSystemRelease:
    try:
        return selectors.code_system_release(system, version)
    except errors.UnknownVersion as error:
        raise item.problem(f"{path}.version", error.message) from None
    except errors.NotFound as error:
        raise item.problem(f"{path}.system", error.message) from None


def _from_system(
    item: SourcedResource, release: CodeSystemRelease, rule: dict[str, Any], path: str
) -> list[int]:
    concepts = release.concepts.all()
    if listed := rule.get("concept"):
        ids = dict(concepts.filter(code__in=[c["code"] for c in listed]).values_list("code", "id"))
        for index, entry in enumerate(listed):
            if entry["code"] not in ids:
                raise item.problem(
                    f"{path}.concept[{index}].code",
                    f"code {entry['code']!r} is not in {release}",
                )
        return [ids[entry["code"]] for entry in listed]
    chosen = list(concepts.order_by("position").values_list("id", flat=True))
    for index, rule_filter in enumerate(rule.get("filter", [])):
        where = f"{path}.filter[{index}]"
        if rule_filter["property"] != "concept" or rule_filter["op"] not in {
            "is-a",
            "descendent-of",
        }:
            raise item.problem(
                where,
                f"filter {rule_filter['property']} {rule_filter['op']} is not supported"
                " (Wholecare supports concept is-a and concept descendent-of)",
            )
        root = concepts.filter(code=rule_filter["value"]).first()
        if root is None:
            raise item.problem(
                f"{where}.value", f"code {rule_filter['value']!r} is not in {release}"
            )
        keep = _descendants(release, root.pk)
        if rule_filter["op"] == "is-a":
            keep.add(root.pk)
        chosen = [concept_id for concept_id in chosen if concept_id in keep]
    return chosen


def _descendants(release: CodeSystemRelease, root_id: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for concept_id, parent_id in release.concepts.exclude(parent=None).values_list(
        "id", "parent_id"
    ):
        children.setdefault(parent_id, []).append(concept_id)
    found: set[int] = set()
    stack = list(children.get(root_id, []))
    while stack:
        concept_id = stack.pop()
        found.add(concept_id)
        stack.extend(children.get(concept_id, []))
    return found


# Concept maps ------------------------------------------------------------------------------------


def _import_concept_map(item: SourcedResource) -> ImportResult:
    fields = _release_fields(item)
    url = item.resource["url"]
    held = ConceptMapRelease.objects.filter(concept_map__url=url, version=fields["version"]).first()
    if found := _existing(item, held, fields, held.mappings.count() if held else 0):
        return found
    mappings = []
    for group_index, group in enumerate(item.resource.get("group", [])):
        mappings.extend(_group_mappings(item, group, f".group[{group_index}]"))
    concept_map, _ = ConceptMap.objects.get_or_create(url=url)
    release = ConceptMapRelease.objects.create(concept_map=concept_map, **fields)
    for position, mapping in enumerate(mappings):
        mapping.release = release
        mapping.position = position
    Mapping.objects.bulk_create(mappings, batch_size=1000)
    return ImportResult(item.source, "ConceptMap", url, release.version, True, len(mappings))


def _group_mappings(item: SourcedResource, group: dict[str, Any], path: str) -> list[Mapping]:
    for side in ("source", "target"):
        if not group.get(side):
            raise item.problem(f"{path}.{side}", "is missing: name the code system")
    if "unmapped" in group:
        raise item.problem(f"{path}.unmapped", "is not supported: list every mapping")
    source = _checkable(item, group["source"], group.get("sourceVersion"), f"{path}.source")
    target = _checkable(item, group["target"], group.get("targetVersion"), f"{path}.target")
    source_version = source.version if source else group.get("sourceVersion", "")
    target_version = target.version if target else group.get("targetVersion", "")
    source_codes = _codes(source)
    target_codes = _codes(target)
    mappings = []
    for element_index, element in enumerate(group.get("element", [])):
        where = f"{path}.element[{element_index}]"
        if not element.get("code"):
            raise item.problem(f"{where}.code", "is missing")
        _check_code(item, source, source_codes, element["code"], f"{where}.code")
        targets = element.get("target") or [{"equivalence": "unmatched"}]
        for target_index, mapped in enumerate(targets):
            at = f"{where}.target[{target_index}]"
            equivalence = mapped.get("equivalence", "")
            if equivalence not in EQUIVALENCES:
                raise item.problem(
                    f"{at}.equivalence", f"{equivalence!r} is not a FHIR R4 equivalence"
                )
            code = mapped.get("code", "")
            if not code and equivalence not in _NO_TARGET_CODE:
                raise item.problem(f"{at}.code", f"is missing for a {equivalence} mapping")
            if code:
                _check_code(item, target, target_codes, code, f"{at}.code")
            extensions = {e["url"]: e for e in mapped.get("extension", [])}
            mappings.append(
                Mapping(
                    source_system=group["source"],
                    source_version=source_version,
                    source_code=element["code"],
                    source_display=element.get("display", ""),
                    target_system=group["target"],
                    target_version=target_version,
                    target_code=code,
                    target_display=mapped.get("display", ""),
                    equivalence=equivalence,
                    comment=mapped.get("comment", ""),
                    provenance=extensions.get(MAPPING_SOURCE_EXTENSION, {}).get("valueString", ""),
                    verified=extensions.get(MAPPING_VERIFIED_EXTENSION, {}).get(
                        "valueBoolean", False
                    ),
                )
            )
    return mappings


def _checkable(
    item: SourcedResource, system: str, version: str | None, path: str
) -> CodeSystemRelease | None:
    """The release to check codes against, when the code system is held at all."""
    try:
        return selectors.code_system_release(system, version)
    except errors.UnknownCodeSystem:
        return None
    except errors.UnknownVersion as error:
        raise item.problem(f"{path}Version", error.message) from None


def _codes(release: CodeSystemRelease | None) -> frozenset[str]:
    if release is None:
        return frozenset()
    return frozenset(release.concepts.values_list("code", flat=True))


def _check_code(
    item: SourcedResource,
    release: CodeSystemRelease | None,
    codes: frozenset[str],
    code: str,
    path: str,
) -> None:
    if release is not None and code not in codes:
        raise item.problem(path, f"code {code!r} is not in {release}")
