"""Billing's domain errors. All derive from `tenants.exceptions.DomainError`, so the API
answers them with their status, code and the field to blame, and admin forms show them."""

from tenants.exceptions import Conflict, DomainError, InvalidTransition


class InvalidPlan(DomainError):
    code = "invalid_plan"


class SubscriptionConflict(DomainError):
    """Overlapping days: bad input the caller fixes by changing dates (400, field named)."""

    code = "subscription_overlap"


class InvoiceFrozen(InvalidTransition):
    """A finalized (or paid, or void) invoice never changes; corrections are credit notes."""

    code = "invoice_frozen"


class CreditTooLarge(DomainError):
    code = "credit_too_large"


class InvalidAlert(DomainError):
    code = "invalid_alert"


class MeteringError(DomainError):
    code = "invalid_day"


__all__ = [
    "Conflict",
    "CreditTooLarge",
    "DomainError",
    "InvalidAlert",
    "InvalidPlan",
    "InvalidTransition",
    "InvoiceFrozen",
    "MeteringError",
    "SubscriptionConflict",
]
