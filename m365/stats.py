"""Per-tenant request statistics the portal reads and persists (throttling per tenant is
what MSPs ask to see)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GraphStatsSnapshot:
    """A consistent copy of the counters at one moment."""

    requests: int  # HTTP requests sent (each attempt counts; a $batch call counts once)
    batched_requests: int  # requests carried inside $batch calls (each attempt counts)
    throttled: int  # 429 or 503 answers, batch inner answers included
    errors: int  # other answers >= 400 and network failures, batch inner answers included
    retries: int  # requests (or batch items) sent again after a throttle or failure
    waited_seconds: float  # time slept before retries
    retry_after_seconds: float  # sum of the Retry-After values Graph sent

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


class GraphStats:
    """Thread-safe counters for one tenant; shared by every client talking to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset_locked()

    def _reset_locked(self) -> None:
        self._requests = 0
        self._batched = 0
        self._throttled = 0
        self._errors = 0
        self._retries = 0
        self._waited = 0.0
        self._retry_after = 0.0

    def reset(self) -> GraphStatsSnapshot:
        """Zero the counters and return what they held (e.g. after persisting them)."""
        with self._lock:
            snapshot = self._snapshot_locked()
            self._reset_locked()
            return snapshot

    def snapshot(self) -> GraphStatsSnapshot:
        with self._lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> GraphStatsSnapshot:
        return GraphStatsSnapshot(
            requests=self._requests,
            batched_requests=self._batched,
            throttled=self._throttled,
            errors=self._errors,
            retries=self._retries,
            waited_seconds=self._waited,
            retry_after_seconds=self._retry_after,
        )

    def record_request(self, *, batched: int = 0) -> None:
        with self._lock:
            self._requests += 1
            self._batched += batched

    def record_answer(self, status: int, retry_after: float | None = None) -> None:
        with self._lock:
            if status in (429, 503):
                self._throttled += 1
            elif status >= 400:
                self._errors += 1
            if retry_after is not None:
                self._retry_after += retry_after

    def record_network_error(self) -> None:
        with self._lock:
            self._errors += 1

    def record_retry(self, count: int = 1) -> None:
        with self._lock:
            self._retries += count

    def record_wait(self, seconds: float) -> None:
        with self._lock:
            self._waited += seconds

    @property
    def requests(self) -> int:
        return self.snapshot().requests

    @property
    def throttled(self) -> int:
        return self.snapshot().throttled

    @property
    def errors(self) -> int:
        return self.snapshot().errors

    @property
    def waited_seconds(self) -> float:
        return self.snapshot().waited_seconds
