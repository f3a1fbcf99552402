"""Benchmark: a full inventory scan plus scope application of a large emulated tenant, run
by the portal's own job code into PostgreSQL (a database of its own), against the time the
Graph client alone needs to page through the same data.

    python bench/scan.py                         # 100,000 users, starts its own emulator
    python bench/scan.py --users 10000 --tracemalloc
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_scan python bench/scan.py

Prints wall time, items per second, database queries and peak memory of each phase, and
the ratio of the scan's wall time to the client's bare paging time. The tenant is consented
through the emulator's own admin-consent pages (driven over HTTPS, no browser); the app
profile and the backup service are then recorded as active directly (the consent journey
itself is not what is measured here).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP_ID = "7d2f1c3e-5a6b-4c8d-9e0f-b0a0c0d0e0f0"
APP_SECRET = "bench-secret"
MSP_TENANT = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
REDIRECT_URI = "https://portal.bench.invalid/consent/callback/"


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    items: int = 0
    queries: int = 0
    requests: int = 0
    throttled: int = 0
    peak_python_mb: float | None = None
    notes: list[str] = field(default_factory=list)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def measured(phase: Phase, use_tracemalloc: bool):
    from django.db import connection

    counter = QueryCounter()
    if use_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        yield
    phase.seconds = time.perf_counter() - started
    phase.queries = counter.count
    if use_tracemalloc:
        phase.peak_python_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident size (Linux: VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ensure_database(url: str) -> None:
    """Create the bench's own database when missing."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=0.01)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="measure peak Python allocations per phase (slows everything down)",
    )
    parser.add_argument("--skip-scope", action="store_true")
    args = parser.parse_args()

    url = os.environ.setdefault(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_scan"
    )
    if not url.startswith("postgres"):
        parser.error("the bench runs on PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)

    with ExitStack() as stack:
        from m365.emulator.testing import admin_consent, run_emulator

        state = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-scan-emulator-"))
        emulator = stack.enter_context(run_emulator(state_dir=state, port=0))
        os.environ.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            M365_LOGIN_BASE_URL=emulator.base_url,
            M365_GRAPH_BASE_URL=emulator.base_url,
            M365_CA_BUNDLE=str(emulator.ca_path),
            M365_CLIENT_ID=APP_ID,
            M365_CLIENT_SECRET=APP_SECRET,
            M365_MSP_TENANT_ID=MSP_TENANT,
            CELERY_TASK_ALWAYS_EAGER="true",
            LOG_LEVEL="WARNING",
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return run(args, emulator, admin_consent)


def run(args, emulator, admin_consent) -> int:
    from django.db import connection
    from django.utils import timezone

    from backups.choices import (
        BackupServiceStatus,
        JobKind,
        ProtectionUnitStatus,
        ScopeMode,
        ServiceAppStatus,
        Workload,
    )
    from backups.models import BackupJob, BackupService, ProtectionUnit, Resource
    from backups.services.jobs import RetryLater, backup_job_start
    from backups.services.jobs import backup_job_run as run_once

    def backup_job_run(**kwargs):
        """Like the Celery task: a transient failure (throttling beyond the client's
        attempts) is retried after the delay asked; the job resumes from its checkpoint."""
        while True:
            try:
                return run_once(**kwargs)
            except RetryLater as exc:
                print(f"  retry in {exc.countdown:.1f}s: {exc.message}", flush=True)
                time.sleep(exc.countdown)

    from backups.services.scope import protection_scope_set
    from m365.directory.groups import GROUP_FIELDS
    from m365.directory.sites import SITE_FIELDS
    from m365.directory.users import USER_FIELDS
    from m365.reports import (
        ReportPeriod,
        iter_mailbox_usage,
        iter_onedrive_usage,
        iter_sharepoint_site_usage,
    )
    from tenants.choices import AppProfileStatus, TenantStatus
    from tenants.graph import app_graph
    from tenants.manifest import required_resource_access
    from tenants.models import AppProfile, Tenant
    from tenants.principals import Principal

    control = emulator.control
    control.register_app(
        APP_ID,
        display_name="Cloud Backup Express (bench)",
        secret=APP_SECRET,
        owner_tenant_id=MSP_TENANT,
        redirect_uris=[REDIRECT_URI],
        required_resource_access=required_resource_access(),
    )
    started = time.perf_counter()
    info = control.create_tenant(
        domain=f"bench{uuid.uuid4().hex[:8]}.example.com",
        seed=args.seed,
        users=args.users,
        id=str(uuid.uuid4()),
    )
    print(
        f"emulated tenant {info.id}: {info.users:,} users, {info.groups:,} groups, "
        f"{info.sites:,} plain sites (created in {time.perf_counter() - started:.2f}s)",
        flush=True,
    )
    consent = admin_consent(emulator, info.id, APP_ID, REDIRECT_URI, info.admin)
    if consent.error or consent.params.get("admin_consent") != "True":
        raise SystemExit(f"admin consent failed: {consent}")
    control.set_controller(info.id, app_id=APP_ID, display_name="Cloud Backup Express (bench)")
    if args.throttle_rate:
        control.set_faults(
            info.id, seed=7, throttle_rate=args.throttle_rate, retry_after_seconds=args.retry_after
        )

    slug = f"bench-{info.id[:8]}"
    tenant = Tenant.objects.create(
        name=f"Bench {args.users}",
        slug=slug,
        entra_tenant_id=info.id,
        primary_domain=info.domain,
        status=TenantStatus.ACTIVE,
    )
    AppProfile.objects.create(tenant=tenant, status=AppProfileStatus.ACTIVE)
    BackupService.objects.create(
        tenant=tenant,
        status=BackupServiceStatus.ENABLED,
        service_app_id=APP_ID,
        service_app_status=ServiceAppStatus.ACTIVE,
        enabled_at=timezone.now(),
    )
    with app_graph(tenant) as graph:
        graph.get("/organization")  # token and discovery outside the timings

    # 1. The client alone: every page the scan reads, parsed, nothing kept.
    bare = Phase("client paging")
    with measured(bare, args.tracemalloc), app_graph(tenant) as graph:
        for path, select in (
            ("/users", USER_FIELDS),
            ("/groups", GROUP_FIELDS),
            ("/sites/getAllSites", SITE_FIELDS),
        ):
            params = {"$select": ",".join(select), "$top": "999"}
            for page in graph.iter_pages(path, params):
                bare.items += len(page.items)
        for rows in (iter_mailbox_usage, iter_onedrive_usage, iter_sharepoint_site_usage):
            for _ in rows(graph, period=ReportPeriod.D7):
                bare.items += 1
        bare.requests, bare.throttled = graph.stats.requests, graph.stats.throttled
    print(f"client paging done: {bare.items:,} items in {bare.seconds:.1f}s", flush=True)

    # 2. The scan job, in this process, into PostgreSQL.
    scan = Phase("inventory scan")
    job, _ = backup_job_start(
        by=Principal.system(),
        tenant=tenant,
        kind=JobKind.SCAN_INVENTORY,
        now=timezone.now(),
        enqueue=False,
    )
    with measured(scan, args.tracemalloc):
        backup_job_run(job_id=job.pk)
    job.refresh_from_db()
    scan.items = sum(
        job.summary.get(k, 0)
        for k in ("users", "groups", "sites", "mailbox_sizes", "onedrive_sizes", "site_sizes")
    )
    scan.notes.append(f"job {job.state}: {job.log[-1]['message'] if job.log else ''}")
    resources = Resource.objects.filter(tenant=tenant).count()
    scan.notes.append(f"{resources:,} resource rows")
    print(f"scan done in {scan.seconds:.1f}s", flush=True)
    phases = [bare, scan]

    if not args.skip_scope:
        # 3. Scope application: everything protected; submission, then Microsoft's clock moves
        # on and the job follows the units to `protected`.
        for workload in Workload:
            protection_scope_set(
                by=Principal.system(),
                tenant=tenant,
                workload=workload,
                now=timezone.now(),
                mode=ScopeMode.ALL,
            )
        submit = Phase("scope: submit")
        job, _ = backup_job_start(
            by=Principal.system(),
            tenant=tenant,
            kind=JobKind.APPLY_SCOPE,
            now=timezone.now(),
            enqueue=False,
        )
        with measured(submit, args.tracemalloc):
            backup_job_run(job_id=job.pk)
        job.refresh_from_db()
        submit.items = job.progress_total or 0
        submit.notes.append(
            f"job {job.state}, {len(set(ProtectionUnit.objects.filter(tenant=tenant).exclude(bulk_job_id='').values_list('bulk_job_id', flat=True)))} bulk addition jobs"
        )
        print(f"scope submitted in {submit.seconds:.1f}s", flush=True)
        follow = Phase("scope: follow")
        # Bulk jobs resolve after 60 s + 30 s per thousand ids, units protect 60 s later.
        control.advance_clock(60 + 30 * 10 + 120, info.id)
        polls = 0
        with measured(follow, args.tracemalloc):
            while job.state == "running" and polls < 5:
                backup_job_run(job_id=job.pk, now=job.next_run_at or timezone.now())
                job.refresh_from_db()
                polls += 1
        follow.items = ProtectionUnit.objects.filter(
            tenant=tenant, status=ProtectionUnitStatus.PROTECTED
        ).count()
        follow.notes.append(
            f"job {job.state} after {polls} poll(s): {job.log[-1]['message'] if job.log else ''}"
        )
        phases += [submit, follow]

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emulator_rss = peak_rss_mb(emulator._process.pid) if emulator._process else 0.0
    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}  {platform.node()}  python {platform.python_version()}  "
        f"{os.cpu_count()} cores  PostgreSQL {connection.pg_version // 10000}  users {args.users:,}  "
        f"throttle rate {args.throttle_rate}"
    )
    print(
        f"{'phase':<16} {'seconds':>9} {'items':>9} {'items/s':>9} {'queries':>8} "
        f"{'items/query':>11} {'peak MB':>8}"
    )
    for p in phases:
        per_query = f"{p.items / p.queries:.0f}" if p.queries else "-"
        peak = f"{p.peak_python_mb:.1f}" if p.peak_python_mb is not None else "-"
        rate = p.items / p.seconds if p.seconds else 0
        print(
            f"{p.name:<16} {p.seconds:>9.1f} {p.items:>9,} {rate:>9,.0f} {p.queries:>8,} {per_query:>11} {peak:>8}"
        )
        for note in p.notes:
            print(f"{'':<16} {note}")
    print(
        f"scan / client paging: {scan.seconds / bare.seconds:.2f}x  "
        f"(client alone: {bare.requests} requests, {bare.throttled} throttled)"
    )
    print(
        f"peak RSS: this process {rss:.0f} MB, emulator {emulator_rss:.0f} MB"
        f"{'' if args.tracemalloc else ' (run with --tracemalloc for peak Python allocations per phase)'}"
    )
    jobs = BackupJob.objects.filter(tenant=tenant).count()
    print(f"{jobs} jobs recorded; database {connection.settings_dict['NAME']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
