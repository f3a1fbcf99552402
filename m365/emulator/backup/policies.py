"""Protection policies: create, update with `@delta`, activate, deactivate, delete.

A policy's status aggregates its units' (reference section 1): `updating` while any unit is
in a *Requested state, otherwise `inactive` when not activated, `active` when every unit is
protected and `activeWithErrors` when some are not. One policy per workload may be in any
state but `inactive` (409 PolicyCreationNotAllowed on create and on activate).
"""

from __future__ import annotations

from typing import Any

from ..errors import ControlError
from ..ids import new_guid
from ..world import Tenant
from . import units as unit_model
from .jobs import create_job, validate_job_body
from .state import backup_of
from .workloads import Workload

MAX_UNITS_PER_REQUEST = 50
RETENTION_SETTINGS = [
    {"interval": "R/PT10M", "period": "P2W"},
    {"interval": "R/P1W", "period": "P1Y"},
]


def units_of(tenant: Tenant, policy: dict[str, Any]) -> list[dict[str, Any]]:
    units = backup_of(tenant)["units"]
    return [units[u] for u in policy["unitIds"] if u in units]


def status_of(tenant: Tenant, policy: dict[str, Any], now: float) -> str:
    protect = tenant.world.durations.unit_protect
    statuses = [
        s for s in (unit_model.status_of(u, now, protect) for u in units_of(tenant, policy)) if s
    ]
    if any(s.endswith("Requested") for s in statuses):
        return "updating"
    if not policy["active"]:
        return "inactive"
    return "active" if all(s == "protected" for s in statuses) else "activeWithErrors"


def _check_display_name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 1024:
        raise ControlError(
            400, "InvalidDisplayName", "displayName must be between 1 and 1024 characters."
        )
    return value.strip()


def _busy_policy(
    tenant: Tenant, workload: Workload, now: float, other_than: str | None = None
) -> dict[str, Any] | None:
    for policy in backup_of(tenant)["policies"].values():
        if (
            policy["workload"] == workload.key
            and policy["id"] != other_than
            and status_of(tenant, policy, now) != "inactive"
        ):
            return policy
    return None


def _resource_ids(workload: Workload, items: Any, *, code: str) -> list[str]:
    """The resource ids of a create list; 400/413 on bad shapes, ids and sizes."""
    if not isinstance(items, list):
        raise ControlError(400, code, f"{workload.units} must be a list.")
    if len(items) > MAX_UNITS_PER_REQUEST:
        raise ControlError(
            413,
            "ProtectionUnitsLimitBreached",
            f"A request can add at most {MAX_UNITS_PER_REQUEST} protection units.",
        )
    ids = []
    for item in items:
        value = item.get(workload.unit_key) if isinstance(item, dict) else None
        if value is None:
            raise ControlError(400, code, f"Each protection unit needs a {workload.unit_key}.")
        if not unit_model.well_formed(workload, value):
            raise ControlError(
                400, "InvalidProtectionUnitId", f"'{value}' is not a valid {workload.unit_key}."
            )
        ids.append(value.lower())
    if len(set(ids)) != len(ids):
        raise ControlError(
            400,
            "DuplicateProtectionUnitInList",
            "The same resource appears more than once in the request.",
        )
    return ids


def create(
    tenant: Tenant, workload: Workload, body: dict[str, Any], identity: dict[str, Any], now: float
) -> dict[str, Any]:
    name = _check_display_name(body.get("displayName"))
    resource_ids = _resource_ids(
        workload, body.get(workload.units, []), code="InvalidCreateRequest"
    )
    jobs = body.get(workload.jobs, [])
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise ControlError(400, "InvalidCreateRequest", f"{workload.jobs} must be a list.")
    job_bodies = [validate_job_body(workload, j) for j in jobs]
    if _busy_policy(tenant, workload, now) is not None:
        raise ControlError(
            409,
            "PolicyCreationNotAllowed",
            "A policy for this service is already active; only one active "
            "policy per service is allowed.",
        )
    owned = unit_model.owned_resources(tenant, workload)
    for resource_id in resource_ids:
        if resource_id in owned:
            raise ControlError(
                409,
                "ProtectionUnitAlreadyExists",
                f"'{resource_id}' is already protected by another policy.",
            )
    backup = backup_of(tenant)
    policy = {
        "id": new_guid(),
        "workload": workload.key,
        "displayName": name,
        "active": False,
        "createdBy": identity,
        "createdDateTime": now,
        "lastModifiedBy": identity,
        "lastModifiedDateTime": now,
        "unitIds": [],
    }
    with tenant.mutation():
        backup["policies"][policy["id"]] = policy
        for resource_id in resource_ids:
            unit = unit_model.new_unit(
                tenant, workload, policy, resource_id, identity=identity, now=now
            )
            backup["units"][unit["id"]] = unit
            policy["unitIds"].append(unit["id"])
        for job_body in job_bodies:
            create_job(tenant, workload, policy, job_body, identity, now)
    return policy


