"""`GraphClient`: one customer tenant's Microsoft Graph, over one pooled httpx client.

Every request goes through `_send`, which adds the bearer token, counts the request in the
tenant's `GraphStats`, honours Retry-After on 429/503 (and 502/504 for idempotent methods),
falls back on capped, jittered exponential backoff, and gives up after `max_attempts`.
Callers get parsed JSON or a typed `GraphError`.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from m365.batching import BatchRequest, BatchResponse, plan_chunks, retry_closure, wire_request
from m365.config import GraphSettings
from m365.errors import GraphError, GraphTransientError, graph_error
from m365.retry import (
    IDEMPOTENT_METHODS,
    backoff_delay,
    parse_retry_after,
    retry_after_delay,
    should_retry_status,
)
from m365.stats import GraphStats
from m365.tls import http_client

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Graph's documented maximum number of requests in one $batch call.
MAX_BATCH_SIZE = 20


class TokenSource(Protocol):
    """Where a `GraphClient` gets bearer tokens (app-only or delegated, see m365.auth)."""

    def access_token(self) -> str: ...

    def invalidate(self, token: str) -> None:
        """Forget `token` (Graph answered 401 to it) so the next call gets a fresh one."""


@dataclass(frozen=True)
class GraphResponse:
    """A successful Graph answer: parsed JSON (None for an empty body) and its headers."""

    status: int
    headers: httpx.Headers
    body: Any

    @property
    def request_id(self) -> str:
        return self.headers.get("request-id", "")

    @property
    def content_location(self) -> str:
        """Set on backup 201/202 answers: where the new or changed object lives."""
        return self.headers.get("content-location", "")

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty), as most Graph answers are."""
        return self.body if isinstance(self.body, dict) else {}


@dataclass(frozen=True)
class Page:
    """One page of a Graph collection."""

    items: list[dict[str, Any]]
    next_link: str | None
    count: int | None  # @odata.count: only on the first page, and only when asked for


def build_http_client(settings: GraphSettings) -> httpx.Client:
    """The pooled httpx client the portal may share between tenants' GraphClients."""
    return http_client(
        settings,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
        follow_redirects=False,
    )


