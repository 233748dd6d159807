from django import template

from wholecare.directory.disciplines import Discipline
from wholecare.record import nhs_number as nhs

register = template.Library()


NOT_KNOWN = "NHS number not known"


@register.filter(name="nhs_number")
def nhs_number(value: str | None) -> str:
    """An NHS number spaced 3-3-4, or that it is not known (decision 0013)."""
    if not value:
        return NOT_KNOWN
    return nhs.formatted(value) if len(value) == 10 else value


@register.filter
def discipline_label(value: str) -> str:
    try:
        return Discipline(value).label
    except ValueError:
        return value
