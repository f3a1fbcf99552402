"""Sizes of generated mailboxes (with their deleted items), OneDrives and sites, on any day.

Each object has a size at day 0 (the tenant's registration day) drawn from a log-normal law
and a daily growth rate; size(day) = base * exp(rate * day). Days before registration give
smaller sizes, so dated reports have a history too. A mixin of TenantData.
"""

from __future__ import annotations

import math

from .model import GB, MAILBOX_QUOTA, MB, ONEDRIVE_QUOTA, SHARED, SITE_QUOTA, Site, _Draws


class SizesMixin:
    def mailbox_bytes(self, index: int, day: int) -> int:
        d = _Draws(self.seed, "mailbox", index)
        shared = self.kinds[index] == SHARED
        base = d.lognormal(0, 700 * MB if shared else 2.5 * GB, 1.0, 20 * MB, 45 * GB)
        return _grown(base, 0.0004 + d.u(2) * 0.003, day, MAILBOX_QUOTA)

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
