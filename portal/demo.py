"""Demo data in the Microsoft 365 emulator for `make run`.

The emulator plays Microsoft: the seed registers the portal's app there (requiredResourceAccess
from the manifest, redirect URIs of the local portal), creates each demo customer's tenant
with the same Entra id as the portal's tenant, and walks the first customer through the real
consent journey (the portal's views in-process, the emulator's pages over HTTPS), so that
profile is active and Microsoft 365 Backup is enabled when the portal starts. The other demo
customers stay pending consent, for trying the journey in a browser.

Development only: it drives the emulator's pages the way its own tests do.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.test import Client

from m365.emulator.testing import (
    DirectoryUser,
    EmulatorAt,
    EmulatorControl,
    EmulatorControlError,
    RunningEmulator,
    TenantInfo,
    browser_flow,
    run_emulator,
)
from tenants.manifest import required_resource_access
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services.onboarding import app_profile_ensure, consent_request_create

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def emulator_running() -> Iterator[tuple[EmulatorAt | RunningEmulator, EmulatorControl]]:
    """The emulator at M365_EMULATOR_URL, or one started for the seed on its port and state
    directory (honcho's emulator process then reloads that state)."""
    base_url = settings.M365_EMULATOR_URL.rstrip("/")
    ca_path = Path(settings.M365_CA_BUNDLE)
    if ca_path.exists():
        control = EmulatorControl(base_url, ca_path)
        try:
            control.health()
        except httpx.TransportError:
            control.close()
        else:
            try:
                yield EmulatorAt(base_url, ca_path), control
            finally:
                control.close()
            return
    port = urlsplit(base_url).port or 8765
    with run_emulator(state_dir=settings.VAR_DIR / "emulator", port=port) as running:
        yield running, running.control


def portal_redirect_uris() -> list[str]:
    origins = {
        settings.PORTAL_BASE_URL.rstrip("/"),
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://testserver",
    }
    return sorted(
        f"{origin}{path}"
        for origin in origins
        for path in ("/social/complete/azuread-v2-tenant-oauth2/", "/consent/callback/")
    )


def register_portal_app(control: EmulatorControl) -> None:
    control.register_app(
        settings.M365_CLIENT_ID,
        display_name="Cloud Backup Express",
        secret=settings.M365_CLIENT_SECRET,
        owner_tenant_id=settings.M365_MSP_TENANT_ID,
        redirect_uris=portal_redirect_uris(),
        required_resource_access=required_resource_access(),
    )


def emulated_tenant_ensure(
    control: EmulatorControl, tenant: Tenant, *, users: int, seed: int
) -> TenantInfo:
    try:
        return control.get_tenant(str(tenant.entra_tenant_id))
    except EmulatorControlError as exc:
        if exc.status != 404:
            raise
    return control.create_tenant(
        id=str(tenant.entra_tenant_id),
        domain=tenant.primary_domain,
        seed=seed,
        users=users,
        display_name=tenant.name,
    )


def consent_as(
    emulator: EmulatorAt | RunningEmulator, tenant: Tenant, admin: DirectoryUser
) -> bool:
    """Walk the consent journey as the tenant's Global Administrator; True when it succeeded."""
    client = Client()
    link = consent_request_create(by=Principal.system(), tenant=tenant)
    path = urlsplit(link.url).path
    to_microsoft = client.post(path)
    location = to_microsoft["Location"]
    for _ in range(3):
        if location.startswith(emulator.base_url):
            flow = browser_flow(emulator, location, admin, "accept")
            if not flow.location:
                logger.warning("consent for %s stopped on a page: %s", tenant, flow.html[:300])
                return False
            location = flow.location
        parts = urlsplit(location)
        answer = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if answer.status_code != 302:
            return answer.status_code == 200
        location = answer["Location"]
    return client.get(urlsplit(location).path).status_code == 200


def seed_emulator(tenants: list[tuple[Tenant, int, int]], consent_first: int = 1) -> list[str]:
    """Create the demo tenants in the emulator; consent the first `consent_first` of them.
    Returns lines for the seed's summary."""
    from backups.services.backup_service import backup_service_connect

    lines = []
    with emulator_running() as (emulator, control):
        register_portal_app(control)
        for index, (tenant, users, seed) in enumerate(tenants):
            info = emulated_tenant_ensure(control, tenant, users=users, seed=seed)
            profile = app_profile_ensure(by=Principal.system(), tenant=tenant)
            wanted = index < consent_first and profile.consented_at is None
            if wanted and consent_as(emulator, tenant, info.admin):
                backup_service_connect(by=Principal.system(), tenant=tenant)
            profile.refresh_from_db()
            lines.append(
                f"{tenant.name:<22} {info.domain:<30} {profile.get_status_display():<18} "
                f"Global Admin {info.admin.user_principal_name} / {info.admin.password}"
            )
            if index < consent_first and profile.consented_at is not None:
                lines.append(f"{'':<22} backups: {seed_backups(tenant, control)}")
                lines.append(f"{'':<22} billing: {seed_billing(tenant)} (demo history)")
    return lines


# --- backups and billing for the consented demo tenant ---------------------------------------

DEMO_HISTORY_DAYS = 60


def seed_backups(tenant: Tenant, control: EmulatorControl) -> str:
    """Scope everything, scan, apply the scope; the emulator's clock for this tenant is
    advanced so Microsoft's protection finishes now instead of in minutes."""
    from django.core.management import call_command
    from django.utils import timezone

    from backups.choices import JobKind, ScopeMode, Workload
    from backups.models import BackupJob, ProtectionUnit
    from backups.services.jobs import backup_job_start
    from backups.services.scope import protection_scope_set

    if ProtectionUnit.objects.filter(tenant=tenant).exists():
        return "already protected"
    for workload in Workload:
        protection_scope_set(
            by=Principal.system(),
            tenant=tenant,
            workload=workload,
            now=timezone.now(),
            mode=ScopeMode.ALL,
            auto_add_new=True,
        )
    call_command("scan_tenant", tenant=tenant.slug)
    # The scan queued the scope application (the scopes add new resources automatically).
    job = BackupJob.objects.active().filter(tenant=tenant, kind=JobKind.APPLY_SCOPE).first()
    if job is None:
        job, _ = backup_job_start(
            by=Principal.system(),
            tenant=tenant,
            kind=JobKind.APPLY_SCOPE,
            now=timezone.now(),
            enqueue=False,
        )
    job = _run_to_end(job, control, tenant)
    # Microsoft makes the first restore points a while after protection.
    control.advance_clock(60 * 60, str(tenant.entra_tenant_id))
    call_command("sync_restore_points", tenant=tenant.slug)
    protected = ProtectionUnit.objects.filter(tenant=tenant, protected_at__isnull=False).count()
    return f"{protected} units protected ({job.get_state_display().lower()}), restore points synced"


def _run_to_end(job, control: EmulatorControl, tenant: Tenant):
    """Run a job here step by step; while it waits for Microsoft, move the emulator's clock
    for this tenant forward instead of waiting (demo only)."""
    import time

    from django.utils import timezone

    from backups.choices import ACTIVE_JOB_STATES
    from backups.services.jobs import LeaseHeld, RetryLater, backup_job_run

    for _ in range(60):
        job.refresh_from_db()
        if job.state not in ACTIVE_JOB_STATES:
            break
        when = max(timezone.now(), job.next_run_at or timezone.now())
        try:
            backup_job_run(job_id=job.pk, now=when)
        except (RetryLater, LeaseHeld):
            time.sleep(1)
        control.advance_clock(5 * 60, str(tenant.entra_tenant_id))
    return job


def seed_billing(tenant: Tenant, history_days: int = DEMO_HISTORY_DAYS) -> str:
    """A plan, the tenant's subscription and `history_days` of metered usage, then last
    month's invoice finalized. DEMO SHORTCUT: the tenant's enablement and its units'
    protection dates are moved `history_days` back so that metering has a history to show;
    the usage itself is metered by the real service (at today's sizes)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from backups.models import BackupService, ProtectionUnit
    from billing.models import Invoice, Plan, Subscription
    from billing.periods import Period
    from billing.services.invoice_run import invoice_run_create, invoice_run_execute
    from billing.services.invoicing import invoice_finalize
    from billing.services.metering import usage_backfill
    from billing.services.plans import plan_create, subscription_create

    system = Principal.system()
    now = timezone.now()
    plan = Plan.objects.filter(name="Standard (per GB)").first() or plan_create(
        by=system,
        name="Standard (per GB)",
        description="Per GB-month of protected data, first 50 GB included, USD 25 minimum.",
        prices=[{"up_to": None, "unit_price": Decimal("0.12")}],
        included_quantity=Decimal(50),
        minimum_fee_minor=2500,
    )
    Plan.objects.filter(name="Seats").exists() or plan_create(
        by=system,
        name="Seats",
        kind="per_user",
        description="Per protected user: mailbox, OneDrive and site.",
        prices=[{"up_to": None, "unit_price": Decimal("2.50")}],
    )
    service = BackupService.objects.filter(tenant=tenant, enabled_at__isnull=False).first()
    if service is None:
        return "backup service not enabled: no billing demo"
    start = (now - timedelta(days=history_days)).replace(hour=0, minute=0, second=0, microsecond=0)
    if service.enabled_at > start:
        BackupService.objects.filter(pk=service.pk).update(enabled_at=start)
        ProtectionUnit.objects.filter(tenant=tenant, protected_at__isnull=False).update(
            protected_at=start, requested_at=start
        )
    first_month = Period.month_of(start.date())
    if not Subscription.objects.filter(tenant=tenant).exists():
        subscription_create(
            by=system, tenant=tenant, plan=plan, starts_on=first_month.start, now=now
        )
    usage_backfill(by=system, period=Period(start.date(), now.date()), now=now)
    last_month = Period.month_of(now.date().replace(day=1) - timedelta(days=1))
    run, _ = invoice_run_create(by=system, period_start=last_month.start, now=now)
    invoice_run_execute(run=run, now=now)
    for invoice in Invoice.objects.filter(
        tenant=tenant, period_start=last_month.start, status="draft"
    ):
        invoice_finalize(by=system, invoice=invoice, now=now)
    invoices = Invoice.objects.filter(tenant=tenant).count()
    return f"{history_days} days metered, {invoices} invoice(s)"
