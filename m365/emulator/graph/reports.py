"""Usage reports: mailbox, OneDrive and SharePoint site usage detail (reference section 5).

CSV (the default, or `$format=text/csv`) answers 302 to `/_downloads/<sealed token>`, a
pre-authenticated link that needs no Authorization header and expires after minutes;
`$format=application/json` answers the rows as a paged JSON collection. Sizes are the
generator's at the report's refresh date, so they grow day by day with the tenant clock.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request, Response

from ..clock import DAY, day_start, iso_date, parse_iso, real_now
from ..errors import ControlError
from ..generator import MAILBOX_QUOTA, ONEDRIVE_QUOTA, SHARED, SITE_QUOTA
from ..world import Tenant, World
from . import permissions as perm
from .core import Ctx, Result, route
from .odata import Collection, collection_page

_PERIODS = {"D7": 7, "D30": 30, "D90": 90, "D180": 180}
_REPORTS = (
    "getMailboxUsageDetail",
    "getOneDriveUsageAccountDetail",
    "getSharePointSiteUsageDetail",
)

# (CSV column, JSON property) in Microsoft's column order.
_MAILBOX_COLUMNS = (
    ("Report Refresh Date", "reportRefreshDate"),
    ("User Principal Name", "userPrincipalName"),
    ("Display Name", "displayName"),
    ("Is Deleted", "isDeleted"),
    ("Deleted Date", "deletedDate"),
    ("Created Date", "createdDate"),
    ("Last Activity Date", "lastActivityDate"),
    ("Item Count", "itemCount"),
    ("Storage Used (Byte)", "storageUsedInBytes"),
    ("Issue Warning Quota (Byte)", "issueWarningQuotaInBytes"),
    ("Prohibit Send Quota (Byte)", "prohibitSendQuotaInBytes"),
    ("Prohibit Send/Receive Quota (Byte)", "prohibitSendReceiveQuotaInBytes"),
    ("Deleted Item Count", "deletedItemCount"),
    ("Deleted Item Size (Byte)", "deletedItemSizeInBytes"),
    ("Deleted Item Quota (Byte)", "deletedItemQuotaInBytes"),
    ("Has Archive", "hasArchive"),
    ("Recipient Type", "recipientType"),
    ("Report Period", "reportPeriod"),
)
_ONEDRIVE_COLUMNS = (
    ("Report Refresh Date", "reportRefreshDate"),
    ("Site URL", "siteUrl"),
    ("Owner Display Name", "ownerDisplayName"),
    ("Is Deleted", "isDeleted"),
    ("Last Activity Date", "lastActivityDate"),
    ("File Count", "fileCount"),
    ("Active File Count", "activeFileCount"),
    ("Storage Used (Byte)", "storageUsedInBytes"),
    ("Storage Allocated (Byte)", "storageAllocatedInBytes"),
    ("Owner Principal Name", "ownerPrincipalName"),
    ("Report Period", "reportPeriod"),
)
_SITE_COLUMNS = (
    ("Report Refresh Date", "reportRefreshDate"),
    ("Site Id", "siteId"),
    ("Site URL", "siteUrl"),
    ("Owner Display Name", "ownerDisplayName"),
    ("Is Deleted", "isDeleted"),
    ("Last Activity Date", "lastActivityDate"),
    ("File Count", "fileCount"),
    ("Active File Count", "activeFileCount"),
    ("Page View Count", "pageViewCount"),
    ("Visited Page Count", "visitedPageCount"),
    ("Storage Used (Byte)", "storageUsedInBytes"),
    ("Storage Allocated (Byte)", "storageAllocatedInBytes"),
    ("Root Web Template", "rootWebTemplate"),
    ("Owner Principal Name", "ownerPrincipalName"),
    ("Report Period", "reportPeriod"),
)
_SPEC = {
    "getMailboxUsageDetail": (_MAILBOX_COLUMNS, "mailboxUsageDetail"),
    "getOneDriveUsageAccountDetail": (_ONEDRIVE_COLUMNS, "oneDriveUsageAccountDetail"),
    "getSharePointSiteUsageDetail": (_SITE_COLUMNS, "sharePointSiteUsageDetail"),
}


def _parse_arguments(tenant: Tenant, now: float, text: str) -> tuple[float, str]:
    """(refresh date at 00:00 UTC, report period in days) of `period='D7'` / `date=...`."""
    match = re.fullmatch(r"\s*(period|date)\s*=\s*'?([^')]*)'?\s*", text)
    if not match:
        raise ControlError(
            400, "BadRequest", "Specify exactly one of period='D7|D30|D90|D180' or date=YYYY-MM-DD."
        )
    name, value = match.groups()
    today = day_start(now)
    if name == "period":
        if value not in _PERIODS:
            raise ControlError(
                400, "BadRequest", f"Invalid period '{value}'; use D7, D30, D90 or D180."
            )
        return today - DAY, str(_PERIODS[value])
    try:
        day = day_start(parse_iso(value))
    except ValueError as exc:
        raise ControlError(400, "BadRequest", f"Invalid date '{value}'.") from exc
    if not today - 30 * DAY <= day <= today:
        raise ControlError(400, "BadRequest", "The date must be within the last 30 days.")
    return day, "1"


def _rows(
    tenant: Tenant, report: str, refresh: float, period: str, start: int = 0
) -> Iterator[tuple[int, dict[str, Any]]]:
    gen = tenant.gen
    refresh_date = iso_date(refresh)
    deleted_users = tenant.overrides["deletedUsers"]
    if report == "getSharePointSiteUsageDetail":
        for ordinal in range(start, gen.non_personal_site_count):
            site = gen.site(ordinal)
            deleted_at = tenant.site_deleted_at(site.id)
            day = tenant.day(min(refresh, deleted_at or refresh))
            used = gen.site_bytes(site, day)
            files = max(1, used // 1_500_000)
            yield (
                ordinal,
                {
                    "reportRefreshDate": refresh_date,
                    "siteId": site.id.split(",")[1],
                    "siteUrl": site.web_url,
                    "ownerDisplayName": f"{site.display_name} Owners",
                    "isDeleted": deleted_at is not None,
                    "lastActivityDate": iso_date(
                        refresh - gen.activity_days_ago("s", ordinal) * DAY
                    ),
                    "fileCount": files,
                    "activeFileCount": files // 7,
                    "pageViewCount": files // 3,
                    "visitedPageCount": files // 9,
                    "storageUsedInBytes": used,
                    "storageAllocatedInBytes": SITE_QUOTA,
                    "rootWebTemplate": {
                        "STS#3": "Team Site",
                        "GROUP#0": "Group",
                        "SITEPAGEPUBLISHING#0": "Communication Site",
                    }[site.template],
                    "ownerPrincipalName": f"admin@{tenant.domain}",
                    "reportPeriod": period,
                },
            )
        return
    for index in range(start, gen.user_count):
        user = gen.user(index)
        deleted_at = deleted_users.get(user.id)
        day = tenant.day(min(refresh, deleted_at or refresh))
        activity = iso_date(refresh - gen.activity_days_ago("u", index) * DAY)
        if report == "getMailboxUsageDetail" and user.has_mailbox:
            used = gen.mailbox_bytes(index, day)
            deleted_size = gen.deleted_items_bytes(index, day)
            yield (
                index,
                {
                    "reportRefreshDate": refresh_date,
                    "userPrincipalName": user.user_principal_name,
                    "displayName": user.display_name,
                    "isDeleted": deleted_at is not None,
                    "deletedDate": iso_date(deleted_at) if deleted_at else None,
                    "createdDate": iso_date(user.created),
                    "lastActivityDate": activity,
                    "itemCount": used // 75_000,
                    "storageUsedInBytes": used,
                    "issueWarningQuotaInBytes": MAILBOX_QUOTA - 2 * 1024**3,
                    "prohibitSendQuotaInBytes": MAILBOX_QUOTA - 1024**3,
                    "prohibitSendReceiveQuotaInBytes": MAILBOX_QUOTA,
                    "deletedItemCount": deleted_size // 90_000,
                    "deletedItemSizeInBytes": deleted_size,
                    "deletedItemQuotaInBytes": 30 * 1024**3,
                    "hasArchive": user.has_archive,
                    "recipientType": "Shared" if user.kind == SHARED else "User",
                    "reportPeriod": period,
                },
            )
        elif report == "getOneDriveUsageAccountDetail" and user.has_onedrive:
            site = gen.personal_site_of(index)
            used = gen.onedrive_bytes(index, day)
            files = max(1, used // 2_000_000)
            yield (
                index,
                {
                    "reportRefreshDate": refresh_date,
                    "siteUrl": site.web_url,
                    "ownerDisplayName": user.display_name,
                    "isDeleted": deleted_at is not None
                    or tenant.site_deleted_at(site.id) is not None,
                    "lastActivityDate": activity,
                    "fileCount": files,
                    "activeFileCount": files // 5,
                    "storageUsedInBytes": used,
                    "storageAllocatedInBytes": ONEDRIVE_QUOTA,
                    "ownerPrincipalName": user.user_principal_name,
                    "reportPeriod": period,
                },
            )


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def render_csv(tenant: Tenant, report: str, refresh: float, period: str) -> bytes:
    columns, _ = _SPEC[report]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c for c, _ in columns])
    for _, row in _rows(tenant, report, refresh, period):
        writer.writerow([_csv_value(row[key]) for _, key in columns])
    # Microsoft's report files start with a UTF-8 byte order mark.
    return "\ufeff".encode() + out.getvalue().encode()


def _report(ctx: Ctx, report: str, arguments: str) -> Result:
    refresh, period = _parse_arguments(ctx.tenant, ctx.now, arguments)
    fmt = (ctx.args.get("$format") or "text/csv").lower()
    if fmt == "application/json":
        _, entity = _SPEC[report]
        return collection_page(
            ctx,
            Collection(
                name="reports",
                context=f"Collection(microsoft.graph.{entity})",
                source=lambda start: _rows(ctx.tenant, report, refresh, period, start),
                entity=f"microsoft.graph.{entity}",
                default_page=200,
                max_page=None,
            ),
        )
    if fmt != "text/csv":
        raise ControlError(400, "BadRequest", f"Unsupported $format '{fmt}'.")
    token = ctx.world.keys.seal(
        {
            "k": "report",
            "tid": ctx.tenant.id,
            "report": report,
            "refresh": refresh,
            "period": period,
            "exp": real_now() + ctx.world.durations.download_link_lifetime,
        }
    )
    return Result(None, 302, {"Location": f"{ctx.base_url}/_downloads/{token}"})


for _name in _REPORTS:
    route(f"/reports/{_name}(<arguments>)", "GET", perm.REPORTS)(
        lambda ctx, arguments, _report_name=_name: _report(ctx, _report_name, arguments)
    )


def download(world: World, request: Request) -> Response:
    """`/_downloads/<token>`: the CSV behind a report redirect; no Authorization needed."""
    token = request.path.removeprefix("/_downloads/")
    payload = world.keys.unseal(token)
    if not payload or payload.get("k") != "report":
        return Response("Not found", status=404, content_type="text/plain")
    if payload["exp"] < real_now():
        return Response("The download link has expired.", status=403, content_type="text/plain")
    tenant = world.tenants.get(payload["tid"])
    if tenant is None:
        return Response("Not found", status=404, content_type="text/plain")
    body = render_csv(tenant, payload["report"], payload["refresh"], payload["period"])
    etag = hashlib.sha256(body).hexdigest()[:32]
    if request.headers.get("If-None-Match", "").strip('"') == etag:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    return Response(
        body,
        content_type="application/octet-stream",
        headers={
            "ETag": f'"{etag}"',
            "Content-Disposition": f'attachment; filename="{payload["report"]}.csv"',
        },
    )
