import pytest

from tenants.choices import AppProfileStatus
from tenants.models import AppProfile
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tenants", [3, 60])
def test_admin_index_lists_what_needs_attention_in_constant_queries(
    client, msp_admin, django_assert_max_num_queries, tenants
):
    for index, tenant in enumerate(TenantFactory.create_batch(tenants)):
        status = AppProfileStatus.INVALID if index % 3 == 0 else AppProfileStatus.ACTIVE
        AppProfile.objects.create(tenant=tenant, status=status)
    client.force_login(msp_admin)
    with django_assert_max_num_queries(12):
        page = client.get("/admin/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f"<strong>{(tenants + 2) // 3}</strong> app profile(s) not active" in body
    assert "Revenue, cost and margin" in body
    assert "User social auths" not in body
