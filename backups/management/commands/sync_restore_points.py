from django.core.management.base import BaseCommand

from backups.choices import JobKind
from backups.management.commands._jobs import run_job, tenant_of


class Command(BaseCommand):
    help = "Find the latest restore point of every protected unit of a tenant now."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")

    def handle(self, *args, **options):
        run_job(
            self, tenant=tenant_of(options["tenant"]), kind=JobKind.SYNC_RESTORE_POINTS, follow=True
        )
