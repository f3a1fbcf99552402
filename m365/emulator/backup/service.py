"""Service status and controller apps (reference sections 2.1 and 3).

serviceApp state machine (one row per reference table row):
  (none)          POST serviceApps                       -> inactive
  inactive        activate, no controller                -> active
  inactive        activate, controller exists (7-30 d)   -> pendingActive; active at the date,
                                                            the old controller pendingInactive
                                                            then inactive
  pendingActive   deactivate                             -> inactive (old controller active)
  pendingActive   DELETE                                 -> removed (old controller active)
  active          another app activates                  -> pendingInactive
  active          deactivate                             -> 403
  active          DELETE                                 -> removed; 7-day grace, then the
                                                            service locks protection changes
                                                            and, 30 days later, is disabled
  pendingInactive deactivate                             -> no effect
  pendingInactive DELETE                                 -> 403
  inactive        deactivate                             -> no effect
  inactive        DELETE                                 -> removed
"""

from __future__ import annotations

from typing import Any

from ..clock import DAY, parse_iso
from ..errors import ControlError
from ..world import Tenant
from .state import backup_of

CONTROLLING = ("active", "pendingInactive")
MIN_HANDOVER = 7 * DAY
MAX_HANDOVER = 30 * DAY


def _forbidden(message: str) -> ControlError:
    return ControlError(403, "accessDenied", message)


def controller(backup: dict[str, Any]) -> dict[str, Any] | None:
    """The app holding controllership now (active, or pendingInactive during a hand-over)."""
    for app in backup["serviceApps"].values():
        if app["status"] in CONTROLLING:
            return app
    return None


def register(
    tenant: Tenant, app_id: str, display_name: str, identity: dict[str, Any], now: float
) -> dict[str, Any]:
    """POST serviceApps: the calling app becomes a candidate controller (idempotent)."""
    backup = backup_of(tenant)
    with tenant.mutation():
        record = backup["serviceApps"].get(app_id)
        if record is None or record.get("firstParty"):
            record = {
                "id": app_id,
                "appId": app_id,
                "displayName": display_name,
                "status": "inactive",
                "registrationDateTime": now,
                "effectiveDateTime": None,
                "lastModifiedBy": identity,
                "lastModifiedDateTime": now,
                "firstParty": False,
            }
            backup["serviceApps"][app_id] = record
    return record


def lookup(tenant: Tenant, app_id: str) -> dict[str, Any]:
    record = backup_of(tenant)["serviceApps"].get(app_id.lower())
    if record is None or record.get("firstParty"):
        raise ControlError(404, "itemNotFound", f"Service app '{app_id}' was not found.")
    return record


def activate(
    tenant: Tenant, app_id: str, effective: str | None, identity: dict[str, Any], now: float
) -> dict[str, Any]:
    backup = backup_of(tenant)
    record = lookup(tenant, app_id)
    if record["status"] == "active":
        return record
    pending = [a for a in backup["serviceApps"].values() if a["status"] == "pendingActive"]
    if record["status"] != "inactive" or pending:
        raise _forbidden("A controller change is already pending for this tenant.")
    current = controller(backup)
    with tenant.mutation():
        if current is None:
            _touch(record, "active", identity, now)
            record["effectiveDateTime"] = now
            _end_grace(backup)
            return record
        if not effective:
            raise ControlError(
                400,
                "invalidRequest",
                "effectiveDateTime is required when another controller is active; it must be "
                "7 to 30 days ahead.",
            )
        try:
            when = parse_iso(effective)
        except ValueError as exc:
            raise ControlError(
                400, "invalidRequest", f"effectiveDateTime '{effective}' is not a date-time."
            ) from exc
        if not now + MIN_HANDOVER - 60 <= when <= now + MAX_HANDOVER + 60:
            raise ControlError(
                400,
                "invalidRequest",
                "effectiveDateTime must be between 7 and 30 days from now when another "
                "controller is active.",
            )
        _touch(record, "pendingActive", identity, now)
        record["effectiveDateTime"] = when
        _touch(current, "pendingInactive", identity, now)
        current["effectiveDateTime"] = when
    return record


def deactivate(tenant: Tenant, app_id: str, identity: dict[str, Any], now: float) -> dict[str, Any]:
    backup = backup_of(tenant)
    record = lookup(tenant, app_id)
    if record["status"] == "active":
        raise _forbidden(
            "An active controller app cannot be deactivated; another app must "
            "be activated, or the service app deleted."
        )
    if record["status"] == "pendingActive":
        with tenant.mutation():
            _cancel_handover(backup, record, identity, now)
    return record


def delete(tenant: Tenant, app_id: str, identity: dict[str, Any], now: float) -> None:
    backup = backup_of(tenant)
    record = lookup(tenant, app_id)
    if record["status"] == "pendingInactive":
        raise _forbidden("A service app that is being replaced cannot be deleted.")
    with tenant.mutation():
        if record["status"] == "pendingActive":
            _cancel_handover(backup, record, identity, now)
        elif record["status"] == "active":
            status = backup["serviceStatus"]
            status["gracePeriodEnd"] = now + tenant.world.durations.service_app_grace
            status["restoreAllowedTill"] = (
                status["gracePeriodEnd"] + tenant.world.durations.restore_allowed_after_grace
            )
            status["lastModifiedBy"] = identity
            status["lastModifiedAt"] = now
        del backup["serviceApps"][record["id"]]


