"""Writes of the billing app: keyword-only, one transaction, audited, `now` passed in.

Split by subject: `plans` (plans and subscriptions), `metering` (usage records),
`invoice_run` (the monthly run), `invoicing` (lifecycle, numbers, credit
notes), `alerts` (customer usage alerts).
"""

from billing.services.alerts import (
    threshold_label,
    threshold_value,
    usage_alert_create,
    usage_alert_delete,
    usage_alert_update,
    usage_alerts_check,
)
from billing.services.invoice_run import (
    invoice_redraft,
    invoice_run_create,
    invoice_run_execute,
    invoice_run_start,
    invoice_runs_for_usage_change,
)
from billing.services.invoicing import (
    credit_note_check,
    credit_note_create,
    invoice_finalize,
    invoice_mark_paid,
    invoice_update,
    invoice_void,
    invoices_finalize_due,
    next_document_number,
)
from billing.services.metering import MeterResult, usage_backfill, usage_meter_day
from billing.services.plans import (
    plan_create,
    plan_update,
    plan_validate,
    subscription_create,
    subscription_delete,
    subscription_end,
    subscription_validate,
)

__all__ = [
    "MeterResult",
    "credit_note_check",
    "credit_note_create",
    "invoice_finalize",
    "invoice_mark_paid",
    "invoice_redraft",
    "invoice_run_create",
    "invoice_run_execute",
    "invoice_run_start",
    "invoice_runs_for_usage_change",
    "invoice_update",
    "invoice_void",
    "invoices_finalize_due",
    "next_document_number",
    "plan_create",
    "plan_update",
    "plan_validate",
    "subscription_create",
    "subscription_delete",
    "subscription_end",
    "subscription_validate",
    "threshold_label",
    "threshold_value",
    "usage_alert_create",
    "usage_alert_delete",
    "usage_alert_update",
    "usage_alerts_check",
    "usage_backfill",
    "usage_meter_day",
]
