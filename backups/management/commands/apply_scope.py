from django.core.management.base import BaseCommand

from backups.choices import JobKind
from backups.management.commands._jobs import run_job, tenant_of


class Command(BaseCommand):
    help = (
        "Apply a tenant's protection scope to its Graph policies now; with --follow, stay "
        "until Microsoft has protected every unit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--follow", action="store_true", help="wait for Microsoft here")

    def handle(self, *args, **options):
        run_job(
            self,
            tenant=tenant_of(options["tenant"]),
            kind=JobKind.APPLY_SCOPE,
            follow=options["follow"],
        )
