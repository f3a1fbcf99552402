"""Customer pages of billing, mounted under `/t/<slug>/` in the `customer` namespace."""

from django.urls import path

from billing import views

urlpatterns = [
    path("billing/", views.UsageView.as_view(), name="billing-usage"),
    path("billing/invoices/", views.InvoiceListView.as_view(), name="billing-invoices"),
    path("billing/invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="billing-invoice"),
    path("billing/alerts/", views.AlertsView.as_view(), name="billing-alerts"),
]