def update(
    tenant: Tenant,
    workload: Workload,
    policy: dict[str, Any],
    body: dict[str, Any],
    identity: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    """PATCH with `<units>@delta`: returns the echo of the delta, one entry per input."""
    name = _check_display_name(body["displayName"]) if "displayName" in body else None
    delta = body.get(f"{workload.units}@delta", [])
    if not isinstance(delta, list) or not all(isinstance(d, dict) for d in delta):
        raise ControlError(400, "BadRequest", f"{workload.units}@delta must be a list.")
    if len(delta) > MAX_UNITS_PER_REQUEST:
        raise ControlError(
            400,
            "ProtectionUnitsLimitBreached",
            f"A request can change at most {MAX_UNITS_PER_REQUEST} units.",
        )
    backup = backup_of(tenant)
    removals = [d for d in delta if "@removed" in d]
    additions = [d for d in delta if "@removed" not in d]
    removal_ids = [str(d.get("id", "")).lower() for d in removals]
    addition_ids = _resource_ids(workload, additions, code="BadRequest") if additions else []
    if len(set(removal_ids)) != len(removal_ids):
        raise ControlError(
            400,
            "DuplicateProtectionUnitInList",
            "The same unit appears more than once in the request.",
        )
    rules = backup["rules"]
    for unit_id in removal_ids:
        unit = backup["units"].get(unit_id)
        if (
            unit
            and unit["policyId"] == policy["id"]
            and any(rules.get(r, {}).get("isAutoApplyEnabled") for r in unit["ruleIds"])
        ):
            raise ControlError(
                400,
                "ProtectionUnitActionNotAllowed",
                f"Unit '{unit_id}' is protected by a dynamic rule and cannot be removed by hand.",
            )
    echo: list[dict[str, Any]] = []
    protect = tenant.world.durations.unit_protect
    owned = unit_model.owned_resources(tenant, workload)
    with tenant.mutation():
        if name is not None:
            policy["displayName"] = name
        for position, resource_id in enumerate(addition_ids):
            if resource_id in owned:
                echo.append(
                    _failure(
                        position,
                        "add",
                        409,
                        "ProtectionUnitAlreadyExists",
                        f"'{resource_id}' is already protected.",
                        {workload.unit_key: resource_id},
                    )
                )
                continue
            unit = unit_model.new_unit(
                tenant, workload, policy, resource_id, identity=identity, now=now
            )
            backup["units"][unit["id"]] = unit
            policy["unitIds"].append(unit["id"])
            owned[resource_id] = unit
            echo.append(unit_model.unit_json(tenant, workload, unit, now, protect))
        for position, unit_id in enumerate(removal_ids, start=len(addition_ids)):
            unit = backup["units"].get(unit_id)
            if (
                unit is None
                or unit["policyId"] != policy["id"]
                or unit.get("removedAt") is not None
            ):
                echo.append(
                    _failure(
                        position,
                        "remove",
                        404,
                        "ProtectionUnitNotFound",
                        f"Protection unit '{unit_id}' was not found.",
                        {"id": unit_id},
                    )
                )
                continue
            unit["removedAt"] = now
            _close_episode(unit, now)
            unit.update(lastModifiedBy=identity, lastModifiedDateTime=now)
            shown = unit_model.unit_json(tenant, workload, unit, now, protect)
            echo.append({"@removed": {"reason": "changed"}, **shown})
        policy.update(lastModifiedBy=identity, lastModifiedDateTime=now)
    return {"displayName": policy["displayName"], f"{workload.units}@delta": echo}


def _failure(
    position: int, operation: str, status: int, code: str, message: str, key: dict[str, str]
) -> dict[str, Any]:
    return {
        "@contentId": str(position + 1),
        "@Core.DataModificationException": {
            "info": {"code": code, "message": message},
            "failedOperation": operation,
            "responseCode": status,
        },
        **key,
    }


def _close_episode(unit: dict[str, Any], now: float) -> None:
    if unit["episodes"] and unit["episodes"][-1][1] is None:
        unit["episodes"][-1][1] = now


def activate(
    tenant: Tenant, workload: Workload, policy: dict[str, Any], identity: dict[str, Any], now: float
) -> dict[str, Any]:
    status = status_of(tenant, policy, now)
    if status not in ("inactive", "activeWithErrors"):
        raise ControlError(
            403,
            "PolicyActionNotAllowed",
            f"The policy is '{status}'; only an inactive policy can be activated.",
        )
    if _busy_policy(tenant, workload, now, other_than=policy["id"]) is not None:
        raise ControlError(
            409, "PolicyCreationNotAllowed", "Another policy for this service is already active."
        )
    protect = tenant.world.durations.unit_protect
    with tenant.mutation():
        policy["active"] = True
        for unit in units_of(tenant, policy):
            if (
                unit.get("removedAt") is None
                and unit_model.status_of(unit, now, protect) != "protected"
            ):
                _close_episode(unit, now)
                unit["episodes"].append([now, None])
        policy.update(lastModifiedBy=identity, lastModifiedDateTime=now)
    return policy


def deactivate(
    tenant: Tenant, policy: dict[str, Any], identity: dict[str, Any], now: float
) -> dict[str, Any]:
    status = status_of(tenant, policy, now)
    if status not in ("active", "activeWithErrors"):
        raise ControlError(
            403,
            "PolicyActionNotAllowed",
            f"The policy is '{status}'; only an active policy can be deactivated.",
        )
    with tenant.mutation():
        policy["active"] = False
        for unit in units_of(tenant, policy):
            _close_episode(unit, now)
        policy.update(lastModifiedBy=identity, lastModifiedDateTime=now)
    return policy


def delete(tenant: Tenant, policy: dict[str, Any], now: float) -> None:
    status = status_of(tenant, policy, now)
    if status != "inactive":
        raise ControlError(
            403,
            "PolicyActionNotAllowed",
            f"The policy is '{status}'; only an inactive policy can be deleted.",
        )
    backup = backup_of(tenant)
    with tenant.mutation():
        for unit_id in policy["unitIds"]:
            backup["units"].pop(unit_id, None)
        for collection in ("rules", "jobs"):
            for key in [k for k, v in backup[collection].items() if v["policyId"] == policy["id"]]:
                del backup[collection][key]
        del backup["policies"][policy["id"]]
