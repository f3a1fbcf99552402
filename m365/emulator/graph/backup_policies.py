"""Protection policies and protection units, per workload and polymorphic (reference 2.2,
2.3)."""

from __future__ import annotations

from typing import Any

from ..backup import policies as policy_model
from ..backup import service
from ..backup.state import backup_of
from ..backup.workloads import BY_KEY, WORKLOADS, Workload
from . import permissions as perm
from .backup_common import (
    backup_route,
    entity_result,
    lazy_collection,
    policy_json,
    policy_or_error,
    unit_json,
    unit_or_error,
)
from .core import Ctx, Result, no_content
from .odata import collection_page, count_response

READ, WRITE = perm.BACKUP_CONFIG_READ, perm.BACKUP_CONFIG_WRITE


def _policies(ctx: Ctx, workload: Workload | None) -> list[dict[str, Any]]:
    return [
        p
        for p in backup_of(ctx.tenant)["policies"].values()
        if workload is None or p["workload"] == workload.key
    ]


def list_policies(ctx: Ctx, workload: Workload | None) -> Result:
    name = workload.policies if workload else "protectionPolicies"
    entity = workload.policy_type if workload else "microsoft.graph.protectionPolicyBase"
    return collection_page(
        ctx,
        lazy_collection(
            name, name, entity, _policies(ctx, workload), lambda p: policy_json(ctx, p)
        ),
    )


def create_policy(ctx: Ctx, workload: Workload) -> Result:
    body = ctx.json
    service.require_config_write(ctx.tenant, ctx.app_id)
    policy = policy_model.create(ctx.tenant, workload, body, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx,
        workload.policies,
        policy_json(ctx, policy),
        201,
        location=f"/protectionPolicies/{policy['id']}",
    )


def get_policy(ctx: Ctx, policy_id: str, workload: Workload | None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    collection = workload.policies if workload else "protectionPolicies"
    return entity_result(ctx, collection, policy_json(ctx, policy))


def update_policy(ctx: Ctx, policy_id: str, workload: Workload) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    body = ctx.json
    service.require_config_write(ctx.tenant, ctx.app_id)
    echo = policy_model.update(ctx.tenant, workload, policy, body, ctx.identity_set(), ctx.now)
    return entity_result(ctx, workload.policies, {**policy_json(ctx, policy), **echo})


def delete_policy(ctx: Ctx, policy_id: str, workload: Workload | None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    service.require_config_write(ctx.tenant, ctx.app_id)
    policy_model.delete(ctx.tenant, policy, ctx.now)
    return no_content()


def activate_policy(ctx: Ctx, policy_id: str, workload: Workload | None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    service.require_config_write(ctx.tenant, ctx.app_id)
    policy_model.activate(
        ctx.tenant, BY_KEY[policy["workload"]], policy, ctx.identity_set(), ctx.now
    )
    return entity_result(
        ctx,
        "protectionPolicies",
        policy_json(ctx, policy),
        202,
        location=f"/protectionPolicies/{policy['id']}",
    )


def deactivate_policy(ctx: Ctx, policy_id: str, workload: Workload | None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    service.require_config_write(ctx.tenant, ctx.app_id)
    policy_model.deactivate(ctx.tenant, policy, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx,
        "protectionPolicies",
        policy_json(ctx, policy),
        202,
        location=f"/protectionPolicies/{policy['id']}",
    )


# ---- units ---------------------------------------------------------------------------


def _units(
    ctx: Ctx, workload: Workload | None, policy: dict[str, Any] | None
) -> list[dict[str, Any]]:
    if policy is not None:
        return policy_model.units_of(ctx.tenant, policy)
    return [
        u
        for u in backup_of(ctx.tenant)["units"].values()
        if workload is None or u["workload"] == workload.key
    ]


def _units_collection(ctx: Ctx, workload: Workload | None, policy: dict[str, Any] | None):
    name = workload.units if workload else "protectionUnits"
    entity = workload.unit_type if workload else "microsoft.graph.protectionUnitBase"
    return lazy_collection(
        name, name, entity, _units(ctx, workload, policy), lambda u: unit_json(ctx, u)
    )


def list_policy_units(ctx: Ctx, policy_id: str, workload: Workload) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    return collection_page(ctx, _units_collection(ctx, workload, policy))


def get_policy_unit(ctx: Ctx, policy_id: str, unit_id: str, workload: Workload) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    unit = unit_or_error(ctx, unit_id, workload, policy)
    return entity_result(ctx, workload.units, unit_json(ctx, unit))


def list_units(ctx: Ctx, workload: Workload | None) -> Result:
    return collection_page(ctx, _units_collection(ctx, workload, None))


def count_units(ctx: Ctx, workload: Workload | None) -> Result:
    return count_response(ctx, _units_collection(ctx, workload, None))


def get_unit(ctx: Ctx, unit_id: str, workload: Workload | None) -> Result:
    unit = unit_or_error(ctx, unit_id, workload)
    name = workload.units if workload else "protectionUnits"
    return entity_result(ctx, name, unit_json(ctx, unit))


def _register() -> None:
    backup_route("/protectionPolicies", "GET", READ, list_policies, workload=None)
    backup_route("/protectionPolicies/<policy_id>", "GET", READ, get_policy, workload=None)
    backup_route("/protectionPolicies/<policy_id>", "DELETE", WRITE, delete_policy, workload=None)
    backup_route(
        "/protectionPolicies/<policy_id>/activate", "POST", WRITE, activate_policy, workload=None
    )
    backup_route(
        "/protectionPolicies/<policy_id>/deactivate",
        "POST",
        WRITE,
        deactivate_policy,
        workload=None,
    )
    backup_route("/protectionUnits", "GET", READ, list_units, workload=None)
    backup_route("/protectionUnits/<unit_id>", "GET", READ, get_unit, workload=None)
    for w in WORKLOADS:
        base = f"/{w.policies}"
        backup_route(base, "GET", READ, list_policies, workload=w)
        backup_route(base, "POST", WRITE, create_policy, workload=w)
        backup_route(f"{base}/<policy_id>", "GET", READ, get_policy, workload=w)
        backup_route(f"{base}/<policy_id>", "PATCH", WRITE, update_policy, workload=w)
        backup_route(f"{base}/<policy_id>", "DELETE", WRITE, delete_policy, workload=w)
        backup_route(f"{base}/<policy_id>/activate", "POST", WRITE, activate_policy, workload=w)
        backup_route(f"{base}/<policy_id>/deactivate", "POST", WRITE, deactivate_policy, workload=w)
        backup_route(f"{base}/<policy_id>/{w.units}", "GET", READ, list_policy_units, workload=w)
        backup_route(
            f"{base}/<policy_id>/{w.units}/<unit_id>", "GET", READ, get_policy_unit, workload=w
        )
        backup_route(f"/{w.units}", "GET", READ, list_units, workload=w)
        backup_route(f"/{w.units}/<unit_id>", "GET", READ, get_unit, workload=w)
        cast = f"/protectionUnits/{w.unit_type}"
        backup_route(cast, "GET", READ, list_units, workload=w)
        backup_route(f"{cast}/$count", "GET", READ, count_units, workload=w)


_register()
