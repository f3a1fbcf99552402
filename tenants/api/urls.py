from tenants.api import views


def register(router) -> None:
    router.register("tenants", views.TenantViewSet)
    router.register("memberships", views.MembershipViewSet)
    router.register("audit-events", views.AuditEventViewSet)
    router.register("api-keys", views.ApiKeyViewSet)
    router.register("app-profiles", views.AppProfileViewSet)
    router.register("permission-grants", views.PermissionGrantViewSet)
    router.register("consent-requests", views.ConsentRequestViewSet)
