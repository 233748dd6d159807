"""The UK Core conformance corpus: every example imported through bulk import, exported as the API
serves it, checked against the FHIR R4 model and compared with what went in
(`wholecare fhir conformance`, which writes docs/fhir-conformance.md; a test keeps that table
current).

The examples are fragments of larger records, so before importing, the harness supplies what the
corpus describes or refers to but does not itself hold, as the rest of those records would:
- The directory (decision 0009: Wholecare's directory is kept by its owners, so bulk import matches
  Organization, Practitioner and HealthcareService onto it rather than writing it) is given the
  organisations, people and services the corpus's own examples describe (ODS code and name;
  professional registration number; service name; the service a consultant works in, `WORKS_IN`),
  as an ICS's directory would hold them.
- Each Patient an example is about (its subject, as `Patient/<id>` or a bare `urn:uuid:`) that the
  corpus does not hold is supplied as a synthetic Patient the harness makes up (`SUPPLIED`: a
  placeholder name, no NHS number, which decision 0013 allows), imported through bulk import with
  that id or fullUrl, so references to it map as any other. NHS England published those
  observations but not their patients; the table lists each supplied Patient and marks the
  examples about it. A real import is not changed: a subject nobody imported is still refused.
The examples are then imported in dependency order, acting as a member of staff who joins the care
team of each person imported, so references to them map onto the directory and each other.
References that still do not resolve are reported. Everything runs in one transaction that is
rolled back.
"""

import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticError

from wholecare.directory.models import Organisation, Service, Staff
from wholecare.fhir import bulk_read
from wholecare.fhir.base import Receiving, StoredType, references_in, with_meta
from wholecare.fhir.bulk_import import (
    READ_ONLY,
    Importer,
    Outcome,
    _rewrite,
    not_kept_elements,
    resolve,
)
from wholecare.fhir.errors import FhirError
from wholecare.fhir.mappers.organization import ODS
from wholecare.fhir.models import ImportedId, ImportFile
from wholecare.fhir.registry import registered

REFERENCE = re.compile(r"\b[A-Z][A-Za-z]+/[A-Za-z0-9\-.]+")
WORKS_IN = {
    "UKCore-Practitioner-ConsultantSandraGose-Example": (
        "UKCore-HealthcareService-OrthopaedicService-Example"
    )
}
"""Practitioner -> the HealthcareService they work in, as the corpus describes them: Dr Sandra Gose
is the orthopaedic surgeon of UKCore-Appointment-OrthopaedicSurgery-Example, at the Leeds
hospital whose orthopaedic service the HealthcareService example is."""
CORPUS = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "uk-core-examples"
ROLE = "UK Core conformance corpus"
SUPPLIED_NAME = "Corpus-supplied patient"
SUPPLIED = {
    "resourceType": "Patient",
    "name": [{"use": "official", "family": SUPPLIED_NAME}],
}
"""A Patient the harness supplies for examples about one the corpus does not hold: made up, with
no NHS number and nothing else about the person."""


@dataclass
class Example:
    """What became of one resource of the corpus (an example, or a Bundle example's entry)."""

    where: str
    resource_type: str
    support: str
    imported: str
    round_trip: str = "—"
    not_kept: list[str] = field(default_factory=list)
    supplied: str = ""
    """The reference to the Patient this example is about, when the harness supplied it."""
    unfiled: bool = False
    """Imported with no subject, so held unfiled (`StoredType.held_unfiled`)."""


class _RollBack(Exception):
    pass


def run(folder: Path = CORPUS) -> list[Example]:
    """Import, export and compare every example in `folder`; nothing is kept."""
    results: list[Example] = []
    try:
        with transaction.atomic():
            results = _run(folder)
            raise _RollBack
    except _RollBack:
        pass
    return results


