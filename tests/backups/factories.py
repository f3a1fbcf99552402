from datetime import timedelta

import factory
from django.utils import timezone

from backups.choices import (
    KIND_WORKLOAD,
    ArtifactStatus,
    DestinationType,
    JobKind,
    JobState,
    ProtectionUnitStatus,
    ResourceKind,
    RestoreStatus,
    ScopeMode,
    Workload,
)
from backups.models import (
    BackupJob,
    BackupService,
    GraphHealth,
    ProtectionPolicy,
    ProtectionScope,
    ProtectionUnit,
    Resource,
    RestoreArtifact,
    RestorePoint,
    RestoreSession,
)
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


class ProtectionScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProtectionScope
        django_get_or_create = ["tenant", "workload"]

    tenant = factory.SubFactory(TenantFactory)
    workload = Workload.EXCHANGE
    mode = ScopeMode.ALL


class RestorePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RestorePoint

    unit = factory.SubFactory(ProtectionUnitFactory)
    tenant = factory.SelfAttribute("unit.tenant")
    workload = factory.SelfAttribute("unit.workload")
    graph_id = factory.Faker("uuid4")
    protected_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
    synced_at = factory.LazyFunction(timezone.now)


class RestoreSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RestoreSession
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    workload = Workload.EXCHANGE
    destination_type = DestinationType.IN_PLACE
    status = RestoreStatus.COMPLETED
    created_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def artifacts(obj, create, extracted, **kwargs):
        if create and extracted is None:
            unit = ProtectionUnitFactory(resource=ResourceFactory(tenant=obj.tenant))
            RestoreArtifact.objects.create(
                tenant=obj.tenant, session=obj, unit=unit, status=ArtifactStatus.SUCCEEDED
            )


class BackupJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupJob

    tenant = factory.SubFactory(TenantFactory)
    kind = JobKind.SCAN_INVENTORY
    state = JobState.SUCCEEDED
    created_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    progress_done = 10
    progress_total = 10
    attempts = 1


@for_tenant(Resource)
def _resource_row(tenant):
    return ResourceFactory(tenant=tenant)


@for_tenant(ProtectionScope)
def _scope_row(tenant):
    return ProtectionScopeFactory(tenant=tenant)


@for_tenant(ProtectionPolicy)
def _policy_row(tenant):
    return ProtectionPolicyFactory(tenant=tenant)


@for_tenant(ProtectionUnit)
def _unit_row(tenant):
    return ProtectionUnitFactory(resource=ResourceFactory(tenant=tenant))


@for_tenant(RestorePoint)
def _restore_point_row(tenant):
    return RestorePointFactory(unit=ProtectionUnitFactory(resource=ResourceFactory(tenant=tenant)))


@for_tenant(RestoreSession)
def _restore_row(tenant):
    return RestoreSessionFactory(tenant=tenant)


@for_tenant(BackupJob)
def _job_row(tenant):
    return BackupJobFactory(tenant=tenant)


@for_tenant(GraphHealth)
def _graph_health_row(tenant):
    return GraphHealth.objects.create(
        tenant=tenant,
        day=timezone.now().date(),
        requests=100,
        throttled=7,
        errors=1,
        waited_seconds=3.5,
    )
