from django.db import models


class PlanKind(models.TextChoices):
    """What a plan counts: protected gigabytes, or protected users (seats)."""

    PER_GB = "per_gb", "Per GB"
    # One seat covers a user's mailbox, OneDrive and site.
    PER_USER = "per_user", "Per user"


class QuantityRule(models.TextChoices):
    """How a month's quantity is taken from the daily series."""

    DAILY_AVERAGE = "daily_average", "Daily average"
    PEAK = "peak", "Peak"
    MONTH_END = "month_end", "Month-end value"


class Currency(models.TextChoices):
    """ISO 4217 codes plans may bill in. Values are the upper-case codes themselves (the
    exception to lower-case enum values: the standard spells them so)."""

    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"
    CHF = "CHF", "Swiss franc"
    CAD = "CAD", "Canadian dollar"
    AUD = "AUD", "Australian dollar"
    NZD = "NZD", "New Zealand dollar"
    SEK = "SEK", "Swedish krona"
    NOK = "NOK", "Norwegian krone"
    DKK = "DKK", "Danish krone"
    PLN = "PLN", "Polish zloty"
    JPY = "JPY", "Japanese yen"


class QuantityUnit(models.TextChoices):
    GB_MONTH = "gb_month", "GB-month"
    SEAT_MONTH = "seat_month", "seat-month"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINALIZED = "finalized", "Finalized"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class InvoiceLineKind(models.TextChoices):
    USAGE = "usage", "Usage"
    INCLUDED = "included", "Included allowance"
    MINIMUM = "minimum", "Minimum fee top-up"
    DISCOUNT = "discount", "Discount"


class InvoiceRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class UsageAlertKind(models.TextChoices):
    # Month-to-date charges reach an amount (in the plan's currency).
    AMOUNT = "amount", "Month-to-date charges reach an amount"
    # Protected data on the latest metered day reaches a number of GB.
    GB = "gb", "Protected data reaches a number of GB"
    # Month-to-date charges reach a percentage of the previous month's invoice.
    PERCENT_OF_PREVIOUS = "percent_of_previous", "Month-to-date charges reach % of last month"
