"""`manage.py check --deploy` under the production profile, with throwaway values for the
secrets the profile requires (the check inspects settings; it connects to nothing)."""

import base64
import os
import secrets
import subprocess
import sys

env = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "M365_CLIENT_SECRET": secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://portal@db.internal/portal",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
}
sys.exit(
    subprocess.call(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env
    )
)
