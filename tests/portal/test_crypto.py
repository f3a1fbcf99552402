import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection

from tenants.models import AppProfile

pytestmark = pytest.mark.django_db


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _raw_token(profile_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM tenants_appprofile WHERE id = %s", [profile_id])
        return cursor.fetchone()[0]


def test_secrets_are_encrypted_at_rest_and_keys_rotate(settings, tenant_a):
    old, new = _key(), _key()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    profile = AppProfile.objects.create(
        tenant=tenant_a, refresh_token="0.AVYA-secret-refresh-token"
    )
    raw_before = _raw_token(profile.pk)
    assert "secret-refresh-token" not in raw_before

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys")
    raw_after = _raw_token(profile.pk)
    assert raw_after != raw_before

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key can go now
    assert AppProfile.objects.get(pk=profile.pk).refresh_token == "0.AVYA-secret-refresh-token"


def test_a_removed_key_fails_loudly_not_silently(settings, tenant_a):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = [_key()]
    profile = AppProfile.objects.create(tenant=tenant_a, refresh_token="token")
    settings.FIELD_ENCRYPTION_KEYS = [_key()]
    with pytest.raises(ImproperlyConfigured, match="rotate_encryption_keys"):
        AppProfile.objects.get(pk=profile.pk)
