"""What generated tenants are made of: records, constants, name tables, random draws."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from .. import names
from ..clock import parse_iso
from ..ids import digest

# Generated creation dates are spread over the four years before this fixed date, so they
# never depend on when the tenant was registered.
_CREATED_EPOCH = parse_iso("2021-01-01T00:00:00Z")

MEMBER, SHARED, UNLICENSED = 0, 1, 2

# (local part, display name, roles) of the directory users every tenant has.
DIRECTORY_USERS = (
    ("admin", "Tenant Administrator", ("Global Administrator",)),
    ("backup.admin", "Backup Administrator", ("Microsoft 365 Backup Administrator",)),
    ("privileged.admin", "Privileged Role Administrator", ("Privileged Role Administrator",)),
    ("user", "Regular User", ()),
)
_DIRECTORY_LOCALS = {local: i for i, (local, _, _) in enumerate(DIRECTORY_USERS)}

GB = 1024**3
MB = 1024**2
MAILBOX_QUOTA = 50 * GB
ONEDRIVE_QUOTA = 1024 * GB
SITE_QUOTA = 25 * 1024 * GB


_CREATED_SPREAD = 1460 * 86400  # generated accounts were created over four years
_FIRST_NAMES = tuple((n, n.lower()) for n in names.FIRST_NAMES)
_LAST_NAMES = tuple((n, n.lower()) for n in names.LAST_NAMES)
_DEPARTMENTS = tuple((d, d.split()[0], d.split()[0].lower()) for d in names.DEPARTMENTS)
_JOB_TITLES = names.JOB_TITLES
_OFFICES = names.OFFICES
_SHARED_WORDS = tuple((w, w.capitalize()) for w in names.SHARED_MAILBOX_WORDS)


def default_group_count(users: int) -> int:
    return max(3, users // 20)


def default_site_count(users: int) -> int:
    return max(3, users // 100)


class _Draws:
    """Uniform numbers in [0, 1) read two bytes at a time from one 32-byte digest."""

    __slots__ = ("h",)

    def __init__(self, *parts: object, h: bytes | None = None) -> None:
        self.h = h if h is not None else digest(*parts, size=32)

    def u(self, i: int) -> float:
        h = self.h
        return (h[2 * i] * 256 + h[2 * i + 1]) / 65536.0

    def pick(self, i: int, options: tuple):
        h = self.h
        return options[(h[2 * i] * 256 + h[2 * i + 1]) * len(options) >> 16]

    def lognormal(self, i: int, median: float, sigma: float, low: float, high: float) -> float:
        # Box-Muller on draws i and i+1.
        u1 = 1.0 - self.u(i)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * self.u(i + 1))
        return min(high, max(low, median * math.exp(sigma * z)))


class User(NamedTuple):
    index: int
    id: str
    kind: int
    display_name: str
    given_name: str | None
    surname: str | None
    user_principal_name: str
    mail: str | None
    department: str | None
    job_title: str | None
    office_location: str | None
    city: str | None
    country: str | None
    usage_location: str | None
    sku_id: str | None
    has_archive: bool
    created: float
    mobile_phone: str | None

    @property
    def has_mailbox(self) -> bool:
        return self.kind in (MEMBER, SHARED)

    @property
    def has_onedrive(self) -> bool:
        return self.kind == MEMBER


@dataclass(frozen=True, slots=True)
class Group:
    index: int
    id: str
    kind: str  # "security" | "unified" | "team"
    display_name: str
    description: str
    mail_nickname: str
    created: float

    @property
    def is_unified(self) -> bool:
        return self.kind != "security"


@dataclass(frozen=True, slots=True)
class Site:
    ordinal: int
    kind: str  # "root" | "site" | "group" | "personal"
    index: int  # plain-site index, group index or user index, by kind
    id: str
    name: str
    display_name: str
    web_url: str
    created: float
    template: str

    @property
    def is_personal(self) -> bool:
        return self.kind == "personal"


def tenant_name_of(domain: str) -> str:
    """`contoso` for contoso.onmicrosoft.com or contoso.com: the SharePoint host label."""
    label = domain.lower().split(".")[0]
    return re.sub(r"[^a-z0-9]", "", label) or "tenant"
