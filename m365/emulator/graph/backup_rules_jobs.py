"""Inclusion rules and bulk addition jobs, under a policy and tenant-wide (reference 2.3)."""

from __future__ import annotations

from typing import Any

from ..backup import jobs as job_model
from ..backup import rules as rule_model
from ..backup import service
from ..backup import units as unit_model
from ..backup.state import backup_of
from ..backup.workloads import BY_KEY, WORKLOADS, Workload
from ..errors import ControlError
from . import permissions as perm
from .backup_common import backup_route, entity_result, lazy_collection, policy_or_error
from .core import Ctx, Result, no_content
from .odata import collection_page

READ, WRITE = perm.BACKUP_CONFIG_READ, perm.BACKUP_CONFIG_WRITE


# ---- rules ---------------------------------------------------------------------------


def _rule_body(ctx: Ctx, rule: dict[str, Any]) -> dict[str, Any] | None:
    seconds = ctx.world.durations.rule_run
    if rule_model.status_of(rule, ctx.now, seconds) is None:
        return None
    return rule_model.rule_json(
        BY_KEY[rule["workload"]], rule, ctx.now, seconds, ctx.include_unknown_enums
    )


def _rule_or_error(
    ctx: Ctx, rule_id: str, workload: Workload, policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    if not unit_model.is_guid(rule_id):
        raise ControlError(400, "InvalidInclusionRuleId", f"'{rule_id}' is not a valid rule id.")
    rule = backup_of(ctx.tenant)["rules"].get(rule_id.lower())
    if (
        rule is None
        or rule["workload"] != workload.key
        or _rule_body(ctx, rule) is None
        or (policy is not None and rule["policyId"] != policy["id"])
    ):
        raise ControlError(404, "ProtectionRuleNotFound", f"Rule '{rule_id}' was not found.")
    return rule


def list_rules(ctx: Ctx, workload: Workload, policy_id: str | None = None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload) if policy_id else None
    rules = [
        r
        for r in backup_of(ctx.tenant)["rules"].values()
        if r["workload"] == workload.key and (policy is None or r["policyId"] == policy["id"])
    ]
    return collection_page(
        ctx,
        lazy_collection(
            workload.rules, workload.rules, workload.rule_type, rules, lambda r: _rule_body(ctx, r)
        ),
    )


def create_rule(ctx: Ctx, workload: Workload, policy_id: str) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    body = ctx.json
    service.require_config_write(ctx.tenant, ctx.app_id)
    rule = rule_model.create(ctx.tenant, workload, policy, body, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx,
        workload.rules,
        _rule_body(ctx, rule),
        201,
        location=f"/{workload.policies}/{policy['id']}/{workload.rules}/{rule['id']}",
    )


def get_rule(ctx: Ctx, workload: Workload, rule_id: str, policy_id: str | None = None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload) if policy_id else None
    rule = _rule_or_error(ctx, rule_id, workload, policy)
    return entity_result(ctx, workload.rules, _rule_body(ctx, rule))


def update_rule(ctx: Ctx, workload: Workload, policy_id: str, rule_id: str) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    rule = _rule_or_error(ctx, rule_id, workload, policy)
    body = ctx.json
    service.require_config_write(ctx.tenant, ctx.app_id)
    rule_model.update(ctx.tenant, workload, rule, body, ctx.identity_set(), ctx.now)
    return entity_result(ctx, workload.rules, _rule_body(ctx, rule))


def delete_rule(
    ctx: Ctx, workload: Workload, policy_id: str, rule_id: str, unprotect: bool = False
) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    rule = _rule_or_error(ctx, rule_id, workload, policy)
    service.require_config_write(ctx.tenant, ctx.app_id)
    rule_model.delete(ctx.tenant, rule, ctx.identity_set(), ctx.now, unprotect=unprotect)
    if unprotect:
        return Result(None, 202)
    return no_content()


def run_rule(ctx: Ctx, workload: Workload, policy_id: str, rule_id: str) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    rule = _rule_or_error(ctx, rule_id, workload, policy)
    service.require_config_write(ctx.tenant, ctx.app_id)
    rule_model.run(ctx.tenant, rule, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx,
        workload.rules,
        _rule_body(ctx, rule),
        202,
        location=f"/{workload.policies}/{policy['id']}/{workload.rules}/{rule['id']}",
    )


# ---- bulk addition jobs --------------------------------------------------------------


def _job_or_error(
    ctx: Ctx, job_id: str, workload: Workload, policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    job = backup_of(ctx.tenant)["jobs"].get(str(job_id).lower())
    if (
        job is None
        or job["workload"] != workload.key
        or (policy is not None and job["policyId"] != policy["id"])
    ):
        raise ControlError(404, "itemNotFound", f"Bulk addition job '{job_id}' was not found.")
    return job


def list_jobs(ctx: Ctx, workload: Workload, policy_id: str | None = None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload) if policy_id else None
    jobs = [
        j
        for j in backup_of(ctx.tenant)["jobs"].values()
        if j["workload"] == workload.key and (policy is None or j["policyId"] == policy["id"])
    ]
    return collection_page(
        ctx,
        lazy_collection(
            workload.jobs,
            workload.jobs,
            workload.job_type,
            jobs,
            lambda j: job_model.job_json(workload, j),
        ),
    )


def create_job(ctx: Ctx, workload: Workload, policy_id: str | None = None) -> Result:
    if policy_id is None:
        raise ControlError(
            400,
            "InvalidCreateRequest",
            f"Create {workload.jobs} under a policy: /{workload.policies}/{{id}}/{workload.jobs}.",
        )
    policy = policy_or_error(ctx, policy_id, workload)
    body = job_model.validate_job_body(workload, ctx.json)
    service.require_config_write(ctx.tenant, ctx.app_id)
    job = job_model.create_job(ctx.tenant, workload, policy, body, ctx.identity_set(), ctx.now)
    return entity_result(
        ctx,
        workload.jobs,
        job_model.job_json(workload, job),
        201,
        location=f"/{workload.policies}/{policy['id']}/{workload.jobs}/{job['id']}",
    )


def get_job(ctx: Ctx, workload: Workload, job_id: str, policy_id: str | None = None) -> Result:
    policy = policy_or_error(ctx, policy_id, workload) if policy_id else None
    job = _job_or_error(ctx, job_id, workload, policy)
    return entity_result(ctx, workload.jobs, job_model.job_json(workload, job))


def update_job(ctx: Ctx, workload: Workload, policy_id: str, job_id: str) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    job = _job_or_error(ctx, job_id, workload, policy)
    name = ctx.json.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise ControlError(400, "BadRequest", "Only displayName can be changed.")
    service.require_config_write(ctx.tenant, ctx.app_id)
    with ctx.tenant.mutation():
        job.update(
            displayName=name.strip(),
            lastModifiedBy=ctx.identity_set(),
            lastModifiedDateTime=ctx.now,
        )
    return entity_result(ctx, workload.jobs, job_model.job_json(workload, job))


def delete_job(ctx: Ctx, workload: Workload, policy_id: str, job_id: str) -> Result:
    policy = policy_or_error(ctx, policy_id, workload)
    job = _job_or_error(ctx, job_id, workload, policy)
    service.require_config_write(ctx.tenant, ctx.app_id)
    with ctx.tenant.mutation():
        del backup_of(ctx.tenant)["jobs"][job["id"]]
    return no_content()


def _register() -> None:
    for w in WORKLOADS:
        scoped = f"/{w.policies}/<policy_id>"
        backup_route(f"{scoped}/{w.rules}", "GET", READ, list_rules, workload=w)
        backup_route(f"{scoped}/{w.rules}", "POST", WRITE, create_rule, workload=w)
        backup_route(f"{scoped}/{w.rules}/<rule_id>", "GET", READ, get_rule, workload=w)
        backup_route(f"{scoped}/{w.rules}/<rule_id>", "PATCH", WRITE, update_rule, workload=w)
        backup_route(f"{scoped}/{w.rules}/<rule_id>", "DELETE", WRITE, delete_rule, workload=w)
        backup_route(f"{scoped}/{w.rules}/<rule_id>/run", "POST", WRITE, run_rule, workload=w)
        if w.unit_key == "directoryObjectId":
            backup_route(
                f"{scoped}/{w.rules}/<rule_id>/deleteAndUnprotect",
                "POST",
                WRITE,
                delete_rule,
                workload=w,
                unprotect=True,
            )
        backup_route(f"/{w.rules}", "GET", READ, list_rules, workload=w)
        backup_route(f"/{w.rules}/<rule_id>", "GET", READ, get_rule, workload=w)

        backup_route(f"{scoped}/{w.jobs}", "GET", READ, list_jobs, workload=w)
        backup_route(f"{scoped}/{w.jobs}", "POST", WRITE, create_job, workload=w)
        backup_route(f"{scoped}/{w.jobs}/<job_id>", "GET", READ, get_job, workload=w)
        backup_route(f"{scoped}/{w.jobs}/<job_id>", "PATCH", WRITE, update_job, workload=w)
        backup_route(f"{scoped}/{w.jobs}/<job_id>", "DELETE", WRITE, delete_job, workload=w)
        backup_route(f"/{w.jobs}", "GET", READ, list_jobs, workload=w)
        backup_route(f"/{w.jobs}", "POST", WRITE, create_job, workload=w)
        backup_route(f"/{w.jobs}/<job_id>", "GET", READ, get_job, workload=w)


_register()
