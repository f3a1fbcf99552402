"""Pure parsing: report CSV, OData values, enums, auth error mapping, consent redirects."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365.auth import auth_error
from m365.backup.enums import BackupServiceConsumer, ProtectionSource, RestoreSessionStatus
from m365.backup.models import RestoreArtifact, ServiceStatus, UnitChange
from m365.config import GraphSettings
from m365.errors import AppNotConsented, InvalidGrant, TokenEndpointError, UnknownTenant
from m365.identity import (
    ConsentDenied,
    ConsentStateMismatch,
    admin_consent_url,
    authorize_url,
    legacy_admin_consent_url,
    parse_admin_consent_redirect,
)
from m365.odata import literal, parse_datetime, segment
from m365.reports import MAILBOX_REPORT, SHAREPOINT_REPORT, iter_csv_lines, parse_report_csv

SETTINGS = GraphSettings(
    client_id="app-id",
    client_secret="secret",
    msp_tenant_id="msp",
    login_base_url="https://login.test/",
)

MAILBOX_CSV = (
    "\ufeffReport Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,"
    "Created Date,Last Activity Date,Item Count,Storage Used (Byte),Issue Warning Quota (Byte),"
    "Prohibit Send Quota (Byte),Prohibit Send/Receive Quota (Byte),Deleted Item Count,"
    "Deleted Item Size (Byte),Deleted Item Quota (Byte),Has Archive,Recipient Type,"
    "Report Period\r\n"
    '2024-05-01,a@contoso.test,"Doe, ""Jane""\nline2",False,,2020-01-01,2024-04-30,'
    "12,123456789,1,2,3,4,5678,9,True,Shared,7\r\n"
    "2024-05-01,b@contoso.test,B,True,2024-04-02,2020-01-01,,0,0,,,,0,0,,False,User,7\r\n"
)


@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30))
def test_csv_rows_survive_any_chunking(cuts):
    chunks, rest = [], MAILBOX_CSV
    for cut in cuts:
        chunks.append(rest[:cut])
        rest = rest[cut:]
    chunks.append(rest)
    rows = list(parse_report_csv(MAILBOX_REPORT, iter_csv_lines(chunks)))
    assert [row.user_principal_name for row in rows] == ["a@contoso.test", "b@contoso.test"]
    assert rows[0].display_name == 'Doe, "Jane"\nline2'


def test_mailbox_row_values():
    first, second = parse_report_csv(MAILBOX_REPORT, iter_csv_lines([MAILBOX_CSV]))
    assert first.report_refresh_date == date(2024, 5, 1)
    assert first.storage_used_bytes == 123456789 and first.deleted_item_size_bytes == 5678
    assert first.is_deleted is False and first.has_archive is True
    assert first.recipient_type == "Shared" and first.report_period == "7"
    assert second.is_deleted is True and second.deleted_date == date(2024, 4, 2)
    assert second.last_activity_date is None


def test_missing_columns_read_as_empty():
    rows = list(
        parse_report_csv(
            SHAREPOINT_REPORT, iter_csv_lines(["Site Id,Storage Used (Byte)\n", "s1,42\n", "\n"])
        )
    )
    assert len(rows) == 1
    assert rows[0].site_id == "s1" and rows[0].storage_used_bytes == 42
    assert rows[0].site_url == "" and rows[0].is_deleted is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05.1234567Z", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2015-06-19T12-01-03.45Z", datetime(2015, 6, 19, 12, 1, 3, 450000, tzinfo=UTC)),
        ("2024-01-02T05:04:05+02:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
        ("garbage", None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


def test_literal_and_segment_escape():
    assert literal("O'Brien") == "'O''Brien'"
    assert segment("guest_x.com#EXT#@contoso.test") == "guest_x.com%23EXT%23@contoso.test"
    assert segment("host,1,2") == "host,1,2"
    with pytest.raises(ValueError):
        segment("")


def test_enums_tolerate_case_and_future_values():
    assert BackupServiceConsumer("thirdParty") is BackupServiceConsumer.THIRD_PARTY
    assert RestoreSessionStatus("somethingNew") is RestoreSessionStatus.UNKNOWN_FUTURE_VALUE
    assert ProtectionSource.parse_flags("manual, dynamicRule") == {
        ProtectionSource.MANUAL,
        ProtectionSource.DYNAMIC_RULE,
    }


def test_models_read_documented_variants():
    status = ServiceStatus.from_graph({"status": "enabled", "serviceConsumer": "thirdParty"})
    assert status.consumer is BackupServiceConsumer.THIRD_PARTY
    change = UnitChange.from_graph(
        {
            "@contentId": "1",
            "id": "u1",
            "@Core.DataModificationException": {
                "info": {"code": "ProtectionUnitNotFound", "message": "m"},
                "failedOperation": "remove",
                "responseCode": 404,
            },
        }
    )
    assert not change.ok and change.error_code == "ProtectionUnitNotFound"
    assert change.response_code == 404
    artifact = RestoreArtifact.from_graph(
        {"id": "a", "status": "inProgress", "restorePoint": {"id": "rp1"}}
    )
    assert artifact.restore_point_id == "rp1"


@pytest.mark.parametrize(
    ("result", "delegated", "cls"),
    [
        ({"error": "invalid_grant", "error_codes": [50173]}, True, InvalidGrant),
        ({"error": "invalid_grant", "error_codes": [65001]}, True, InvalidGrant),
        ({"error": "interaction_required", "error_codes": [50076]}, True, InvalidGrant),
        ({"error": "invalid_client", "error_codes": [7000229]}, False, AppNotConsented),
        ({"error": "unauthorized_client", "error_codes": [700016]}, False, AppNotConsented),
        ({"error": "invalid_request", "error_codes": [90002]}, False, UnknownTenant),
        ({"error": "invalid_client", "error_codes": [7000215]}, False, TokenEndpointError),
        ({"error": "temporarily_unavailable"}, False, TokenEndpointError),
    ],
)
def test_auth_error_mapping(result, delegated, cls):
    error = auth_error(
        {**result, "error_description": "AADSTS1: text\r\nTrace ID: x"},
        tenant="t",
        delegated=delegated,
    )
    assert type(error) is cls
    assert str(error) == "AADSTS1: text"


def test_temporarily_unavailable_is_transient():
    assert auth_error({"error": "temporarily_unavailable"}, tenant="t", delegated=False).transient


def test_consent_urls():
    url = admin_consent_url(
        SETTINGS, redirect_uri="https://portal.test/cb", state="s1", tenant="contoso.test"
    )
    assert url == (
        "https://login.test/contoso.test/v2.0/adminconsent?client_id=app-id&scope="
        "https%3A%2F%2Fgraph.microsoft.com%2F.default&redirect_uri="
        "https%3A%2F%2Fportal.test%2Fcb&state=s1"
    )
    assert legacy_admin_consent_url(SETTINGS, redirect_uri="https://p/cb", state="s").startswith(
        "https://login.test/common/adminconsent?client_id=app-id"
    )
    with pytest.raises(ValueError):
        admin_consent_url(SETTINGS, redirect_uri="https://p/cb", state="s", tenant="common")
    with pytest.raises(UnknownTenant):
        admin_consent_url(SETTINGS, redirect_uri="https://p/cb", state="s", tenant="../x")
    assert "code_challenge_method=S256" in authorize_url(
        SETTINGS, redirect_uri="https://p/cb", state="s", scopes=["openid"], code_challenge="c"
    )


def test_consent_redirect_checks_error_first_then_state():
    tenant = "0f0e0d0c-0b0a-0908-0706-050403020100"
    ok = parse_admin_consent_redirect(
        {"admin_consent": "True", "tenant": tenant.upper(), "state": "s", "scope": "x"},
        expected_state="s",
    )
    assert ok.tenant_id == tenant
    with pytest.raises(ConsentDenied):
        parse_admin_consent_redirect(
            {
                "admin_consent": "True",
                "error": "access_denied",
                "error_description": "AADSTS65004",
                "state": "s",
            },
            expected_state="s",
        )
    with pytest.raises(ConsentDenied):  # the legacy cancel carries no state
        parse_admin_consent_redirect({"error": "permission_denied"}, expected_state="s")
    with pytest.raises(ConsentStateMismatch):
        parse_admin_consent_redirect(
            {"admin_consent": "True", "tenant": tenant, "state": "x"}, expected_state="s"
        )


def test_settings_refuse_http_and_hide_the_secret():
    with pytest.raises(ValueError):
        GraphSettings(
            client_id="a",
            client_secret="s",
            msp_tenant_id="m",
            graph_base_url="http://127.0.0.1:8765",
        )
    assert "secret" not in repr(SETTINGS)
    assert SETTINGS.login_base_url == "https://login.test"
