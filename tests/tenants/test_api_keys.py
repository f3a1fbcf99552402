from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from tenants.models import ApiKey, AuditEvent
from tests.tenants.factories import make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys/"


def _raw_rows_contain(table: str, needle: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return any(needle in str(value) for row in cursor.fetchall() for value in row)


def test_key_is_shown_once_and_stored_only_hashed(api, msp_admin, tenant_a):
    created = api.as_user(msp_admin).post(
        URL, {"name": "PSA sync", "tenant": tenant_a.pk, "read_only": True}, format="json"
    )
    assert created.status_code == 201
    key = created.json()["key"]
    prefix = created.json()["prefix"]
    assert key.startswith(prefix + ".")

    # Not in any later answer.
    assert key not in api.get(URL).content.decode()
    detail = api.get(f"{URL}{prefix}/").json()
    assert "key" not in detail and detail["read_only"] is True
    # Nowhere in the database: not in the key table, not in the audit trail.
    secret = key.split(".", 1)[1]
    assert not _raw_rows_contain("tenants_apikey", secret)
    assert not _raw_rows_contain("tenants_auditevent", secret)
    assert AuditEvent.objects.filter(action="api_key.created", tenant=tenant_a).exists()


def test_a_key_authenticates_and_records_its_last_use(api, tenant_a):
    api_key, key = make_api_key(tenant=tenant_a)
    assert api.as_key(key).get("/api/v1/tenants/").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_revoked_key_gets_401(api, msp_admin, tenant_a):
    api_key, key = make_api_key(tenant=tenant_a)
    revoked = api.as_user(msp_admin).post(f"{URL}{api_key.prefix}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True

    answer = api.as_key(key).get("/api/v1/tenants/")
    assert answer.status_code == 401
    assert answer.json() == {
        "status": 401,
        "code": "authentication_failed",
        "message": "Invalid or revoked API key.",
    }
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_expired_key_gets_401(api, tenant_a):
    api_key, key = make_api_key(tenant=tenant_a)
    ApiKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(minutes=1))
    assert api.as_key(key).get("/api/v1/tenants/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer nope.nope", "Bearer \u00e9"])
def test_malformed_or_unknown_keys_get_401(api, header, db):
    api.credentials(HTTP_AUTHORIZATION=header)
    assert api.get("/api/v1/tenants/").status_code == 401


def test_only_msp_admins_manage_keys(api, msp_operator, customer_a):
    for user in (msp_operator, customer_a):
        assert api.as_user(user).post(URL, {"name": "x"}, format="json").status_code == 403


def test_key_creation_rejects_bad_input(api, msp_admin):
    answer = api.as_user(msp_admin).post(URL, {"name": "", "tenant": 999999}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"name", "tenant"}


def test_create_api_key_command_prints_the_key_once(capsys, tenant_a):
    call_command("create_api_key", "--name", "RMM", "--tenant", "alpha", "--read-only")
    out, err = capsys.readouterr()
    key = out.strip()
    api_key = ApiKey.objects.get(name="RMM")
    assert key.startswith(api_key.prefix + ".")
    assert api_key.tenant == tenant_a and api_key.read_only
    assert ApiKey.objects.is_valid(key)
    assert "read-only" in err and key not in err


def test_create_api_key_command_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="No tenant with slug"):
        call_command("create_api_key", "--name", "x", "--tenant", "nobody")
    assert not ApiKey.objects.exists()
