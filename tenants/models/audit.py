from django.conf import settings
from django.db import models

from tenants.models.scoping import ScopedQuerySet


class AuditEventQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class AuditEvent(models.Model):
    """One change that matters: who did what to which object, in which tenant, from where.

    Written only by services (`tenants.services.audit_record`), never edited. Events without a
    tenant (an MSP-wide API key, a staff role change) are visible to MSP staff only.
    """

    created_at = models.DateTimeField(db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_api_key = models.ForeignKey(
        "tenants.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A snapshot of who acted ("alice", "api key ab12cd34 (PSA sync)", "system"), kept when
    # the user or key is later deleted.
    actor_label = models.CharField(max_length=200)
    tenant = models.ForeignKey(
        "tenants.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # Dotted verb, e.g. "tenant.suspended", "api_key.revoked", "app_profile.status_changed".
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=150, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created_idx"),
            models.Index(fields=["action", "-created_at"], name="audit_action_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
