import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

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


@register.filter
def last_day(ends: dt.datetime) -> dt.date:
    """The last local day something ending at `ends` is in force: the day before, when it ends
    at midnight (an alert raised "until 5 March" ends as 6 March begins)."""
    return (timezone.localtime(ends) - dt.timedelta(microseconds=1)).date()


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], number: int) -> str:
    """This page's address at page `number`, keeping the other things asked for (a filter)."""
    query = context["request"].GET.copy()
    query["page"] = str(number)
    return f"?{query.urlencode()}"
