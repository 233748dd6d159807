"""The FHIR RESTful interactions, checked against the token's scopes and the record's access
rules, and audited.

Writes are atomic and audited in the same transaction. Reads (read, vread, history, search) run
outside a transaction and commit their audit event before they return, so no response carries
data whose access was not recorded; on SQLite, where every transaction takes the one write lock,
concurrent reads then hold it only for the audit insert, not for the whole request."""

from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import QueryDict

from wholecare.access.audit import audit, audit_many
from wholecare.access.models import AuditEvent
from wholecare.fhir.base import Ctx, Page, ResourceType, with_meta
from wholecare.fhir.errors import FhirError, Issue, bad_request, not_found, operation_outcome
from wholecare.fhir.keys import record_key
from wholecare.fhir.models import ResourceVersion
from wholecare.fhir.registry import registered, resource_type
from wholecare.fhir.scopes import Permission
from wholecare.fhir.search import Criterion, SearchRequest, parse
from wholecare.fhir.store import Item
from wholecare.record.models import Person


def _audit(ctx: Ctx, action: AuditEvent.Action, what: str, person_id: int | None) -> None:
    audit(
        by=ctx.grant.user,
        action=action,
        person=Person(pk=person_id) if person_id is not None else None,
        what=f"FHIR {what}",
        why=f"API client: {ctx.grant.client.name}",
    )


def entry_resource(kind: ResourceType, found: Item) -> dict[str, Any]:
    return with_meta(found, kind.profile)


def _readable(ctx: Ctx, kind: ResourceType, fhir_id: str, *, deleted_too: bool = False) -> Item:
    """The current version the client may read: 410 if it was deleted (unless `deleted_too`, for
    vread and history), 403 `suppressed` if it is withheld as sensitive, 404 otherwise."""
    found = kind.find_kept(ctx, fhir_id) if deleted_too else kind.find(ctx, fhir_id)
    if found is None:
        if kind.gone(ctx, fhir_id):
            raise FhirError(
                410,
                [
                    Issue(
                        "deleted",
                        f"{kind.name}/{fhir_id} was deleted (marked entered in error); its"
                        " versions remain in its history",
                    )
                ],
            )
        if kind.withheld(ctx, fhir_id):
            raise FhirError(
                403,
                [
                    Issue(
                        "suppressed",
                        f"{kind.name}/{fhir_id} is a sensitive entry withheld from you: the"
                        " person's consent does not share it with your discipline",
                    )
                ],
            )
        raise not_found(kind.name, fhir_id)
    return found


def read(ctx: Ctx, type_name: str, fhir_id: str) -> tuple[ResourceType, Item]:
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.READ)
    found = _readable(ctx, kind, fhir_id)
    _audit(ctx, AuditEvent.Action.VIEW, f"read {kind.name}/{fhir_id}", kind.person_id(found))
    return kind, found


def vread(ctx: Ctx, type_name: str, fhir_id: str, version: str) -> tuple[ResourceType, Item]:
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.READ)
    current = _readable(ctx, kind, fhir_id, deleted_too=True)
    number = record_key(version)
    kept = (
        ResourceVersion.objects.filter(
            resource__resource_type=kind.name, resource__fhir_id=fhir_id, version=number
        ).first()
        if number is not None
        else None
    )
    if kept is not None and kept.method == "DELETE":
        raise FhirError(
            410,
            [
                Issue(
                    "deleted",
                    f"Version {version} of {kind.name}/{fhir_id} is its deletion; read an"
                    " earlier version",
                )
            ],
        )
    if kept is None:
        if version == str(current.version):
            found = current
        else:
            raise not_found(kind.name, f"{fhir_id}/_history/{version}")
    else:
        found = Item(
            kind.name,
            fhir_id,
            kept.version,
            kept.last_updated,
            kept.content,
            current.sensitivity,
            current.person_id,
        )
    _audit(
        ctx,
        AuditEvent.Action.VIEW,
        f"vread {kind.name}/{fhir_id}/_history/{version}",
        kind.person_id(found),
    )
    return kind, found


