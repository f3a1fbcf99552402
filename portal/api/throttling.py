from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from tenants.principals import request_principal


class PrincipalRateThrottle(SimpleRateThrottle):
    """One bucket per API key, per signed-in user, or per IP address for anonymous calls."""

    scope = "principal"

    def get_rate(self) -> str:
        # Read at call time (not import time) so the rate follows settings.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        principal = request_principal(request)
        if principal.api_key is not None:
            ident = f"key:{principal.api_key.pk}"
        elif principal.user is not None:
            ident = f"user:{principal.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
