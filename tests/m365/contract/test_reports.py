"""Usage reports against the emulator: CSV through the 302 download (no token sent), the
JSON variant, and sizes that grow with the tenant clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from m365 import reports
from m365.errors import GraphForbidden
from m365.graph import GraphClient, build_http_client


@pytest.mark.parametrize(
    ("csv_reader", "json_reader", "key"),
    [
        (reports.iter_mailbox_usage, reports.iter_mailbox_usage_json, "user_principal_name"),
        (reports.iter_onedrive_usage, reports.iter_onedrive_usage_json, "owner_principal_name"),
        (reports.iter_sharepoint_site_usage, reports.iter_sharepoint_site_usage_json, "site_url"),
    ],
)
def test_csv_and_json_variants_agree(graph, csv_reader, json_reader, key):
    from_csv = list(csv_reader(graph, period=reports.ReportPeriod.D7))
    from_json = list(json_reader(graph, period="D7"))
    assert from_csv, "every tenant has mailboxes, OneDrives and sites"
    assert all(
        row.storage_used_bytes is not None and row.storage_used_bytes >= 0 for row in from_csv
    )
    by_key = {getattr(row, key): row for row in from_json}
    assert set(by_key) == {getattr(row, key) for row in from_csv}
    for row in from_csv:
        assert by_key[getattr(row, key)].storage_used_bytes == row.storage_used_bytes


def test_mailbox_report_carries_recipient_type(graph):
    kinds = {row.recipient_type for row in reports.iter_mailbox_usage(graph, period="D7")}
    assert "User" in kinds


def test_report_by_date_and_growth_with_the_clock(control, graph, tenant):
    day = control.now(tenant.id).date() - timedelta(days=1)
    before = {
        r.site_id: r.storage_used_bytes for r in reports.iter_sharepoint_site_usage(graph, day=day)
    }
    control.advance_clock(10 * 86400, tenant.id)
    after = {
        r.site_id: r.storage_used_bytes
        for r in reports.iter_sharepoint_site_usage(graph, period="D7")
    }
    assert sum(after.values()) > sum(before.values())


def test_report_download_is_fetched_without_the_token(settings, tenant, app_tokens, sleeps):
    """Record the requests that really went out (over HTTPS to the emulator): the Graph call
    carries the bearer token, the download behind the 302 does not."""
    sent: list[tuple[str, bool]] = []
    http = build_http_client(settings)
    http.event_hooks["request"] = [
        lambda request: sent.append((request.url.path, "authorization" in request.headers))
    ]
    with GraphClient(
        settings, tenant.id, app_tokens.source(tenant.id), http=http, sleep=sleeps
    ) as graph:
        rows = list(reports.iter_onedrive_usage(graph, period="D30"))
    http.close()
    assert rows
    assert sent[0] == ("/v1.0/reports/getOneDriveUsageAccountDetail(period='D30')", True)
    assert sent[1][0].startswith("/_downloads/") and sent[1][1] is False
    assert len(sent) == 2


def test_reports_need_reports_read_all(control, settings, tenant, app_tokens, sleeps):
    control.revoke_grant(tenant.id, app_id=settings.client_id, permission="Reports.Read.All")
    app_tokens.forget(tenant.id)
    with (
        GraphClient(settings, tenant.id, app_tokens.source(tenant.id), sleep=sleeps) as graph,
        pytest.raises(GraphForbidden),
    ):
        list(reports.iter_mailbox_usage(graph, period="D7"))
