"""SharePoint sites and drives (document libraries and OneDrive) with their quota.

Sizes come from the generator at the tenant's current day, so `quota.used` grows with the
tenant clock exactly as the usage reports do.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

from ..clock import iso
from ..generator import ONEDRIVE_QUOTA, SITE_QUOTA, Site
from ..world import Tenant
from . import permissions as perm
from .core import Ctx, lookup_user, not_found, route
from .directory import _lookup_group
from .odata import Collection, collection_page, entity

SITE_PROPERTIES = frozenset(
    {
        "id",
        "name",
        "displayName",
        "webUrl",
        "createdDateTime",
        "lastModifiedDateTime",
        "description",
        "isPersonalSite",
        "siteCollection",
        "root",
    }
)


def site_json(tenant: Tenant, site: Site) -> dict[str, Any]:
    host = site.id.split(",")[0]
    body: dict[str, Any] = {
        "id": site.id,
        "createdDateTime": iso(site.created),
        "lastModifiedDateTime": iso(site.created + 86400 * (1 + site.ordinal % 400)),
        "name": site.name,
        "displayName": site.display_name,
        "description": "" if site.kind != "group" else f"{site.display_name} group site",
        "webUrl": site.web_url,
        "isPersonalSite": site.is_personal,
        "siteCollection": {"hostname": host},
    }
    if site.kind == "root":
        body["root"] = {}
    return body


def drive_json(tenant: Tenant, site: Site, now: float) -> dict[str, Any]:
    used = tenant.gen.site_bytes(site, tenant.day(now))
    total = ONEDRIVE_QUOTA if site.is_personal else SITE_QUOTA
    deleted = used // 50
    _host, collection, web = site.id.split(",")
    drive_id = "b!" + base64.urlsafe_b64encode(
        uuid.UUID(collection).bytes + uuid.UUID(web).bytes
    ).decode().rstrip("=")
    if site.is_personal:
        user = tenant.gen.user(site.index)
        owner = {"user": {"id": user.id, "displayName": user.display_name, "email": user.mail}}
        name, web_url, drive_type = "OneDrive", f"{site.web_url}/Documents", "business"
    elif site.kind == "group":
        group = tenant.gen.group(site.index)
        owner = {
            "group": {
                "id": group.id,
                "displayName": group.display_name,
                "email": f"{group.mail_nickname}@{tenant.domain}",
            }
        }
        name, web_url, drive_type = (
            "Documents",
            f"{site.web_url}/Shared Documents",
            "documentLibrary",
        )
    else:
        owner = {"user": {"displayName": "System Account"}}
        name, web_url, drive_type = (
            "Documents",
            f"{site.web_url}/Shared Documents",
            "documentLibrary",
        )
    return {
        "id": drive_id,
        "driveType": drive_type,
        "name": name,
        "description": "",
        "createdDateTime": iso(site.created),
        "lastModifiedDateTime": iso(now - 3600),
        "webUrl": web_url,
        "owner": owner,
        "quota": {
            "deleted": deleted,
            "remaining": max(0, total - used - deleted),
            "state": "normal",
            "total": total,
            "used": used,
        },
    }


def _live(tenant: Tenant, site: Site) -> bool:
    if tenant.site_deleted_at(site.id) is not None:
        return False
    if site.kind == "personal":
        return not tenant.is_deleted(tenant.gen.user(site.index))
    return True


def _sites_collection(ctx: Ctx, *, personal: bool, search: str | None) -> Collection:
    tenant = ctx.tenant
    gen = tenant.gen
    end = gen.site_count if personal else gen.non_personal_site_count
    needle = None if search in (None, "*", "") else search.strip("\"'").lower()

    def read(start: int) -> Iterator[tuple[int, dict[str, Any]]]:
        for ordinal in range(start, end):
            site = gen.site(ordinal)
            if not _live(tenant, site):
                continue
            if (
                needle
                and needle not in site.display_name.lower()
                and needle not in site.web_url.lower()
            ):
                continue
            yield ordinal, site_json(tenant, site)

    return Collection(
        name="sites",
        context="sites",
        source=read,
        entity="microsoft.graph.site",
        properties=SITE_PROPERTIES,
        default_page=200,
        max_page=None,
    )


def lookup_site(ctx: Ctx, site_ref: str) -> Site:
    gen = ctx.tenant.gen
    site = gen.site(0) if site_ref == "root" else gen.site_by_id(site_ref.lower())
    if site is None or not _live(ctx.tenant, site):
        raise not_found("itemNotFound", "Requested site could not be found")
    return site


@route("/sites", "GET", perm.SITES)
def list_sites(ctx: Ctx):
    return collection_page(
        ctx, _sites_collection(ctx, personal=False, search=ctx.args.get("search"))
    )


@route("/sites/getAllSites", "GET", perm.SITES)
@route("/sites/getAllSites()", "GET", perm.SITES)
def get_all_sites(ctx: Ctx):
    return collection_page(ctx, _sites_collection(ctx, personal=True, search=None))


@route("/sites/<site_ref>", "GET", perm.SITES)
def get_site(ctx: Ctx, site_ref: str):
    site = lookup_site(ctx, site_ref)
    return entity(
        ctx,
        site_json(ctx.tenant, site),
        "sites/$entity",
        properties=SITE_PROPERTIES,
        entity_type="microsoft.graph.site",
    )


@route("/sites/<site_ref>/drive", "GET", perm.DRIVES)
def get_site_drive(ctx: Ctx, site_ref: str):
    site = lookup_site(ctx, site_ref)
    return entity(ctx, drive_json(ctx.tenant, site, ctx.now), "drives/$entity")


@route("/users/<user_ref>/drive", "GET", perm.DRIVES)
def get_user_drive(ctx: Ctx, user_ref: str):
    user = lookup_user(ctx, user_ref)
    site = ctx.tenant.gen.personal_site_of(user.index)
    if site is None or not _live(ctx.tenant, site):
        raise not_found("itemNotFound", "The resource could not be found.")
    return entity(ctx, drive_json(ctx.tenant, site, ctx.now), "drives/$entity")


@route("/groups/<group_id>/drive", "GET", perm.DRIVES)
def get_group_drive(ctx: Ctx, group_id: str):
    group = _lookup_group(ctx, group_id)
    site = ctx.tenant.gen.group_site_of(group.index)
    if site is None or not _live(ctx.tenant, site):
        raise not_found("itemNotFound", "The resource could not be found.")
    return entity(ctx, drive_json(ctx.tenant, site, ctx.now), "drives/$entity")


@route("/groups/<group_id>/sites/root", "GET", perm.SITES)
def get_group_site(ctx: Ctx, group_id: str):
    group = _lookup_group(ctx, group_id)
    site = ctx.tenant.gen.group_site_of(group.index)
    if site is None or not _live(ctx.tenant, site):
        raise not_found("itemNotFound", "Requested site could not be found")
    return entity(ctx, site_json(ctx.tenant, site), "sites/$entity")
