"""Celery tasks of billing: thin wrappers that load rows by id and call one service.

All run on the `billing` queue (`CELERY_TASK_ROUTES`), are acknowledged late and are safe
to run twice: metering upserts, the invoice run never doubles an invoice, finalization
skips what is no longer a draft, alert notices are unique per alert and month.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from billing import services
from billing.models import InvoiceRun
from billing.periods import Period, utc_today
from billing.selectors import usage_gaps
from tenants.notifications import msp_recipients
from tenants.principals import Principal

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def usage_meter_yesterday() -> int:
    """Meter the UTC day that just ended (beat, shortly after midnight UTC)."""
    now = timezone.now()
    result = services.usage_meter_day(
        by=Principal.system(), day=utc_today(now) - timedelta(days=1), now=now
    )
    return result.records


@shared_task(ignore_result=True)
def usage_backfill(start: str, end: str, overwrite: bool = False) -> int:
    """Meter the days `[start, end)` (ISO dates), then refresh drafts of those months."""
    now = timezone.now()
    period = Period(date.fromisoformat(start), date.fromisoformat(end))
    system = Principal.system()
    results = services.usage_backfill(by=system, period=period, now=now, overwrite=overwrite)
    written = [r.day for r in results if r.records]
    services.invoice_runs_for_usage_change(by=system, days=written, now=now)
    return sum(r.records for r in results)


@shared_task(ignore_result=True)
def invoices_monthly() -> int:
    """Start the run for the month before (beat, on the first of the month)."""
    now = timezone.now()
    previous = Period.month_of(utc_today(now)).previous_month()
    return services.invoice_run_start(
        by=Principal.system(), period_start=previous.start, now=now
    ).pk


@shared_task(ignore_result=True, acks_late=True)
def invoice_run_execute(run_id: int) -> None:
    run = InvoiceRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("invoice run %s is gone", run_id)
        return
    services.invoice_run_execute(run=run, now=timezone.now())


@shared_task(ignore_result=True)
def invoices_finalize_due() -> int:
    """Finalize drafts whose grace period is over (beat, daily)."""
    return len(services.invoices_finalize_due(by=Principal.system(), now=timezone.now()))


@shared_task(ignore_result=True)
def usage_alerts_check() -> int:
    """Send the customer alerts whose threshold is crossed (beat, daily after metering)."""
    return len(services.usage_alerts_check(now=timezone.now()))


@shared_task(ignore_result=True)
def usage_reconcile() -> int:
    """Look for billable days without a usage record and tell the MSP (beat, daily)."""
    today = utc_today(timezone.now())
    period = Period(today - timedelta(days=settings.BILLING_RECONCILE_DAYS), today)
    gaps = usage_gaps(period=period)
    recipients = msp_recipients()
    if gaps and recipients:
        tenants = len({g.tenant_id for g in gaps})
        send_mail(
            subject=f"Billing: {len(gaps)} billable day(s) without usage records",
            message=(
                f"{len(gaps)} billable tenant-day(s) of {tenants} tenant(s) between "
                f"{period.label} have no usage record. Open Billing → Usage records → "
                "Reconciliation in the admin to see them and backfill."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    if gaps:
        logger.warning("billing reconciliation: %d tenant-days without usage records", len(gaps))
    return len(gaps)
