from django.conf import settings
from django.db import models
from django.db.models import Q

from billing.choices import Currency, UsageAlertKind
from tenants.models import ScopedQuerySet


class UsageAlertQuerySet(ScopedQuerySet):
    scope_field = "tenant"


class UsageAlert(models.Model):
    """A threshold a customer set on its own usage or charges; crossing it sends one e-mail
    per calendar month (recorded by `UsageAlertNotice`).

    Exactly one threshold column is used, according to `kind` (a check constraint says so):
    an amount in minor units with its currency, a number of GB, or a percentage of the
    previous month's invoice total.
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="billing_alerts"
    )
    kind = models.CharField(max_length=30, choices=UsageAlertKind.choices)
    # kind=amount: month-to-date charges in minor units of `currency`.
    threshold_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    # kind=gb: protected GB (2^30 bytes) on the latest metered day.
    threshold_gb = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    # kind=percent_of_previous: e.g. 80.00 for 80 % of last month's invoice total.
    threshold_percent = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # Where the e-mail goes.
    email = models.EmailField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    objects = UsageAlertQuerySet.as_manager()

    class Meta:
        ordering = ["tenant_id", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind=UsageAlertKind.AMOUNT,
                        threshold_minor__gt=0,
                        currency__in=Currency.values,
                        threshold_gb__isnull=True,
                        threshold_percent__isnull=True,
                    )
                    | Q(
                        kind=UsageAlertKind.GB,
                        threshold_gb__gt=0,
                        threshold_minor__isnull=True,
                        threshold_percent__isnull=True,
                    )
                    | Q(
                        kind=UsageAlertKind.PERCENT_OF_PREVIOUS,
                        threshold_percent__gt=0,
                        threshold_percent__lte=1000,
                        threshold_minor__isnull=True,
                        threshold_gb__isnull=True,
                    )
                ),
                name="usage_alert_threshold_matches_kind",
                violation_error_message="The threshold does not fit the kind of alert.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.tenant_id})"


class UsageAlertNoticeQuerySet(ScopedQuerySet):
    scope_field = "alert__tenant"


class UsageAlertNotice(models.Model):
    """The one e-mail an alert sends in a month: the row is written before the mail goes
    out (unique per alert and month), `sent_at` after, so a re-run never sends twice and a
    failed send is retried."""

    alert = models.ForeignKey(UsageAlert, on_delete=models.CASCADE, related_name="notices")
    # First day of the month the notice belongs to.
    month = models.DateField()
    # What was observed when the threshold was crossed, as shown in the e-mail.
    observed = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = UsageAlertNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "month"], name="usage_alert_notice_once_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} {self.month:%Y-%m}"
