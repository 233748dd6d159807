from django import template

from wholecare.terminology import operations

register = template.Library()


@register.simple_tag
def glossary_entry(system: str, code: str) -> operations.GlossaryEntry | None:
    """`{% glossary_entry system code as entry %}`: the plain-English meaning of any code, with
    its equivalents in other code systems (None when the code is not held)."""
    return operations.glossary_entry(system, code)


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