class GraphClient:
    """Microsoft Graph for one customer tenant. Thread-safe; close it (or use `with`)."""

    def __init__(
        self,
        settings: GraphSettings,
        tenant_id: str,
        token_source: TokenSource,
        *,
        stats: GraphStats | None = None,
        http: httpx.Client | None = None,
        api_version: str = "v1.0",
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if api_version not in ("v1.0", "beta"):
            raise ValueError(f"unknown Graph version {api_version!r}")
        self.settings = settings
        self.tenant_id = tenant_id
        self.stats = stats if stats is not None else GraphStats()
        self.api_version = api_version
        self._tokens = token_source
        self._owns_http = http is None
        self._http = http if http is not None else build_http_client(settings)
        # Injected so tests can record every wait instead of sleeping through it.
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        base = urlsplit(settings.graph_base_url)
        self._origin = (base.scheme, base.netloc.lower())

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plain requests -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        version: str | None = None,
    ) -> GraphResponse:
        """Send one request (retrying as the settings allow); raise a `GraphError` on >= 400."""
        method = method.upper()
        url = self.url(path, version)
        response = self._send(method, url, params=params, json_body=json, headers=headers)
        body = _parse_body(response)
        if response.status_code >= 400:
            raise graph_error(
                response.status_code, response.headers, body, method=method, url=_path(url)
            )
        return GraphResponse(response.status_code, response.headers, body)

    def get(self, path: str, **kwargs: Any) -> GraphResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> GraphResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> GraphResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> GraphResponse:
        return self.request("DELETE", path, **kwargs)

    # -- collections ----------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        version: str | None = None,
    ) -> Iterator[Page]:
        """Yield a collection page by page, following `@odata.nextLink` to the end.

        Only one page is held at a time, so a 100,000-user tenant streams in constant memory.
        The next link is followed verbatim (it carries the skiptoken and the original query);
        `headers` are sent again on every page because Graph does not carry them over.
        To resume after a failure (e.g. GraphThrottled in a Celery task), save the last
        `Page.next_link` and pass it as `path`: absolute Graph URLs are accepted."""
        url: str | None = self.url(path, version)
        query = params
        while url is not None:
            body = self.request("GET", url, params=query, headers=headers).json_object()
            next_link = body.get("@odata.nextLink")
            count = body.get("@odata.count")
            yield Page(
                items=[item for item in body.get("value") or [] if isinstance(item, dict)],
                next_link=next_link,
                count=count if isinstance(count, int) else None,
            )
            if not next_link:
                return
            if next_link == url:  # a service bug would otherwise loop forever
                raise GraphError("Graph returned the same @odata.nextLink twice", status=None)
            url, query = next_link, None

    def iter_items(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        version: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a collection, across pages, streamed."""
        for page in self.iter_pages(path, params, headers=headers, version=version):
            yield from page.items

    # -- $batch ---------------------------------------------------------------------------

    def batch(
        self, requests: Sequence[BatchRequest], *, version: str | None = None
    ) -> list[BatchResponse]:
        """Run requests through `$batch`, 20 per call, and return one answer per request in
        the order given.

        `depends_on` may name any earlier request: inside a call Graph orders them (and
        answers 424 when a dependency failed); across calls the client does the same itself.
        Inner 429/503 answers (and 502/504 of idempotent requests) are sent again, with their
        424 dependents, after waiting as long as the longest Retry-After among them."""
        url = self.url("/$batch", version)
        results: dict[str, BatchResponse] = {}
        for chunk in plan_chunks(requests, MAX_BATCH_SIZE):
            to_send = []
            for request in chunk:
                failed = [
                    dep for dep in request.depends_on if dep in results and not results[dep].ok
                ]
                if failed:
                    # Built here, never sent: not counted (the failure itself already was).
                    results[request.id] = BatchResponse.failed_dependency(request.id, failed[0])
                else:
                    to_send.append(request)
            if to_send:
                self._run_batch_call(url, to_send, results)
        return [results[request.id] for request in requests]

    def _run_batch_call(
        self, url: str, to_send: list[BatchRequest], results: dict[str, BatchResponse]
    ) -> None:
        attempt = 0
        while to_send:
            attempt += 1
            ids = {request.id for request in to_send}
            payload = {"requests": [wire_request(request, ids) for request in to_send]}
            response = self._send("POST", url, json_body=payload, batched=len(to_send))
            body = _parse_body(response)
            if response.status_code >= 400:
                raise graph_error(
                    response.status_code, response.headers, body, method="POST", url=_path(url)
                )
            answers = BatchResponse.parse_all(body, ids)
            retry_ids: set[str] = set()
            for request in to_send:
                answer = answers[request.id]
                self.stats.record_answer(answer.status, answer.retry_after)
                if should_retry_status(answer.status, request.method):
                    retry_ids.add(request.id)
            retry_ids = retry_closure(to_send, answers, retry_ids)
            for request in to_send:
                if request.id not in retry_ids:
                    results[request.id] = answers[request.id]
            if not retry_ids:
                return
            waits = [
                answers[i].retry_after for i in retry_ids if answers[i].retry_after is not None
            ]
            longest = max(waits) if waits else None  # type: ignore[type-var]
            too_long = longest is not None and longest > self.settings.max_retry_after_seconds
            if attempt >= self.settings.max_attempts or too_long:
                for request_id in retry_ids:
                    results[request_id] = answers[request_id]
                return
            if longest is not None:
                self._pause(retry_after_delay(longest, rng=self._rng))
            else:
                self._pause(self._backoff(attempt))
            self.stats.record_retry(len(retry_ids))
            to_send = [request for request in to_send if request.id in retry_ids]

    # -- pre-authenticated downloads (report CSV) -----------------------------------------

    def iter_redirected_text(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        version: str | None = None,
    ) -> Iterator[str]:
        """GET `path`, follow its redirect to a pre-authenticated URL WITHOUT the bearer token,
        and yield the downloaded text chunk by chunk (usage report CSV)."""
        url = self.url(path, version)
        first = self._send("GET", url, params=params)
        if first.status_code == 200:  # some hosts answer the CSV directly
            yield first.text
            return
        if first.status_code not in REDIRECT_STATUSES:
            raise graph_error(
                first.status_code, first.headers, _parse_body(first), method="GET", url=_path(url)
            )
        location = first.headers.get("location")
        if not location:
            raise GraphError(
                "redirect without a Location header",
                status=first.status_code,
                method="GET",
                url=_path(url),
            )
        target = urljoin(str(first.url), location)
        if urlsplit(target).scheme != "https":
            raise GraphError(
                "refusing a non-HTTPS download URL",
                status=first.status_code,
                method="GET",
                url=_path(url),
            )
        download = self._send("GET", target, authenticated=False, stream=True)
        try:
            if download.status_code >= 400:
                download.read()
                raise graph_error(
                    download.status_code,
                    download.headers,
                    _parse_body(download),
                    method="GET",
                    url=_path(target),
                )
            yield from download.iter_text()
        finally:
            download.close()

    # -- the one place requests leave ------------------------------------------------------

    def url(self, path: str, version: str | None = None) -> str:
        """An absolute Graph URL; an absolute input (a nextLink) must stay on the Graph host,
        because the bearer token goes with it."""
        if path.startswith(("https://", "http://")):
            parts = urlsplit(path)
            if (parts.scheme, parts.netloc.lower()) != self._origin:
                raise GraphError(
                    f"refusing to send a token to {parts.scheme}://{parts.netloc}", status=None
                )
            return path
        relative = path.lstrip("/")
        if relative.startswith(("v1.0/", "beta/")):  # e.g. a relative Content-Location
            return f"{self.settings.graph_base_url}/{relative}"
        return f"{self.settings.graph_base_url}/{version or self.api_version}/{relative}"

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        stream: bool = False,
        batched: int = 0,
    ) -> httpx.Response:
        """Send until an answer is final: success, a non-retryable error, attempts exhausted,
        or a Retry-After too long to sleep on. Returns the last response, whatever its status."""
        attempt = 0
        token_renewed = False
        while True:
            attempt += 1
            request_headers = {"client-request-id": str(uuid.uuid4())}
            request_headers.update(headers or {})
            token = ""
            if authenticated:
                token = self._tokens.access_token()
                request_headers["Authorization"] = f"Bearer {token}"
            request = self._http.build_request(
                method, url, params=params, json=json_body, headers=request_headers
            )
            self.stats.record_request(batched=batched)
            started = time.monotonic()
            try:
                response = self._http.send(request, stream=stream, follow_redirects=False)
            except httpx.TransportError as exc:
                self.stats.record_network_error()
                # A refused connection never reached Graph, so even a POST is safe to resend.
                safe = method in IDEMPOTENT_METHODS or isinstance(exc, httpx.ConnectError)
                logger.warning(
                    "graph %s %s network error %s (attempt %d)",
                    method,
                    _path(url),
                    type(exc).__name__,
                    attempt,
                )
                if safe and attempt < self.settings.max_attempts:
                    self._pause(self._backoff(attempt))
                    self.stats.record_retry()
                    continue
                raise GraphTransientError(
                    f"network error: {type(exc).__name__}: {exc}",
                    status=None,
                    method=method,
                    url=_path(url),
                ) from exc
            status = response.status_code
            retry_after = parse_retry_after(response.headers) if status >= 400 else None
            self.stats.record_answer(status, retry_after)
            logger.debug(
                "graph %s %s -> %d in %.3fs request-id=%s",
                method,
                _path(url),
                status,
                time.monotonic() - started,
                response.headers.get("request-id", ""),
            )
            if status == 401 and authenticated and not token_renewed:
                # An expired or revoked token: get a fresh one once, without using an attempt.
                token_renewed = True
                attempt -= 1
                response.close()
                self._tokens.invalidate(token)
                self.stats.record_retry()
                continue
            if not should_retry_status(status, method) or attempt >= self.settings.max_attempts:
                return response
            if retry_after is not None and retry_after > self.settings.max_retry_after_seconds:
                return response  # GraphThrottled(retry_after=...) lets the task come back later
            logger.info(
                "graph %s %s throttled %d, retry-after=%s (attempt %d of %d)",
                method,
                _path(url),
                status,
                retry_after,
                attempt,
                self.settings.max_attempts,
            )
            if stream:
                response.close()
            if retry_after is not None:
                self._pause(retry_after_delay(retry_after, rng=self._rng))
            else:
                self._pause(self._backoff(attempt))
            self.stats.record_retry()

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(
            attempt,
            base=self.settings.backoff_base_seconds,
            cap=self.settings.backoff_cap_seconds,
            rng=self._rng,
        )

    def _pause(self, seconds: float) -> None:
        self.stats.record_wait(seconds)
        self._sleep(seconds)


def _parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _path(url: str) -> str:
    """The URL without its query, for errors and logs (queries may hold names and emails)."""
    return urlsplit(url).path
