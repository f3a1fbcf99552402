"""Signing and sealing keys that outlive restarts.

- an RSA key signs every JWT (RS256); its `kid` is published in each tenant's JWKS;
- a Fernet key seals the opaque artefacts the emulator hands out but does not store:
  authorization codes, refresh tokens, sign-in tickets of the HTML flow and report
  download links. Self-contained sealed tokens survive restarts with no bookkeeping.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class Keys:
    def __init__(self, state_dir: Path) -> None:
        keys_dir = state_dir / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        key_path = keys_dir / "signing-key.pem"
        if not key_path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write_private(
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
        self.signing_key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        public_der = self.signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Microsoft's kid is the base64url SHA-1 thumbprint of the certificate; ours hashes
        # the public key, which is just as stable.
        self.kid = base64.urlsafe_b64encode(hashlib.sha1(public_der).digest()).decode().rstrip("=")  # noqa: S324
        self.public_jwk = {
            **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key())),
            "kid": self.kid,
            "use": "sig",
            "x5t": self.kid,
        }
        fernet_path = keys_dir / "seal.key"
        if not fernet_path.exists():
            _write_private(fernet_path, Fernet.generate_key())
        self._fernet = Fernet(fernet_path.read_bytes())

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.signing_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"}
        )

    def verify(self, token: str) -> dict[str, Any]:
        """Check the signature only; callers check times and audience themselves."""
        return jwt.decode(
            token,
            self.signing_key.public_key(),
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iat": False,
            },
        )

    def seal(self, payload: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()

    def unseal(self, token: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError, TypeError):
            return None


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.write_bytes(data)
