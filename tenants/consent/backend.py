"""The Microsoft sign-in of a customer's administrator during consent.

social-core's `azuread-v2-tenant-oauth2` backend, with every URL and credential derived from
the portal's M365_* settings, so production and the emulator differ only there. The
authority is `organizations`: an administrator of any tenant can sign in, and the pipeline
(`tenants.consent.pipeline`) refuses every tenant but the one being onboarded.
"""

from django.conf import settings
from social_core.backends.azuread_tenant import AzureADV2TenantOAuth2

from tenants.manifest import delegated_scopes


class CustomerAdminSignIn(AzureADV2TenantOAuth2):
    name = "azuread-v2-tenant-oauth2"

    def setting(self, name, default=None):
        derived = {
            "KEY": settings.M365_CLIENT_ID,
            "SECRET": settings.M365_CLIENT_SECRET,
            "TENANT_ID": "organizations",
            "AUTHORITY_URL": f"{settings.M365_LOGIN_BASE_URL.rstrip('/')}/organizations",
            # A CA file path for the emulator; the system store in production.
            "VERIFY_SSL": settings.M365_CA_BUNDLE or True,
            # Added to openid, profile and offline_access (offline_access: a refresh token).
            "SCOPE": delegated_scopes(),
            "USE_PKCE": True,
            "AUTH_EXTRA_ARGUMENTS": {"prompt": "select_account"},
        }
        if name in derived:
            return derived[name]
        return super().setting(name, default)
