"""MSP staff roles: Django groups holding each role's permissions."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import models, transaction

from tenants.choices import StaffRole
from tenants.principals import Principal
from tenants.services.audit import audit_record

# Permissions of each staff role as (app_label, codename prefix or full codename) pairs.
# MSP admins hold every permission of the portal's apps; operators run tenants and backups;
# billing staff run billing and read the rest.
PORTAL_APPS = ("tenants", "backups", "billing", "django_celery_beat")
STAFF_ROLE_PERMISSIONS: dict[str, Iterable[tuple[str, str]]] = {
    StaffRole.MSP_ADMIN: [(app, "") for app in PORTAL_APPS] + [("auth", "")],
    StaffRole.OPERATOR: [
        ("tenants", "view_"),
        ("tenants", "add_tenant"),
        ("tenants", "change_tenant"),
        ("tenants", "add_membership"),
        ("tenants", "change_membership"),
        ("tenants", "delete_membership"),
        ("tenants", "change_appprofile"),
        ("tenants", "add_consentrequest"),
        ("backups", ""),
        ("billing", "view_"),
    ],
    StaffRole.BILLING: [
        ("tenants", "view_tenant"),
        ("tenants", "view_membership"),
        ("backups", "view_"),
        ("billing", ""),
    ],
}


def staff_roles_sync() -> None:
    """Create or update the staff role groups with their permissions (idempotent)."""
    for role, grants in STAFF_ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=StaffRole(role).label)
        query = models.Q(pk__in=[])
        for app_label, prefix in grants:
            query |= models.Q(content_type__app_label=app_label, codename__startswith=prefix)
        group.permissions.set(Permission.objects.filter(query))


def staff_user_set_roles(*, by: Principal, user: AbstractBaseUser, roles: Iterable[str]) -> None:
    """Make `user` MSP staff holding exactly `roles`."""
    with transaction.atomic():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        groups = Group.objects.filter(name__in=[StaffRole(r).label for r in roles])
        user.groups.set(groups)
        audit_record(by=by, action="staff.roles_set", target=user, details={"roles": sorted(roles)})
