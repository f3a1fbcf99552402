import uuid

import pytest
from django.test import override_settings

from tenants.choices import TenantStatus
from tenants.models import AuditEvent, Tenant
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tenants/"


def _new_tenant(**overrides):
    body = {
        "name": "Woodgrove Bank",
        "slug": "woodgrove",
        "entra_tenant_id": str(uuid.uuid4()),
        "primary_domain": "woodgrove.onmicrosoft.com",
    }
    return {**body, **overrides}


def test_msp_admin_creates_a_tenant_in_onboarding_and_it_is_audited(api, msp_admin):
    answer = api.as_user(msp_admin).post(URL, _new_tenant(), format="json")

    assert answer.status_code == 201, answer.content
    tenant = Tenant.objects.get(slug="woodgrove")
    assert tenant.status == TenantStatus.ONBOARDING
    event = AuditEvent.objects.get(action="tenant.created", tenant=tenant)
    assert event.actor_user == msp_admin
    assert event.source_ip == "127.0.0.1"


@pytest.mark.parametrize("who", ["msp_billing", "customer_a", "viewer_a"])
def test_only_staff_with_the_permission_create_tenants(api, request, who):
    user = request.getfixturevalue(who)
    answer = api.as_user(user).post(URL, _new_tenant(), format="json")
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"
    assert not Tenant.objects.filter(slug="woodgrove").exists()


def test_operator_creates_and_msp_key_creates(api, msp_operator, msp_key):
    assert api.as_user(msp_operator).post(URL, _new_tenant(), format="json").status_code == 201
    second = _new_tenant(slug="woodgrove-2")
    assert api.as_key(msp_key).post(URL, second, format="json").status_code == 201


def test_customer_reads_only_its_own_tenant(api, customer_a, tenant_a, tenant_b):
    rows = api.as_user(customer_a).get(URL).json()["results"]
    assert [row["slug"] for row in rows] == ["alpha"]
    assert api.get(f"{URL}{tenant_b.pk}/").status_code == 404
    assert api.patch(f"{URL}{tenant_a.pk}/", {"name": "X"}, format="json").status_code == 403


def test_update_records_the_change_and_keeps_the_entra_id(api, msp_admin, tenant_a):
    answer = api.as_user(msp_admin).patch(
        f"{URL}{tenant_a.pk}/", {"name": "Alpha Holdings"}, format="json"
    )
    assert answer.status_code == 200
    event = AuditEvent.objects.get(action="tenant.updated", tenant=tenant_a)
    assert event.details == {"name": {"from": "Alpha Corp", "to": "Alpha Holdings"}}

    moved = api.patch(f"{URL}{tenant_a.pk}/", {"entra_tenant_id": str(uuid.uuid4())}, format="json")
    assert moved.status_code == 400
    assert moved.json()["errors"]["entra_tenant_id"] == ["This field is read-only."]


