"""Protection scopes: what the portal protects per tenant and workload, and which
resources of the inventory that means (a queryset, so a 100,000-user tenant is matched in
the database, not in memory)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from backups.choices import (
    GROUP_KINDS,
    WORKLOAD_KINDS,
    ScopeMode,
    ScopeSelectionAction,
    Workload,
)
from backups.exceptions import ScopeInvalid
from backups.models import GroupMember, ProtectionScope, Resource, ScopeSelection
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

MAX_PATTERNS = 50
MAX_GROUPS = 100  # Graph's own limit for groups in one inclusion rule expression


def pattern_regex(pattern: str) -> str:
    """A shell-style pattern (`*`, `?`) as an anchored regular expression that PostgreSQL
    and SQLite (Django's REGEXP) read alike."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "^" + "".join(parts) + "$"


def scope_resources(scope: ProtectionScope) -> QuerySet[Resource]:
    """The inventory's resources the scope protects: present, of the workload, picked or
    matched by the mode, and not excluded (exclusions win)."""
    base = Resource.objects.filter(
        tenant_id=scope.tenant_id, kind__in=WORKLOAD_KINDS[scope.workload], deleted_at__isnull=True
    )
    picked = ScopeSelection.objects.filter(scope=scope, action=ScopeSelectionAction.INCLUDE)
    excluded = ScopeSelection.objects.filter(scope=scope, action=ScopeSelectionAction.EXCLUDE)
    matched = Q(pk__in=picked.values("resource_id"))
    rule = _mode_rule(scope)
    if rule is not None:
        if not scope.auto_add_new and scope.frozen_at is not None:
            rule &= Q(first_seen_at__lte=scope.frozen_at)
        matched |= rule
    return base.filter(matched).exclude(pk__in=excluded.values("resource_id"))


def _mode_rule(scope: ProtectionScope) -> Q | None:
    if scope.mode == ScopeMode.ALL:
        return Q(pk__isnull=False)  # not Q(): `x | Q()` is just x
    if scope.mode != ScopeMode.RULES:
        return None
    rule = Q(pk__in=[])
    if scope.group_ids:
        members = GroupMember.objects.filter(
            tenant_id=scope.tenant_id, group_external_id__in=scope.group_ids
        ).values("member_external_id")
        field = "external_id" if scope.workload == Workload.SHAREPOINT else "owner_external_id"
        rule |= Q(**{f"{field}__in": members})
    field = "email" if scope.workload == Workload.EXCHANGE else "web_url"
    for pattern in scope.url_patterns:
        rule |= Q(**{f"{field}__iregex": pattern_regex(pattern)})
    return rule


def protection_scope_set(
    *,
    by: Principal,
    tenant: Tenant,
    workload: str,
    now: datetime,
    mode: str | None = None,
    group_ids: Iterable[str] | None = None,
    url_patterns: Iterable[str] | None = None,
    auto_add_new: bool | None = None,
    include: Iterable[Resource] | None = None,
    exclude: Iterable[Resource] | None = None,
) -> ProtectionScope:
    """Create or change the tenant's scope for a workload (only the arguments given).
    `include` / `exclude` replace the explicit picks and exclusions. Audited; applied to
    Graph by the next `apply_scope` job (the caller starts one)."""
    workload = Workload(workload)
    with transaction.atomic():
        scope, created = ProtectionScope.objects.select_for_update().get_or_create(
            tenant=tenant, workload=workload
        )
        if mode is not None:
            scope.mode = ScopeMode(mode)
        if group_ids is not None:
            scope.group_ids = _checked_groups(tenant, group_ids)
        if url_patterns is not None:
            scope.url_patterns = _checked_patterns(url_patterns)
        if auto_add_new is not None:
            scope.auto_add_new = auto_add_new
        # Saving the scope takes in what the inventory holds now; without auto_add_new,
        # resources found later wait until the next save.
        scope.frozen_at = now
        scope.save()
        picks = {}
        for action, resources in (
            (ScopeSelectionAction.INCLUDE, include),
            (ScopeSelectionAction.EXCLUDE, exclude),
        ):
            if resources is None:
                continue
            resources = list(resources)
            _check_resources(tenant, workload, resources, action)
            ScopeSelection.objects.filter(scope=scope, action=action).delete()
            ScopeSelection.objects.filter(scope=scope, resource__in=resources).delete()
            ScopeSelection.objects.bulk_create(
                ScopeSelection(tenant=tenant, scope=scope, resource=r, action=action)
                for r in resources
            )
            picks[action] = len(resources)
        audit_record(
            by=by,
            action="protection_scope.created" if created else "protection_scope.updated",
            tenant=tenant,
            target=scope,
            details={
                "workload": workload,
                "mode": scope.mode,
                "groups": len(scope.group_ids),
                "patterns": scope.url_patterns,
                "auto_add_new": scope.auto_add_new,
                **picks,
            },
            now=now,
        )
    return scope


def _checked_groups(tenant: Tenant, group_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(str(g).strip().lower() for g in group_ids if str(g).strip()))
    if len(ids) > MAX_GROUPS:
        raise ScopeInvalid(f"At most {MAX_GROUPS} groups per scope.", field="group_ids")
    known = set(
        Resource.objects.filter(
            tenant=tenant, kind__in=GROUP_KINDS, external_id__in=ids
        ).values_list("external_id", flat=True)
    )
    unknown = [g for g in ids if g not in {k.lower() for k in known}]
    if unknown:
        raise ScopeInvalid(
            f"Not a group of this tenant's inventory: {', '.join(unknown[:5])} "
            "(scan the groups first).",
            field="group_ids",
        )
    return ids


def _checked_patterns(patterns: Iterable[str]) -> list[str]:
    cleaned = [str(p).strip() for p in patterns if str(p).strip()]
    if len(cleaned) > MAX_PATTERNS:
        raise ScopeInvalid(f"At most {MAX_PATTERNS} patterns per scope.", field="url_patterns")
    for pattern in cleaned:
        if len(pattern) > 300 or pattern.strip("*?") == "":
            raise ScopeInvalid(
                f"'{pattern[:40]}' matches everything or is too long; use the mode 'all' "
                "to protect everything.",
                field="url_patterns",
            )
    return cleaned


def _check_resources(tenant: Tenant, workload: str, resources: list[Resource], action: str) -> None:
    field = "include" if action == ScopeSelectionAction.INCLUDE else "exclude"
    for resource in resources:
        if resource.tenant_id != tenant.pk or resource.kind not in WORKLOAD_KINDS[workload]:
            raise ScopeInvalid(
                f"Resource {resource.pk} is not a {Workload(workload).label} resource of "
                f"{tenant.name}.",
                field=field,
            )
