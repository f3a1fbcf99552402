"""`/solutions/backupRestore`, `/enable` and `/serviceApps` (reference 2.1 and 3)."""

from __future__ import annotations

from typing import Any

from ..backup import service
from ..backup.enums import shown
from ..backup.state import backup_of
from ..clock import iso
from ..errors import ControlError
from . import permissions as perm
from .backup_common import CONTEXT, backup_route, content_location, entity_result
from .core import Ctx, Result, no_content
from .odata import Collection, collection_page, sequence_source


def service_status_json(ctx: Ctx, status: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.serviceStatus",
        "status": status["status"],
        "disableReason": shown("disableReason", status["disableReason"], ctx.include_unknown_enums),
        "gracePeriodDateTime": iso(status.get("gracePeriodEnd")),
        "restoreAllowedTillDateTime": iso(status.get("restoreAllowedTill")),
        "backupServiceConsumer": status["consumer"],
        "lastModifiedBy": status.get("lastModifiedBy"),
        "lastModifiedDateTime": iso(status.get("lastModifiedAt")),
    }


def service_app_json(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.serviceApp",
        "id": record["id"],
        "application": {"id": record["appId"], "displayName": record["displayName"]},
        "status": record["status"],
        "registrationDateTime": iso(record.get("registrationDateTime")),
        "effectiveDateTime": iso(record.get("effectiveDateTime")),
        "lastModifiedBy": record.get("lastModifiedBy"),
        "lastModifiedDateTime": iso(record.get("lastModifiedDateTime")),
    }


def get_root(ctx: Ctx) -> Result:
    status = backup_of(ctx.tenant)["serviceStatus"]
    return Result(
        {
            "@odata.context": ctx.context_url(f"{CONTEXT}/$entity"),
            "id": ctx.tenant.id,
            "serviceStatus": service_status_json(ctx, status),
        }
    )


def enable(ctx: Ctx) -> Result:
    body = ctx.json
    owner = body.get("appOwnerTenantId")
    app = ctx.world.app(ctx.app_id)
    if owner is None and ctx.version == "beta" and app is not None:
        owner = app["ownerTenantId"]  # the older beta page documents no body
    if owner is not None and not isinstance(owner, str):
        raise ControlError(400, "InvalidAppOwnerTenantId", "appOwnerTenantId must be a GUID.")
    status = service.enable(ctx.tenant, app, ctx.app_id, owner, ctx.identity_set(), ctx.now)
    shown_status = service_status_json(ctx, status)
    if ctx.version == "beta":
        return Result(
            {
                "@odata.context": ctx.context_url("microsoft.graph.serviceStatus"),
                "value": shown_status,
            }
        )
    return Result(
        {"@odata.context": ctx.context_url("microsoft.graph.serviceStatus"), **shown_status}
    )


def _listed_apps(ctx: Ctx) -> list[dict[str, Any]]:
    return [r for r in backup_of(ctx.tenant)["serviceApps"].values() if not r.get("firstParty")]


def list_service_apps(ctx: Ctx) -> Result:
    items = [service_app_json(r) for r in _listed_apps(ctx)]
    return collection_page(
        ctx,
        Collection(
            name="serviceApps",
            context=f"{CONTEXT}/serviceApps",
            source=sequence_source(items),
            entity="microsoft.graph.serviceApp",
            max_page=None,
        ),
    )


def register_service_app(ctx: Ctx) -> Result:
    if not ctx.body.strip():
        raise ControlError(400, "BadRequest", "The request body must be an empty JSON object.")
    ctx.json  # noqa: B018 - validates the body is a JSON object
    app = ctx.world.app(ctx.app_id)
    name = app["displayName"] if app else ctx.app_display_name
    record = service.register(ctx.tenant, ctx.app_id, name, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx, "serviceApps", service_app_json(record), 202, location=f"/serviceApps/{record['id']}"
    )


def get_service_app(ctx: Ctx, app_id: str) -> Result:
    return entity_result(ctx, "serviceApps", service_app_json(service.lookup(ctx.tenant, app_id)))


def delete_service_app(ctx: Ctx, app_id: str) -> Result:
    service.delete(ctx.tenant, app_id.lower(), ctx.identity_set(), ctx.now)
    return no_content()


def activate_service_app(ctx: Ctx, app_id: str) -> Result:
    effective = ctx.json.get("effectiveDateTime")
    if effective is not None and not isinstance(effective, str):
        raise ControlError(400, "invalidRequest", "effectiveDateTime must be a date-time.")
    record = service.activate(ctx.tenant, app_id.lower(), effective, ctx.identity_set(), ctx.now)
    return Result(
        {
            "@odata.context": ctx.context_url(f"{CONTEXT}/serviceApps/$entity"),
            **service_app_json(record),
        },
        202,
        content_location(ctx, f"/serviceApps/{record['id']}"),
    )


def deactivate_service_app(ctx: Ctx, app_id: str) -> Result:
    record = service.deactivate(ctx.tenant, app_id.lower(), ctx.identity_set(), ctx.now)
    return Result(
        {
            "@odata.context": ctx.context_url(f"{CONTEXT}/serviceApps/$entity"),
            **service_app_json(record),
        },
        202,
        content_location(ctx, f"/serviceApps/{record['id']}"),
    )


backup_route("", "GET", perm.BACKUP_ROOT_READ, get_root)
backup_route("/enable", "POST", perm.BACKUP_CONTROL, enable)
backup_route("/serviceApps", "GET", perm.BACKUP_CONTROL, list_service_apps)
backup_route("/serviceApps", "POST", perm.BACKUP_CONTROL, register_service_app)
backup_route("/serviceApps/<app_id>", "GET", perm.BACKUP_CONTROL, get_service_app)
backup_route("/serviceApps/<app_id>", "DELETE", perm.BACKUP_CONTROL, delete_service_app)
backup_route(
    "/serviceApps/<app_id>/activate", "POST", perm.BACKUP_CONTROL_DELEGATED, activate_service_app
)
backup_route(
    "/serviceApps/<app_id>/deactivate",
    "POST",
    perm.BACKUP_CONTROL_DELEGATED,
    deactivate_service_app,
)
