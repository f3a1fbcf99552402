"""Sites of a generated tenant: the root site, plain sites, group sites, OneDrive sites.

Ordinals: 0 is the root site, then plain sites, then the sites of Microsoft 365 groups (in
group order), then one OneDrive site per licensed user (in user order). Site ids and URLs
decode back to (kind, index). A mixin of TenantData (it uses its users, groups and ids).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from .. import names
from ..clock import DAY
from .model import _CREATED_EPOCH, _DIRECTORY_LOCALS, MEMBER, Site, _Draws


class SitesMixin:
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
            return Site(
                0,
                kind,
                0,
                site_id,
                "",
                "Communication site",
                f"https://{self.sharepoint_host}",
                _CREATED_EPOCH - 1500 * DAY,
                "SITEPAGEPUBLISHING#0",
            )
        if kind == "site":
            d = _Draws(self.seed, "site", index)
            display = f"{d.pick(0, names.TOPICS)} {d.pick(1, names.SITE_PURPOSES)}"
            slug = f"{re.sub(r'[^a-z0-9]+', '-', display.lower())}-{index}"
            template = "SITEPAGEPUBLISHING#0" if d.u(2) < 0.4 else "STS#3"
            return Site(
                self._ordinal(kind, index),
                kind,
                index,
                site_id,
                slug,
                display,
                f"https://{self.sharepoint_host}/sites/{slug}",
                _CREATED_EPOCH - d.u(3) * 1200 * DAY,
                template,
            )
        if kind == "group":
            group = self.group(index)
            return Site(
                self._ordinal(kind, index),
                kind,
                index,
                site_id,
                group.mail_nickname,
                group.display_name,
                f"https://{self.sharepoint_host}/sites/{group.mail_nickname}",
                group.created,
                "GROUP#0",
            )
        user = self.user(index)
        slug = re.sub(r"[.@]", "_", user.user_principal_name)
        return Site(
            self._ordinal(kind, index),
            kind,
            index,
            site_id,
            slug,
            user.display_name,
            f"https://{self.onedrive_host}/personal/{slug}",
            user.created,
            "SPSPERS#10",
        )

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
