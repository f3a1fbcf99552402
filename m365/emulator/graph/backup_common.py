"""What the Backup Storage handlers share: routing under /solutions/backupRestore with the
tenant lock and clock advance, lookups with Graph's error codes, entity rendering."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ..backup import policies as policy_model
from ..backup import units as unit_model
from ..backup.advance import advance
from ..backup.enums import shown
from ..backup.state import backup_of
from ..backup.workloads import BY_KEY, Workload
from ..clock import iso
from ..errors import ControlError
from .core import Access, Ctx, Result, route
from .odata import Collection

ROOT = "/solutions/backupRestore"
CONTEXT = "solutions/backupRestore"
MAX_FILTER_CLAUSES = 10


def backup_route(
    path: str,
    methods: str | tuple[str, ...],
    access: Access,
    handler: Callable[..., Any],
    **bound: Any,
) -> None:
    """Register `handler` at ROOT + path; it runs under the tenant lock, after the tenant's
    backup state has been brought up to its clock. `bound` is passed to every call."""

    @functools.wraps(handler)
    def run(ctx: Ctx, **kwargs: Any) -> Any:
        with ctx.tenant.lock:
            advance(ctx.tenant, ctx.now)
            return handler(ctx, **bound, **kwargs)

    route(ROOT + path, methods, access)(run)


def content_location(ctx: Ctx, path: str) -> dict[str, str]:
    return {"Content-Location": ctx.url(ROOT + path)}


def entity_result(
    ctx: Ctx, collection: str, body: dict[str, Any], status: int = 200, location: str | None = None
) -> Result:
    payload = {"@odata.context": ctx.context_url(f"{CONTEXT}/{collection}/$entity"), **body}
    return Result(payload, status, content_location(ctx, location) if location else {})


def lazy_collection(
    name: str,
    context: str,
    entity_type: str,
    records: list[Any],
    render: Callable[[Any], dict[str, Any] | None],
) -> Collection:
    """A collection rendering each record only when a page needs it (None = skip)."""

    def read(start: int) -> Iterator[tuple[int, dict[str, Any]]]:
        for index in range(start, len(records)):
            body = render(records[index])
            if body is not None:
                yield index, body

    return Collection(
        name=name,
        context=f"{CONTEXT}/{context}",
        source=read,
        entity=entity_type,
        max_page=None,
        max_filter_clauses=MAX_FILTER_CLAUSES,
    )


# ---- lookups -------------------------------------------------------------------------


def policy_or_error(ctx: Ctx, policy_id: str, workload: Workload | None = None) -> dict[str, Any]:
    if not unit_model.is_guid(policy_id):
        raise ControlError(400, "InvalidPolicyId", f"'{policy_id}' is not a valid policy id.")
    policy = backup_of(ctx.tenant)["policies"].get(policy_id.lower())
    if policy is None or (workload is not None and policy["workload"] != workload.key):
        raise ControlError(404, "PolicyNotFound", f"Policy '{policy_id}' was not found.")
    return policy


def unit_or_error(
    ctx: Ctx, unit_id: str, workload: Workload | None = None, policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    if not unit_model.is_guid(unit_id):
        raise ControlError(
            400, "InvalidProtectionUnitId", f"'{unit_id}' is not a valid protection unit id."
        )
    unit = backup_of(ctx.tenant)["units"].get(unit_id.lower())
    gone = (
        unit is None
        or unit_model.status_of(unit, ctx.now, ctx.world.durations.unit_protect) is None
    )
    if (
        gone
        or (workload is not None and unit["workload"] != workload.key)
        or (policy is not None and unit["policyId"] != policy["id"])
    ):
        raise ControlError(
            404, "ProtectionUnitNotFound", f"Protection unit '{unit_id}' was not found."
        )
    return unit


# ---- rendering -----------------------------------------------------------------------


def policy_json(ctx: Ctx, policy: dict[str, Any]) -> dict[str, Any]:
    workload = BY_KEY[policy["workload"]]
    status = policy_model.status_of(ctx.tenant, policy, ctx.now)
    body = {
        "@odata.type": f"#{workload.policy_type}",
        "id": policy["id"],
        "displayName": policy["displayName"],
        "status": shown("protectionPolicyStatus", status, ctx.include_unknown_enums),
        "createdBy": policy["createdBy"],
        "createdDateTime": iso(policy["createdDateTime"]),
        "lastModifiedBy": policy["lastModifiedBy"],
        "lastModifiedDateTime": iso(policy["lastModifiedDateTime"]),
        "retentionSettings": policy_model.RETENTION_SETTINGS,
    }
    if ctx.version == "beta":
        body.update(
            isEnabled=policy["active"],
            protectionMode="standard",
            billingPolicyId=None,
            offboardRequestedDateTime=None,
        )
    return body


def unit_json(ctx: Ctx, unit: dict[str, Any]) -> dict[str, Any] | None:
    """A unit's JSON, or None once its removal completed."""
    protect = ctx.world.durations.unit_protect
    if unit_model.status_of(unit, ctx.now, protect) is None:
        return None
    return unit_model.unit_json(ctx.tenant, BY_KEY[unit["workload"]], unit, ctx.now, protect)