def history(
    ctx: Ctx, type_name: str, fhir_id: str | None, query: QueryDict, base: str
) -> dict[str, Any]:
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.READ)
    if f"history-{'instance' if fhir_id else 'type'}" not in kind.interactions:
        raise FhirError(405, [Issue("not-supported", f"{kind.name} keeps no history")])
    request = parse(query, {}, set(), lenient=False)
    if fhir_id is not None:
        current = _readable(ctx, kind, fhir_id, deleted_too=True)
        versions = ResourceVersion.objects.filter(
            resource__resource_type=kind.name, resource__fhir_id=fhir_id
        )
        people = [current.person_id]
        what = f"history {kind.name}/{fhir_id}"
        sensitivity = {fhir_id: current.sensitivity}
    else:
        resources = kind.history_type(ctx)
        versions = ResourceVersion.objects.filter(resource__in=resources)
        people = []
        what = f"history {kind.name}"
        sensitivity = {}
    total = versions.count()
    page = list(
        versions.select_related("resource").order_by("-last_updated", "-pk")[
            request.offset : request.offset + request.count
        ]
    )
    entries = []
    for kept in page:
        found = Item(
            kind.name,
            kept.resource.fhir_id,
            kept.version,
            kept.last_updated,
            kept.content,
            sensitivity.get(kept.resource.fhir_id, kept.resource.sensitivity),
            kept.resource.person_id,
        )
        if fhir_id is None:
            people.append(found.person_id)
        entry: dict[str, Any] = {
            "fullUrl": f"{base}/{kind.name}/{found.fhir_id}",
            "request": {
                "method": kept.method,
                "url": kind.name if kept.method == "POST" else f"{kind.name}/{found.fhir_id}",
            },
            "response": {
                "status": "201" if kept.method == "POST" else "200",
                "etag": f'W/"{kept.version}"',
                "lastModified": kept.last_updated.isoformat(),
            },
        }
        if kept.method != "DELETE":
            entry["resource"] = entry_resource(kind, found)
        entries.append(entry)
    _audit_people(ctx, AuditEvent.Action.VIEW, what, people)
    path = f"{kind.name}/{fhir_id}/_history" if fhir_id else f"{kind.name}/_history"
    return {
        "resourceType": "Bundle",
        "type": "history",
        "total": total,
        "link": _links(base, path, query, request, total),
        "entry": entries,
    }


def _suppressed(count: int, what: str) -> Issue:
    return Issue(
        "suppressed",
        f"{count} {what} resource(s) withheld: sensitive entries the person's consent does not"
        " share with your discipline",
        severity="information",
    )


def _may_include(ctx: Ctx, kind: ResourceType, name: str, issues: list[Issue]) -> bool:
    """Included resources are read by a search of their type, so the token must allow both
    (a search is held to a `patient/` scope's person only when that scope allows searching)."""
    if ctx.grant.allows(kind.name, Permission.READ) and ctx.grant.allows(
        kind.name, Permission.SEARCH
    ):
        return True
    issues.append(
        Issue(
            "forbidden",
            f"{name}: nothing included, as the access token's scopes do not allow reading and"
            f" searching {kind.name}",
            severity="warning",
        )
    )
    return False


def _include(
    entries: list[dict[str, Any]],
    base: str,
    kind: ResourceType,
    included: Page,
    name: str,
    issues: list[Issue],
) -> list[int | None]:
    """Add included resources once each (search mode include); the people they are about."""
    present = {entry["fullUrl"] for entry in entries}
    people: list[int | None] = []
    for found in included.items:
        url = f"{base}/{kind.name}/{found.fhir_id}"
        if url not in present:
            entries.append(
                {
                    "fullUrl": url,
                    "resource": entry_resource(kind, found),
                    "search": {"mode": "include"},
                }
            )
            present.add(url)
        people.append(kind.person_id(found))
    if included.withheld:
        issues.append(_suppressed(included.withheld, f"{kind.name} ({name})"))
    return people


def _audit_people(ctx: Ctx, action: AuditEvent.Action, what: str, people: list[int | None]) -> None:
    distinct = sorted({p for p in people if p is not None})
    if distinct:
        audit_many(
            by=ctx.grant.user,
            action=action,
            people=[Person(pk=pk) for pk in distinct],
            what=f"FHIR {what}",
            why=f"API client: {ctx.grant.client.name}",
        )
    else:
        _audit(ctx, action, what, None)