def enable(
    tenant: Tenant,
    app: dict[str, Any] | None,
    app_id: str,
    owner_tenant_id: str | None,
    identity: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    """POST /enable: bind the calling controller's billing policy (idempotent)."""
    backup = backup_of(tenant)
    if app is None or not owner_tenant_id or owner_tenant_id.lower() != app["ownerTenantId"]:
        raise ControlError(
            400,
            "InvalidAppOwnerTenantId",
            "appOwnerTenantId must be the id of the tenant where the app is registered.",
        )
    record = backup["serviceApps"].get(app_id)
    if record is None or record["status"] not in CONTROLLING:
        raise _forbidden("Only the active controller app can enable the backup service.")
    if not app.get("hasBillingPolicy", True):
        raise ControlError(
            402, "InvalidBillingProfile", "No valid billing policy is set up for this application."
        )
    with tenant.mutation():
        status = backup["serviceStatus"]
        status.update(
            status="enabled",
            disableReason="none",
            consumer="thirdparty",
            lastModifiedBy=identity,
            lastModifiedAt=now,
            gracePeriodEnd=None,
            restoreAllowedTill=None,
        )
    return status


def set_controller(tenant: Tenant, app_id: str, display_name: str, now: float) -> dict[str, Any]:
    """Control API: make `app_id` the active controller with the service enabled at once.

    An app not registered with the emulator is taken for a first-party one (the Microsoft
    365 admin center): it is not listed under serviceApps, and the consumer reads
    `firstparty`.
    """
    backup = backup_of(tenant)
    first_party = tenant.world.app(app_id) is None
    identity = {"application": {"id": app_id, "displayName": display_name}, "user": None}
    with tenant.mutation():
        for other in backup["serviceApps"].values():
            if other["status"] != "inactive" and other["id"] != app_id:
                _touch(other, "inactive", identity, now)
        record = backup["serviceApps"].get(app_id) or {
            "id": app_id,
            "appId": app_id,
            "registrationDateTime": now,
        }
        record.update(displayName=display_name, firstParty=first_party, effectiveDateTime=now)
        _touch(record, "active", identity, now)
        backup["serviceApps"][app_id] = record
        backup["serviceStatus"].update(
            status="enabled",
            disableReason="none",
            consumer="firstparty" if first_party else "thirdparty",
            gracePeriodEnd=None,
            restoreAllowedTill=None,
            lastModifiedBy=identity,
            lastModifiedAt=now,
        )
    return {"serviceApp": record, "serviceStatus": backup["serviceStatus"]}


def advance(backup: dict[str, Any], now: float) -> bool:
    """Apply hand-overs and grace periods that fell due; True when anything changed."""
    changed = False
    apps = backup["serviceApps"].values()
    for record in list(apps):
        if record["status"] == "pendingActive" and record["effectiveDateTime"] <= now:
            when = record["effectiveDateTime"]
            for other in apps:
                if other["status"] == "pendingInactive":
                    _touch(other, "inactive", record["lastModifiedBy"], when)
            _touch(record, "active", record["lastModifiedBy"], when)
            changed = True
    status = backup["serviceStatus"]
    grace_end, restore_end = status.get("gracePeriodEnd"), status.get("restoreAllowedTill")
    if grace_end is not None and now >= grace_end and status["status"] == "enabled":
        status.update(
            status="protectionChangeLocked",
            disableReason="controllerServiceAppDeleted",
            lastModifiedAt=grace_end,
        )
        changed = True
    if restore_end is not None and now >= restore_end and status["status"] != "disabled":
        status.update(
            status="disabled",
            disableReason="controllerServiceAppDeleted",
            lastModifiedAt=restore_end,
        )
        changed = True
    return changed


def require_config_write(tenant: Tenant, app_id: str) -> None:
    """Policy, unit, rule and job changes: service enabled and caller in control."""
    backup = backup_of(tenant)
    status = backup["serviceStatus"]["status"]
    if status != "enabled":
        raise _forbidden(
            f"The backup service status is '{status}': protection changes are not allowed."
        )
    _require_controller(backup, app_id)


def require_restore(tenant: Tenant, app_id: str) -> None:
    """Restore session changes: the service allows restores and the caller is in control."""
    backup = backup_of(tenant)
    status = backup["serviceStatus"]["status"]
    if status not in ("enabled", "protectionChangeLocked"):
        raise _forbidden(f"The backup service status is '{status}': restores are not allowed.")
    _require_controller(backup, app_id)


def _require_controller(backup: dict[str, Any], app_id: str) -> None:
    record = backup["serviceApps"].get(app_id)
    state = record["status"] if record else None
    if state == "pendingActive":
        raise _forbidden(
            "This app becomes the controller at its effectiveDateTime; until then "
            "it has read-only access."
        )
    if state not in CONTROLLING:
        raise _forbidden("This app is not the active controller of the tenant's backup service.")


def _touch(record: dict[str, Any], status: str, identity: dict[str, Any], now: float) -> None:
    record.update(status=status, lastModifiedBy=identity, lastModifiedDateTime=now)


def _cancel_handover(
    backup: dict[str, Any], record: dict[str, Any], identity: dict[str, Any], now: float
) -> None:
    _touch(record, "inactive", identity, now)
    record["effectiveDateTime"] = None
    for other in backup["serviceApps"].values():
        if other["status"] == "pendingInactive":
            _touch(other, "active", identity, now)
            other["effectiveDateTime"] = None


def _end_grace(backup: dict[str, Any]) -> None:
    status = backup["serviceStatus"]
    if status.get("gracePeriodEnd") is not None:
        status.update(gracePeriodEnd=None, restoreAllowedTill=None)
