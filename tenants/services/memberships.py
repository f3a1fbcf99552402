"""Writes of memberships: who may use a tenant's customer pages, with which role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from tenants.exceptions import Conflict
from tenants.models import Membership, Tenant
from tenants.principals import Principal
from tenants.services.audit import audit_record


@transaction.atomic
def membership_create(
    *, by: Principal, tenant: Tenant, email: str, role: str, full_name: str = ""
) -> Membership:
    """Give the user with `email` a role in `tenant`, creating the user if needed.

    A new user gets no usable password; they choose one through a password-reset link.
    """
    User = get_user_model()
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        first, _, last = full_name.strip().partition(" ")
        user = User(username=email[:150], email=email, first_name=first[:150], last_name=last[:150])
        user.set_unusable_password()
        user.save()
    return membership_add(by=by, tenant=tenant, user=user, role=role)


@transaction.atomic
def membership_add(
    *, by: Principal, tenant: Tenant, user: AbstractBaseUser, role: str
) -> Membership:
    """Give an existing user a role in `tenant`. MSP staff cannot be customer members."""
    if user.is_staff:
        raise Conflict("MSP staff accounts cannot be customer members.", field="email")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, tenant=tenant, role=role)
    except IntegrityError as exc:
        raise Conflict("This user is already a member of this tenant.", field="email") from exc
    audit_record(
        by=by,
        action="membership.created",
        tenant=tenant,
        target=membership,
        details={"user": user.get_username(), "role": role},
    )
    return membership


@transaction.atomic
def membership_update(*, by: Principal, membership: Membership, role: str) -> Membership:
    if membership.role == role:
        return membership
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        by=by,
        action="membership.updated",
        tenant=membership.tenant,
        target=membership,
        details={"role": {"from": previous, "to": role}},
    )
    return membership


@transaction.atomic
def membership_delete(*, by: Principal, membership: Membership) -> None:
    audit_record(
        by=by,
        action="membership.deleted",
        tenant=membership.tenant,
        target=membership,
        details={"user": membership.user.get_username(), "role": membership.role},
    )
    membership.delete()