def test_suspend_and_reactivate(api, msp_operator, tenant_a):
    client = api.as_user(msp_operator)
    suspended = client.post(f"{URL}{tenant_a.pk}/suspend/", {"reason": "Unpaid"}, format="json")
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["status_reason"] == "Unpaid"
    assert client.post(f"{URL}{tenant_a.pk}/reactivate/").json()["status"] == "active"
    actions = list(
        AuditEvent.objects.filter(tenant=tenant_a).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["tenant.suspended", "tenant.active"]


def test_an_offboarded_tenant_cannot_be_suspended(api, msp_admin):
    gone = TenantFactory(status=TenantStatus.OFFBOARDED)
    answer = api.as_user(msp_admin).post(f"{URL}{gone.pk}/suspend/", {"reason": "x"}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "invalid_transition"
    assert answer.json()["errors"]["status"]


def test_suspend_needs_a_reason(api, msp_admin, tenant_a):
    answer = api.as_user(msp_admin).post(f"{URL}{tenant_a.pk}/suspend/", {}, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]["reason"] == ["This field is required."]


def test_filter_search_and_ordering(api, msp_admin, tenant_a, tenant_b):
    TenantFactory(name="Charlie", slug="charlie", status=TenantStatus.SUSPENDED)
    client = api.as_user(msp_admin)
    assert [r["slug"] for r in client.get(URL, {"status": "suspended"}).json()["results"]] == [
        "charlie"
    ]
    assert [r["slug"] for r in client.get(URL, {"search": "brav"}).json()["results"]] == ["bravo"]
    names = [r["name"] for r in client.get(URL, {"ordering": "name"}).json()["results"]]
    assert names == sorted(names)


def test_cursor_pagination_walks_every_row_once(api, msp_admin):
    made = {TenantFactory().slug for _ in range(7)}
    client = api.as_user(msp_admin)
    seen, url = [], f"{URL}?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["slug"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(made)


# --- bad input: a 400 with the field named, never a 500 --------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "x" * 201}, "name", "Ensure this field has no more than 200 characters."),
        ({"entra_tenant_id": "not-a-guid"}, "entra_tenant_id", "Must be a valid UUID."),
        ({"entra_tenant_id": 42}, "entra_tenant_id", "Must be a valid UUID."),
        ({"name": ["a", "list"]}, "name", "Not a valid string."),
        ({"slug": "has spaces"}, "slug", 'Enter a valid "slug"'),
        ({"colour": "blue"}, "colour", "Unknown field."),
        ({"status": "active"}, "status", "This field is read-only."),
    ],
)
def test_bad_tenant_input_is_a_400_naming_the_field(api, msp_admin, body, field, message):
    answer = api.as_user(msp_admin).post(URL, _new_tenant(**body), format="json")
    assert answer.status_code == 400, answer.content
    error = answer.json()
    assert error["status"] == 400 and error["code"] == "invalid"
    assert any(message in text for text in error["errors"][field]), error
    assert not Tenant.objects.exists()


def test_duplicate_entra_tenant_id_is_a_400_on_that_field(api, msp_admin, tenant_a):
    answer = api.as_user(msp_admin).post(
        URL, _new_tenant(entra_tenant_id=str(tenant_a.entra_tenant_id)), format="json"
    )
    assert answer.status_code == 400
    assert "already exists" in answer.json()["errors"]["entra_tenant_id"][0]


def test_malformed_json_is_a_400(api, msp_admin):
    answer = api.as_user(msp_admin).generic(
        "POST", URL, '{"name": "broken', content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"


def test_a_json_array_body_is_a_400(api, msp_admin):
    answer = api.as_user(msp_admin).post(URL, ["not", "an", "object"], format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]["non_field_errors"]


def test_unknown_api_path_answers_json_404(api, msp_admin):
    answer = api.as_user(msp_admin).get("/api/v1/nothing-here/")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


# --- throttling per key ---------------------------------------------------------------------


@override_settings(API_THROTTLE_RATE="3/min")
def test_each_key_has_its_own_rate_limit(api, key_a, msp_key):
    client = api.as_key(key_a)
    codes = [client.get(URL).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get(URL).json()["code"] == "throttled"
    assert api.as_key(msp_key).get(URL).status_code == 200


# --- query counts stay flat as tenants grow ---------------------------------------------------


@pytest.mark.parametrize("count", [5, 500])
def test_tenant_list_queries_do_not_grow(api, msp_admin, django_assert_max_num_queries, count):
    TenantFactory.create_batch(count)
    client = api.as_user(msp_admin)
    with django_assert_max_num_queries(6):
        assert client.get(URL, {"page_size": 500}).status_code == 200


@pytest.mark.parametrize("count", [5, 500])
def test_admin_tenant_changelist_queries_do_not_grow(
    client, msp_admin, django_assert_max_num_queries, count
):
    TenantFactory.create_batch(count)
    client.force_login(msp_admin)
    with django_assert_max_num_queries(10):
        assert client.get("/admin/tenants/tenant/").status_code == 200
