"""API keys sent as `Authorization: Bearer <key>`."""

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions

from tenants.models import ApiKey
from tenants.services import api_key_touch


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from exc
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        api_key_touch(api_key=api_key, now=timezone.now())
        return AnonymousUser(), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated calls.
        return 'Bearer realm="api"'
