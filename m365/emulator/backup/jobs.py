"""Bulk addition jobs: add units by site URL, e-mail or id, resolved over time.

A job is `active` until its due time (a fixed delay plus one per thousand items), then the
resources it names are resolved against the directory at that moment: the found ones become
units of the policy, the others are listed in the job's `error.details`
(`completedWithErrors`).
"""

from __future__ import annotations

import math
from typing import Any

from ..clock import iso
from ..errors import ControlError
from ..ids import new_guid
from ..world import Tenant
from . import units as unit_model
from .state import backup_of, public_error
from .workloads import BY_KEY, Workload

MAX_ITEMS = 100_000


def validate_job_body(workload: Workload, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("displayName", "Bulk addition job")
    if not isinstance(name, str):
        raise ControlError(400, "InvalidCreateRequest", "displayName must be a string.")
    lists: dict[str, list[str]] = {}
    for key in workload.job_lists:
        values = body.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ControlError(400, "InvalidCreateRequest", f"{key} must be a list of strings.")
        lists[key] = values
    total = sum(len(v) for v in lists.values())
    if total == 0:
        raise ControlError(
            400,
            "InvalidCreateRequest",
            f"A bulk addition job needs {' or '.join(workload.job_lists)}.",
        )
    if total > MAX_ITEMS:
        raise ControlError(
            413,
            "InvalidCreateRequest",
            f"A bulk addition job can name at most {MAX_ITEMS} resources.",
        )
    return {"displayName": name, **lists}


def create_job(
    tenant: Tenant,
    workload: Workload,
    policy: dict[str, Any],
    body: dict[str, Any],
    identity: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    durations = tenant.world.durations
    count = sum(len(body[k]) for k in workload.job_lists)
    job = {
        "id": new_guid(),
        "policyId": policy["id"],
        "workload": workload.key,
        "displayName": body["displayName"],
        **{k: list(body[k]) for k in workload.job_lists},
        "createdBy": identity,
        "createdDateTime": now,
        "lastModifiedBy": identity,
        "lastModifiedDateTime": now,
        "dueAt": now
        + durations.bulk_job
        + math.ceil(count / 1000) * durations.bulk_job_per_thousand,
        "appliedAt": None,
        "failures": [],
    }
    with tenant.mutation():
        backup_of(tenant)["jobs"][job["id"]] = job
    return job


def status_of(job: dict[str, Any]) -> str:
    if job["appliedAt"] is None:
        return "active"
    return "completedWithErrors" if job["failures"] else "completed"


def _resolve(tenant: Tenant, workload: Workload, key: str, value: str) -> str | None:
    """The unit resource id (siteId or user id) an item names, or None."""
    if key == "siteWebUrls":
        site = tenant.gen.site_by_url(value)
        return (
            site.id if site is not None and unit_model.resolve(tenant, workload, site.id) else None
        )
    if key == "siteIds" or key == "directoryObjectIds":
        if not unit_model.well_formed(workload, value):
            return None
        return value.lower() if unit_model.resolve(tenant, workload, value) else None
    user = tenant.user(value) if "@" in value else None  # mailboxes / drives: e-mails
    return user.id if user is not None and unit_model.resolve(tenant, workload, user.id) else None


def apply_due(tenant: Tenant, now: float) -> bool:
    backup = backup_of(tenant)
    changed = False
    for job in backup["jobs"].values():
        if job["appliedAt"] is not None or job["dueAt"] > now:
            continue
        policy = backup["policies"].get(job["policyId"])
        workload = BY_KEY[job["workload"]]
        when = job["dueAt"]
        owned = unit_model.owned_resources(tenant, workload)
        failures = []
        for key in workload.job_lists:
            for value in job[key]:
                resource_id = _resolve(tenant, workload, key, value)
                if resource_id is None:
                    failures.append(
                        {
                            "code": "ProtectionUnitNotFound",
                            "target": value,
                            "message": f"'{value}' could not be resolved to a "
                            f"{workload.unit_key} of this tenant.",
                        }
                    )
                    continue
                unit = owned.get(resource_id)
                if unit is not None:
                    if unit["policyId"] != job["policyId"]:
                        failures.append(
                            {
                                "code": "ProtectionUnitAlreadyExists",
                                "target": value,
                                "message": f"'{value}' is protected by another policy.",
                            }
                        )
                    continue
                if policy is None:
                    continue
                unit = unit_model.new_unit(
                    tenant, workload, policy, resource_id, identity=job["createdBy"], now=when
                )
                backup["units"][unit["id"]] = unit
                policy["unitIds"].append(unit["id"])
                owned[resource_id] = unit
        job["failures"] = failures
        job["appliedAt"] = when
        job["lastModifiedDateTime"] = when
        changed = True
    return changed


def job_json(workload: Workload, job: dict[str, Any]) -> dict[str, Any]:
    failures = job["failures"]
    error = (
        public_error(
            "ProtectionUnitsBulkAdditionFailed",
            f"{len(failures)} resource(s) could not be added to the policy.",
            details=[{**f, "innerError": None} for f in failures],
        )
        if failures
        else None
    )
    return {
        "@odata.type": f"#{workload.job_type}",
        "id": job["id"],
        "displayName": job["displayName"],
        "status": status_of(job),
        **{k: job[k] for k in workload.job_lists},
        "error": error,
        "createdBy": job["createdBy"],
        "createdDateTime": iso(job["createdDateTime"]),
        "lastModifiedBy": job["lastModifiedBy"],
        "lastModifiedDateTime": iso(job["lastModifiedDateTime"]),
    }
