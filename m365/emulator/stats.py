"""Per-tenant request counters, kept in memory (a restart starts them again at zero)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._totals = {"requests": 0, "throttled": 0, "errors": 0}
            self._by_path: dict[str, dict[str, int]] = defaultdict(
                lambda: {"requests": 0, "throttled": 0, "errors": 0}
            )

    def record(self, route: str, status: int) -> None:
        """Count one answer; 429 counts as throttled, any other status >= 400 as an error."""
        kind = "throttled" if status == 429 else "errors" if status >= 400 else None
        with self._lock:
            for bucket in (self._totals, self._by_path[route]):
                bucket["requests"] += 1
                if kind:
                    bucket[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self._totals, "byPath": {k: dict(v) for k, v in self._by_path.items()}}
