import factory
from django.utils import timezone

from backups.choices import KIND_WORKLOAD, ProtectionUnitStatus, ResourceKind, Workload
from backups.models import BackupService, ProtectionPolicy, ProtectionUnit, Resource
from tests.factories import for_tenant
from tests.tenants.factories import TenantFactory


class BackupServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupService

    tenant = factory.SubFactory(TenantFactory)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    tenant = factory.SubFactory(TenantFactory)
    kind = ResourceKind.USER_MAILBOX
    workload = factory.LazyAttribute(lambda o: KIND_WORKLOAD[o.kind] or "")
    external_id = factory.Faker("uuid4")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@customer.example")
    owner_external_id = factory.LazyAttribute(
        lambda o: o.external_id if o.kind != ResourceKind.SITE else ""
    )
    size_bytes = 10 * 1024**3
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class ProtectionPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProtectionPolicy
        django_get_or_create = ["tenant", "workload"]

    tenant = factory.SubFactory(TenantFactory)
    workload = Workload.EXCHANGE
    display_name = factory.LazyAttribute(lambda o: f"{o.workload} policy")


class ProtectionUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProtectionUnit

    resource = factory.SubFactory(ResourceFactory)
    tenant = factory.SelfAttribute("resource.tenant")
    workload = factory.LazyAttribute(lambda o: o.resource.workload)
    policy = factory.SubFactory(
        ProtectionPolicyFactory,
        tenant=factory.SelfAttribute("..tenant"),
        workload=factory.SelfAttribute("..workload"),
    )
    status = ProtectionUnitStatus.PROTECTED
    requested_at = factory.LazyFunction(timezone.now)
    protected_at = factory.LazyFunction(timezone.now)


@for_tenant(BackupService)
def _backup_service_row(tenant):
    return BackupServiceFactory(tenant=tenant)
