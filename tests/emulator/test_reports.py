"""Usage reports: CSV through a pre-authenticated redirect, JSON pages, sizes over time."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from m365.emulator.testing import trust
from tests.fixtures.emulator import TEST_APP

MAILBOX = "/reports/getMailboxUsageDetail(period='D7')"
MAILBOX_COLUMNS = [
    "Report Refresh Date",
    "User Principal Name",
    "Display Name",
    "Is Deleted",
    "Deleted Date",
    "Created Date",
    "Last Activity Date",
    "Item Count",
    "Storage Used (Byte)",
    "Issue Warning Quota (Byte)",
    "Prohibit Send Quota (Byte)",
    "Prohibit Send/Receive Quota (Byte)",
    "Deleted Item Count",
    "Deleted Item Size (Byte)",
    "Deleted Item Quota (Byte)",
    "Has Archive",
    "Recipient Type",
    "Report Period",
]


@pytest.fixture
def tenant(emulated_tenant):
    return emulated_tenant(users=150, consent=True)


@pytest.fixture
def graph(tenant):
    return tenant.graph()


def _download_csv(emulator, graph, path):
    redirect = graph.get(path)
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["Location"]
    assert location.startswith(f"{emulator.base_url}/_downloads/")
    with httpx.Client(verify=trust(emulator.ca_path), trust_env=False) as plain:
        download = plain.get(location)  # no Authorization header
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/octet-stream"
    text = download.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text))), download


def test_mailbox_csv_report(emulator, tenant, graph):
    rows, download = _download_csv(emulator, graph, MAILBOX)
    assert list(rows[0]) == MAILBOX_COLUMNS
    users = graph.get("/users?$top=999&$select=mail,accountEnabled").json()["value"]
    assert len(rows) == sum(1 for u in users if u["mail"])
    assert {r["Recipient Type"] for r in rows} == {"User", "Shared"}
    assert all(int(r["Storage Used (Byte)"]) > 0 for r in rows)
    assert {r["Report Period"] for r in rows} == {"7"}
    assert {r["Has Archive"] for r in rows} <= {"True", "False"}
    etag = download.headers["ETag"]
    with httpx.Client(verify=trust(emulator.ca_path), trust_env=False) as plain:
        again = plain.get(str(download.url), headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_onedrive_and_sharepoint_csv_reports(emulator, tenant, graph):
    drives, _ = _download_csv(
        emulator, graph, "/reports/getOneDriveUsageAccountDetail(period='D30')"
    )
    assert drives and all("-my.sharepoint.com/personal/" in r["Site URL"] for r in drives)
    assert {r["Report Period"] for r in drives} == {"30"}
    sites, _ = _download_csv(emulator, graph, "/reports/getSharePointSiteUsageDetail(period='D7')")
    listed = graph.get("/sites?search=*").json()["value"]
    assert len(sites) == len(listed)
    assert {r["Site Id"] for r in sites} == {s["id"].split(",")[1] for s in listed}


def test_json_reports_are_paged(tenant, graph):
    first = graph.get(f"{MAILBOX}?$format=application/json&$top=50").json()
    assert first["@odata.context"].endswith("Collection(microsoft.graph.mailboxUsageDetail)")
    row = first["value"][0]
    assert {
        "userPrincipalName",
        "storageUsedInBytes",
        "hasArchive",
        "recipientType",
        "reportRefreshDate",
    } <= set(row)
    rows, url = list(first["value"]), first.get("@odata.nextLink")
    while url:
        page = graph.get(url).json()
        rows += page["value"]
        url = page.get("@odata.nextLink")
    assert len({r["userPrincipalName"] for r in rows}) == len(rows) > 50


def test_sizes_grow_day_by_day(tenant, graph):
    def total():
        rows = graph.get(f"{MAILBOX}?$format=application/json&$top=999").json()["value"]
        return sum(r["storageUsedInBytes"] for r in rows)

    before = total()
    assert total() == before  # stable within a day
    tenant.control.advance_clock(10 * 86400, tenant.id)
    assert total() > before


def test_date_parameter_and_bad_arguments(tenant, graph):
    today = tenant.control.now(tenant.id).date()
    from datetime import timedelta

    recent = graph.get(
        "/reports/getSharePointSiteUsageDetail"
        f"(date={today - timedelta(days=3)})?$format=application/json"
    )
    assert recent.status_code == 200
    assert {r["reportRefreshDate"] for r in recent.json()["value"]} == {
        str(today - timedelta(days=3))
    }
    for bad in (f"(date={today - timedelta(days=40)})", "(period='D8')", "(foo=1)"):
        response = graph.get(f"/reports/getSharePointSiteUsageDetail{bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "BadRequest"


def test_deleted_user_is_reported_deleted(tenant, graph):
    tenant.control.delete_user(tenant.id, tenant.user.user_principal_name)
    rows = graph.get(f"{MAILBOX}?$format=application/json&$top=999").json()["value"]
    row = next(r for r in rows if r["userPrincipalName"] == tenant.user.user_principal_name)
    assert row["isDeleted"] is True and row["deletedDate"]


def test_reports_need_reports_read_all(tenant):
    tenant.control.revoke_grant(tenant.id, app_id=TEST_APP.app_id, permission="Reports.Read.All")
    response = tenant.graph().get(MAILBOX)
    assert response.status_code == 403


def test_unknown_download_token(emulator):
    with emulator.http() as http:
        assert http.get("/_downloads/not-a-token").status_code == 404
