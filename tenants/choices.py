from django.db import models


class TenantStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    OFFBOARDED = "offboarded", "Offboarded"


class MembershipRole(models.TextChoices):
    CUSTOMER_ADMIN = "customer_admin", "Customer admin"
    CUSTOMER_VIEWER = "customer_viewer", "Customer viewer"


class StaffRole(models.TextChoices):
    """MSP staff roles; each is a Django group of the same label holding its permissions."""

    MSP_ADMIN = "msp_admin", "MSP admin"
    OPERATOR = "operator", "MSP operator"
    BILLING = "billing", "MSP billing"


class PrincipalKind(models.TextChoices):
    ANONYMOUS = "anonymous", "Anonymous"
    STAFF = "staff", "MSP staff"
    CUSTOMER = "customer", "Customer user"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System"


class PermissionType(models.TextChoices):
    APPLICATION = "application", "Application"
    DELEGATED = "delegated", "Delegated"


class AppProfileStatus(models.TextChoices):
    PENDING_CONSENT = "pending_consent", "Pending consent"
    ACTIVE = "active", "Active"
    # A grant is missing, or the manifest changed after the consent: consent again.
    REAUTHORIZATION_REQUIRED = "reauthorization_required", "Re-authorization required"
    # The stored delegated token stopped working (password reset, user disabled, MFA or
    # conditional access): an administrator must sign in again.
    INVALID = "invalid", "Invalid"
    # The app is gone from the customer tenant (service principal deleted).
    REVOKED = "revoked", "Revoked"


class GrantStatus(models.TextChoices):
    GRANTED = "granted", "Granted"
    MISSING = "missing", "Missing"


class ConsentPurpose(models.TextChoices):
    CREATE = "create", "Create the app profile"
    REAUTHORIZE = "reauthorize", "Re-authorize"


class ConsentOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ConsentFailure(models.TextChoices):
    """Why a consent attempt failed; shown to MSP staff and to the administrator."""

    DENIED = "denied", "The administrator declined the consent"
    WRONG_TENANT = "wrong_tenant", "Signed in with an account of another Microsoft 365 tenant"
    EXPIRED = "expired", "The consent link or request expired"
    REUSED = "reused", "The consent request was already used"
    FORGED = "forged", "The answer did not match any consent request"
    ROLE_MISSING = "role_missing", "The account lacks the required administrator role"
    GRANTS_MISSING = "grants_missing", "Some permissions were not granted"
    PROVIDER_ERROR = "provider_error", "Microsoft answered with an error"


class DirectoryRole(models.TextChoices):
    """Entra ID directory roles the consent rules name, keyed by role template id."""

    GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10", "Global Administrator"
    BACKUP_ADMINISTRATOR = (
        "1707125e-0aa2-4d4d-8655-a7c786c76a25",
        "Microsoft 365 Backup Administrator",
    )
