"""Benchmark: enumerate a large emulated tenant's users, groups and sites through the
production client (m365.graph over HTTPS), and report requests vs minimum pages, wall time,
items per second and peak memory.

    python bench/graph_scan.py                    # starts its own emulator subprocess
    python bench/graph_scan.py --users 100000 --throttle-rate 0.3 --retry-after 0.01
    python bench/graph_scan.py --base-url https://127.0.0.1:8765 --ca var/emulator/ca.pem

The tenant is created through the emulator's control API; the MSP app is registered and
consented by the tenant's Global Administrator through the sign-in and consent pages.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from m365.auth import AppTokenProvider
from m365.config import GraphSettings
from m365.directory.groups import iter_groups
from m365.directory.sites import iter_sites
from m365.directory.users import MAX_PAGE_SIZE, iter_users
from m365.emulator.testing import EmulatorAt, browser_flow
from m365.graph import GraphClient
from m365.stats import GraphStats

REDIRECT_URI = "https://portal.bench.invalid/consent/callback"
GRAPH_ROLES = {  # Microsoft Graph application permissions the scan needs (contract ids)
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Sites.Read.All": "332a536c-c7ef-4017-ab91-336970924f0d",
}


@dataclass
class Collection:
    name: str
    items: int = 0
    requests: int = 0
    throttled: int = 0
    largest_page: int = 0
    seconds: float = 0.0

    def minimum_pages(self, page_size: int) -> int:
        return max(1, math.ceil(self.items / page_size))


def control(base_url: str, ca: str) -> httpx.Client:
    import ssl

    return httpx.Client(
        base_url=f"{base_url}/_emulator",
        timeout=600,
        trust_env=False,
        verify=ssl.create_default_context(cafile=ca),
    )


def prepare_tenant(base_url: str, ca: str, users: int, seed: int) -> tuple[GraphSettings, str]:
    """Register the MSP app, create the tenant and consent as its Global Administrator."""
    app_id, secret = str(uuid.uuid4()), f"bench-{uuid.uuid4()}"
    with control(base_url, ca) as api:
        api.put(
            f"/apps/{app_id}",
            json={
                "displayName": "Bench MSP app",
                "secret": secret,
                "ownerTenantId": str(uuid.uuid4()),
                "redirectUris": [REDIRECT_URI],
                "requiredResourceAccess": [
                    {
                        "resourceAppId": "00000003-0000-0000-c000-000000000000",
                        "resourceAccess": [{"id": i, "type": "Role"} for i in GRAPH_ROLES.values()],
                    }
                ],
            },
        ).raise_for_status()
        started = time.perf_counter()
        created = api.post(
            "/tenants", json={"domain": f"bench{seed}.test", "seed": seed, "users": users}
        )
        created.raise_for_status()
        tenant = created.json()
        print(
            f"tenant {tenant['id']} with {users} users created in "
            f"{time.perf_counter() - started:.2f}s",
            flush=True,
        )
    settings = GraphSettings(
        client_id=app_id,
        client_secret=secret,
        msp_tenant_id=str(uuid.uuid4()),
        login_base_url=base_url,
        graph_base_url=base_url,
        ca_bundle=ca,
    )
    admin = next(u for u in tenant["directoryUsers"] if "Global Administrator" in u["roles"])
    from m365.identity import admin_consent_url

    answer = browser_flow(
        EmulatorAt(base_url, ca),
        admin_consent_url(settings, redirect_uri=REDIRECT_URI, state="bench", tenant=tenant["id"]),
        (admin["userPrincipalName"], admin["password"]),
        "accept",
    ).params
    if answer.get("error") or answer.get("admin_consent", "").lower() != "true":
        raise SystemExit(f"admin consent failed: {answer}")
    return settings, tenant["id"]


def set_faults(
    base_url: str, ca: str, tenant_id: str, throttle_rate: float, retry_after: float
) -> None:
    with control(base_url, ca) as api:
        if throttle_rate:
            api.put(
                f"/tenants/{tenant_id}/faults",
                json={
                    "seed": 7,
                    "throttleRate": throttle_rate,
                    "retryAfterSeconds": retry_after,
                },
            ).raise_for_status()
        else:
            api.delete(f"/tenants/{tenant_id}/faults")
        api.delete(f"/tenants/{tenant_id}/stats")


def scan(graph: GraphClient, name: str, items: Callable[[], Iterator[object]]) -> Collection:
    """Enumerate one collection, holding nothing but counters."""
    result = Collection(name)
    before = graph.stats.snapshot()
    page_items = 0
    started = time.perf_counter()
    requests_seen = before.requests
    for _ in items():
        result.items += 1
        page_items += 1
        now = graph.stats.snapshot().requests
        if now != requests_seen:  # a new page arrived
            requests_seen = now
            result.largest_page = max(result.largest_page, page_items - 1)
            page_items = 1
    result.largest_page = max(result.largest_page, page_items)
    result.seconds = time.perf_counter() - started
    after = graph.stats.snapshot()
    result.requests = after.requests - before.requests
    result.throttled = after.throttled - before.throttled
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--base-url", help="a running emulator; default: start one")
    parser.add_argument("--ca", help="its CA file (with --base-url)")
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=0.01)
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="measure time without tracemalloc's overhead"
    )
    parser.add_argument("--json", action="store_true", help="also print a JSON summary")
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.base_url:
            if not args.ca:
                parser.error("--ca is required with --base-url")
            base_url, ca = args.base_url.rstrip("/"), args.ca
        else:
            from m365.emulator.testing import run_emulator

            state = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-emulator-"))
            emu = stack.enter_context(run_emulator(state_dir=state, port=0))
            base_url, ca = emu.base_url, str(emu.ca_path)
        settings, tenant_id = prepare_tenant(base_url, ca, args.users, args.seed)
        set_faults(base_url, ca, tenant_id, args.throttle_rate, args.retry_after)
        tokens = AppTokenProvider(settings)
        tokens.access_token(tenant_id)  # token (and OpenID discovery) outside the timings
        graph = stack.enter_context(
            GraphClient(settings, tenant_id, tokens.source(tenant_id), stats=GraphStats())
        )

        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # after imports, token
        if not args.no_tracemalloc:
            tracemalloc.start()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        results = [
            scan(graph, "users", lambda: iter_users(graph)),
            scan(graph, "groups", lambda: iter_groups(graph)),
            scan(
                graph,
                "sites",
                lambda: iter_sites(graph, include_personal=True, page_size=MAX_PAGE_SIZE),
            ),
        ]
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        # The client's own CPU time: what the scan costs the portal's worker, whatever the
        # emulator (on the same cores) and the machine's other load add to the wall time.
        client_cpu = (
            cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime
        )
        peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        tracemalloc.stop()

    total_items = sum(r.items for r in results)
    stats = graph.stats.snapshot()
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M UTC}  python {platform.python_version()}  "
        f"{platform.machine()}  throttle rate {args.throttle_rate}"
    )
    print(
        f"{'collection':<10} {'items':>8} {'requests':>9} {'throttled':>9} {'min pages':>9} "
        f"{'largest page':>12} {'seconds':>8} {'items/s':>9}"
    )
    for r in results:
        # 999 is Graph's documented maximum `$top` for users and groups; the scan asks
        # getAllSites for 999 too (Microsoft documents no maximum there; the emulator honours it).
        page_size = MAX_PAGE_SIZE
        print(
            f"{r.name:<10} {r.items:>8} {r.requests:>9} {r.throttled:>9} "
            f"{r.minimum_pages(page_size):>9} {r.largest_page:>12} {r.seconds:>8.2f} "
            f"{r.items / r.seconds if r.seconds else 0:>9.0f}"
        )
    print(
        f"total: {total_items} items in {wall:.2f}s = {total_items / wall:.0f} items/s; "
        f"waited {stats.waited_seconds:.2f}s for {stats.throttled} throttled answers "
        f"(Retry-After sum {stats.retry_after_seconds:.2f}s)"
    )
    print(
        f"client CPU during the scan: {client_cpu:.2f}s "
        f"({total_items / client_cpu:.0f} items per client CPU second)"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"peak memory: tracemalloc {peak / 1e6:.2f} MB"
        if peak is not None
        else "peak memory: tracemalloc off",
        end="",
    )
    print(
        f"; ru_maxrss client {own / 1024:.1f} MB (before the scan {baseline / 1024:.1f} MB), "
        f"emulator (children) {children / 1024:.1f} MB"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "results": [r.__dict__ for r in results],
                    "wall": wall,
                    "client_cpu": client_cpu,
                    "tracemalloc_peak": peak,
                    "ru_maxrss_kb": own,
                    "stats": stats.as_dict(),
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
