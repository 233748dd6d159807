"""The releases Wholecare ships, loaded by `wholecare migrate` and `wholecare terminology builtin`:
the UK Core code systems (ethnic category, SDS job roles, language, contact method and the rest),
the SNOMED CT and ICD-10 subsets for the record's conditions, local social-care terms, the record's
value sets and the concept maps between them. They are FHIR files in `data/`; a change to one is a
new file with a new version, never an edit (see docs/decisions/0008-terminology-releases.md)."""

from pathlib import Path

from wholecare.terminology.importer import ImportResult, import_paths

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_builtin() -> list[ImportResult]:
    return import_paths([DATA_DIR])
