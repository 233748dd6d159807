from django import template

from wholecare.directory.disciplines import Discipline
from wholecare.record import nhs_number as nhs

register = template.Library()


@register.filter(name="nhs_number")
def nhs_number(value: str) -> str:
    return nhs.formatted(value) if len(value) == 10 else value


@register.filter
def discipline_label(value: str) -> str:
    try:
        return Discipline(value).label
    except ValueError:
        return value
