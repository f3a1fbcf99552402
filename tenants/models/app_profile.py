from django.db import models

from portal.crypto import EncryptedTextField
from tenants.choices import (
    AppProfileStatus,
    ConsentFailure,
    ConsentOutcome,
    ConsentPurpose,
    GrantStatus,
    PermissionType,
)
from tenants.models.scoping import ScopedQuerySet


class AppProfileQuerySet(ScopedQuerySet):
    scope_field = "tenant"

    def needs_attention(self):
        return self.exclude(status=AppProfileStatus.ACTIVE)


class AppProfile(models.Model):
    """The Cloud Backup Express app as authorized in one customer tenant: who consented, when,
    against which manifest version, what Entra granted, and the administrator's delegated
    token the portal uses for controller operations (register, activate, enable)."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="app_profile"
    )
    status = models.CharField(
        max_length=32, choices=AppProfileStatus.choices, default=AppProfileStatus.PENDING_CONSENT
    )
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The consent in force: who gave it (their directory object id and UPN), with which
    # directory role, when, and the manifest version it covered.
    consented_by_oid = models.CharField(max_length=64, blank=True)
    consented_by_upn = models.CharField(max_length=320, blank=True)
    consented_by_role = models.CharField(max_length=100, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    manifest_version = models.DateField(null=True, blank=True)
    # The app's service principal (enterprise app) object id in the customer tenant.
    service_principal_id = models.CharField(max_length=64, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verification_error = models.CharField(max_length=500, blank=True)
    # The administrator's refresh token (encrypted at rest; never logged, never in an API
    # answer) and whose it is. Rotated on every use.
    refresh_token = EncryptedTextField(blank=True)
    token_user_oid = models.CharField(max_length=64, blank=True)
    token_user_upn = models.CharField(max_length=320, blank=True)
    token_obtained_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppProfileQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AppProfileStatus.values),
                name="app_profile_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"App profile of {self.tenant}"


class PermissionGrantQuerySet(ScopedQuerySet):
    scope_field = "profile__tenant"


class PermissionGrant(models.Model):
    """Whether one manifest permission was found granted in the customer tenant at the last
    verification. One row per profile and manifest row (`permission_key`)."""

    profile = models.ForeignKey(AppProfile, on_delete=models.CASCADE, related_name="grants")
    # ManifestPermission.key: "{resource app id}/{type}/{value}".
    permission_key = models.CharField(max_length=200)
    resource_app_id = models.CharField(max_length=64)
    permission = models.CharField(max_length=120)
    type = models.CharField(max_length=20, choices=PermissionType.choices)
    status = models.CharField(max_length=20, choices=GrantStatus.choices)
    # First time seen granted in the current run of grants, and last time checked.
    granted_since = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = PermissionGrantQuerySet.as_manager()

    class Meta:
        ordering = ["type", "resource_app_id", "permission"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "permission_key"], name="permission_grant_one_per_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permission} ({self.get_status_display()})"


class ConsentRequestQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class ConsentRequest(models.Model):
    """One attempt to obtain (or renew) an administrator's consent, from the shareable link
    through Microsoft's sign-in and admin consent back to the portal.

    The link token and the OAuth `state` are random secrets stored only as SHA-256 hashes;
    each is single-use and expires. The row binds them to its tenant and profile, so an
    answer is never trusted by the tenant it names.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="consent_requests"
    )
    profile = models.ForeignKey(
        AppProfile, on_delete=models.CASCADE, related_name="consent_requests"
    )
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    link_token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    # Who the link was made for (optional) and by whom.
    sent_to = models.EmailField(blank=True)
    created_by_label = models.CharField(max_length=200)
    # The admin-consent round trip: hash of its state, when it was issued and answered.
    consent_state_hash = models.CharField(max_length=64, blank=True, db_index=True)
    consent_started_at = models.DateTimeField(null=True, blank=True)
    # The administrator who signed in (from the verified id_token).
    signed_in_oid = models.CharField(max_length=64, blank=True)
    signed_in_upn = models.CharField(max_length=320, blank=True)
    signed_in_tid = models.CharField(max_length=64, blank=True)
    # The refresh token from that sign-in, held here (encrypted) until the consent succeeds
    # and it moves to the profile; cleared on failure.
    pending_refresh_token = EncryptedTextField(blank=True)
    outcome = models.CharField(
        max_length=20, choices=ConsentOutcome.choices, default=ConsentOutcome.PENDING
    )
    failure = models.CharField(max_length=30, choices=ConsentFailure.choices, blank=True)
    failure_detail = models.CharField(max_length=500, blank=True)
    # Set once: the request's one and only completion (success or failure).
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ConsentRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome=ConsentOutcome.PENDING)
                | models.Q(completed_at__isnull=False),
                name="consent_request_completed_when_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.tenant} ({self.get_outcome_display()})"


class GraphCallStatsQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class GraphCallStats(models.Model):
    """Microsoft Graph health of one tenant on one day (UTC): requests made, answers throttled
    (429/503 with Retry-After) and errors. Incremented by every Graph session of the portal,
    so MSP staff see which tenants Microsoft is throttling."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # Seconds spent waiting as Microsoft asked (Retry-After) or backing off.
    waited_seconds = models.FloatField(default=0)

    objects = GraphCallStatsQuerySet.as_manager()

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="graph_stats_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.day}: {self.requests} requests"
