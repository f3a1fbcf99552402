from django.conf import settings
from django.db import models

from tenants.choices import MembershipRole, TenantStatus
from tenants.models.scoping import ScopedQuerySet


class TenantQuerySet(ScopedQuerySet):
    scope_field = "pk"


class Tenant(models.Model):
    """One customer organisation of the MSP, with exactly one Microsoft 365 (Entra ID) tenant."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    # The directory (tenant) GUID in Entra ID; every Graph call for this customer uses it.
    entra_tenant_id = models.UUIDField("Entra tenant ID", unique=True)
    primary_domain = models.CharField(max_length=253)
    status = models.CharField(
        max_length=20, choices=TenantStatus.choices, default=TenantStatus.ONBOARDING
    )
    # Why the tenant was suspended; empty otherwise.
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=TenantStatus.values),
                name="tenant_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "name"], name="tenant_status_name_idx")]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class Membership(models.Model):
    """A customer user's access to one tenant, with the role they hold there."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["tenant_id", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"],
                name="membership_unique_user_tenant",
                violation_error_message="This user is already a member of this tenant.",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=MembershipRole.values),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.get_role_display()})"
