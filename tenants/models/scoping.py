"""Tenant scoping in one place.

Every tenant-owned model's queryset derives from `ScopedQuerySet`; `visible_to(principal)` is
the only filter the API base viewset and the customer views apply. A principal with
`tenant_ids is None` (MSP staff, MSP API keys, the system) sees every tenant; anyone else sees
only the tenants listed, and nothing at all when the list is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from tenants.principals import Principal


class ScopedQuerySet(models.QuerySet):
    # Lookup path from the model to the owning Tenant's primary key.
    scope_field = "tenant"

    def visible_to(self, principal: Principal) -> ScopedQuerySet:
        if principal.tenant_ids is None:
            return self
        if not principal.tenant_ids:
            return self.none()
        lookup = "pk__in" if self.scope_field == "pk" else f"{self.scope_field}__in"
        return self.filter(**{lookup: principal.tenant_ids})
