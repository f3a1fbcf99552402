"""Customer pages of the tenants app, mounted under `/t/<slug>/` in the `customer` namespace."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("authorization/", views.AuthorizationView.as_view(), name="authorization"),
]
