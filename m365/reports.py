"""Usage reports (reference section 5): sizes of mailboxes, OneDrives and sites, which is
what Backup Storage bills. CSV (default: 302 to a pre-authenticated URL, fetched WITHOUT the
bearer token, streamed and parsed row by row) or the beta JSON variant (paged)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from m365.graph import GraphClient
from m365.odata import boolean, integer, parse_date


class ReportPeriod(StrEnum):
    D7 = "D7"
    D30 = "D30"
    D90 = "D90"
    D180 = "D180"


@dataclass(frozen=True)
class MailboxUsage:
    report_refresh_date: date | None
    user_principal_name: str
    display_name: str
    is_deleted: bool | None
    deleted_date: date | None
    created_date: date | None
    last_activity_date: date | None
    item_count: int | None
    storage_used_bytes: int | None
    deleted_item_count: int | None
    deleted_item_size_bytes: int | None
    has_archive: bool | None
    recipient_type: str  # "User" / "Shared" [inferred column; '' when absent]
    report_period: str


@dataclass(frozen=True)
class DriveUsage:
    report_refresh_date: date | None
    site_url: str
    owner_display_name: str
    owner_principal_name: str
    is_deleted: bool | None
    last_activity_date: date | None
    file_count: int | None
    active_file_count: int | None
    storage_used_bytes: int | None
    storage_allocated_bytes: int | None
    report_period: str


@dataclass(frozen=True)
class SiteUsage:
    report_refresh_date: date | None
    site_id: str
    site_url: str
    owner_display_name: str
    owner_principal_name: str
    is_deleted: bool | None
    last_activity_date: date | None
    file_count: int | None
    active_file_count: int | None
    page_view_count: int | None
    storage_used_bytes: int | None
    storage_allocated_bytes: int | None
    root_web_template: str
    report_period: str


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# field -> (CSV column, JSON property). One table per report keeps both formats in step.
_MAILBOX = {
    "report_refresh_date": ("Report Refresh Date", "reportRefreshDate"),
    "user_principal_name": ("User Principal Name", "userPrincipalName"),
    "display_name": ("Display Name", "displayName"),
    "is_deleted": ("Is Deleted", "isDeleted"),
    "deleted_date": ("Deleted Date", "deletedDate"),
    "created_date": ("Created Date", "createdDate"),
    "last_activity_date": ("Last Activity Date", "lastActivityDate"),
    "item_count": ("Item Count", "itemCount"),
    "storage_used_bytes": ("Storage Used (Byte)", "storageUsedInBytes"),
    "deleted_item_count": ("Deleted Item Count", "deletedItemCount"),
    "deleted_item_size_bytes": ("Deleted Item Size (Byte)", "deletedItemSizeInBytes"),
    "has_archive": ("Has Archive", "hasArchive"),
    "recipient_type": ("Recipient Type", "recipientType"),
    "report_period": ("Report Period", "reportPeriod"),
}
_DRIVE = {
    "report_refresh_date": ("Report Refresh Date", "reportRefreshDate"),
    "site_url": ("Site URL", "siteUrl"),
    "owner_display_name": ("Owner Display Name", "ownerDisplayName"),
    "owner_principal_name": ("Owner Principal Name", "ownerPrincipalName"),
    "is_deleted": ("Is Deleted", "isDeleted"),
    "last_activity_date": ("Last Activity Date", "lastActivityDate"),
    "file_count": ("File Count", "fileCount"),
    "active_file_count": ("Active File Count", "activeFileCount"),
    "storage_used_bytes": ("Storage Used (Byte)", "storageUsedInBytes"),
    "storage_allocated_bytes": ("Storage Allocated (Byte)", "storageAllocatedInBytes"),
    "report_period": ("Report Period", "reportPeriod"),
}
_SITE = {
    "report_refresh_date": ("Report Refresh Date", "reportRefreshDate"),
    "site_id": ("Site Id", "siteId"),
    "site_url": ("Site URL", "siteUrl"),
    "owner_display_name": ("Owner Display Name", "ownerDisplayName"),
    "owner_principal_name": ("Owner Principal Name", "ownerPrincipalName"),
    "is_deleted": ("Is Deleted", "isDeleted"),
    "last_activity_date": ("Last Activity Date", "lastActivityDate"),
    "file_count": ("File Count", "fileCount"),
    "active_file_count": ("Active File Count", "activeFileCount"),
    "page_view_count": ("Page View Count", "pageViewCount"),
    "storage_used_bytes": ("Storage Used (Byte)", "storageUsedInBytes"),
    "storage_allocated_bytes": ("Storage Allocated (Byte)", "storageAllocatedInBytes"),
    "root_web_template": ("Root Web Template", "rootWebTemplate"),
    "report_period": ("Report Period", "reportPeriod"),
}


@dataclass(frozen=True)
class _Report:
    function: str  # Graph's report function name
    row_type: type
    columns: Mapping[str, tuple[str, str]]


MAILBOX_REPORT = _Report("getMailboxUsageDetail", MailboxUsage, _MAILBOX)
ONEDRIVE_REPORT = _Report("getOneDriveUsageAccountDetail", DriveUsage, _DRIVE)
SHAREPOINT_REPORT = _Report("getSharePointSiteUsageDetail", SiteUsage, _SITE)


def _converter(annotation: Any) -> Callable[[Any], Any]:
    kind = str(annotation)
    if "date" in kind:
        return parse_date
    if "int" in kind:
        return integer
    if "bool" in kind:
        return boolean
    return _text


def _build(report: _Report, values: Callable[[str, str], Any]) -> Any:
    kwargs = {}
    for item in fields(report.row_type):
        column, prop = report.columns[item.name]
        kwargs[item.name] = _converter(item.type)(values(column, prop))
    return report.row_type(**kwargs)


def _function_path(report: _Report, period: ReportPeriod | str | None, day: date | None) -> str:
    if (period is None) == (day is None):
        raise ValueError("give exactly one of period or day")
    argument = f"date={day.isoformat()}" if day else f"period='{ReportPeriod(period)}'"
    return f"/reports/{report.function}({argument})"


def iter_csv_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Text chunks → lines with their line endings kept, so csv can join quoted fields that
    span lines. Splits on "\n" only (str.splitlines would also split on U+2028 and friends,
    which may sit unquoted in a display name). Only one line is held at a time."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        start = 0
        while (end := pending.find("\n", start)) != -1:
            yield pending[start : end + 1]
            start = end + 1
        pending = pending[start:]
    if pending:
        yield pending


def parse_report_csv(report: _Report, lines: Iterable[str]) -> Iterator[Any]:
    """Rows of a usage report CSV as dataclasses. Headers are matched without regard to case
    or a leading BOM; a missing column reads as empty."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    index = {
        name.lstrip("\ufeff").strip().lower(): position for position, name in enumerate(header)
    }
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue

        def cell(column: str, _prop: str, row: list[str] = row) -> str:
            position = index.get(column.lower())
            return row[position] if position is not None and position < len(row) else ""

        yield _build(report, cell)


