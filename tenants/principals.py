"""Who is acting: MSP staff, a customer user, an API key, the system, or nobody.

A `Principal` is resolved once per request (API and pages alike) and handed to querysets
(`visible_to`) and services (for the audit trail). It is the single answer to "which tenants
may this caller see, and may it write".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.contrib.auth.models import AbstractBaseUser

from tenants.choices import MembershipRole, PrincipalKind, StaffRole
from tenants.models import ApiKey, Membership

_EMPTY: Mapping[int, str] = MappingProxyType({})


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    # None: every tenant (MSP staff, MSP keys, the system). Otherwise the tenants reachable.
    tenant_ids: frozenset[int] | None = frozenset()
    # Customer role per reachable tenant; empty for MSP principals.
    customer_roles: Mapping[int, str] = field(default_factory=lambda: _EMPTY)
    staff_roles: frozenset[str] = frozenset()
    read_only: bool = True
    source_ip: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.kind != PrincipalKind.ANONYMOUS

    @property
    def is_msp(self) -> bool:
        return self.tenant_ids is None

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"api key {self.api_key.prefix} ({self.api_key.name})"
        if self.user is not None:
            return self.user.get_username()
        return self.kind.label.lower()

    def can_write_tenant(self, tenant_id: int | None) -> bool:
        """May this principal change data that belongs to `tenant_id`?"""
        if self.read_only:
            return False
        if self.is_msp:
            return True
        return self.customer_roles.get(tenant_id) == MembershipRole.CUSTOMER_ADMIN

    def has_staff_perm(self, perm: str) -> bool:
        """Django model permission check for MSP principals ("app_label.codename")."""
        if not self.is_msp:
            return False
        if self.kind == PrincipalKind.SYSTEM:
            return True
        if self.kind == PrincipalKind.API_KEY:
            return not self.read_only or perm.split(".", 1)[-1].startswith("view_")
        return self.user is not None and self.user.has_perm(perm)

    def with_ip(self, source_ip: str | None) -> Principal:
        return Principal(**{**self.__dict__, "source_ip": source_ip})

    @classmethod
    def anonymous(cls, source_ip: str | None = None) -> Principal:
        return cls(kind=PrincipalKind.ANONYMOUS, source_ip=source_ip)

    @classmethod
    def system(cls) -> Principal:
        return cls(kind=PrincipalKind.SYSTEM, tenant_ids=None, read_only=False)


def principal_for_user(user: AbstractBaseUser | None, source_ip: str | None = None) -> Principal:
    if user is None or not user.is_authenticated or not user.is_active:
        return Principal.anonymous(source_ip)
    if user.is_staff:
        if user.is_superuser:
            roles = frozenset({StaffRole.MSP_ADMIN.value})
        else:
            names = set(user.groups.values_list("name", flat=True))
            roles = frozenset(role.value for role in StaffRole if role.label in names)
        return Principal(
            kind=PrincipalKind.STAFF,
            user=user,
            tenant_ids=None,
            staff_roles=roles,
            read_only=False,
            source_ip=source_ip,
        )
    roles = dict(Membership.objects.filter(user=user).values_list("tenant_id", "role"))
    return Principal(
        kind=PrincipalKind.CUSTOMER,
        user=user,
        tenant_ids=frozenset(roles),
        customer_roles=MappingProxyType(roles),
        read_only=MembershipRole.CUSTOMER_ADMIN not in roles.values(),
        source_ip=source_ip,
    )


def principal_for_api_key(api_key: ApiKey, source_ip: str | None = None) -> Principal:
    if api_key.tenant_id is None:
        return Principal(
            kind=PrincipalKind.API_KEY,
            api_key=api_key,
            tenant_ids=None,
            read_only=api_key.read_only,
            source_ip=source_ip,
        )
    # A tenant key acts as that tenant's customer admin (read-write) or viewer (read-only).
    role = MembershipRole.CUSTOMER_VIEWER if api_key.read_only else MembershipRole.CUSTOMER_ADMIN
    return Principal(
        kind=PrincipalKind.API_KEY,
        api_key=api_key,
        tenant_ids=frozenset({api_key.tenant_id}),
        customer_roles=MappingProxyType({api_key.tenant_id: role.value}),
        read_only=api_key.read_only,
        source_ip=source_ip,
    )


def client_ip(request) -> str | None:
    """The caller's address. Behind a proxy that overwrites X-Forwarded-For, set
    USE_X_FORWARDED_FOR=True (README, "Production"); otherwise the header is ignored because
    any client can forge it."""
    from django.conf import settings

    if getattr(settings, "USE_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


def request_principal(request) -> Principal:
    """The principal of a Django or DRF request (API key first, then the session user),
    resolved once and cached on the request."""
    cached = getattr(request, "_principal", None)
    if cached is not None:
        return cached
    ip = client_ip(request)
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        principal = principal_for_api_key(auth, ip)
    else:
        principal = principal_for_user(getattr(request, "user", None), ip)
    request._principal = principal
    return principal
