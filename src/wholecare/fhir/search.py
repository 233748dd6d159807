"""Search parameters as clients send them: parsing and the query filters they compile to.

Dates take the FHIR prefixes eq, ne, lt, gt, le, ge, sa and eb, at the precision given (a year, a
month, a day or an instant); tokens are `code`, `system|code`, `|code` or `system|`; references are
`Type/id` or `id`. Values separated by commas are alternatives; a repeated parameter must match
every time. Result parameters: `_count` (at most 100), `_offset` (from the paging links),
`_include`, `_revinclude`, and `_sort` (comma-separated sortable parameters, each ascending or, with
a leading `-`, descending; ties are broken by the row's key so that pages never overlap). Anything
else is refused with 400, or ignored and reported under `Prefer: handling=lenient`.
"""

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.http import QueryDict
from django.utils import timezone

from wholecare.fhir.errors import Issue, bad_request
from wholecare.fhir.keys import record_key

DEFAULT_COUNT = 20
MAX_COUNT = 100
PREFIXES = ("eq", "ne", "lt", "gt", "le", "ge", "sa", "eb")
_DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<time>\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
ParamKind = Literal["token", "date", "reference", "string", "uri"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    description: str


@dataclass(frozen=True)
class Criterion:
    name: str
    modifier: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SortKey:
    """One `_sort` parameter: a search parameter, ascending or descending."""

    name: str
    descending: bool = False


@dataclass
class SearchRequest:
    criteria: list[Criterion] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0
    includes: list[str] = field(default_factory=list)
    revincludes: list[str] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    ignored: list[Issue] = field(default_factory=list)


def parse(
    query: QueryDict,
    params: dict[str, Param],
    includes: Collection[str],
    *,
    lenient: bool,
    revincludes: Collection[str] = (),
    sorts: Collection[str] = (),
) -> SearchRequest:
    """`includes`, `revincludes` and `sorts`: what this type offers for `_include`,
    `_revinclude` and `_sort`."""
    found = SearchRequest()
    for key in query:
        values = query.getlist(key)
        name, _, modifier = key.partition(":")
        if key == "_format":
            continue
        if key == "_count":
            found.count = _whole(values[-1], key, 0, MAX_COUNT)
        elif key == "_offset":
            found.offset = _whole(values[-1], key, 0, 10**9)
        elif key in {"_include", "_revinclude"}:
            offered = includes if key == "_include" else revincludes
            chosen = found.includes if key == "_include" else found.revincludes
            for value in values:
                if value not in offered:
                    _refuse(
                        found,
                        lenient,
                        f"{key}={value} is not supported here"
                        + (f" (supported: {', '.join(sorted(offered))})" if offered else ""),
                    )
                elif value not in chosen:
                    chosen.append(value)
        elif key == "_sort":
            found.sort = _sort_keys(values, sorts, found, lenient)
        elif name in params and modifier in _modifiers(params[name].kind):
            for value in values:
                if value == "":
                    raise bad_request(f"Search parameter {key} has no value", key)
                found.criteria.append(Criterion(name, modifier, tuple(value.split(","))))
        else:
            supported = ", ".join(sorted(params))
            _refuse(
                found,
                lenient,
                f"Unknown or unsupported search parameter {key!r}; this type supports: {supported}",
            )
    return found


def _sort_keys(
    values: list[str], sorts: Collection[str], found: SearchRequest, lenient: bool
) -> list[SortKey]:
    keys: list[SortKey] = []
    for value in ",".join(values).split(","):
        name = value.strip().removeprefix("-")
        if not name:
            raise bad_request("_sort has an empty parameter name", "_sort")
        if name not in sorts:
            _refuse(
                found,
                lenient,
                f"_sort by {name!r} is not supported here; sortable: "
                + (", ".join(sorted(sorts)) or "none"),
            )
        elif name not in {key.name for key in keys}:
            keys.append(SortKey(name, value.strip().startswith("-")))
    return keys


def ordering(sort: list[SortKey], columns: Mapping[str, str]) -> list[OrderBy]:
    """`_sort` as an ORDER BY on the columns the parameters sort by, empty values last either
    way (the same on SQLite and PostgreSQL), then the key, so that paging is stable."""
    order = [
        F(columns[key.name]).desc(nulls_last=True)
        if key.descending
        else F(columns[key.name]).asc(nulls_last=True)
        for key in sort
    ]
    return [*order, F("pk").asc()]


def _modifiers(kind: ParamKind) -> set[str]:
    return {"", "exact"} if kind == "string" else {""}


def _refuse(found: SearchRequest, lenient: bool, message: str) -> None:
    if not lenient:
        raise bad_request(message)
    found.ignored.append(Issue("not-supported", f"Ignored: {message}", severity="warning"))


def _whole(value: str, name: str, low: int, high: int) -> int:
    number = record_key(value)
    if number is None or not low <= number <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}", name)
    return number