def parse_report_json(report: _Report, item: Mapping[str, Any]) -> Any:
    return _build(report, lambda _column, prop: item.get(prop))


def _iter_csv(
    graph: GraphClient, report: _Report, period: ReportPeriod | str | None, day: date | None
) -> Iterator[Any]:
    path = _function_path(report, period, day)
    yield from parse_report_csv(report, iter_csv_lines(graph.iter_redirected_text(path)))


def _iter_json(
    graph: GraphClient, report: _Report, period: ReportPeriod | str | None, day: date | None
) -> Iterator[Any]:
    path = _function_path(report, period, day)
    for item in graph.iter_items(path, {"$format": "application/json"}, version="beta"):
        yield parse_report_json(report, item)


def iter_mailbox_usage(
    graph: GraphClient, *, period: ReportPeriod | str | None = None, day: date | None = None
) -> Iterator[MailboxUsage]:
    """Mailbox sizes (CSV). Needs Reports.Read.All."""
    return _iter_csv(graph, MAILBOX_REPORT, period, day)


def iter_onedrive_usage(
    graph: GraphClient, *, period: ReportPeriod | str | None = None, day: date | None = None
) -> Iterator[DriveUsage]:
    """OneDrive account sizes (CSV)."""
    return _iter_csv(graph, ONEDRIVE_REPORT, period, day)


def iter_sharepoint_site_usage(
    graph: GraphClient, *, period: ReportPeriod | str | None = None, day: date | None = None
) -> Iterator[SiteUsage]:
    """SharePoint site sizes (CSV)."""
    return _iter_csv(graph, SHAREPOINT_REPORT, period, day)


def iter_mailbox_usage_json(
    graph: GraphClient, *, period: ReportPeriod | str | None = None, day: date | None = None
) -> Iterator[MailboxUsage]:
    """The same rows through the beta JSON variant (paged)."""
    return _iter_json(graph, MAILBOX_REPORT, period, day)


def iter_onedrive_usage_json(
    graph: GraphClient, *, period: ReportPeriod | str | None = None, day: date | None = None
) -> Iterator[DriveUsage]:
    return _iter_json(graph, ONEDRIVE_REPORT, period, day)


def iter_sharepoint_site_usage_json(
    graph: GraphClient, *, period: ReportPeriod | str | None = None, day: date | None = None
) -> Iterator[SiteUsage]:
    return _iter_json(graph, SHAREPOINT_REPORT, period, day)
