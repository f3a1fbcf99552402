from django.core.management.base import BaseCommand

from backups.choices import JobKind
from backups.management.commands._jobs import run_job, tenant_of

ONLY = {
    "mailboxes": JobKind.SCAN_MAILBOXES,
    "onedrive": JobKind.SCAN_ONEDRIVE,
    "sites": JobKind.SCAN_SITES,
    "groups": JobKind.SCAN_GROUPS,
    "sizes": JobKind.COLLECT_SIZES,
}


class Command(BaseCommand):
    help = "Scan a tenant's inventory now (a backup job run here, with a progress bar)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--only", choices=sorted(ONLY), help="one part of the inventory")

    def handle(self, *args, **options):
        kind = ONLY[options["only"]] if options["only"] else JobKind.SCAN_INVENTORY
        run_job(self, tenant=tenant_of(options["tenant"]), kind=kind, follow=True)
