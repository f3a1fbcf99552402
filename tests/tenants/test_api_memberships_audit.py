from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import AuditEvent, Membership
from tests.tenants.factories import AuditEventFactory

pytestmark = pytest.mark.django_db


def test_customer_admin_invites_a_member_of_its_own_tenant(api, customer_a, tenant_a):
    answer = api.as_user(customer_a).post(
        "/api/v1/memberships/",
        {"tenant": tenant_a.pk, "email": "New.Person@Alpha.example", "role": "customer_viewer"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    membership = Membership.objects.get(tenant=tenant_a, user__email="new.person@alpha.example")
    assert not membership.user.has_usable_password()
    assert AuditEvent.objects.filter(action="membership.created", tenant=tenant_a).exists()


def test_customer_cannot_add_members_to_another_tenant(api, customer_a, tenant_b):
    answer = api.as_user(customer_a).post(
        "/api/v1/memberships/",
        {"tenant": tenant_b.pk, "email": "spy@alpha.example", "role": "customer_admin"},
        format="json",
    )
    assert answer.status_code == 400
    assert "does not exist" in answer.json()["errors"]["tenant"][0]
    assert not Membership.objects.filter(tenant=tenant_b, user__email="spy@alpha.example").exists()


def test_viewer_cannot_change_members(api, viewer_a, customer_a, tenant_a):
    admin_membership = Membership.objects.get(user=customer_a)
    client = api.as_user(viewer_a)
    assert (
        client.patch(
            f"/api/v1/memberships/{admin_membership.pk}/",
            {"role": "customer_viewer"},
            format="json",
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/memberships/{admin_membership.pk}/").status_code == 403


def test_duplicate_membership_is_a_conflict(api, msp_admin, customer_a, tenant_a):
    answer = api.as_user(msp_admin).post(
        "/api/v1/memberships/",
        {"tenant": tenant_a.pk, "email": customer_a.email, "role": "customer_admin"},
        format="json",
    )
    assert answer.status_code == 409
    assert answer.json()["errors"]["email"] == ["This user is already a member of this tenant."]


def test_audit_events_filter_by_tenant_actor_action_and_time(api, msp_admin, tenant_a, tenant_b):
    now = timezone.now()
    AuditEventFactory(
        tenant=tenant_a, action="tenant.suspended", actor_label="carol", created_at=now
    )
    AuditEventFactory(
        tenant=tenant_a,
        action="tenant.updated",
        actor_label="dave",
        created_at=now - timedelta(days=3),
    )
    AuditEventFactory(
        tenant=tenant_b, action="api_key.created", actor_label="carol", created_at=now
    )
    client = api.as_user(msp_admin)

    def actions(**params):
        return sorted(
            row["action"] for row in client.get("/api/v1/audit-events/", params).json()["results"]
        )

    assert actions(tenant=tenant_a.pk) == ["tenant.suspended", "tenant.updated"]
    assert actions(actor="caro") == ["api_key.created", "tenant.suspended"]
    assert actions(action="tenant.") == ["tenant.suspended", "tenant.updated"]
    assert actions(action="tenant.updated") == ["tenant.updated"]
    since = (now - timedelta(days=1)).isoformat()
    assert actions(created_after=since) == ["api_key.created", "tenant.suspended"]
    bad = client.get("/api/v1/audit-events/", {"created_after": "yesterday"})
    assert bad.status_code == 400 and "created_after" in bad.json()["errors"]


def test_audit_events_are_read_only(api, msp_admin, tenant_a):
    event = AuditEventFactory(tenant=tenant_a)
    client = api.as_user(msp_admin)
    assert client.post("/api/v1/audit-events/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/audit-events/{event.pk}/").status_code == 405
