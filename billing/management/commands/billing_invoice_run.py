from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from billing import services
from billing.choices import InvoiceRunStatus
from billing.exceptions import DomainError
from billing.periods import Period
from tenants.principals import Principal


class Command(BaseCommand):
    help = (
        "Run the invoicing of one month here and now (what beat starts on the first of the "
        "month): drafts created or recomputed, never a second invoice per tenant and month."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM, a month that is over")
        parser.add_argument("--batch-size", type=int, help="tenants per transaction")

    def handle(self, *args, month, batch_size, **options):
        try:
            period = Period.parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        now = timezone.now()
        try:
            run, created = services.invoice_run_create(
                by=Principal.system(), period_start=period.start, now=now
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if not created and run.status == InvoiceRunStatus.RUNNING:
            raise CommandError(f"The run for {period.label} is already running (run {run.pk}).")
        run = services.invoice_run_execute(run=run, now=now, batch_size=batch_size)
        self.stdout.write(
            f"{run}: {run.total} tenant(s), {run.created_count} draft(s) created, "
            f"{run.refreshed_count} recomputed, {run.skipped_count} already issued."
        )
