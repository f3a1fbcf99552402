"""Secrets for the embedded default, generated once per machine into `var/secrets/`.

Production never reaches this: `portal.settings_production` requires every secret from the
environment. Generating them (rather than committing a value) keeps a forgotten development
setting from becoming a known key.
"""

import base64
import os
import secrets
from pathlib import Path


def dev_secret(var_dir: Path, name: str, *, fernet: bool = False) -> str:
    path = var_dir / "secrets" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = (
        base64.urlsafe_b64encode(os.urandom(32)).decode() if fernet else secrets.token_urlsafe(50)
    )
    # O_EXCL: two processes starting at once must agree on one value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