def _links(
    base: str, path: str, query: QueryDict, request: SearchRequest, total: int
) -> list[dict[str, str]]:
    def url(offset: int) -> str:
        params = [(k, v) for k in query for v in query.getlist(k) if k not in {"_offset", "_count"}]
        params += [("_count", str(request.count)), ("_offset", str(offset))]
        return f"{base}/{path}?{urlencode(params)}"

    links = [{"relation": "self", "url": url(request.offset)}]
    if request.offset + request.count < total:
        links.append({"relation": "next", "url": url(request.offset + request.count)})
    if request.offset > 0:
        links.append({"relation": "previous", "url": url(max(0, request.offset - request.count))})
    return links


def revincludes(target: str) -> dict[str, tuple[ResourceType, str]]:
    """`_revinclude` values a search of `target` takes: every `Source:param` that `Source` offers
    for `_include` of `target` by a reference search parameter of its own, with the source type
    and that parameter (so `Condition:subject` for Patient)."""
    found: dict[str, tuple[ResourceType, str]] = {}
    for source in registered().values():
        for name, include in source.includes.items():
            param = name.partition(":")[2]
            known = source.params.get(param)
            if include.target == target and known is not None and known.kind == "reference":
                found[name] = (source, param)
    return found


MAX_REVINCLUDE = 500
"""Resources one `_revinclude` adds to a page at most (the rest are reported, not dropped)."""


def search(
    ctx: Ctx, type_name: str, query: QueryDict, base: str, *, lenient: bool
) -> dict[str, Any]:
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.SEARCH)
    reverse = revincludes(kind.name)
    request = parse(
        query,
        kind.params,
        kind.includes,
        lenient=lenient,
        revincludes=reverse,
        sorts=kind.sortable(),
    )
    page = kind.search(ctx, request)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}/{kind.name}/{found.fhir_id}",
            "resource": entry_resource(kind, found),
            "search": {"mode": "match"},
        }
        for found in page.items
    ]
    people = [kind.person_id(found) for found in page.items]
    issues = list(request.ignored)
    if page.withheld:
        issues.append(_suppressed(page.withheld, f"matching {kind.name}"))
    for name in request.includes:
        include = kind.includes[name]
        target = resource_type(include.target)
        ids = sorted({i for found in page.items for i in include.ids(found)})
        if ids and _may_include(ctx, target, name, issues):
            included = target.search(
                ctx, SearchRequest(criteria=[Criterion("_id", "", tuple(ids))], count=len(ids))
            )
            people += _include(entries, base, target, included, name, issues)
    matched = tuple(f"{kind.name}/{found.fhir_id}" for found in page.items)
    for name in request.revincludes:
        source, param = reverse[name]
        if matched and _may_include(ctx, source, name, issues):
            included = source.search(
                ctx,
                SearchRequest(criteria=[Criterion(param, "", matched)], count=MAX_REVINCLUDE),
            )
            people += _include(entries, base, source, included, name, issues)
            if included.total > len(included.items):
                issues.append(
                    Issue(
                        "too-costly",
                        f"_revinclude={name}: {included.total} resources refer to this page;"
                        f" the first {len(included.items)} are included. Search {source.name}"
                        " directly for the rest",
                        severity="warning",
                    )
                )
    if issues:
        entries.append({"resource": operation_outcome(issues), "search": {"mode": "outcome"}})
    _audit_people(ctx, AuditEvent.Action.SEARCH, f"search {kind.name}", people)
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": _links(base, kind.name, query, request, page.total),
        "entry": entries,
    }


