from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from portal.api.viewsets import (
    ScopedCreateReadViewSet,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
)
from tenants import services
from tenants.api import serializers
from tenants.exceptions import DomainError
from tenants.filters import (
    ApiKeyFilter,
    AppProfileFilter,
    AuditEventFilter,
    ConsentRequestFilter,
    MembershipFilter,
    PermissionGrantFilter,
    TenantFilter,
)
from tenants.models import (
    ApiKey,
    AppProfile,
    AuditEvent,
    ConsentRequest,
    Membership,
    PermissionGrant,
    Tenant,
)
from tenants.services.onboarding import consent_request_create, tenant_onboard


class TenantViewSet(ScopedModelViewSet):
    """Customer tenants. MSP staff create, change and suspend them; customers read their own."""

    queryset = Tenant.objects.all()
    serializer_class = serializers.TenantSerializer
    filterset_class = TenantFilter
    ordering_fields = ["name", "created_at", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "suspend": "tenants.change_tenant",
        "reactivate": "tenants.change_tenant",
        "onboard": "tenants.add_tenant",
    }

    def get_serializer_class(self):
        if self.action == "partial_update":
            return serializers.TenantUpdateSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        serializer.instance = services.tenant_create(by=self.principal, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.tenant_update(
            by=self.principal, tenant=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request=serializers.TenantSuspendSerializer, responses=serializers.TenantSerializer
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        tenant = self.get_object()
        body = serializers.TenantSuspendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = services.tenant_suspend(by=self.principal, tenant=tenant, **body.validated_data)
        return Response(serializers.TenantSerializer(tenant).data)

    @extend_schema(
        request=serializers.TenantOnboardSerializer, responses={201: serializers.TenantSerializer}
    )
    @action(detail=False, methods=["post"])
    def onboard(self, request):
        """Create a tenant from one of its domains: the Entra tenant id comes from Microsoft's
        OpenID discovery; the app profile waits for the administrator's consent."""
        body = serializers.TenantOnboardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = tenant_onboard(by=self.principal, **body.validated_data)
        return Response(serializers.TenantSerializer(tenant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.TenantSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        tenant = services.tenant_reactivate(by=self.principal, tenant=self.get_object())
        return Response(serializers.TenantSerializer(tenant).data)


class MembershipViewSet(ScopedModelViewSet):
    """Who may use a tenant's customer pages. Customer admins manage their own tenant's."""

    queryset = Membership.objects.select_related("user", "tenant")
    serializer_class = serializers.MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["created_at"]
    customer_actions = ("list", "retrieve", "create", "partial_update", "destroy")

    @extend_schema(request=serializers.MembershipCreateSerializer)
    def create(self, request, *args, **kwargs):
        body = serializers.MembershipCreateSerializer(
            data=request.data, context={"request": request}
        )
        body.is_valid(raise_exception=True)
        tenant = body.validated_data["tenant"]
        if not self.principal.can_write_tenant(tenant.pk):
            raise NotFound()
        membership = services.membership_create(by=self.principal, **body.validated_data)
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.MembershipUpdateSerializer)
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        body = serializers.MembershipUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = services.membership_update(
            by=self.principal, membership=membership, **body.validated_data
        )
        return Response(self.get_serializer(membership).data)

    def perform_destroy(self, instance):
        services.membership_delete(by=self.principal, membership=instance)


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The audit trail, filterable by tenant, actor, action and time."""

    queryset = AuditEvent.objects.all()
    serializer_class = serializers.AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["created_at"]


class ApiKeyViewSet(ScopedCreateReadViewSet):
    """API keys (MSP admins). The key is in the create answer only."""

    queryset = ApiKey.objects.select_related("tenant")
    serializer_class = serializers.ApiKeySerializer
    filterset_class = ApiKeyFilter
    lookup_field = "prefix"
    ordering = ("-created",)
    ordering_fields = ["created", "last_used_at"]
    customer_actions = ()
    action_permissions = {"revoke": "tenants.change_apikey"}

    @extend_schema(
        request=serializers.ApiKeyCreateSerializer,
        responses={201: serializers.ApiKeyCreatedSerializer},
    )
    def create(self, request, *args, **kwargs):
        body = serializers.ApiKeyCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        api_key, plaintext = services.api_key_create(
            by=self.principal,
            name=data["name"],
            tenant=data.get("tenant"),
            read_only=data["read_only"],
            expires_at=data.get("expiry_date"),
        )
        out = serializers.ApiKeyCreatedSerializer(api_key).data
        out["key"] = plaintext
        return Response(out, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, prefix=None):
        api_key = services.api_key_revoke(
            by=self.principal, api_key=self.get_object(), now=timezone.now()
        )
        return Response(serializers.ApiKeySerializer(api_key).data)


class AppProfileViewSet(ScopedReadOnlyViewSet):
    """The Cloud Backup Express app profile of each tenant: status, consent, verification.
    Customer admins may start a re-authorization for their own tenant."""

    queryset = AppProfile.objects.select_related("tenant")
    serializer_class = serializers.AppProfileSerializer
    filterset_class = AppProfileFilter
    ordering_fields = ["created_at", "status_changed_at", "last_verified_at"]
    customer_actions = ("list", "retrieve", "reauthorize")
    action_permissions = {
        "consent_link": "tenants.change_appprofile",
        "verify": "tenants.change_appprofile",
        "reauthorize": "tenants.change_appprofile",
    }

    def _link(self, request, profile):
        body = serializers.ConsentLinkCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hours = body.validated_data.get("valid_hours")
        link = consent_request_create(
            by=self.principal,
            tenant=profile.tenant,
            sent_to=body.validated_data["sent_to"],
            valid_for=timedelta(hours=hours) if hours else None,
        )
        out = serializers.ConsentLinkSerializer(link.request).data
        out["url"] = link.url
        return Response(out, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ConsentLinkCreateSerializer,
        responses={201: serializers.ConsentLinkSerializer},
    )
    @action(detail=True, methods=["post"], url_path="consent-links")
    def consent_link(self, request, pk=None):
        """A single-use consent link for the tenant's administrator (e-mailed if `sent_to`)."""
        return self._link(request, self.get_object())

    @extend_schema(
        request=serializers.ConsentLinkCreateSerializer,
        responses={201: serializers.ConsentLinkSerializer},
    )
    @action(detail=True, methods=["post"])
    def reauthorize(self, request, pk=None):
        """Start a re-authorization: a consent link for a Microsoft 365 Backup Administrator
        or Global Administrator of the tenant."""
        profile = self.get_object()
        if profile.consented_at is None:
            raise DomainError("This profile was never authorized; create a consent link.")
        return self._link(request, profile)

    @extend_schema(request=None, responses={202: serializers.AppProfileSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Queue a verification of the grants and the delegated token (also every 6 hours)."""
        from tenants.tasks import app_profile_verify

        profile = self.get_object()
        app_profile_verify.delay_on_commit(profile.pk)
        return Response(
            serializers.AppProfileSerializer(profile).data, status=status.HTTP_202_ACCEPTED
        )


class PermissionGrantViewSet(ScopedReadOnlyViewSet):
    """Each manifest permission and whether the tenant granted it at the last verification."""

    queryset = PermissionGrant.objects.all()
    serializer_class = serializers.PermissionGrantSerializer
    filterset_class = PermissionGrantFilter
    ordering_fields = ["created_at", "permission"]


class ConsentRequestViewSet(ScopedReadOnlyViewSet):
    """Consent attempts with their outcome and, when they failed, why."""

    queryset = ConsentRequest.objects.all()
    serializer_class = serializers.ConsentRequestSerializer
    filterset_class = ConsentRequestFilter
    ordering_fields = ["created_at"]
