"""Writes and business rules of the tenants app, one module per subject. Every service takes
the acting `Principal` as `by`, runs in one transaction and records its audit event there."""

from tenants.services.api_keys import api_key_create, api_key_revoke, api_key_touch
from tenants.services.audit import audit_events_purge, audit_record
from tenants.services.memberships import (
    membership_add,
    membership_create,
    membership_delete,
    membership_update,
)
from tenants.services.staff import STAFF_ROLE_PERMISSIONS, staff_roles_sync, staff_user_set_roles
from tenants.services.tenants import (
    EDITABLE_TENANT_FIELDS,
    TENANT_TRANSITIONS,
    tenant_create,
    tenant_reactivate,
    tenant_set_status,
    tenant_suspend,
    tenant_update,
)

__all__ = [
    "EDITABLE_TENANT_FIELDS",
    "STAFF_ROLE_PERMISSIONS",
    "TENANT_TRANSITIONS",
    "api_key_create",
    "api_key_revoke",
    "api_key_touch",
    "audit_events_purge",
    "audit_record",
    "membership_add",
    "membership_create",
    "membership_delete",
    "membership_update",
    "staff_roles_sync",
    "staff_user_set_roles",
    "tenant_create",
    "tenant_reactivate",
    "tenant_set_status",
    "tenant_suspend",
    "tenant_update",
]
