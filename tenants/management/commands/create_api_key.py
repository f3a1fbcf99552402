from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.models import Tenant
from tenants.principals import Principal


class Command(BaseCommand):
    help = "Create an API key and print it once. Without --tenant the key reaches every tenant."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="What the key is for (max 50 chars).")
        parser.add_argument("--tenant", metavar="SLUG", help="Limit the key to this tenant.")
        parser.add_argument("--read-only", action="store_true", help="Refuse writes.")

    def handle(self, *args, name, tenant, read_only, **options):
        if not name.strip() or len(name) > 50:
            raise CommandError("--name must be 1 to 50 characters.")
        owner = None
        if tenant:
            try:
                owner = Tenant.objects.get(slug=tenant)
            except Tenant.DoesNotExist as exc:
                raise CommandError(f"No tenant with slug {tenant!r}.") from exc
        api_key, plaintext = services.api_key_create(
            by=Principal.system(), name=name, tenant=owner, read_only=read_only
        )
        scope = owner.slug if owner else "all tenants (MSP)"
        mode = "read-only" if read_only else "read-write"
        self.stderr.write(f"Created {mode} key {api_key.prefix} for {scope}. It is shown once:")
        self.stdout.write(plaintext)
