from billing.api import views


def register(router) -> None:
    router.register("plans", views.PlanViewSet)
    router.register("subscriptions", views.SubscriptionViewSet)
    router.register("usage", views.UsageRecordViewSet)
    router.register("invoices", views.InvoiceViewSet)
    router.register("credit-notes", views.CreditNoteViewSet)
    router.register("usage-alerts", views.UsageAlertViewSet)
