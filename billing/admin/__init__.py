"""MSP staff pages of billing. Every save and action goes through the services."""

from billing.admin.credit_notes import CreditNoteAdmin
from billing.admin.invoices import InvoiceAdmin
from billing.admin.plans import PlanAdmin, SubscriptionAdmin
from billing.admin.runs import InvoiceRunAdmin
from billing.admin.usage import UsageRecordAdmin

__all__ = [
    "CreditNoteAdmin",
    "InvoiceAdmin",
    "InvoiceRunAdmin",
    "PlanAdmin",
    "SubscriptionAdmin",
    "UsageRecordAdmin",
]