@dataclass(frozen=True)
class DateParam:
    prefix: str
    start: dt.datetime
    end: dt.datetime
    """Exclusive: the first instant after the precision given."""


def parse_date(value: str) -> DateParam:
    found = _DATE.match(value)
    if found is None:
        raise bad_request(
            f"{value!r} is not a FHIR date search value (such as ge2024-01-01 or 2024-05)"
        )
    prefix = found["prefix"] or "eq"
    if prefix not in PREFIXES:
        raise bad_request(f"Unknown date prefix {prefix!r}; use one of {', '.join(PREFIXES)}")
    try:
        year = int(found["year"])
        if found["month"] is None:
            start = dt.datetime(year, 1, 1)
            end = dt.datetime(year + 1, 1, 1)
        elif found["day"] is None:
            month = int(found["month"])
            start = dt.datetime(year, month, 1)
            end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
        elif found["time"] is None:
            start = dt.datetime(year, int(found["month"]), int(found["day"]))
            end = start + dt.timedelta(days=1)
        else:
            instant = dt.datetime.fromisoformat(
                f"{found['year']}-{found['month']}-{found['day']}T{found['time']}"
                + (found["tz"] or "").replace("Z", "+00:00")
            )
            start = instant
            end = instant + dt.timedelta(seconds=1)
    except ValueError:
        raise bad_request(f"{value!r} is not a real date") from None
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
        end = timezone.make_aware(end)
    return DateParam(prefix, start, end)


def date_q(field_name: str, value: str, *, is_date: bool = False) -> Q:
    """A filter on a date or date-time column for one date search value."""
    param = parse_date(value)
    start: dt.date | dt.datetime = param.start
    end: dt.date | dt.datetime = param.end
    if is_date:
        start = timezone.localtime(param.start).date()
        end = timezone.localtime(param.end - dt.timedelta(microseconds=1)).date() + dt.timedelta(
            days=1
        )
    inside = Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
    return {
        "eq": inside,
        "ne": ~inside & Q(**{f"{field_name}__isnull": False}),
        "lt": Q(**{f"{field_name}__lt": start}),
        "eb": Q(**{f"{field_name}__lt": start}),
        "le": Q(**{f"{field_name}__lt": end}),
        "gt": Q(**{f"{field_name}__gte": end}),
        "sa": Q(**{f"{field_name}__gte": end}),
        "ge": Q(**{f"{field_name}__gte": start}),
    }[param.prefix]


def parse_token(value: str) -> tuple[str | None, str]:
    """(system, code): system None when not given, "" for `|code`; code "" for `system|`."""
    if "|" not in value:
        return None, value
    system, _, code = value.partition("|")
    return system, code


def parse_reference(value: str, resource_type: str) -> str:
    prefix = f"{resource_type}/"
    if "/" in value.removeprefix(prefix):
        raise bad_request(f"{value!r} is not a reference to a {resource_type}")
    return value.removeprefix(prefix)


def every_date(criterion: Criterion, column: str, *, is_date: bool = False) -> Q:
    """A date parameter as a filter on one column: each value repeated must hold (`ge` and `le`
    make a range)."""
    combined = Q()
    for value in criterion.values:
        combined &= date_q(column, value, is_date=is_date)
    return combined


def any_of(criterion: Criterion, one: Callable[[str], Q]) -> Q:
    """Comma-separated values are alternatives."""
    combined = Q(pk__in=[])
    for value in criterion.values:
        combined |= one(value)
    return combined
