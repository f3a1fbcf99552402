from django.core.management import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from billing import services
from billing.management.commands._arguments import iso_day, tenant_ids
from billing.periods import Period
from tenants.principals import Principal


class Command(BaseCommand):
    help = (
        "Meter usage for the days [--start, --end) (UTC). Days already recorded are left "
        "alone unless --overwrite. Drafts of the months touched are recomputed afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=iso_day, help="first day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, type=iso_day, help="day after the last")
        parser.add_argument("--tenant", action="append", help="tenant slug (repeatable)")
        parser.add_argument(
            "--overwrite", action="store_true", help="re-read days that have records"
        )
        parser.add_argument(
            "--no-redraft", action="store_true", help="do not recompute affected drafts"
        )

    def handle(self, *args, start, end, tenant, overwrite, no_redraft, **options):
        if end <= start:
            raise CommandError("--end must be after --start (the range is [start, end)).")
        now = timezone.now()
        system = Principal.system()
        days = Period(start, end)
        # tqdm redraws with "\r": give it the raw stream, not the line-ending OutputWrapper.
        with tqdm(total=days.days, unit="day", file=self.stderr._out, ascii=True) as bar:

            def advance(result):
                bar.set_postfix_str(f"{result.day} {result.records} rec")
                bar.update(1)

            results = services.usage_backfill(
                by=system,
                period=days,
                now=now,
                overwrite=overwrite,
                tenant_ids=tenant_ids(tenant),
                progress=advance,
            )
            bar.update(days.days - bar.n)  # days not over yet count as done
        written = sum(r.records for r in results)
        self.stdout.write(f"{len(results)} day(s) metered, {written} record(s) written.")
        if not no_redraft:
            runs = services.invoice_runs_for_usage_change(
                by=system, days=[r.day for r in results if r.records], now=now
            )
            for run in runs:
                self.stdout.write(f"Drafts of {run.period_start:%Y-%m} are being recomputed.")
