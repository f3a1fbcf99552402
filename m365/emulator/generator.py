"""Deterministic tenant content: users, groups, sites and their sizes, from (seed, size).

Nothing here is stored. Every object is computed from its index on demand, and ids, e-mail
addresses and URLs are built so they decode back to that index; only small per-tenant
arrays (user kinds, Microsoft 365 group indices, group memberships) are cached once
computed. A 100,000-user tenant therefore costs nothing to create and little to page.

Names, kinds, memberships and sizes depend on the seed only; object ids also depend on the
tenant id, so two tenants sharing a seed never share a GUID (as in Entra ID).

Index layout:
- users 0..3 are the contract's directory users (admin, backup.admin, privileged.admin,
  user); the rest are members (licensed: mailbox and OneDrive, some with an archive),
  shared mailboxes (disabled account with a mail) or unlicensed users (neither);
- groups: security groups, Microsoft 365 groups and Teams (both of the latter have a site);
- sites, by ordinal: the root site, plain SharePoint sites, group sites, OneDrive sites.
"""

from __future__ import annotations

import math
import random
import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property, lru_cache
from hashlib import blake2b
from typing import NamedTuple

from . import names
from .catalog import SKUS
from .clock import DAY, parse_iso
from .ids import IndexedIds, digest

# Generated creation dates are spread over the four years before this fixed date, so they
# never depend on when the tenant was registered.
_CREATED_EPOCH = parse_iso("2021-01-01T00:00:00Z")

MEMBER, SHARED, UNLICENSED = 0, 1, 2
KIND_NAMES = {MEMBER: "member", SHARED: "shared", UNLICENSED: "unlicensed"}

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