@transaction.atomic
def create(
    ctx: Ctx, type_name: str, content: dict[str, Any], *, if_none_exist: str = ""
) -> tuple[ResourceType, Item, bool]:
    """Create, or with If-None-Exist return the one match (False: nothing created)."""
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.CREATE)
    _check_type(kind, content)
    if "create" not in kind.writable:
        raise FhirError(
            405, [Issue("not-supported", f"{kind.name} cannot be created through the API")]
        )
    if if_none_exist:
        ctx.grant.check(kind.name, Permission.SEARCH)
        matches = kind.search(
            ctx,
            parse(QueryDict(if_none_exist), kind.params, set(), lenient=False)
            if if_none_exist
            else SearchRequest(),
        )
        if matches.total > 1:
            raise FhirError(
                412,
                [Issue("multiple-matches", f"If-None-Exist matches {matches.total} resources")],
            )
        if matches.total == 1:
            found = matches.items[0]
            _audit(
                ctx,
                AuditEvent.Action.VIEW,
                f"conditional create {kind.name}/{found.fhir_id} (already there)",
                kind.person_id(found),
            )
            return kind, found, False
    found = kind.create(ctx, content)
    _audit(
        ctx, AuditEvent.Action.CREATE, f"create {kind.name}/{found.fhir_id}", kind.person_id(found)
    )
    return kind, found, True


@transaction.atomic
def update(
    ctx: Ctx, type_name: str, fhir_id: str, content: dict[str, Any], *, if_match: str = ""
) -> tuple[ResourceType, Item]:
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.UPDATE)
    _check_type(kind, content)
    if content.get("id") != fhir_id:
        raise bad_request(
            f"The resource's id ({content.get('id')!r}) must be the id in the URL ({fhir_id})",
            f"{kind.name}.id",
        )
    if "update" not in kind.writable:
        raise FhirError(
            405, [Issue("not-supported", f"{kind.name} cannot be updated through the API")]
        )
    current = _readable(ctx, kind, fhir_id)
    _check_version(kind, current, if_match)
    found = kind.update(ctx, current, content)
    _audit(ctx, AuditEvent.Action.UPDATE, f"update {kind.name}/{fhir_id}", kind.person_id(found))
    return kind, found


@transaction.atomic
def delete(ctx: Ctx, type_name: str, fhir_id: str, *, if_match: str = "") -> tuple[Item, str]:
    """Delete: the resource is marked entered in error and leaves current views; every version
    stays in its history (decision 0010). Deleting what is already deleted changes nothing.
    Returns the resource's latest version and what was done."""
    kind = resource_type(type_name)
    ctx.grant.check(kind.name, Permission.DELETE)
    if "delete" not in kind.interactions:
        raise FhirError(405, [Issue("not-supported", f"{kind.name} {kind.undeletable}")])
    current = _readable(ctx, kind, fhir_id, deleted_too=True)
    _check_version(kind, current, if_match)
    if kind.gone(ctx, fhir_id):
        _audit(
            ctx,
            AuditEvent.Action.VIEW,
            f"delete {kind.name}/{fhir_id} (already deleted)",
            kind.person_id(current),
        )
        return current, f"{kind.name}/{fhir_id} was already deleted; nothing changed"
    found = kind.delete(ctx, current)
    _audit(
        ctx,
        AuditEvent.Action.UPDATE,
        f"delete {kind.name}/{fhir_id} (marked entered in error)",
        kind.person_id(found),
    )
    return found, (
        f"{kind.name}/{fhir_id} deleted: marked entered in error at version {found.version};"
        " earlier versions remain in its history"
    )


def _check_version(kind: ResourceType, current: Item, if_match: str) -> None:
    """`If-Match: W/"n"`: the write applies only to version n (412 otherwise)."""
    if not if_match:
        return
    expected = if_match.removeprefix("W/").strip('"')
    if expected != str(current.version):
        raise FhirError(
            412,
            [
                Issue(
                    "conflict",
                    f"{kind.name}/{current.fhir_id} is at version {current.version}, not"
                    f" {expected}: read it again and reapply your change",
                )
            ],
        )


def check_writable(type_name: str, interaction: str) -> None:
    kind = resource_type(type_name)
    if interaction not in kind.writable:
        raise FhirError(
            405, [Issue("not-supported", f"{kind.name} does not support {interaction} here")]
        )


def _check_type(kind: ResourceType, content: dict[str, Any]) -> None:
    if content.get("resourceType") != kind.name:
        raise bad_request(
            f"This endpoint takes a {kind.name}, not a {content.get('resourceType')}",
            "resourceType",
        )
