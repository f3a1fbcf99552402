import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from tenants.choices import MembershipRole, TenantStatus
from tenants.models import (
    ApiKey,
    AppProfile,
    AuditEvent,
    ConsentRequest,
    Membership,
    PermissionGrant,
    Tenant,
)
from tests.factories import for_tenant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@customer.example")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Customer {n:04d}")
    slug = factory.Sequence(lambda n: f"customer-{n:04d}")
    entra_tenant_id = factory.LazyFunction(uuid.uuid4)
    primary_domain = factory.LazyAttribute(lambda o: f"{o.slug}.onmicrosoft.com")
    status = TenantStatus.ACTIVE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = MembershipRole.CUSTOMER_ADMIN


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    created_at = factory.LazyFunction(timezone.now)
    actor_label = "system"
    tenant = factory.SubFactory(TenantFactory)
    action = "tenant.updated"


def make_api_key(*, tenant=None, read_only=False, name="integration") -> tuple[ApiKey, str]:
    return ApiKey.objects.create_key(name=name, tenant=tenant, read_only=read_only)


@for_tenant(Tenant)
def _tenant_row(tenant):
    return tenant


@for_tenant(Membership)
def _membership_row(tenant):
    return MembershipFactory(tenant=tenant, role=MembershipRole.CUSTOMER_VIEWER)


@for_tenant(AuditEvent)
def _audit_row(tenant):
    return AuditEventFactory(tenant=tenant)


@for_tenant(ApiKey)
def _api_key_row(tenant):
    return make_api_key(tenant=tenant)[0]


@for_tenant(AppProfile)
def _app_profile_row(tenant):
    return AppProfile.objects.get_or_create(tenant=tenant)[0]


@for_tenant(PermissionGrant)
def _grant_row(tenant):
    profile = AppProfile.objects.get_or_create(tenant=tenant)[0]
    return PermissionGrant.objects.create(
        profile=profile,
        permission_key=f"graph/application/Test.{profile.pk}",
        resource_app_id="00000003-0000-0000-c000-000000000000",
        permission="Reports.Read.All",
        type="application",
        status="granted",
        last_checked_at=timezone.now(),
    )


@for_tenant(ConsentRequest)
def _consent_row(tenant):
    profile = AppProfile.objects.get_or_create(tenant=tenant)[0]
    return ConsentRequest.objects.create(
        tenant=tenant,
        profile=profile,
        purpose="create",
        link_token_hash=uuid.uuid4().hex,
        expires_at=timezone.now(),
        created_by_label="test",
    )
