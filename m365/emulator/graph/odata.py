"""Collections the OData way: `$filter`, `$select`, `$top`, `$count`, `$skiptoken` paging.

A handler describes a collection with `Collection` (how to read items from a cursor, which
properties exist and which may be filtered) and returns `collection_page(ctx, coll)`. The
next link is an absolute URL carrying the original query plus an opaque `$skiptoken`; it
only appears while more matching items remain, and `@odata.count` only on the first page
(reference 4.4).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..errors import ControlError
from .core import Ctx, Result, bad_request
from .filters import CompiledFilter, FilterSyntaxError, compile_filter

# A source yields (cursor, item) pairs starting at `cursor`; the cursor of an item is where
# reading resumes to get the items after it (cursor + 1).
Source = Callable[[int], Iterator[tuple[int, dict[str, Any]]]]


@dataclass
class Collection:
    name: str  # key of the `pageSize` fault and of error messages, e.g. "users"
    context: str  # @odata.context fragment, e.g. "users" or "solutions/backupRestore/..."
    source: Source
    entity: str  # "microsoft.graph.user": named in $select errors
    properties: frozenset[str] | None = None  # None: whatever the items carry
    default_select: tuple[str, ...] | None = None  # v1.0 default projection
    filterable: frozenset[str] | None = None  # None: every property
    total: int | None = None  # item count when unfiltered (else $count scans)
    default_page: int = 100
    max_page: int | None = 999
    filter_error_code: str = "BadRequest"
    count_needs_eventual: bool = False  # directory objects want ConsistencyLevel: eventual
    max_filter_clauses: int | None = None  # backup lists answer FilterLengthExceeded


def sequence_source(items: list[dict[str, Any]]) -> Source:
    def read(start: int) -> Iterator[tuple[int, dict[str, Any]]]:
        for i in range(start, len(items)):
            yield i, items[i]

    return read


def parse_filter(ctx: Ctx, coll: Collection) -> CompiledFilter | None:
    text = ctx.args.get("$filter")
    if text is None:
        return None
    try:
        compiled = compile_filter(text)
    except FilterSyntaxError as exc:
        raise bad_request(coll.filter_error_code, f"Invalid filter clause: {exc}") from exc
    if coll.max_filter_clauses is not None and compiled.clauses > coll.max_filter_clauses:
        raise bad_request(
            "FilterLengthExceeded",
            f"The filter has {compiled.clauses} clauses; at most {coll.max_filter_clauses} "
            "are allowed.",
        )
    if coll.filterable is not None:
        for prop in sorted(compiled.properties):
            if prop not in coll.filterable:
                code = (
                    "Request_UnsupportedQuery"
                    if coll.filter_error_code.startswith("Request_")
                    else "BadRequest"
                )
                raise bad_request(
                    code,
                    f"Unsupported or invalid query filter clause specified for property "
                    f"'{prop}' of resource '{coll.entity.split('.')[-1]}'.",
                )
    return compiled


def parse_select(ctx: Ctx, coll: Collection) -> tuple[str, ...] | None:
    text = ctx.args.get("$select")
    if text is None:
        return coll.default_select if ctx.version == "v1.0" else None
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    if coll.properties is not None:
        for name in fields:
            if name not in coll.properties and name != "*":
                raise bad_request(
                    "BadRequest",
                    f"Parsing OData Select and Expand failed: Could not find a property named "
                    f"'{name}' on type '{coll.entity}'.",
                )
    return None if "*" in fields else fields


def project(item: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    if fields is None:
        return item
    out = {}
    kind = item.get("@odata.type")
    if kind is not None:
        out["@odata.type"] = kind
    for name in fields:
        if name in item:
            out[name] = item[name]
    return out


def needed_properties(ctx: Ctx, coll: Collection) -> frozenset[str] | None:
    """The properties a page must carry (selected plus filtered), None for all of them."""
    fields = parse_select(ctx, coll)
    if fields is None:
        return None
    compiled = parse_filter(ctx, coll)
    return frozenset(fields) | (compiled.properties if compiled else frozenset())


def page_size(ctx: Ctx, coll: Collection) -> int:
    raw = ctx.args.get("$top")
    override = ((ctx.tenant.faults() or {}).get("pageSize") or {}).get(coll.name)
    if raw is None:
        size = coll.default_page
    else:
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1 or (coll.max_page is not None and size > coll.max_page):
            upper = coll.max_page or "any positive number"
            raise bad_request(
                "Request_BadRequest"
                if coll.filter_error_code.startswith("Request_")
                else "BadRequest",
                f"Invalid page size specified: '{raw}'. Must be between 1 and {upper} inclusive.",
            )
    return min(size, override) if override else size


def encode_skiptoken(cursor: int) -> str:
    raw = json.dumps({"c": cursor}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_skiptoken(ctx: Ctx) -> int:
    token = ctx.args.get("$skiptoken") or ctx.args.get("$skipToken")
    if token is None:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        cursor = json.loads(base64.urlsafe_b64decode(padded))["c"]
        if not isinstance(cursor, int) or cursor < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_request("BadRequest", "The $skiptoken is invalid or expired.") from exc
    return cursor


def wants_count(ctx: Ctx, coll: Collection) -> bool:
    raw = ctx.args.get("$count")
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() != "true":
        raise bad_request("BadRequest", f"Invalid value '{raw}' for $count.")
    if coll.count_needs_eventual and not _eventual(ctx):
        raise bad_request(
            "Request_BadRequest",
            "$count is not currently supported without the header 'ConsistencyLevel: eventual'.",
        )
    return True


def _eventual(ctx: Ctx) -> bool:
    return (ctx.headers.get("ConsistencyLevel") or "").lower() == "eventual"


def count_matching(coll: Collection, compiled: CompiledFilter | None) -> int:
    if compiled is None and coll.total is not None:
        return coll.total
    test = compiled.predicate if compiled else None
    return sum(1 for _, item in coll.source(0) if test is None or test(item))


def collection_page(ctx: Ctx, coll: Collection, *, extra: dict[str, Any] | None = None) -> Result:
    compiled = parse_filter(ctx, coll)
    fields = parse_select(ctx, coll)
    size = page_size(ctx, coll)
    start = decode_skiptoken(ctx)
    count = wants_count(ctx, coll)
    test = compiled.predicate if compiled else None

    values: list[dict[str, Any]] = []
    next_cursor: int | None = None
    for cursor, item in coll.source(start):
        if test is not None and not test(item):
            continue
        if len(values) == size:
            next_cursor = cursor
            break
        values.append(project(item, fields))

    body: dict[str, Any] = {"@odata.context": ctx.context_url(coll.context)}
    if count and start == 0:
        body["@odata.count"] = count_matching(coll, compiled)
    if extra:
        body.update(extra)
    body["value"] = values
    if next_cursor is not None:
        body["@odata.nextLink"] = next_link(ctx, next_cursor)
    return Result(body)


def next_link(ctx: Ctx, cursor: int) -> str:
    query = [(k, v) for k, v in ctx.args.items(multi=True) if k.lower() != "$skiptoken"]
    query.append(("$skiptoken", encode_skiptoken(cursor)))
    return f"{ctx.url(ctx.path)}?{urlencode(query, safe=_SAFE_IN_QUERY)}"


# Graph's own next links keep OData punctuation readable.
_SAFE_IN_QUERY = "$'(),/:"


def count_response(ctx: Ctx, coll: Collection) -> Result:
    """`GET .../$count`: the number as text/plain (directory objects need `eventual`)."""
    if coll.count_needs_eventual and not _eventual(ctx):
        raise bad_request(
            "Request_BadRequest",
            "$count is not currently supported without the header 'ConsistencyLevel: eventual'.",
        )
    compiled = parse_filter(ctx, coll)
    return Result(str(count_matching(coll, compiled)), headers={"Content-Type": "text/plain"})


def entity(
    ctx: Ctx,
    item: dict[str, Any],
    context: str,
    *,
    properties: frozenset[str] | None = None,
    entity_type: str = "",
    default_select: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """One entity with its `@odata.context` and `$select` applied."""
    coll = Collection(
        name="",
        context=context,
        source=lambda _: iter(()),
        entity=entity_type,
        properties=properties,
        default_select=default_select,
    )
    fields = parse_select(ctx, coll)
    return {"@odata.context": ctx.context_url(context), **project(item, fields)}


def reject_unknown_expand(ctx: Ctx, entity_type: str, allowed: tuple[str, ...] = ()) -> str | None:
    raw = ctx.args.get("$expand")
    if raw is None:
        return None
    name = raw.split("(")[0].strip()
    if name not in allowed:
        raise ControlError(
            400,
            "BadRequest",
            f"Parsing OData Select and Expand failed: Could not find a property named '{name}' "
            f"on type '{entity_type}'.",
        )
    return raw
