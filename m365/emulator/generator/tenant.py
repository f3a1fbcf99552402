"""TenantData: the generated content of one tenant, users and groups here, sites and sizes
in their mixins."""

from __future__ import annotations

import random
import re
from array import array
from functools import cached_property, lru_cache
from hashlib import blake2b

from .. import names
from ..catalog import SKUS
from ..clock import DAY
from ..ids import IndexedIds, digest
from .model import (
    _CREATED_EPOCH,
    _CREATED_SPREAD,
    _DEPARTMENTS,
    _DIRECTORY_LOCALS,
    _FIRST_NAMES,
    _JOB_TITLES,
    _LAST_NAMES,
    _OFFICES,
    _SHARED_WORDS,
    DIRECTORY_USERS,
    MEMBER,
    SHARED,
    UNLICENSED,
    Group,
    User,
    _Draws,
    default_group_count,
    default_site_count,
    tenant_name_of,
)
from .sites import SitesMixin
from .sizes import SizesMixin


class TenantData(SitesMixin, SizesMixin):
    """The generated content of one tenant; immutable, thread-safe, cheap to create."""

    def __init__(
        self,
        *,
        tenant_id: str,
        domain: str,
        seed: int,
        users: int,
        groups: int | None = None,
        sites: int | None = None,
    ) -> None:
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
            return User(
                index,
                user_id,
                kind,
                f"{department} {word_title}",
                None,
                None,
                upn,
                upn,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                False,
                created,
                None,
            )
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
            index,
            user_id,
            kind,
            display,
            given,
            surname,
            upn,
            upn if licensed else None,
            department,
            job,
            f"{city} {h[18] % 40 + 1}/{h[19] * 3 + 100}",
            city,
            country,
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
        kind = (
            ("team", "unified", "security")[index]
            if index < 3
            else ("security" if d.u(0) < 0.35 else "team" if d.u(0) < 0.6 else "unified")
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
