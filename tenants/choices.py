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
