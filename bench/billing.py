"""Benchmark: the monthly invoice run over 10,000 tenants x 3 workloads x 31 days.

Builds the data directly (bulk inserts: tenants, enabled backup services, plans and a
subscription for every tenant, 930,000 usage records), then times the invoice run and a
second run over the same month (drafts recomputed), counting the SQL queries each issues,
and compares them with the floor: one SQL aggregation over the same usage rows.

Run it against a PostgreSQL database of its own (created if missing; its billing and tenant
tables are emptied first):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_billing \\
        .venv/bin/python bench/billing.py [--tenants 10000] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

MONTH_START = date(2026, 3, 1)
WORKLOADS = ("exchange", "onedrive", "sharepoint")
GIB = 1024**3


def ensure_database() -> None:
    """Create the benchmark database if it does not exist (PostgreSQL only)."""
    import environ
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (see the docstring).")
    config = environ.Env.db_url_config(url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


@contextmanager
def counting(connection):
    """Count the SQL statements run inside the block."""
    counter = {"queries": 0}

    def wrapper(execute, sql, params, many, context):
        counter["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def build(tenants: int) -> None:
    from django.db import connection, transaction

    from backups.models import BackupService
    from billing.models import Plan, PlanPrice, Subscription, UsageRecord
    from tenants.models import Tenant

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_invoiceline, billing_creditnote, billing_invoice, "
            "billing_invoicerun, billing_usagerecord, billing_subscription, billing_planprice, "
            "billing_plan, billing_usagealertnotice, billing_usagealert, "
            "billing_documentsequence, backups_backupservice, tenants_auditevent, "
            "tenants_membership, tenants_tenant RESTART IDENTITY CASCADE"
        )
    rng = random.Random(20260301)
    started = time.perf_counter()
    with transaction.atomic():
        plans = [
            Plan.objects.create(name="Flat USD 0.10", currency="USD"),
            Plan.objects.create(
                name="Tiered with allowance and minimum",
                currency="USD",
                included_quantity=Decimal(50),
                minimum_fee_minor=2500,
            ),
            Plan.objects.create(name="Per workload, peak", currency="EUR", quantity_rule="peak"),
            Plan.objects.create(name="Per user", kind="per_user", currency="USD"),
        ]
        PlanPrice.objects.bulk_create(
            [
                PlanPrice(plan=plans[0], unit_price=Decimal("0.10")),
                PlanPrice(plan=plans[1], up_to=Decimal(100), unit_price=Decimal("0.12")),
                PlanPrice(plan=plans[1], up_to=Decimal(1000), unit_price=Decimal("0.09")),
                PlanPrice(plan=plans[1], unit_price=Decimal("0.07")),
                PlanPrice(plan=plans[2], workload="exchange", unit_price=Decimal("0.08")),
                PlanPrice(plan=plans[2], workload="onedrive", unit_price=Decimal("0.10")),
                PlanPrice(plan=plans[2], workload="sharepoint", unit_price=Decimal("0.12")),
                PlanPrice(plan=plans[3], unit_price=Decimal("2.50")),
            ]
        )
        rows = Tenant.objects.bulk_create(
            [
                Tenant(
                    name=f"Bench {n:05d}",
                    slug=f"bench-{n:05d}",
                    entra_tenant_id=uuid.UUID(int=n + 1),
                    primary_domain=f"bench-{n:05d}.onmicrosoft.com",
                    status="active",
                )
                for n in range(tenants)
            ],
            batch_size=5000,
        )
        services, subscriptions = [], []
        for index, tenant in enumerate(rows):
            # Most tenants all month; some enabled or offboarded mid-month.
            enabled = datetime(2025, 6, 1, tzinfo=UTC)
            ends = None
            if index % 20 == 1:
                enabled = datetime(2026, 3, 12, 9, tzinfo=UTC)
            elif index % 20 == 2:
                ends = datetime(2026, 3, 20, 9, tzinfo=UTC)
            services.append(
                BackupService(
                    tenant=tenant, status="enabled", enabled_at=enabled, billing_ends_at=ends
                )
            )
            plan = plans[index % len(plans)]
            if index % 10 == 3:  # a plan change on the 16th
                subscriptions += [
                    Subscription(
                        tenant=tenant,
                        plan=plans[0],
                        starts_on=date(2025, 6, 1),
                        ends_on=date(2026, 3, 16),
                    ),
                    Subscription(tenant=tenant, plan=plans[1], starts_on=date(2026, 3, 16)),
                ]
            else:
                subscriptions.append(
                    Subscription(tenant=tenant, plan=plan, starts_on=date(2025, 6, 1))
                )
        BackupService.objects.bulk_create(services, batch_size=5000)
        Subscription.objects.bulk_create(subscriptions, batch_size=5000)
    print(f"tenants, services, plans, subscriptions: {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    batch = []
    recorded_at = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
    for tenant in rows:
        base = {w: rng.randint(1, 2000) * GIB for w in WORKLOADS}
        users = rng.randint(1, 300)
        for offset in range(31):
            day = MONTH_START + timedelta(days=offset)
            if tenant.pk % 97 == 0 and offset == 9:
                continue  # a few missing days, carried by the run
            for workload in WORKLOADS:
                batch.append(
                    UsageRecord(
                        tenant_id=tenant.pk,
                        workload=workload,
                        day=day,
                        protected_bytes=base[workload] + offset * 50 * 1024**2,
                        protected_units=users,
                        protected_users=users if workload == "exchange" else 0,
                        recorded_at=recorded_at,
                    )
                )
            if len(batch) >= 30000:
                UsageRecord.objects.bulk_create(batch)
                batch.clear()
    UsageRecord.objects.bulk_create(batch)
    count = UsageRecord.objects.count()
    print(f"usage records: {count:,} in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run(batch_size: int) -> None:
    from django.db import connection

    from billing import services
    from billing.models import Invoice, InvoiceLine, InvoiceRun

    def one_run(label: str):
        now = datetime(2026, 4, 1, 2, tzinfo=UTC)
        invoice_run = InvoiceRun.objects.create(period_start=MONTH_START, created_at=now)
        with counting(connection) as counter:
            started = time.perf_counter()
            result = services.invoice_run_execute(run=invoice_run, now=now, batch_size=batch_size)
            seconds = time.perf_counter() - started
        print(
            f"{label}: {seconds:.2f} s, {counter['queries']} queries "
            f"({counter['queries'] / max(result.total, 1) * 1000:.1f} per 1,000 tenants); "
            f"tenants {result.total:,}, created {result.created_count:,}, "
            f"recomputed {result.refreshed_count:,}"
        )
        return seconds, counter["queries"]

    first_seconds, first_queries = one_run("invoice run")
    print(
        f"  invoices {Invoice.objects.count():,}, lines {InvoiceLine.objects.count():,}, "
        f"total USD {sum(Invoice.objects.filter(currency='USD').values_list('total_minor', flat=True)) / 100:,.2f}"
    )
    second_seconds, _ = one_run("invoice run again")

    floors = []
    with connection.cursor() as cursor:
        for _ in range(3):  # best of three: the floor is what the database can do at best
            started = time.perf_counter()
            cursor.execute(
                "SELECT tenant_id, workload, SUM(protected_bytes), MAX(protected_bytes), "
                "COUNT(*) FROM billing_usagerecord WHERE day >= %s AND day < %s "
                "GROUP BY tenant_id, workload",
                [MONTH_START, date(2026, 4, 1)],
            )
            groups = len(cursor.fetchall())
            floors.append(time.perf_counter() - started)
    floor = min(floors)
    print(
        f"floor (one SQL aggregation over the same rows, {groups:,} groups, best of 3): {floor:.3f} s"
    )
    print(f"ratio run / floor: {first_seconds / floor:.0f}x (again: {second_seconds / floor:.0f}x)")
    print(f"queries: {first_queries} for the whole run (floor: 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500, help="tenants per transaction")
    parser.add_argument("--keep", action="store_true", help="reuse the data of a previous run")
    options = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    if not options.keep:
        build(options.tenants)
    run(options.batch_size)


if __name__ == "__main__":
    main()
