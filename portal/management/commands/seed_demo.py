"""Demo data for `make run`: an MSP admin, staff in each role, a few customer tenants with
their users. Idempotent: a second run changes nothing and prints the same credentials."""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.demo import seed_emulator
from portal.devsecrets import dev_secret
from tenants import services
from tenants.choices import MembershipRole, StaffRole
from tenants.models import Membership, Tenant
from tenants.principals import Principal

# (name, slug, domain, users in the emulated tenant, generator seed). Entra tenant ids
# derive from the domain; the emulator's tenants are created with the same ids.
DEMO_TENANTS = [
    ("Contoso Ltd", "contoso", "contoso.onmicrosoft.com", 60, 11),
    ("Fabrikam Inc", "fabrikam", "fabrikam.onmicrosoft.com", 25, 12),
    ("Northwind Traders", "northwind", "northwind.onmicrosoft.com", 40, 13),
]


def demo_tenant_id(domain: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_DNS, domain)


class Command(BaseCommand):
    help = (
        "Create demo staff, tenants and customer users, and their Microsoft 365 tenants in the "
        "emulator (idempotent), and print the sign-ins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-emulator", action="store_true", help="Only the portal's own rows."
        )

    def handle(self, *args, no_emulator=False, **options):
        system = Principal.system()
        User = get_user_model()
        password = dev_secret(settings.VAR_DIR, "demo_password")[:16]
        rows = []
        with transaction.atomic():
            services.staff_roles_sync()
            admin, created = User.objects.get_or_create(
                username="msp-admin", defaults={"email": "msp-admin@msp.example"}
            )
            if created:
                admin.is_superuser = True
                admin.set_password(password)
                admin.save()
            services.staff_user_set_roles(by=system, user=admin, roles=[StaffRole.MSP_ADMIN])
            rows.append(("MSP admin", "msp-admin", "/admin/"))
            for role in (StaffRole.OPERATOR, StaffRole.BILLING):
                username = f"msp-{role.value}"
                user, created = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@msp.example"}
                )
                if created:
                    user.set_password(password)
                    user.save()
                    services.staff_user_set_roles(by=system, user=user, roles=[role])
                rows.append((role.label, username, "/admin/"))

            demo_tenants = []
            for name, slug, domain, users, seed in DEMO_TENANTS:
                tenant = Tenant.objects.filter(slug=slug).first() or services.tenant_create(
                    by=system,
                    name=name,
                    slug=slug,
                    entra_tenant_id=demo_tenant_id(domain),
                    primary_domain=domain,
                )
                for local, role in (
                    ("it-admin", MembershipRole.CUSTOMER_ADMIN),
                    ("finance", MembershipRole.CUSTOMER_VIEWER),
                ):
                    email = f"{local}@{slug}.example"
                    user = User.objects.filter(username=email).first()
                    if user is None:
                        user = User.objects.create_user(
                            username=email, email=email, password=password
                        )
                    if not Membership.objects.filter(user=user, tenant=tenant).exists():
                        services.membership_add(by=system, tenant=tenant, user=user, role=role)
                    rows.append((f"{name} ({role.label.lower()})", email, f"/t/{slug}/"))
                demo_tenants.append((tenant, users, seed))

        microsoft = [] if no_emulator else seed_emulator(demo_tenants)

        self.stdout.write(f"\nDemo sign-ins (password for every account: {password})\n")
        for label, username, where in rows:
            self.stdout.write(f"  {label:<40} {username:<32} {where}")
        if microsoft:
            self.stdout.write(
                "\nCustomer tenants in the Microsoft 365 emulator (sign in on its pages with these):"
            )
            for line in microsoft:
                self.stdout.write(f"  {line}")
        self.stdout.write("")
