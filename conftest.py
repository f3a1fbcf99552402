"""Root fixtures: two tenants that are always populated, a user in every role, and API
clients for each kind of principal. Set-ups keep rows in a second tenant so that a missing
tenant filter shows up as a failing assertion."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from tenants.choices import MembershipRole, StaffRole
from tests.tenants.factories import MembershipFactory, TenantFactory, UserFactory, make_api_key

# The Microsoft 365 emulator (one per test session) and its tenants.
pytest_plugins = ["tests.fixtures.emulator", "tests.fixtures.portal_m365"]


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_inline():
    # Tasks enqueued by code under test run inline (after commit, when captured); only the
    # real-worker tests talk to a broker, and they switch this off themselves.
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; each test starts with empty buckets.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tenant_a(db):
    return TenantFactory(name="Alpha Corp", slug="alpha")


@pytest.fixture
def tenant_b(db):
    return TenantFactory(name="Bravo Corp", slug="bravo")


@pytest.fixture
def customer_a(tenant_a):
    return MembershipFactory(
        tenant=tenant_a, role=MembershipRole.CUSTOMER_ADMIN, user__username="admin@alpha.example"
    ).user


@pytest.fixture
def viewer_a(tenant_a):
    return MembershipFactory(
        tenant=tenant_a, role=MembershipRole.CUSTOMER_VIEWER, user__username="viewer@alpha.example"
    ).user


@pytest.fixture
def customer_b(tenant_b):
    return MembershipFactory(
        tenant=tenant_b, role=MembershipRole.CUSTOMER_ADMIN, user__username="admin@bravo.example"
    ).user


def _staff(username: str, role: StaffRole):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role.label))
    return user


@pytest.fixture
def msp_admin(db):
    return _staff("admin@msp.example", StaffRole.MSP_ADMIN)


@pytest.fixture
def msp_operator(db):
    return _staff("operator@msp.example", StaffRole.OPERATOR)


@pytest.fixture
def msp_billing(db):
    return _staff("billing@msp.example", StaffRole.BILLING)


@pytest.fixture
def api():
    """A DRF test client; `api.as_user(u)` / `api.as_key(k)` switch who is calling."""

    class PortalAPIClient(APIClient):
        def as_user(self, user):
            self.credentials()
            self.logout()
            self.force_login(user)
            return self

        def as_key(self, key: str):
            self.logout()
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            return self

        def anonymous(self):
            self.logout()
            self.credentials()
            return self

    return PortalAPIClient()


@pytest.fixture
def key_a(tenant_a):
    return make_api_key(tenant=tenant_a, name="alpha rw")[1]


@pytest.fixture
def key_a_read_only(tenant_a):
    return make_api_key(tenant=tenant_a, read_only=True, name="alpha ro")[1]


@pytest.fixture
def msp_key(db):
    return make_api_key(name="msp rw")[1]
