"""The consent journey in a real browser: MSP staff onboard a tenant in the admin, open the
consent link, the customer's Global Administrator signs in on the emulator's Microsoft pages
and accepts, and the profile shows active with every grant listed."""

import re

import pytest
from playwright.sync_api import Page, expect

from tenants.choices import AppProfileStatus
from tenants.models import AppProfile, Tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _microsoft_pages(page: Page, user) -> None:
    """Sign in (when asked) and accept (when asked) until the browser leaves the emulator."""
    for _ in range(6):
        if "/_emulator" in page.url or page.url.startswith("http://"):
            return
        heading = page.get_by_role("heading", level=1).inner_text()
        if heading == "Sign in":
            page.get_by_label("Username").fill(user.user_principal_name)
            page.get_by_label("Password").fill(user.password)
            page.get_by_role("button", name="Sign in").click()
        elif heading == "Permissions requested":
            page.get_by_role("button", name="Accept").click()
        else:
            raise AssertionError(f"unexpected Microsoft page: {heading}")
        page.wait_for_load_state()


def test_msp_onboards_and_the_customer_admin_consents(
    live_server, page: Page, portal_m365, emulated_tenant, msp_admin, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    portal_m365.register_app(origin=live_server.url)
    emulated = emulated_tenant()

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill(msp_admin.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/admin/tenants/tenant/")
    page.get_by_role("link", name="Onboard from a domain").click()
    page.get_by_label("Name").fill("Woodgrove Bank")
    page.get_by_label("Domain").fill(emulated.domain)
    page.get_by_role("button", name="Onboard").click()
    expect(page.get_by_text("Woodgrove Bank onboarded")).to_be_visible()

    page.get_by_role("button", name="Create consent link").click()
    page.get_by_test_id("consent-link").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Authorize Cloud Backup Express")
    expect(page.get_by_role("row").filter(has_text="Reports.Read.All")).to_contain_text(
        "Retrieve Microsoft 365 data size."
    )
    page.get_by_role("button", name="Sign in with Microsoft").click()
    _microsoft_pages(page, emulated.admin)
    # Back on the portal, then Microsoft's admin consent, then back again.
    _microsoft_pages(page, emulated.admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cloud Backup Express is authorized")

    tenant = Tenant.objects.get(name="Woodgrove Bank")
    profile = AppProfile.objects.get(tenant=tenant)
    assert profile.status == AppProfileStatus.ACTIVE
    page.goto(f"{live_server.url}/admin/tenants/appprofile/{profile.pk}/change/")
    expect(page.get_by_text("Active").first).to_be_visible()
    grant_rows = page.locator("table tr").filter(has_text=re.compile(r"\bGranted\b"))
    expect(grant_rows).to_have_count(12)
