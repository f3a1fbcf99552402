"""Inclusion rules: static (run once) and dynamic (`isAutoApplyEnabled`) ones.

Microsoft does not document the expression grammar; the emulator accepts these forms
(case-insensitive, outer parentheses optional):
  mailbox / drive:  memberOf -any (group.id -in ['<group id>', ...])     (at most 100 groups)
  site:             webUrl -eq '<url>' | webUrl -in ['<url>', ...]
                    webUrl -startsWith '<prefix>' | displayName -contains '<text>'
Anything else answers 400 InvalidRuleExpression.

Life cycle (d = the rule duration): a static rule is `draft` until `run`, `active` for d,
then `completed` or `completedWithErrors` (resources it named that cannot be protected);
a dynamic rule is `active` from creation and applies after d, `updateRequested` for d after
a PATCH of its expression, and `deleteRequested` for d after DELETE before disappearing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..clock import iso
from ..errors import ControlError
from ..ids import new_guid
from ..world import Tenant
from . import units as unit_model
from .state import backup_of, public_error
from .workloads import BY_KEY, Workload

MAX_GROUPS = 100
_LIST_ITEM = re.compile(r"""'([^']*)'|"([^"]*)\"""")
_GROUP_RULE = re.compile(
    r"^\(?\s*memberOf\s+-any\s+\(\s*group\.id\s+-in\s+\[(?P<items>.*)\]\s*\)\s*\)?$",
    re.IGNORECASE | re.DOTALL,
)
_SITE_RULE = re.compile(
    r"^\(?\s*(?P<prop>webUrl|displayName)\s+-(?P<op>eq|in|startsWith|contains)\s+"
    r"(?P<value>\[.*\]|'[^']*'|\"[^\"]*\")\s*\)?$",
    re.IGNORECASE | re.DOTALL,
)


def _items(text: str) -> list[str]:
    return [a or b for a, b in _LIST_ITEM.findall(text)]


def parse_expression(workload: Workload, expression: Any) -> dict[str, Any]:
    if not isinstance(expression, str) or not expression.strip():
        raise ControlError(
            400, "InvalidInclusionRuleCreateRequest", f"{workload.expression_key} is required."
        )
    text = expression.strip()
    if workload.unit_key == "siteId":
        match = _SITE_RULE.match(text)
        if not match:
            raise ControlError(
                400, "InvalidRuleExpression", f"'{expression}' is not a valid site expression."
            )
        op = match.group("op").lower()
        raw = match.group("value")
        values = _items(raw) if raw.startswith("[") else [raw[1:-1]]
        if (op == "in") != raw.startswith("[") or not values:
            raise ControlError(
                400, "InvalidRuleExpression", f"'{expression}' is not a valid site expression."
            )
        return {
            "kind": "site",
            "prop": match.group("prop").lower(),
            "op": op,
            "values": [v.lower().rstrip("/") for v in values],
        }
    match = _GROUP_RULE.match(text)
    groups = _items(match.group("items")) if match else []
    if not match or not groups or not all(unit_model.is_guid(g) for g in groups):
        raise ControlError(
            400,
            "InvalidRuleExpression",
            f"'{expression}' is not a valid group membership expression.",
        )
    if len(groups) > MAX_GROUPS:
        raise ControlError(
            413,
            "InvalidRuleExpressionGroupLimitExceeded",
            f"A rule can name at most {MAX_GROUPS} groups.",
        )
    return {"kind": "groups", "groups": [g.lower() for g in groups]}


def _candidates(
    tenant: Tenant, workload: Workload, parsed: dict[str, Any]
) -> Iterator[tuple[str, str | None]]:
    """(what the rule named, resource id or None when it cannot be protected)."""
    gen = tenant.gen
    if parsed["kind"] == "site":
        prop, op, values = parsed["prop"], parsed["op"], parsed["values"]
        for ordinal in range(gen.non_personal_site_count):
            site = gen.site(ordinal)
            subject = (site.web_url if prop == "weburl" else site.display_name).lower()
            hit = (
                subject in values
                if op in ("eq", "in")
                else subject.startswith(values[0])
                if op == "startswith"
                else values[0] in subject
            )
            if hit:
                yield (
                    site.web_url,
                    site.id if unit_model.resolve(tenant, workload, site.id) else None,
                )
        return
    for group_id in parsed["groups"]:
        index = gen.group_index_by_id(group_id)
        if index is None:
            yield group_id, None
            continue
        for member in gen.group_members(index):
            user = gen.user(member)
            resolved = unit_model.resolve(tenant, workload, user.id)
            yield user.user_principal_name, user.id if resolved else None


