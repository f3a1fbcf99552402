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

from .model import (
    DIRECTORY_USERS,
    GB,
    MAILBOX_QUOTA,
    MB,
    MEMBER,
    ONEDRIVE_QUOTA,
    SHARED,
    SITE_QUOTA,
    UNLICENSED,
    Group,
    Site,
    User,
    default_group_count,
    default_site_count,
    tenant_name_of,
)
from .tenant import TenantData

__all__ = [
    "DIRECTORY_USERS",
    "GB",
    "MAILBOX_QUOTA",
    "MB",
    "MEMBER",
    "ONEDRIVE_QUOTA",
    "SHARED",
    "SITE_QUOTA",
    "UNLICENSED",
    "Group",
    "Site",
    "TenantData",
    "User",
    "default_group_count",
    "default_site_count",
    "tenant_name_of",
]
