from tenants.models.api_key import ApiKey
from tenants.models.app_profile import AppProfile, ConsentRequest, GraphCallStats, PermissionGrant
from tenants.models.audit import AuditEvent
from tenants.models.scoping import ScopedQuerySet
from tenants.models.tenant import Membership, Tenant

__all__ = [
    "ApiKey",
    "AppProfile",
    "AuditEvent",
    "ConsentRequest",
    "GraphCallStats",
    "Membership",
    "PermissionGrant",
    "ScopedQuerySet",
    "Tenant",
]
