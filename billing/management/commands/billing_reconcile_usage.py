from datetime import timedelta

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from billing.management.commands._arguments import iso_day, tenant_ids
from billing.periods import Period, utc_today
from billing.selectors import usage_gaps
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "List billable days (inside a tenant's billing window) without usage records for "
        "[--start, --end); exits non-zero when there are any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", type=iso_day, help="default: BILLING_RECONCILE_DAYS ago")
        parser.add_argument("--end", type=iso_day, help="day after the last; default today")
        parser.add_argument("--tenant", action="append", help="tenant slug (repeatable)")

    def handle(self, *args, start, end, tenant, **options):
        today = utc_today(timezone.now())
        end = end or today
        start = start or end - timedelta(days=settings.BILLING_RECONCILE_DAYS)
        if end <= start:
            raise CommandError("--end must be after --start (the range is [start, end)).")
        gaps = usage_gaps(period=Period(start, end), tenant_ids=tenant_ids(tenant))
        slugs = dict(
            Tenant.objects.filter(pk__in={g.tenant_id for g in gaps}).values_list("pk", "slug")
        )
        for gap in gaps:
            self.stdout.write(
                f"{slugs[gap.tenant_id]}\t{gap.day}\tmissing: {', '.join(gap.missing)}"
            )
        if gaps:
            raise CommandError(
                f"{len(gaps)} billable tenant-day(s) without usage records; backfill with "
                f"`manage.py billing_backfill_usage --start {gaps[0].day} --end {end}`."
            )
        self.stdout.write(f"Every billable day from {start} to {end} (exclusive) is metered.")
