import pytest

from tenants.models import ApiKey, AuditEvent, Tenant

pytestmark = pytest.mark.django_db


def test_sign_in_takes_a_customer_to_its_tenant_and_sign_out_ends_the_session(
    client, customer_a, viewer_a, tenant_a
):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'name="password"' in page.content

    signed_in = client.post(
        "/accounts/login/",
        {"username": customer_a.username, "password": "correct horse battery"},
        follow=True,
    )
    assert signed_in.redirect_chain[-1][0] == "/t/alpha/"
    body = signed_in.content.decode()
    assert "Alpha Corp" in body and viewer_a.email in body and "Customer viewer" in body

    client.post("/accounts/logout/")
    assert client.get("/t/alpha/").status_code == 302


def test_wrong_password_is_a_form_error(client, customer_a):
    answer = client.post("/accounts/login/", {"username": customer_a.username, "password": "nope"})
    assert answer.status_code == 200
    assert "Please enter a correct username and password" in answer.content.decode()


def test_staff_land_in_the_admin(client, msp_admin):
    client.force_login(msp_admin)
    assert client.get("/").url == "/admin/"


def test_a_member_of_two_tenants_chooses(client, customer_a, tenant_b):
    from tests.tenants.factories import MembershipFactory

    MembershipFactory(user=customer_a, tenant=tenant_b)
    client.force_login(customer_a)
    body = client.get("/").content.decode()
    assert "Alpha Corp" in body and "Bravo Corp" in body


def test_admin_creates_a_tenant_through_the_service(client, msp_admin):
    client.force_login(msp_admin)
    answer = client.post(
        "/admin/tenants/tenant/add/",
        {
            "name": "Litware",
            "slug": "litware",
            "entra_tenant_id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed",
            "primary_domain": "Litware.onmicrosoft.com",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    tenant = Tenant.objects.get(slug="litware")
    assert tenant.primary_domain == "litware.onmicrosoft.com"
    assert AuditEvent.objects.filter(action="tenant.created", tenant=tenant).exists()


def test_admin_audit_log_is_read_only(client, msp_admin, tenant_a):
    client.force_login(msp_admin)
    assert client.get("/admin/tenants/auditevent/").status_code == 200
    assert client.get("/admin/tenants/auditevent/add/").status_code == 403


def test_admin_shows_a_new_key_once(client, msp_admin, tenant_a):
    client.force_login(msp_admin)
    answer = client.post(
        "/admin/tenants/apikey/add/",
        {"name": "Autotask", "tenant": tenant_a.pk, "read_only": "on"},
        follow=True,
    )
    api_key = ApiKey.objects.get(name="Autotask")
    message = next(iter(answer.context["messages"])).message
    plaintext = message.split(" is ", 1)[1].split(" ")[0]
    assert ApiKey.objects.is_valid(plaintext) and api_key.read_only
    listing = client.get("/admin/tenants/apikey/").content.decode()
    assert plaintext not in listing
