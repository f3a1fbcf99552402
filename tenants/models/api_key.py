from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from tenants.models.scoping import ScopedQuerySet


class ApiKeyQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class ApiKeyManager(APIKeyManager.from_queryset(ApiKeyQuerySet)):
    pass


class ApiKey(AbstractAPIKey):
    """A credential for an integration (a PSA, an RMM, a script).

    Only a SHA-512 hash of the key is stored (djangorestframework-api-key); the plaintext is
    shown once at creation. `prefix` is the visible, non-secret part of the key. A key with no
    tenant belongs to the MSP and reaches every tenant; otherwise it reaches only its tenant.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="Leave empty for an MSP key that reaches every tenant.",
    )
    read_only = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Updated at most once a minute per key so that authentication is not a write per call.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
