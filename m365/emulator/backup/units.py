"""Protection units: what they protect, their status over time, their JSON.

A unit keeps its protection episodes as [requestedAt, unprotectRequestedAt | None] pairs.
Status at time t (d = the protect duration):
  no episode                  unprotected (a unit of a policy never activated)
  open episode, t < start+d   protectRequested
  open episode, later         protected (or unprotected with ProtectionUnitNotFound when the
                              resource does not exist or has no mailbox / OneDrive)
  closed episode, t < end+d   unprotectRequested, later unprotected
  removedAt set, t < at+d     removeRequested; afterwards the unit is gone
"""

from __future__ import annotations

import re
from typing import Any

from ..clock import iso
from ..generator import SHARED, Site, User
from ..ids import new_guid
from ..world import Tenant
from .state import backup_of, public_error
from .workloads import Workload

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SITE_ID = re.compile(r"^[A-Za-z0-9.-]+,[0-9a-fA-F-]{36},[0-9a-fA-F-]{36}$")


def is_guid(value: Any) -> bool:
    return isinstance(value, str) and bool(_GUID.match(value))


def well_formed(workload: Workload, resource_id: Any) -> bool:
    if workload.unit_key == "siteId":
        return isinstance(resource_id, str) and bool(_SITE_ID.match(resource_id))
    return is_guid(resource_id)


def resolve(tenant: Tenant, workload: Workload, resource_id: str) -> Site | User | None:
    """The live directory object a unit would protect, or None (no such site, mailbox or
    OneDrive)."""
    if workload.unit_key == "siteId":
        site = tenant.gen.site_by_id(resource_id.lower())
        if site is None or site.is_personal or tenant.site_deleted_at(site.id) is not None:
            return None
        return site
    user = tenant.user(resource_id)
    if user is None:
        return None
    if workload.key == "exchange" and not user.has_mailbox:
        return None
    if workload.key == "oneDriveForBusiness":
        site = tenant.gen.personal_site_of(user.index)
        if site is None or tenant.site_deleted_at(site.id) is not None:
            return None
    return user


def new_unit(
    tenant: Tenant,
    workload: Workload,
    policy: dict[str, Any],
    resource_id: str,
    *,
    identity: dict[str, Any],
    now: float,
    manual: bool = True,
    rule_id: str | None = None,
) -> dict[str, Any]:
    canonical = resource_id.lower()
    unit = {
        "id": new_guid(),
        "policyId": policy["id"],
        "workload": workload.key,
        "resourceId": canonical,
        "valid": resolve(tenant, workload, canonical) is not None,
        "manual": manual,
        "ruleIds": [rule_id] if rule_id else [],
        "createdBy": identity,
        "createdDateTime": now,
        "lastModifiedBy": identity,
        "lastModifiedDateTime": now,
        "episodes": [[now, None]] if policy["active"] else [],
        "removedAt": None,
    }
    return unit


def owned_resources(tenant: Tenant, workload: Workload) -> dict[str, dict[str, Any]]:
    """resource id -> the live unit protecting it, in any policy of the workload."""
    return {
        unit["resourceId"]: unit
        for unit in backup_of(tenant)["units"].values()
        if unit["workload"] == workload.key and unit.get("removedAt") is None
    }


def status_of(unit: dict[str, Any], now: float, protect_seconds: float) -> str | None:
    """The unit's status at `now`; None once a removal has completed."""
    removed = unit.get("removedAt")
    if removed is not None:
        return "removeRequested" if now < removed + protect_seconds else None
    if not unit["episodes"]:
        return "unprotected"
    start, end = unit["episodes"][-1]
    if end is None:
        if now < start + protect_seconds:
            return "protectRequested"
        return "protected" if unit["valid"] else "unprotected"
    return "unprotectRequested" if now < end + protect_seconds else "unprotected"


def protected_windows(
    unit: dict[str, Any], protect_seconds: float
) -> list[tuple[int, float, float | None]]:
    """(episode index, protected from, protected until or None) of a valid unit."""
    if not unit["valid"]:
        return []
    windows = []
    for index, (start, end) in enumerate(unit["episodes"]):
        begin = start + protect_seconds
        stop = end if end is not None else unit.get("removedAt")
        if stop is not None and stop <= begin:
            continue
        windows.append((index, begin, stop))
    return windows


def sources_of(unit: dict[str, Any]) -> str:
    flags = (["manual"] if unit["manual"] else []) + (["dynamicRule"] if unit["ruleIds"] else [])
    return ",".join(flags) or "none"


def unit_json(
    tenant: Tenant, workload: Workload, unit: dict[str, Any], now: float, protect_seconds: float
) -> dict[str, Any]:
    status = status_of(unit, now, protect_seconds)
    error = None
    if status == "unprotected" and not unit["valid"] and unit["episodes"]:
        error = public_error(
            "ProtectionUnitNotFound",
            f"The resource '{unit['resourceId']}' was not found or cannot be protected.",
            target=unit["resourceId"],
        )
    body: dict[str, Any] = {
        "@odata.type": f"#{workload.unit_type}",
        "id": unit["id"],
        "policyId": unit["policyId"],
        "protectionSources": sources_of(unit),
        "status": status or "removeRequested",
        "createdBy": unit["createdBy"],
        "createdDateTime": iso(unit["createdDateTime"]),
        "lastModifiedBy": unit["lastModifiedBy"],
        "lastModifiedDateTime": iso(unit["lastModifiedDateTime"]),
        "error": error,
        "offboardRequestedDateTime": None,
    }
    if workload.unit_key == "siteId":
        body["siteId"] = unit["resourceId"]
        return body
    user = tenant.user(unit["resourceId"], include_deleted=True)
    body["directoryObjectId"] = unit["resourceId"]
    body["displayName"] = user.display_name if user else None
    body["email"] = (user.mail or user.user_principal_name) if user else None
    if workload.key == "exchange":
        body["mailboxType"] = ("shared" if user.kind == SHARED else "user") if user else "unknown"
    return body
