"""Secrets at rest: Fernet tokens under `FIELD_ENCRYPTION_KEYS` (newest first).

The keys are separate from SECRET_KEY so that either can rotate alone. Rotation: put a new
key first, run `manage.py rotate_encryption_keys` (re-encrypts every row with it), then drop
the old key. An encrypted column cannot be searched; it is only ever read by primary key.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; was a key removed "
            "before rotate_encryption_keys ran?"
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the plaintext."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)


def encrypted_fields():
    """(model, [field names]) for every model with an encrypted column."""
    from django.apps import apps

    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names
