"""Bring a tenant's backup state up to its clock before a request reads or changes it."""

from __future__ import annotations

from ..world import Tenant
from . import jobs, rules, service
from .state import backup_of


def advance(tenant: Tenant, now: float) -> None:
    """Apply every time-triggered decision due by `now` (caller holds the tenant lock):
    controller hand-overs and grace periods, rule runs, bulk job resolutions."""
    backup = backup_of(tenant)
    changed = service.advance(backup, now)
    changed = rules.apply_due(tenant, now) or changed
    changed = jobs.apply_due(tenant, now) or changed
    if changed:
        tenant.world.store.save_tenant(tenant.data)
