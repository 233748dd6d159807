from collections.abc import Collection

from django import template

from wholecare.terminology import operations

register = template.Library()


@register.simple_tag
def glossary_entries(system: str, codes: Collection[str]) -> dict[str, operations.GlossaryEntry]:
    """`{% glossary_entries system codes as glossary %}`: the plain-English meaning of each of a
    page's codes, with their equivalents in other code systems, read at once; `entry_for` finds
    one."""
    return operations.glossary_entries(system, codes)


@register.filter
def entry_for(
    glossary: dict[str, operations.GlossaryEntry], code: str
) -> operations.GlossaryEntry | None:
    """`glossary|entry_for:code`: the code's entry, or None when it is not held."""
    return glossary.get(code)


@register.filter
def equivalence_phrase(equivalence: str) -> str:
    """How a FHIR R4 equivalence reads beside a code in another system."""
    return EQUIVALENCE_PHRASES.get(equivalence, equivalence)


EQUIVALENCE_PHRASES = {
    "equivalent": "the same meaning",
    "equal": "the same meaning",
    "wider": "a wider meaning",
    "subsumes": "a wider meaning",
    "narrower": "a narrower meaning",
    "specializes": "a narrower meaning",
    "inexact": "an overlapping meaning",
    "relatedto": "a related meaning",
}
