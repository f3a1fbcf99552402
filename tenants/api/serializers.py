from rest_framework import serializers

from portal.api.serializers import (
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
    StrictSerializer,
)
from tenants.choices import MembershipRole
from tenants.manifest import manifest_row
from tenants.models import (
    ApiKey,
    AppProfile,
    AuditEvent,
    ConsentRequest,
    Membership,
    PermissionGrant,
    Tenant,
)


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


class TenantOnboardSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.RegexField(
        r"^(?=.{3,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$",
        max_length=253,
        error_messages={"invalid": "Enter a domain such as contoso.onmicrosoft.com."},
    )
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True)

    def validate_domain(self, value: str) -> str:
        return value.lower()

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("domain"), str):
            data = {**data, "domain": data["domain"].strip().lower()}
        return super().to_internal_value(data)


class PermissionGrantSerializer(serializers.ModelSerializer):
    purpose = serializers.SerializerMethodField()
    api = serializers.SerializerMethodField()

    class Meta:
        model = PermissionGrant
        fields = [
            "id",
            "profile",
            "api",
            "resource_app_id",
            "permission",
            "type",
            "status",
            "purpose",
            "granted_since",
            "last_checked_at",
        ]
        read_only_fields = fields

    def get_purpose(self, obj) -> str:
        row = manifest_row(obj.permission_key)
        return row.purpose if row else ""

    def get_api(self, obj) -> str:
        row = manifest_row(obj.permission_key)
        return row.api if row else ""


class AppProfileSerializer(serializers.ModelSerializer):
    tenant_slug = serializers.SlugRelatedField(source="tenant", slug_field="slug", read_only=True)

    class Meta:
        model = AppProfile
        fields = [
            "id",
            "tenant",
            "tenant_slug",
            "status",
            "status_reason",
            "status_changed_at",
            "consented_by_upn",
            "consented_by_role",
            "consented_at",
            "manifest_version",
            "service_principal_id",
            "last_verified_at",
            "last_verification_error",
            "created_at",
        ]
        read_only_fields = fields


class ConsentLinkCreateSerializer(StrictSerializer):
    sent_to = serializers.EmailField(required=False, allow_blank=True, default="")
    valid_hours = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=720,
        help_text="How long the link works (default CONSENT_LINK_VALID_HOURS, 168).",
    )


class ConsentLinkSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="Single-use; shown in this answer only.")

    class Meta:
        model = ConsentRequest
        fields = ["id", "tenant", "purpose", "sent_to", "expires_at", "outcome", "url"]
        read_only_fields = fields


class ConsentRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentRequest
        fields = [
            "id",
            "tenant",
            "profile",
            "purpose",
            "sent_to",
            "created_by_label",
            "expires_at",
            "signed_in_upn",
            "outcome",
            "failure",
            "failure_detail",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields
