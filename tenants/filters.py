import django_filters

from tenants.choices import TenantStatus
from tenants.models import (
    ApiKey,
    AppProfile,
    AuditEvent,
    ConsentRequest,
    Membership,
    PermissionGrant,
    Tenant,
)


class TenantFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TenantStatus.choices)
    search = django_filters.CharFilter(method="filter_search", label="Name, slug or domain")

    class Meta:
        model = Tenant
        fields = ["status", "slug", "entra_tenant_id"]

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(name__icontains=value) | Q(slug__icontains=value) | Q(primary_domain__icontains=value)
        )


class MembershipFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = Membership
        fields = ["tenant", "role"]


class AuditEventFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    action = django_filters.CharFilter(method="filter_action", label="Action or action prefix")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["tenant", "actor", "action", "target_type"]

    def filter_action(self, queryset, name, value):
        # "tenant." matches every tenant action; "tenant.suspended" exactly that one.
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)


class ApiKeyFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    msp = django_filters.BooleanFilter(field_name="tenant", lookup_expr="isnull", label="MSP keys")

    class Meta:
        model = ApiKey
        fields = ["tenant", "revoked", "read_only"]


class AppProfileFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")
    needs_attention = django_filters.BooleanFilter(method="filter_attention")

    class Meta:
        model = AppProfile
        fields = ["tenant", "status"]

    def filter_attention(self, queryset, name, value):
        return queryset.needs_attention() if value else queryset.filter(status="active")


class PermissionGrantFilter(django_filters.FilterSet):
    profile = django_filters.NumberFilter(field_name="profile_id")
    tenant = django_filters.NumberFilter(field_name="profile__tenant_id")

    class Meta:
        model = PermissionGrant
        fields = ["profile", "tenant", "status", "type"]


class ConsentRequestFilter(django_filters.FilterSet):
    tenant = django_filters.NumberFilter(field_name="tenant_id")

    class Meta:
        model = ConsentRequest
        fields = ["tenant", "outcome", "purpose", "failure"]
