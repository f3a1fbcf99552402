"""Persistence of mutable state as JSON files in the state directory.

One file for emulator-wide state (registered apps, global clock offset and faults) and one
per tenant, each rewritten atomically (temporary file, fsync, rename) after every mutation
of what it holds. Generated directory data is never stored: it is recomputed from the seed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class StateStore:
    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / "state"
        self.tenants_dir = self.root / "tenants"
        self.tenants_dir.mkdir(parents=True, exist_ok=True)

    @property
    def global_path(self) -> Path:
        return self.root / "global.json"

    def tenant_path(self, tenant_id: str) -> Path:
        return self.tenants_dir / f"{tenant_id}.json"

    def load_global(self) -> dict[str, Any] | None:
        return _read(self.global_path)

    def load_tenants(self) -> list[dict[str, Any]]:
        loaded = (_read(p) for p in sorted(self.tenants_dir.glob("*.json")))
        return [data for data in loaded if data is not None]

    def save_global(self, data: dict[str, Any]) -> None:
        _write_atomic(self.global_path, data)

    def save_tenant(self, data: dict[str, Any]) -> None:
        _write_atomic(self.tenant_path(data["id"]), data)

    def delete_tenant(self, tenant_id: str) -> None:
        self.tenant_path(tenant_id).unlink(missing_ok=True)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            # One dumps and one write: json.dump streams through the pure-Python encoder
            # (3.5 s against 1.05 s for a 60 MB tenant, measured), under the tenant's lock.
            f.write(json.dumps(data, separators=(",", ":")))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
