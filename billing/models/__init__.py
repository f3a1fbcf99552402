from billing.models.alerts import UsageAlert, UsageAlertNotice
from billing.models.invoices import (
    CreditNote,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    InvoiceRun,
)
from billing.models.plans import Plan, PlanPrice, Subscription
from billing.models.usage import GIB, UsageRecord

__all__ = [
    "GIB",
    "CreditNote",
    "DocumentSequence",
    "Invoice",
    "InvoiceLine",
    "InvoiceRun",
    "Plan",
    "PlanPrice",
    "Subscription",
    "UsageAlert",
    "UsageAlertNotice",
    "UsageRecord",
]
