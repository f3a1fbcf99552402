"""MSP staff pages of billing. Every save and action goes through the services."""

from billing.admin.invoices import CreditNoteAdmin, InvoiceAdmin, InvoiceRunAdmin
from billing.admin.plans import PlanAdmin, SubscriptionAdmin
from billing.admin.usage import UsageRecordAdmin

__all__ = [
    "CreditNoteAdmin",
    "InvoiceAdmin",
    "InvoiceRunAdmin",
    "PlanAdmin",
    "SubscriptionAdmin",
    "UsageRecordAdmin",
]
