"""The FHIR terminology operations, as plain functions returning FHIR-shaped dicts.

`lookup`, `validate_code`, `expand` and `translate` answer `CodeSystem/$lookup`,
`ValueSet/$validate-code` (and `CodeSystem/$validate-code`), `ValueSet/$expand` and
`ConceptMap/$translate`. Every answer names the release that gave it. Errors are
`wholecare.terminology.errors.TerminologyError`s carrying their HTTP status and
`OperationOutcome`; `validate_code` answers `result: false` instead for anything unknown.
`glossary_entry` gives the plain-English meaning of a code and its equivalents in other code
systems, for pages. Signatures and shapes: docs/terminology.md.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from wholecare.terminology import errors, selectors
from wholecare.terminology.fhir_io import (
    DESIGNATION_USE_SYSTEM,
    MAPPING_SOURCE_EXTENSION,
    MAPPING_VERIFIED_EXTENSION,
    PLAIN_ENGLISH,
)
from wholecare.terminology.models import (
    CodeSystemRelease,
    Concept,
    Mapping,
    ValueSetMember,
    search_words,
)

SNOMED_CT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SHORT_NAMES = {SNOMED_CT: "SNOMED CT", ICD10: "ICD-10"}

# How a mapping reads from the other side: "the target is wider" becomes "the target is narrower".
INVERSE_EQUIVALENCE = {
    "wider": "narrower",
    "narrower": "wider",
    "subsumes": "specializes",
    "specializes": "subsumes",
}
_NO_MATCH = frozenset({"unmatched", "disjoint"})

Parameters = dict[str, Any]


# $lookup -----------------------------------------------------------------------------------------


def lookup(system: str, code: str, version: str | None = None) -> Parameters:
    """CodeSystem/$lookup. Raises UnknownCodeSystem, UnknownVersion or UnknownCode (all 404)."""
    _require(system=system, code=code)
    release = selectors.code_system_release(system, version)
    concept = _concept(release, code)
    if concept is None:
        raise errors.UnknownCode(f"Code {code!r} is not in {_describe(release)}", expression="code")
    parameters: list[dict[str, Any]] = [
        {"name": "name", "valueString": release.name or release.title or system},
        {"name": "version", "valueString": release.version},
        {"name": "display", "valueString": concept.display},
    ]
    if concept.glossary:
        parameters.append(
            _designation(
                {
                    "language": "en-GB",
                    "use": {
                        "system": DESIGNATION_USE_SYSTEM,
                        "code": PLAIN_ENGLISH,
                        "display": "Plain English",
                    },
                    "value": concept.glossary,
                }
            )
        )
    parameters.extend(_designation(d) for d in concept.designations)
    if concept.definition:
        parameters.append(_property("definition", {"valueString": concept.definition}))
    if concept.parent is not None:
        parameters.append(_property("parent", {"valueCode": concept.parent.code}))
    for child in concept.children.order_by("position").values_list("code", flat=True):
        parameters.append(_property("child", {"valueCode": child}))
    for imported in concept.properties:
        value = {k: v for k, v in imported.items() if k.startswith("value")}
        parameters.append(_property(imported["code"], value))
    return {"resourceType": "Parameters", "parameter": parameters}


def _designation(designation: dict[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if "language" in designation:
        parts.append({"name": "language", "valueCode": designation["language"]})
    if "use" in designation:
        parts.append({"name": "use", "valueCoding": designation["use"]})
    parts.append({"name": "value", "valueString": designation["value"]})
    return {"name": "designation", "part": parts}


def _property(code: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "property",
        "part": [{"name": "code", "valueCode": code}, {"name": "value", **value}],
    }


# $validate-code ----------------------------------------------------------------------------------


def validate_code(
    *,
    code: str,
    system: str | None = None,
    version: str | None = None,
    display: str | None = None,
    url: str | None = None,
    value_set_version: str | None = None,
) -> Parameters:
    """ValueSet/$validate-code when `url` (a value set) is given, else CodeSystem/$validate-code.

    Unknown value sets, code systems, versions and codes give `result: false` and a `message`;
    only a missing `code` (or, without `url`, a missing `system`) raises InvalidRequest (400).
    """
    _require(code=code, **({} if url else {"system": system}))
    try:
        if url:
            release = selectors.value_set_release(url, value_set_version)
            concept = _member(release.members.all(), code, system, version)
            where = f"value set {release}"
        else:
            code_system = selectors.code_system_release(str(system), version)
            concept = _concept(code_system, code)
            where = _describe(code_system)
    except errors.NotFound as error:
        return _validation(False, error.message)
    if concept is None:
        shown = f"{system}|{code}" if system else repr(code)
        return _validation(False, f"Code {shown} is not in {where}")
    if display is not None and display not in {
        concept.display,
        *(d["value"] for d in concept.designations),
    }:
        return _validation(
            False,
            f"Display {display!r} is not a display of code {code!r} in {_describe(concept.release)}"
            f": expected {concept.display!r}",
            concept,
        )
    return _validation(True, None, concept)


def _member(
    members: QuerySet[ValueSetMember], code: str, system: str | None, version: str | None
) -> Concept | None:
    found = (
        members.filter(concept__code=code)
        .select_related("concept__release__code_system")
        .defer("concept__release__resource")
    )
    if system:
        found = found.filter(concept__release__code_system__url=system)
    if version:
        found = found.filter(concept__release__version=version)
    concepts = [member.concept for member in found[:2]]
    if len(concepts) > 1:
        raise errors.NotFound(
            f"Code {code!r} is in more than one code system in this value set: give the system"
        )
    return concepts[0] if concepts else None


def _validation(result: bool, message: str | None, concept: Concept | None = None) -> Parameters:
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": result}]
    if message:
        parameters.append({"name": "message", "valueString": message})
    if concept is not None:
        parameters += [
            {"name": "display", "valueString": concept.display},
            {"name": "code", "valueCode": concept.code},
            {"name": "system", "valueUri": concept.release.code_system.url},
            {"name": "version", "valueString": concept.release.version},
        ]
    return {"resourceType": "Parameters", "parameter": parameters}


# $expand -----------------------------------------------------------------------------------------


def expand(
    url: str,
    *,
    version: str | None = None,
    filter: str | None = None,
    offset: int = 0,
    count: int | None = None,
) -> dict[str, Any]:
    """ValueSet/$expand: the release's members in order, narrowed by `filter` (every word of it
    must begin a word of the code, display or a designation, ignoring case), paged by `offset` and
    `count`.
    Raises UnknownValueSet or UnknownVersion (404), InvalidRequest for a negative offset or count.
    """
    if offset < 0 or (count is not None and count < 0):
        raise errors.InvalidRequest(
            "offset and count must not be negative", expression="offset" if offset < 0 else "count"
        )
    release = selectors.value_set_release(url, version)
    members = release.members.all()
    for word in search_words(filter or ""):
        members = members.filter(concept__search_text__contains=f" {word}")
    total = members.count()
    window = members.order_by("position").values_list(
        "concept__code", "concept__display", "concept__release_id"
    )
    page = window[offset : offset + count] if count is not None else window[offset:]
    used = {
        cs.id: cs
        for cs in CodeSystemRelease.objects.filter(
            id__in=Concept.objects.filter(id__in=release.members.values("concept_id")).values(
                "release_id"
            )
        )
        .select_related("code_system")
        .defer("resource")
        .order_by("id")
    }
    expansion_parameters: list[dict[str, Any]] = [
        {"name": "used-codesystem", "valueUri": f"{cs.code_system.url}|{cs.version}"}
        for cs in used.values()
    ]
    if filter:
        expansion_parameters.append({"name": "filter", "valueString": filter})
    expansion_parameters.append({"name": "offset", "valueInteger": offset})
    if count is not None:
        expansion_parameters.append({"name": "count", "valueInteger": count})
    resource = release.resource
    return {
        "resourceType": "ValueSet",
        "url": release.value_set.url,
        "version": release.version,
        "name": release.name,
        "title": release.title,
        "status": release.status,
        "expansion": {
            "identifier": f"urn:wholecare:expansion:{release.value_set.url}|{release.version}",
            "timestamp": timezone.now().isoformat(timespec="seconds"),
            "total": total,
            "offset": offset,
            "parameter": expansion_parameters,
            "contains": [
                {
                    "system": used[release_id].code_system.url,
                    "version": used[release_id].version,
                    "code": code,
                    "display": display,
                }
                for code, display, release_id in page
            ],
        },
        **({"description": resource["description"]} if resource.get("description") else {}),
    }


# $translate --------------------------------------------------------------------------------------


def translate(
    *,
    code: str,
    system: str,
    system_version: str | None = None,
    url: str | None = None,
    concept_map_version: str | None = None,
    target_system: str | None = None,
    reverse: bool = False,
) -> Parameters:
    """ConceptMap/$translate: the mappings of `system|code` (from the code system release
    `system_version`, if given) in the concept map `url` (its `concept_map_version`, or its current
    release), or in the current release of every concept map. With `reverse`, reads maps from
    target to source, inverting wider/narrower. `result` is true when some mapping is neither
    unmatched nor disjoint; an unmapped code gives `result: false` and a message. Raises
    UnknownConceptMap or UnknownVersion (404) for an unknown `url` or `concept_map_version`.
    """
    _require(code=code, system=system)
    if url:
        releases = [selectors.concept_map_release(url, concept_map_version)]
    else:
        releases = list(selectors.current_concept_map_releases())
    mappings = _mappings(releases, system, [code], reverse, target_system)
    if system_version:
        side = "target_version" if reverse else "source_version"
        mappings = mappings.filter(**{side: system_version})
    matches = [_match(mapping, reverse) for mapping in mappings]
    found = any(match["equivalence"] not in _NO_MATCH for match in matches)
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": found}]
    if not found:
        scope = f"concept map {releases[0]}" if url else "any concept map held"
        detail = " (only unmatched mappings)" if matches else ""
        parameters.append(
            {
                "name": "message",
                "valueString": f"No mapping for {system}|{code} in {scope}{detail}",
            }
        )
    for match in matches:
        parts = [{"name": "equivalence", "valueCode": match["equivalence"]}]
        if match["concept"]:
            parts.append({"name": "concept", "valueCoding": match["concept"]})
        parts.append({"name": "source", "valueUri": match["source"]})
        parameters.append({"name": "match", "extension": match["extension"], "part": parts})
    return {"resourceType": "Parameters", "parameter": parameters}


def _mappings(
    releases: list[Any],
    system: str,
    codes: Collection[str],
    reverse: bool,
    target_system: str | None = None,
) -> QuerySet[Mapping]:
    """The mappings of `codes` of `system` (to `target_system` if given), in the concept maps'
    order; `reverse`: those mapping to them."""
    mappings = (
        Mapping.objects.filter(release__in=releases)
        .select_related("release__concept_map")
        .defer("release__resource")
    )
    if reverse:
        mappings = mappings.filter(target_system=system, target_code__in=codes)
        if target_system:
            mappings = mappings.filter(source_system=target_system)
    else:
        mappings = mappings.filter(source_system=system, source_code__in=codes)
        if target_system:
            mappings = mappings.filter(target_system=target_system)
    return mappings.order_by("release_id", "position")


def _match(mapping: Mapping, reverse: bool) -> dict[str, Any]:
    if reverse:
        equivalence = INVERSE_EQUIVALENCE.get(mapping.equivalence, mapping.equivalence)
        system, version, code, display = (
            mapping.source_system,
            mapping.source_version,
            mapping.source_code,
            mapping.source_display,
        )
    else:
        equivalence = mapping.equivalence
        system, version, code, display = (
            mapping.target_system,
            mapping.target_version,
            mapping.target_code,
            mapping.target_display,
        )
    coding = {"system": system, "code": code, "display": display}
    if version:
        coding["version"] = version
    extension: list[dict[str, Any]] = [
        {"url": MAPPING_VERIFIED_EXTENSION, "valueBoolean": mapping.verified}
    ]
    if mapping.provenance:
        extension.insert(0, {"url": MAPPING_SOURCE_EXTENSION, "valueString": mapping.provenance})
    return {
        "equivalence": equivalence,
        "concept": {k: v for k, v in coding.items() if v} if code else None,
        "source": f"{mapping.release.concept_map.url}|{mapping.release.version}",
        "extension": extension,
    }


# Glossary ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equivalent:
    """The same idea in another code system, as a concept map states it."""

    system_name: str
    code: str
    display: str
    equivalence: str
    verified: bool
    provenance: str


@dataclass(frozen=True)
class GlossaryEntry:
    system_name: str
    release: str
    code: str
    display: str
    text: str
    equivalents: tuple[Equivalent, ...]


def glossary_entries(system: str, codes: Collection[str]) -> dict[str, GlossaryEntry]:
    """What each of `codes` of `system` means in plain English, from the current release of its
    code system, with its equivalents in other code systems, keyed by the code as given: those
    held, read at once (a page shows several), none when the code system is not held."""
    try:
        release = selectors.code_system_release(system)
    except errors.NotFound:
        return {}
    concepts = _concepts(release, codes)
    if not concepts:
        return {}
    releases = list(selectors.current_concept_map_releases())
    equivalents: dict[str, list[Equivalent]] = {}
    for reverse in (False, True):
        for mapping in _mappings(releases, system, [c.code for c in concepts.values()], reverse):
            match = _match(mapping, reverse)
            if match["concept"] is None:
                continue
            other = mapping.source_system if reverse else mapping.target_system
            mapped = mapping.target_code if reverse else mapping.source_code
            equivalents.setdefault(mapped, []).append(
                Equivalent(
                    system_name=SHORT_NAMES.get(other, other),
                    code=match["concept"]["code"],
                    display=match["concept"].get("display", ""),
                    equivalence=match["equivalence"],
                    verified=mapping.verified,
                    provenance=mapping.provenance,
                )
            )
    return {
        code: GlossaryEntry(
            system_name=SHORT_NAMES.get(system, release.title or system),
            release=_describe(release),
            code=concept.code,
            display=concept.display,
            text=concept.glossary or concept.definition or concept.display,
            equivalents=tuple(dict.fromkeys(equivalents.get(concept.code, []))),
        )
        for code, concept in concepts.items()
    }


# Shared ------------------------------------------------------------------------------------------


def _require(**values: str | None) -> None:
    for name, value in values.items():
        if not value:
            raise errors.InvalidRequest(f"Parameter {name!r} is required", expression=name)


def _concept(release: CodeSystemRelease, code: str) -> Concept | None:
    concept = _concepts(release, [code]).get(code)
    if concept is not None:
        concept.release = release  # already read, without its (possibly large) resource
    return concept


def _concepts(release: CodeSystemRelease, codes: Collection[str]) -> dict[str, Concept]:
    """The concepts of `codes` in `release`, keyed by the code as given, in one query; in a code
    system matched in any case, the first of those that differ only in case."""
    held = release.concepts.select_related("parent")
    if release.case_sensitive:
        found = {c.code: c for c in held.filter(code__in=codes)}
        return {code: found[code] for code in codes if code in found}
    by_case = {code.casefold(): code for code in codes}
    any_case = Q(pk__in=[])
    for code in by_case:
        any_case |= Q(code__iexact=code)
    concepts: dict[str, Concept] = {}
    for concept in held.filter(any_case).order_by("-position"):
        concepts[by_case[concept.code.casefold()]] = concept
    return concepts


def _describe(release: CodeSystemRelease) -> str:
    return f"{release.title or release.name or release.code_system.url} version {release.version}"
