from rest_framework import serializers

from portal.api.serializers import (
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
    StrictSerializer,
)
from tenants.choices import MembershipRole
from tenants.models import ApiKey, AuditEvent, Membership, Tenant


class TenantSerializer(StrictModelSerializer):
    class Meta:
        model = Tenant
        fields = [
            "id",
            "name",
            "slug",
            "entra_tenant_id",
            "primary_domain",
            "status",
            "status_reason",
            "status_changed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "status_reason",
            "status_changed_at",
            "created_at",
            "updated_at",
        ]


class TenantUpdateSerializer(TenantSerializer):
    class Meta(TenantSerializer.Meta):
        # The Entra tenant is the tenant's identity: a different one is a different customer.
        read_only_fields = [*TenantSerializer.Meta.read_only_fields, "entra_tenant_id"]


class TenantSuspendSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class MembershipSerializer(StrictModelSerializer):
    email = serializers.EmailField(source="user.email", max_length=254)
    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.CharField(
        source="user.get_full_name", read_only=True, help_text="The user's name."
    )

    class Meta:
        model = Membership
        fields = ["id", "tenant", "email", "username", "full_name", "role", "created_at"]
        read_only_fields = ["id", "username", "full_name", "created_at"]


class MembershipCreateSerializer(StrictSerializer):
    tenant = ScopedPrimaryKeyRelatedField(queryset=Tenant.objects.all())
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=MembershipRole.choices)
    full_name = serializers.CharField(max_length=300, required=False, allow_blank=True)


class MembershipUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_label",
            "actor_user",
            "actor_api_key",
            "tenant",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "details",
            "source_ip",
        ]
        read_only_fields = fields


class ApiKeySerializer(serializers.ModelSerializer):
    tenant_slug = serializers.SlugRelatedField(source="tenant", slug_field="slug", read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "prefix",
            "name",
            "tenant",
            "tenant_slug",
            "read_only",
            "revoked",
            "revoked_at",
            "expiry_date",
            "created",
            "last_used_at",
        ]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=50)
    tenant = serializers.PrimaryKeyRelatedField(
        queryset=Tenant.objects.all(),
        required=False,
        allow_null=True,
        help_text="Leave empty for an MSP key that reaches every tenant.",
    )
    read_only = serializers.BooleanField(default=False)
    expiry_date = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The key itself. Shown once: it is stored only as a hash."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