def _run(folder: Path) -> list[Example]:
    ImportedId.objects.all().delete()
    ImportFile.objects.all().delete()
    files = sorted(folder.glob("*.xml"))
    staff = _directory(files)
    subjects, held = _subjects(files)
    about = {
        where: subject
        for where, subject in subjects.items()
        if subject and subject.startswith(("Patient/", "urn:uuid:")) and subject not in held
    }
    supply_patients(staff, set(about.values()))
    outcomes: list[Outcome] = []
    importer = Importer(staff, report=outcomes.append, care_team_role=ROLE)
    importer.run(files)
    sources = {str(path): path for path in files}
    back = _source_names()
    patients = _corpus_patients(files)
    examples = []
    for outcome in outcomes:
        example = _example(importer, outcome, sources)
        example.imported = _why_absent(back(example.imported), patients)
        if subjects.get(outcome.where, "") is None and example.imported.endswith(NO_SUBJECT):
            example.imported += (
                f": the example has no subject, and this {example.resource_type} about nobody"
                " cannot be filed on a person-centred record"
            )
        example.round_trip = back(example.round_trip)
        example.supplied = about.get(outcome.where, "")
        kept_whole = _kept_whole(example.resource_type)
        example.unfiled = (
            kept_whole is not None
            and kept_whole.held_unfiled
            and subjects.get(outcome.where, "") is None
            and example.imported == "yes"
        )
        examples.append(example)
    return sorted(examples, key=lambda e: e.where)


def _subject(resource: dict[str, Any]) -> str | None:
    """The reference to whom a resource of a type the record files on a person is about: "" if
    it says so other than by reference (or is not such a type), None if it has no subject."""
    if resource["resourceType"] not in registered():
        return ""
    kept_whole = _kept_whole(resource["resourceType"])
    try:
        subject = (
            kept_whole.subject(resource)
            if kept_whole is not None
            else resource.get("subject", resource.get("patient"))
        )
    except FhirError:
        return ""
    return None if subject is None else str(subject.get("reference", ""))


def _kept_whole(resource_type: str) -> StoredType | None:
    """What keeps resources of this type whole: the type, or its received half."""
    kind = registered().get(resource_type)
    if isinstance(kind, Receiving):
        return kind.received
    return kind if isinstance(kind, StoredType) else None


def _subjects(files: list[Path]) -> tuple[dict[str, str | None], set[str]]:
    """Where each resource of the corpus is -> its `_subject`; and what the corpus holds, by
    `Type/id` and by fullUrl."""
    subjects: dict[str, str | None] = {}
    held: set[str] = set()
    for path in files:
        for unit in bulk_read.read(path):
            if unit.resource is not None:
                subjects[unit.where] = _subject(unit.resource)
                held.add(f"{unit.resource['resourceType']}/{unit.resource.get('id')}")
                held.update([unit.full_url] if unit.full_url else [])
    return subjects, held


def supply_patients(staff: Staff, references: set[str]) -> None:
    """Import a `SUPPLIED` Patient for each reference, under its id (`Patient/<id>`) or fullUrl
    (`urn:uuid:`), through bulk import as the corpus is."""
    entries = [
        {"fullUrl": text, "resource": SUPPLIED}
        if text.startswith("urn:uuid:")
        else {"resource": {**SUPPLIED, "id": text.removeprefix("Patient/")}}
        for text in sorted(references)
    ]
    if not entries:
        return
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "supplied-patients.json"
        path.write_text(
            json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}),
            encoding="utf-8",
        )
        Importer(staff, report=outcomes.append, care_team_role=ROLE).run([path])
    refused = [f"{o.where}: {o.rejected}" for o in outcomes if o.rejected]
    if refused:
        raise RuntimeError(f"a supplied Patient was refused: {'; '.join(refused)}")


ABSENT = re.compile(r"(\S+) is not on the record, or you have no care relationship with them.*")
NO_SUBJECT = "needs a reference to the Patient"


def _corpus_patients(files: list[Path]) -> set[str]:
    """How the corpus's own Patients may be referred to: `Patient/<id>` and Bundle fullUrls."""
    found = set()
    for path in files:
        for unit in bulk_read.read(path):
            if unit.resource_type == "Patient" and unit.resource is not None:
                found.add(f"Patient/{unit.resource.get('id')}")
                if unit.full_url:
                    found.add(unit.full_url)
    return found


def _why_absent(imported: str, patients: set[str]) -> str:
    """A refusal for a subject not on the record says that the corpus holds that Patient and
    refused it (those it does not hold, the harness supplied)."""
    found = ABSENT.search(imported)
    if found is None or found.group(1) not in patients:
        return imported
    return ABSENT.sub(r"\1 is not on the record: that Patient example was refused", imported)