class TenantData:
    """The generated content of one tenant; immutable, thread-safe, cheap to create."""

    def __init__(self, *, tenant_id: str, domain: str, seed: int, users: int,
                 groups: int | None = None, sites: int | None = None) -> None:
        self.tenant_id = tenant_id
        self.domain = domain.lower()
        self.seed = seed
        self.user_count = users
        self.group_count = default_group_count(users) if groups is None else groups
        self.plain_site_count = default_site_count(users) if sites is None else sites
        self.tenant_name = tenant_name_of(self.domain)
        self.sharepoint_host = f"{self.tenant_name}.sharepoint.com"
        self.onedrive_host = f"{self.tenant_name}-my.sharepoint.com"
        self._user_prefix = f"{seed}:user:".encode()
        self._user_ids = IndexedIds(seed, tenant_id, "user")
        self._group_ids = IndexedIds(seed, tenant_id, "group")
        kinds = ("site", "group", "personal")
        self._site_ids = {k: IndexedIds(seed, tenant_id, "site", k) for k in kinds}
        self._web_ids = {k: IndexedIds(seed, tenant_id, "web", k) for k in kinds}
        # Per-instance caches: a page of users is usually asked for again by the next page.
        self.user = lru_cache(maxsize=4096)(self._make_user)
        self.group = lru_cache(maxsize=2048)(self._make_group)
        self._site = lru_cache(maxsize=4096)(self._make_site)

    # ---- users -------------------------------------------------------------------------

    def _user_hash(self, index: int) -> bytes:
        # Equal to digest(seed, "user", index, size=32), without its joining overhead.
        return blake2b(self._user_prefix + str(index).encode(), digest_size=32).digest()

    @staticmethod
    def _kind_from(h: bytes, index: int) -> int:
        if index < len(DIRECTORY_USERS):
            return MEMBER
        u = (h[0] * 256 + h[1]) / 65536.0
        return SHARED if u < 0.07 else UNLICENSED if u < 0.15 else MEMBER

    def _make_user(self, index: int) -> User:
        # Hot path (a full listing builds every user): byte picks from one digest and
        # precomputed name tables rather than _Draws.
        if not 0 <= index < self.user_count:
            raise IndexError(index)
        h = self._user_hash(index)
        kind = self._kind_from(h, index)
        city, country, usage = _OFFICES[h[10] % len(_OFFICES)]
        department, department_word, department_slug = _DEPARTMENTS[h[6] % len(_DEPARTMENTS)]
        domain = self.domain
        created = _CREATED_EPOCH - ((h[12] << 16 | h[13] << 8 | h[14]) % _CREATED_SPREAD)
        user_id = self._user_ids.id_of(index, h[16:])
        if kind == SHARED:
            word, word_title = _SHARED_WORDS[h[8] % len(_SHARED_WORDS)]
            upn = f"{department_slug}.{word}{index}@{domain}"
            return User(index, user_id, kind, f"{department} {word_title}", None, None, upn, upn,
                        None, None, None, None, None, None, None, False, created, None)
        if index < len(DIRECTORY_USERS):
            local, display, _ = DIRECTORY_USERS[index]
            upn = f"{local}@{domain}"
            given, surname = display.split(" ", 1)
            job = None if index == 3 else "IT Administrator"
        else:
            given, given_slug = _FIRST_NAMES[h[2] % len(_FIRST_NAMES)]
            surname, surname_slug = _LAST_NAMES[h[4] % len(_LAST_NAMES)]
            upn = f"{given_slug}.{surname_slug}{index}@{domain}"
            display = f"{given} {surname}"
            job = f"{department_word} {_JOB_TITLES[h[8] % len(_JOB_TITLES)]}"
        licensed = kind == MEMBER
        return User(
            index, user_id, kind, display, given, surname, upn,
            upn if licensed else None,
            department, job,
            f"{city} {h[18] % 40 + 1}/{h[19] * 3 + 100}",
            city, country,
            usage if licensed else None,
            SKUS[h[20] % len(SKUS)][0] if licensed else None,
            licensed and index >= len(DIRECTORY_USERS) and h[21] < 38,  # ~15 % have archives
            created,
            f"+1 425 555 {(h[22] * 256 + h[23]) % 9000 + 1000}" if licensed else None,
        )

    def user_index_by_id(self, object_id: str) -> int | None:
        index = self._user_ids.index_of(object_id, lambda i: self._user_hash(i)[16:])
        return index if index is not None and index < self.user_count else None

    def user_index_by_upn(self, upn: str) -> int | None:
        upn = upn.lower()
        local, _, domain = upn.partition("@")
        if domain != self.domain:
            return None
        if local in _DIRECTORY_LOCALS:
            return _DIRECTORY_LOCALS[local]
        match = re.search(r"(\d+)$", local)
        if not match:
            return None
        index = int(match.group(1))
        if index >= self.user_count or self.user(index).user_principal_name != upn:
            return None
        return index

    def user_index(self, id_or_upn: str) -> int | None:
        if "@" in id_or_upn:
            return self.user_index_by_upn(id_or_upn)
        return self.user_index_by_id(id_or_upn)

    @cached_property
    def kinds(self) -> bytes:
        return bytes(self._kind_from(self._user_hash(i), i) for i in range(self.user_count))

    @cached_property
    def onedrive_users(self) -> array:
        """Indices of users with a OneDrive (and so a personal site), ascending."""
        return array("l", (i for i, k in enumerate(self.kinds) if k == MEMBER))

    def password_of(self, index: int, version: int) -> str:
        return "Emu-" + digest(self.seed, "password", index, version, size=5).hex() + "!"

    # ---- groups ------------------------------------------------------------------------

    def _make_group(self, index: int) -> Group:
        if not 0 <= index < self.group_count:
            raise IndexError(index)
        d = _Draws(self.seed, "group", index)
        # The first three groups cover each kind so that even a tiny tenant has them all.
        kind = ("team", "unified", "security")[index] if index < 3 else (
            "security" if d.u(0) < 0.35 else "team" if d.u(0) < 0.6 else "unified"
        )
        topic = d.pick(1, names.TOPICS)
        department = d.pick(2, names.DEPARTMENTS)
        suffix = {"team": "Team", "unified": "Group", "security": "Access"}[kind]
        display = f"{topic} {department} {suffix} {index}"
        return Group(
            index=index,
            id=self._group_ids.id_of(index),
            kind=kind,
            display_name=display,
            description=f"{department} collaboration space for project {topic}.",
            mail_nickname=re.sub(r"[^a-z0-9]", "", display.lower()),
            created=_CREATED_EPOCH - d.u(3) * 1000 * DAY,
        )

    def group_index_by_id(self, object_id: str) -> int | None:
        index = self._group_ids.index_of(object_id)
        return index if index is not None and index < self.group_count else None

    @cached_property
    def unified_groups(self) -> array:
        return array("l", (g for g in range(self.group_count) if self.group(g).is_unified))

    def group_members(self, index: int) -> list[int]:
        return self._memberships[0][index]

    def member_of(self, user_index: int) -> list[int]:
        return self._memberships[1].get(user_index, [])

    @cached_property
    def _memberships(self) -> tuple[list[list[int]], dict[int, list[int]]]:
        members: list[list[int]] = []
        reverse: dict[int, list[int]] = {}
        for g in range(self.group_count):
            rng = random.Random(int.from_bytes(digest(self.seed, "members", g, size=8), "big"))  # noqa: S311
            size = min(self.user_count, 3 + int(rng.random() ** 2 * 40))
            picked = sorted(rng.sample(range(self.user_count), size))
            members.append(picked)
            for u in picked:
                reverse.setdefault(u, []).append(g)
        return members, reverse

    # ---- sites -------------------------------------------------------------------------

    @property
    def site_count(self) -> int:
        return 1 + self.plain_site_count + len(self.unified_groups) + len(self.onedrive_users)

    @property
    def non_personal_site_count(self) -> int:
        return 1 + self.plain_site_count + len(self.unified_groups)

    def site(self, ordinal: int) -> Site:
        plain_end = 1 + self.plain_site_count
        group_end = plain_end + len(self.unified_groups)
        if ordinal == 0:
            return self._site("root", 0)
        if ordinal < plain_end:
            return self._site("site", ordinal - 1)
        if ordinal < group_end:
            return self._site("group", self.unified_groups[ordinal - plain_end])
        if ordinal < self.site_count:
            return self._site("personal", self.onedrive_users[ordinal - group_end])
        raise IndexError(ordinal)

    def _ordinal(self, kind: str, index: int) -> int:
        if kind == "root":
            return 0
        if kind == "site":
            return 1 + index
        if kind == "group":
            return 1 + self.plain_site_count + bisect_left(self.unified_groups, index)
        return self.non_personal_site_count + bisect_left(self.onedrive_users, index)

    def _make_site(self, kind: str, index: int) -> Site:
        id_kind = "site" if kind == "root" else kind
        id_index = -1 if kind == "root" else index
        site_id = (
            f"{self.onedrive_host if kind == 'personal' else self.sharepoint_host},"
            f"{self._site_ids[id_kind].id_of(id_index + 1)},"
            f"{self._web_ids[id_kind].id_of(id_index + 1)}"
        )
        if kind == "root":
            return Site(0, kind, 0, site_id, "", "Communication site",
                        f"https://{self.sharepoint_host}", _CREATED_EPOCH - 1500 * DAY,
                        "SITEPAGEPUBLISHING#0")
        if kind == "site":
            d = _Draws(self.seed, "site", index)
            display = f"{d.pick(0, names.TOPICS)} {d.pick(1, names.SITE_PURPOSES)}"
            slug = f"{re.sub(r'[^a-z0-9]+', '-', display.lower())}-{index}"
            template = "SITEPAGEPUBLISHING#0" if d.u(2) < 0.4 else "STS#3"
            return Site(self._ordinal(kind, index), kind, index, site_id, slug, display,
                        f"https://{self.sharepoint_host}/sites/{slug}",
                        _CREATED_EPOCH - d.u(3) * 1200 * DAY, template)
        if kind == "group":
            group = self.group(index)
            return Site(self._ordinal(kind, index), kind, index, site_id, group.mail_nickname,
                        group.display_name,
                        f"https://{self.sharepoint_host}/sites/{group.mail_nickname}",
                        group.created, "GROUP#0")
        user = self.user(index)
        slug = re.sub(r"[.@]", "_", user.user_principal_name)
        return Site(self._ordinal(kind, index), kind, index, site_id, slug, user.display_name,
                    f"https://{self.onedrive_host}/personal/{slug}",
                    user.created, "SPSPERS#10")

    def site_by_id(self, site_id: str) -> Site | None:
        parts = site_id.split(",")
        if len(parts) != 3:
            return None
        collection = parts[1]
        for kind, ids in self._site_ids.items():
            index = ids.index_of(collection)
            if index is None:
                continue
            index -= 1
            site = self._checked_site(kind, index)
            if site is not None and site.id == site_id.lower():
                return site
        return None

    def _checked_site(self, kind: str, index: int) -> Site | None:
        if kind == "site":
            if index == -1:
                return self._site("root", 0)
            return self._site("site", index) if 0 <= index < self.plain_site_count else None
        if kind == "group":
            ok = 0 <= index < self.group_count and self.group(index).is_unified
            return self._site("group", index) if ok else None
        ok = 0 <= index < self.user_count and self.kinds[index] == MEMBER
        return self._site("personal", index) if ok else None

    def site_by_url(self, url: str) -> Site | None:
        match = re.fullmatch(r"https://([^/]+)(/.*)?", url.strip().rstrip("/"), re.IGNORECASE)
        if not match:
            return None
        host, path = match.group(1).lower(), (match.group(2) or "")
        if host == self.sharepoint_host and path == "":
            return self._site("root", 0)
        found = re.fullmatch(r"/(sites|teams|personal)/([^/]+)", path, re.IGNORECASE)
        if not found:
            return None
        segment, slug = found.group(1).lower(), found.group(2).lower()
        trailing = re.search(r"(\d+)$", slug)
        site: Site | None = None
        if host == self.sharepoint_host and segment in ("sites", "teams") and trailing:
            index = int(trailing.group(1))
            kind = "site" if slug.endswith(f"-{index}") else "group"
            site = self._checked_site(kind, index)
        elif host == self.onedrive_host and segment == "personal":
            upn_local = slug.removesuffix("_" + re.sub(r"[.@]", "_", self.domain))
            index = _DIRECTORY_LOCALS.get(upn_local.replace("_", "."))
            digits = re.search(r"(\d+)$", upn_local)
            if index is None and digits:
                index = int(digits.group(1))
            site = self._checked_site("personal", index) if index is not None else None
        if site is not None and site.web_url.lower() != f"https://{host}{path}".lower():
            return None
        return site

    def personal_site_of(self, user_index: int) -> Site | None:
        return self._checked_site("personal", user_index)

    def group_site_of(self, group_index: int) -> Site | None:
        return self._checked_site("group", group_index)

    # ---- sizes -------------------------------------------------------------------------
    # Each object has a size at day 0 (the tenant's registration day) drawn from a
    # log-normal law and a daily growth rate; size(day) = base * exp(rate * day). Days
    # before registration give smaller sizes, so dated reports have a history too.

    def mailbox_bytes(self, index: int, day: int) -> int:
        d = _Draws(self.seed, "mailbox", index)
        shared = self.kinds[index] == SHARED
        base = d.lognormal(0, 700 * MB if shared else 2.5 * GB, 1.0, 20 * MB, 45 * GB)
        return _grown(base, 0.0004 + d.u(2) * 0.003, day, MAILBOX_QUOTA)

    def archive_bytes(self, index: int, day: int) -> int:
        d = _Draws(self.seed, "archive", index)
        base = d.lognormal(0, 8 * GB, 0.8, 100 * MB, 90 * GB)
        return _grown(base, 0.0002 + d.u(2) * 0.001, day, 100 * GB)

    def deleted_items_bytes(self, index: int, day: int) -> int:
        d = _Draws(self.seed, "deleted", index)
        return int(self.mailbox_bytes(index, day) * (0.01 + d.u(0) * 0.05))

    def onedrive_bytes(self, index: int, day: int) -> int:
        d = _Draws(self.seed, "onedrive", index)
        base = d.lognormal(0, 1.2 * GB, 1.3, 1 * MB, 600 * GB)
        return _grown(base, 0.0003 + d.u(2) * 0.004, day, ONEDRIVE_QUOTA)

    def site_bytes(self, site: Site, day: int) -> int:
        if site.kind == "personal":
            return self.onedrive_bytes(site.index, day)
        d = _Draws(self.seed, "sitesize", site.kind, site.index)
        median = {"root": 2 * GB, "site": 400 * MB, "group": 150 * MB}[site.kind]
        base = d.lognormal(0, median, 1.5, 5 * MB, 2048 * GB)
        return _grown(base, 0.0003 + d.u(2) * 0.005, day, SITE_QUOTA)

    def activity_days_ago(self, *parts: object) -> int:
        """How many days before the report date an object was last active (0..59)."""
        return int(_Draws(self.seed, "activity", *parts).u(0) ** 3 * 60)


def _grown(base: float, rate: float, day: int, cap: int) -> int:
    return int(min(cap, base * math.exp(rate * day)))


def tenant_name_of(domain: str) -> str:
    """`contoso` for contoso.onmicrosoft.com or contoso.com: the SharePoint host label."""
    label = domain.lower().split(".")[0]
    return re.sub(r"[^a-z0-9]", "", label) or "tenant"
