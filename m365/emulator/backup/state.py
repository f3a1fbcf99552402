"""The backup section of a tenant's persisted document.

Timestamps are POSIX seconds on the tenant clock. Statuses that only depend on time (units,
restore sessions, artifacts, restore points) are computed from these timestamps when read;
what needs a decision at a moment (a rule or bulk job resolving resources, a controller
hand-over) is applied by `advance.advance` before every backup request.
"""

from __future__ import annotations

from typing import Any

from ..world import Tenant


def new_backup_state() -> dict[str, Any]:
    return {
        "serviceStatus": {
            "status": "disabled",
            "disableReason": "none",
            "gracePeriodEnd": None,
            "restoreAllowedTill": None,
            "consumer": "unknown",
            "lastModifiedBy": None,
            "lastModifiedAt": None,
        },
        "serviceApps": {},  # appId -> serviceApp record
        "policies": {},  # id -> policy (with its unitIds in insertion order)
        "units": {},  # id -> protection unit
        "rules": {},  # id -> inclusion rule
        "jobs": {},  # id -> bulk addition job
        "sessions": {},  # id -> restore session (with its artifactIds)
        "artifacts": {},  # id -> restore artifact
    }


def backup_of(tenant: Tenant) -> dict[str, Any]:
    """The tenant's backup state, created empty on first use (saved with the next write)."""
    if tenant.data.get("backup") is None:
        tenant.data["backup"] = new_backup_state()
    return tenant.data["backup"]


def public_error(
    code: str, message: str, details: list[dict[str, Any]] | None = None, target: str | None = None
) -> dict[str, Any]:
    """Graph's publicError complex type, as units, rules, jobs and artifacts carry it."""
    return {
        "code": code,
        "message": message,
        "details": details or [],
        "innerError": None,
        "target": target,
    }
