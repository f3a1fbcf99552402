from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from portal.health import healthz
from tenants import views as tenant_views

# Customer pages of every app, each under /t/<slug>/ in the "customer" namespace.
customer_patterns = [
    path("", include("tenants.urls")),
    path("", include("billing.urls")),
    path("", include("backups.urls")),
]

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<slug:slug>/", include((customer_patterns, "customer"))),
    path("consent/", include("tenants.consent.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("social/", include("social_django.urls", namespace="social")),
]

handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