def create(
    tenant: Tenant,
    workload: Workload,
    policy: dict[str, Any],
    body: dict[str, Any],
    identity: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    auto = body.get("isAutoApplyEnabled", False)
    if not isinstance(auto, bool):
        raise ControlError(
            400, "InvalidInclusionRuleCreateRequest", "isAutoApplyEnabled must be true or false."
        )
    expression = body.get(workload.expression_key)
    parse_expression(workload, expression)
    rule = {
        "id": new_guid(),
        "policyId": policy["id"],
        "workload": workload.key,
        "expression": expression,
        "isAutoApplyEnabled": auto,
        "createdBy": identity,
        "createdDateTime": now,
        "lastModifiedBy": identity,
        "lastModifiedDateTime": now,
        "ranAt": None,
        "applyAt": now + tenant.world.durations.rule_run if auto else None,
        "appliedAt": None,
        "updating": False,
        "failures": [],
        "deleteRequestedAt": None,
    }
    with tenant.mutation():
        backup_of(tenant)["rules"][rule["id"]] = rule
    return rule


def status_of(rule: dict[str, Any], now: float, rule_seconds: float) -> str | None:
    if rule["deleteRequestedAt"] is not None:
        return "deleteRequested" if now < rule["deleteRequestedAt"] + rule_seconds else None
    if rule["isAutoApplyEnabled"]:
        pending = rule["applyAt"] is not None and rule["appliedAt"] != rule["applyAt"]
        return "updateRequested" if rule["updating"] and pending else "active"
    if rule["ranAt"] is None:
        return "draft"
    if rule["appliedAt"] is None:
        return "active"
    return "completedWithErrors" if rule["failures"] else "completed"


def run(tenant: Tenant, rule: dict[str, Any], identity: dict[str, Any], now: float) -> None:
    if rule["isAutoApplyEnabled"]:
        raise ControlError(
            400,
            "RunNotAllowedForDynamicRule",
            "A dynamic rule applies itself; only static rules can be run.",
        )
    if rule["ranAt"] is not None:
        raise ControlError(
            400,
            "ProtectionRuleActionNotAllowed",
            "A static rule runs once; this one has already run.",
        )
    with tenant.mutation():
        rule.update(
            ranAt=now,
            applyAt=now + tenant.world.durations.rule_run,
            lastModifiedBy=identity,
            lastModifiedDateTime=now,
        )


def update(
    tenant: Tenant,
    workload: Workload,
    rule: dict[str, Any],
    body: dict[str, Any],
    identity: dict[str, Any],
    now: float,
) -> None:
    if not rule["isAutoApplyEnabled"]:
        raise ControlError(
            400,
            "PatchNotAllowedForStaticRule",
            "A static rule cannot be changed; create another one.",
        )
    if "isAutoApplyEnabled" in body and body["isAutoApplyEnabled"] is not True:
        raise ControlError(
            400,
            "InvalidProtectionRulePatchRequest",
            "isAutoApplyEnabled cannot change after a rule is created.",
        )
    rule_seconds = tenant.world.durations.rule_run
    if status_of(rule, now, rule_seconds) != "active":
        raise ControlError(
            400,
            "InvalidProtectionRuleStatusForUpdation",
            "Only an active dynamic rule can be updated.",
        )
    expression = body.get(workload.expression_key, rule["expression"])
    parse_expression(workload, expression)
    with tenant.mutation():
        rule.update(
            expression=expression,
            applyAt=now + rule_seconds,
            updating=True,
            lastModifiedBy=identity,
            lastModifiedDateTime=now,
        )


def delete(
    tenant: Tenant,
    rule: dict[str, Any],
    identity: dict[str, Any],
    now: float,
    *,
    unprotect: bool = False,
) -> None:
    backup = backup_of(tenant)
    rule_seconds = tenant.world.durations.rule_run
    status = status_of(rule, now, rule_seconds)
    # A running static rule, or a dynamic rule already changing, cannot be deleted.
    deletable = status == "active" if rule["isAutoApplyEnabled"] else status != "active"
    if not deletable:
        raise ControlError(
            400,
            "InvalidProtectionRuleStatusForDeletion",
            f"A rule that is '{status}' cannot be deleted.",
        )
    with tenant.mutation():
        if unprotect:
            for unit in backup["units"].values():
                if (
                    rule["id"] in unit["ruleIds"]
                    and not unit["manual"]
                    and unit.get("removedAt") is None
                    and len(unit["ruleIds"]) == 1
                ):
                    unit["removedAt"] = now
                    if unit["episodes"] and unit["episodes"][-1][1] is None:
                        unit["episodes"][-1][1] = now
        if rule["isAutoApplyEnabled"]:
            rule.update(deleteRequestedAt=now, lastModifiedBy=identity, lastModifiedDateTime=now)
        else:
            _forget(backup, rule)


def _forget(backup: dict[str, Any], rule: dict[str, Any]) -> None:
    for unit in backup["units"].values():
        if rule["id"] in unit["ruleIds"]:
            unit["ruleIds"].remove(rule["id"])
            if not unit["ruleIds"] and not unit["manual"]:
                unit["manual"] = True  # a unit left by its rule is kept as a manual one
    backup["rules"].pop(rule["id"], None)


def apply_due(tenant: Tenant, now: float) -> bool:
    backup = backup_of(tenant)
    rule_seconds = tenant.world.durations.rule_run
    changed = False
    for rule in list(backup["rules"].values()):
        deleting = rule["deleteRequestedAt"]
        if deleting is not None and now >= deleting + rule_seconds:
            _forget(backup, rule)
            changed = True
            continue
        if rule["applyAt"] is None or rule["applyAt"] > now or rule["appliedAt"] == rule["applyAt"]:
            continue
        _apply(tenant, rule, backup)
        changed = True
    return changed


def _apply(tenant: Tenant, rule: dict[str, Any], backup: dict[str, Any]) -> None:
    workload = BY_KEY[rule["workload"]]
    policy = backup["policies"].get(rule["policyId"])
    when = rule["applyAt"]
    owned = unit_model.owned_resources(tenant, workload)
    failures = []
    parsed = parse_expression(workload, rule["expression"])
    for named, resource_id in _candidates(tenant, workload, parsed):
        if resource_id is None:
            failures.append(
                {
                    "code": "ProtectionUnitNotFound",
                    "target": named,
                    "message": f"'{named}' cannot be protected by this policy.",
                }
            )
            continue
        unit = owned.get(resource_id)
        if unit is not None:
            if unit["policyId"] != rule["policyId"]:
                failures.append(
                    {
                        "code": "ProtectionUnitAlreadyExists",
                        "target": named,
                        "message": f"'{named}' is protected by another policy.",
                    }
                )
            elif rule["id"] not in unit["ruleIds"]:
                unit["ruleIds"].append(rule["id"])
            continue
        if policy is None:
            continue
        unit = unit_model.new_unit(
            tenant,
            workload,
            policy,
            resource_id,
            identity=rule["createdBy"],
            now=when,
            manual=False,
            rule_id=rule["id"],
        )
        backup["units"][unit["id"]] = unit
        policy["unitIds"].append(unit["id"])
        owned[resource_id] = unit
    rule.update(appliedAt=when, updating=False, failures=failures, lastModifiedDateTime=when)


def rule_json(
    workload: Workload, rule: dict[str, Any], now: float, rule_seconds: float, include_unknown: bool
) -> dict[str, Any]:
    from .enums import shown

    failures = rule["failures"]
    error = (
        public_error(
            "ProtectionRuleCompletedWithErrors",
            f"{len(failures)} resource(s) named by the rule could not be protected.",
            details=[{**f, "innerError": None} for f in failures],
        )
        if failures
        else None
    )
    return {
        "@odata.type": f"#{workload.rule_type}",
        "id": rule["id"],
        workload.expression_key: rule["expression"],
        "isAutoApplyEnabled": rule["isAutoApplyEnabled"],
        "status": shown(
            "protectionRuleStatus",
            status_of(rule, now, rule_seconds) or "deleteRequested",
            include_unknown,
        ),
        "error": error,
        "createdBy": rule["createdBy"],
        "createdDateTime": iso(rule["createdDateTime"]),
        "lastModifiedBy": rule["lastModifiedBy"],
        "lastModifiedDateTime": iso(rule["lastModifiedDateTime"]),
    }