def _source_names() -> Callable[[str], str]:
    """Server ids in messages as the corpus's own ids, so the table is the same on any database."""
    back = {
        target: f"{name}/{source}"
        for name, source, target in ImportedId.objects.exclude(resource_type="").values_list(
            "resource_type", "source_id", "target"
        )
    }

    def named(text: str) -> str:
        return REFERENCE.sub(lambda found: back.get(found.group(0), found.group(0)), text)

    return named


def _resources(files: list[Path]) -> Iterator[dict[str, Any]]:
    for path in files:
        for unit in bulk_read.read(path):
            if unit.resource is not None:
                yield unit.resource


def _directory(files: list[Path]) -> Staff:
    """Give the directory the corpus's own organisations, staff and services; return the member
    of staff the import acts as."""
    users = get_user_model().objects
    home, _ = Organisation.objects.get_or_create(
        ods_code="ZZCORP", defaults={"name": "Conformance corpus importer", "kind": "acute-trust"}
    )
    user, _ = users.get_or_create(username="uk-core-corpus-importer")
    importer, _ = Staff.objects.get_or_create(
        user=user, defaults={"discipline": "gp", "organisation": home}
    )
    resources = list(_resources(files))
    names: dict[str, str] = {}
    for resource in resources:
        if resource["resourceType"] == "Organization":
            for identifier in resource.get("identifier", []):
                if identifier.get("system") == ODS:
                    organisation, _ = Organisation.objects.get_or_create(
                        ods_code=identifier["value"],
                        defaults={"name": resource.get("name", ""), "kind": "acute-trust"},
                    )
                    names[resource["id"]] = organisation.ods_code
    services: dict[str, Service] = {}
    for resource in resources:
        if resource["resourceType"] == "HealthcareService":
            provider = str(resource.get("providedBy", {}).get("reference", ""))
            ods = names.get(provider.removeprefix("Organization/"))
            if ods is not None:
                services[resource["id"]], _ = Service.objects.get_or_create(
                    organisation=Organisation.objects.get(ods_code=ods),
                    name=resource.get("name", ""),
                    defaults={"kind": "hospital-clinic"},
                )
    for resource in resources:
        if resource["resourceType"] == "Practitioner":
            numbers = [i["value"] for i in resource.get("identifier", []) if i.get("value")]
            if numbers and not Staff.objects.filter(professional_registration=numbers[0]).exists():
                name = (resource.get("name") or [{}])[0]
                user = users.create(
                    username=f"corpus-{resource['id']}"[:150],
                    first_name=" ".join(name.get("given", []))[:150],
                    last_name=str(name.get("family", ""))[:150],
                )
                staff = Staff.objects.create(
                    user=user,
                    discipline="gp",
                    organisation=home,
                    professional_registration=numbers[0],
                )
                service = services.get(WORKS_IN.get(resource["id"], ""))
                if service is not None:
                    staff.services.add(service)
    return importer


def _support(resource_type: str) -> str:
    if resource_type in {"Practitioner", "PractitionerRole", "Questionnaire"}:
        return "mapped onto Wholecare's own, or kept as received"
    if resource_type in {"Organization", "HealthcareService"}:
        return "mapped onto Wholecare's own"
    if resource_type in READ_ONLY:
        return "read-only"
    if resource_type in registered():
        return "yes"
    return "no"


def _example(importer: Importer, outcome: Outcome, sources: dict[str, Path]) -> Example:
    """The row of the table for one outcome."""
    path, entry, index = outcome.where.partition(" entry[")
    where = Path(path).name + (f"{entry}{index}" if entry else "")
    if outcome.rejected:
        return Example(
            where, outcome.resource_type, _support(outcome.resource_type), f"no: {outcome.rejected}"
        )
    paths = sorted({path for path, _ in outcome.not_kept})
    if outcome.mapped:
        return Example(
            where,
            outcome.resource_type,
            _support(outcome.resource_type),
            "mapped onto what Wholecare holds",
            not_kept=paths,
        )
    return Example(
        where,
        outcome.resource_type,
        _support(outcome.resource_type),
        "yes",
        _round_trip(importer, outcome, sources),
        paths,
    )


