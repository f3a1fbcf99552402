import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_signs_in_sees_its_tenant_and_signs_out(live_server, page, customer_a, viewer_a):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(customer_a.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Corp")
    member_row = page.get_by_role("row").filter(has_text=viewer_a.email)
    expect(member_row).to_contain_text("Customer viewer")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
