from tenants.models.api_key import ApiKey
from tenants.models.audit import AuditEvent
from tenants.models.scoping import ScopedQuerySet
from tenants.models.tenant import Membership, Tenant

__all__ = ["ApiKey", "AuditEvent", "Membership", "ScopedQuerySet", "Tenant"]