def _round_trip(importer: Importer, outcome: Outcome, sources: dict[str, Path]) -> str:
    """Read the imported resource back as the API serves it: it must validate against the FHIR R4
    model and carry every element of the example that was not reported as not kept."""
    name, _, fhir_id = outcome.loaded_as.partition("/")
    kind = registered()[name]
    found = kind.find(importer.ctx, fhir_id)
    gone = found is None and isinstance(kind, StoredType) and kind.gone(importer.ctx, fhir_id)
    if gone:
        found = kind.find_kept(importer.ctx, fhir_id)
    if found is None:
        return "no: not readable after import"
    exported = with_meta(found, kind.profile)
    try:
        get_fhir_model_class(name).model_validate(exported)
    except PydanticError as problem:
        return f"no: the export does not validate: {problem.errors()[0]['msg']}"
    source = _source(outcome, sources)
    mapped = _rewrite(source, resolve({text for _, text in references_in(source, name)}))
    lost = not_kept_elements(mapped, exported, outcome.not_kept)
    if lost:
        return "no: lost " + ", ".join(path for path, _ in lost)
    return "yes (entered in error: a read answers 410 Gone, history serves it)" if gone else "yes"


def _source(outcome: Outcome, sources: dict[str, Path]) -> dict[str, Any]:
    path, _, entry = outcome.where.partition(" entry[")
    units = bulk_read.read(sources[path])
    unit = units[int(entry.rstrip("]")) if entry else 0]
    assert unit.resource is not None
    return unit.resource


def table(examples: list[Example]) -> str:
    """docs/fhir-conformance.md."""
    counts: dict[str, int] = defaultdict(int)
    for example in examples:
        counts[example.imported.partition(":")[0]] += 1
    round_trips = sum(1 for e in examples if e.round_trip.startswith("yes"))
    lines = [
        "# UK Core conformance",
        "",
        "Generated by `wholecare fhir conformance --out docs/fhir-conformance.md` from the 142 UK"
        " Core examples in `tests/fixtures/uk-core-examples/`; `tests/app/fhir/test_conformance.py`"
        " fails when this file is out of date. How the corpus is imported, and why examples are"
        " refused: [decision 0009](decisions/0009-fhir-bulk-data.md) and"
        " [docs/fhir.md](fhir.md#bulk-import).",
        "",
        f"{len(examples)} resources (Bundle examples by entry): {counts['yes']} imported,"
        f" {counts['mapped onto what Wholecare holds']} mapped onto what Wholecare holds (the"
        f" directory, its instruments), {counts['no']} not imported; {round_trips} of"
        f" {counts['yes']} imported round-trip (the export validates against the FHIR R4 model and"
        " keeps every element not listed as not kept).",
        "",
        *_supplied_lines(examples),
        "| example | type | supported | imported | round-trips | not kept |",
        "|---|---|---|---|---|---|",
    ]
    for e in examples:
        cells = [
            e.where.removesuffix(".xml").replace(".xml entry", " entry"),
            e.resource_type or "—",
            e.support,
            e.imported
            + (f" (its Patient, `{e.supplied}`, supplied by the harness)" if e.supplied else "")
            + (" (it names no Patient: held unfiled, on nobody's record)" if e.unfiled else ""),
            e.round_trip,
            ", ".join(f"`{p}`" for p in e.not_kept) or "—",
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _supplied_lines(examples: list[Example]) -> list[str]:
    """The paragraph above the table naming the Patients the harness supplied, if any."""
    about: dict[str, int] = defaultdict(int)
    for example in examples:
        if example.supplied:
            about[example.supplied] += 1
    if not about:
        return []
    listed = ", ".join(
        f"`{text}` ({n} {'example' if n == 1 else 'examples'})" for text, n in sorted(about.items())
    )
    return [
        "Some examples are about a Patient the corpus does not hold: NHS England published them"
        " as fragments of records whose Patient it did not publish. Before importing, the harness"
        f' supplies each such Patient as a synthetic one of its own (named "{SUPPLIED_NAME}", no'
        " NHS number, nothing else about the person), imported through bulk import under the id"
        " or fullUrl the examples use, so their references to it map as any other:"
        f" {listed}. The examples about them say so.",
        "",
    ]
