"""Usage alerts customers set on their own tenant, and the daily check that mails them.

An alert sends at most one e-mail per calendar month: the check writes a
`UsageAlertNotice` row (unique per alert and month) before sending and stamps it after, so a
repeated or concurrent check never sends twice and a failed send is retried next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum

from billing.choices import Currency, UsageAlertKind
from billing.exceptions import InvalidAlert
from billing.models import GIB, Invoice, Subscription, UsageAlert, UsageAlertNotice, UsageRecord
from billing.money import format_money, parse_major, quantize_quantity, ratio, to_major
from billing.periods import Period, utc_today
from billing.selectors import bill_of, billing_inputs
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

logger = logging.getLogger(__name__)

MAX_GB = Decimal(10) ** 9  # a exabyte: anything above is a typo
MAX_PERCENT = Decimal(1000)
MAX_AMOUNT_MINOR = 10**13


@dataclass(frozen=True)
class Threshold:
    threshold_minor: int | None = None
    currency: str = ""
    threshold_gb: Decimal | None = None
    threshold_percent: Decimal | None = None


def _threshold(*, tenant: Tenant, kind: str, threshold, currency: str | None, now) -> Threshold:
    """Validate a threshold typed by a customer and place it in the column its kind uses."""
    if kind not in UsageAlertKind.values:
        raise InvalidAlert(f"Unknown kind of alert {kind!r}.", field="kind")
    try:
        value = Decimal(str(threshold).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAlert("The threshold must be a number.", field="threshold") from None
    if not value.is_finite() or value <= 0:
        raise InvalidAlert("The threshold must be a number above zero.", field="threshold")
    if kind == UsageAlertKind.GB:
        if value > MAX_GB:
            raise InvalidAlert("That is more than an exabyte; enter GB.", field="threshold")
        return Threshold(threshold_gb=value.quantize(Decimal("0.001")))
    if kind == UsageAlertKind.PERCENT_OF_PREVIOUS:
        if value > MAX_PERCENT:
            raise InvalidAlert("Enter a percentage of at most 1000.", field="threshold")
        return Threshold(threshold_percent=value.quantize(Decimal("0.01")))
    current = _current_currency(tenant, now)
    currency = (currency or current or "").upper()
    if currency not in Currency.values:
        raise InvalidAlert("Give the currency of the amount (e.g. USD).", field="currency")
    if current and currency != current:
        raise InvalidAlert(
            f"Your plan bills in {current}; give the amount in {current}.", field="currency"
        )
    try:
        minor = parse_major(value, currency)
    except ValueError as exc:
        raise InvalidAlert(str(exc), field="threshold") from None
    if minor > MAX_AMOUNT_MINOR:
        raise InvalidAlert("That amount is too large to be meant.", field="threshold")
    return Threshold(threshold_minor=minor, currency=currency)


def _current_currency(tenant: Tenant, now: datetime) -> str | None:
    today = utc_today(now)
    subscription = (
        Subscription.objects.filter(tenant=tenant)
        .overlapping(today, None)
        .select_related("plan")
        .order_by("starts_on")
        .first()
    )
    return subscription.plan.currency if subscription else None


def _email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidAlert("Enter a valid e-mail address.", field="email") from None
    return email


def _describe(alert: UsageAlert) -> dict[str, str]:
    return {"kind": alert.kind, "threshold": threshold_label(alert), "email": alert.email}


def threshold_label(alert: UsageAlert) -> str:
    if alert.kind == UsageAlertKind.AMOUNT:
        return format_money(alert.threshold_minor, alert.currency)
    if alert.kind == UsageAlertKind.GB:
        return f"{alert.threshold_gb.normalize():f} GB"
    return f"{alert.threshold_percent.normalize():f} % of last month"


def threshold_value(alert: UsageAlert) -> Decimal:
    """The threshold as typed: major units, GB or percent (for forms and the API)."""
    if alert.kind == UsageAlertKind.AMOUNT:
        return to_major(alert.threshold_minor, alert.currency)
    if alert.kind == UsageAlertKind.GB:
        return alert.threshold_gb
    return alert.threshold_percent


@transaction.atomic
def usage_alert_create(
    *,
    by: Principal,
    tenant: Tenant,
    kind: str,
    threshold,
    email: str,
    now: datetime,
    currency: str | None = None,
) -> UsageAlert:
    """Create an alert for `tenant`. Raises InvalidAlert naming the field at fault."""
    values = _threshold(tenant=tenant, kind=kind, threshold=threshold, currency=currency, now=now)
    alert = UsageAlert.objects.create(
        tenant=tenant,
        kind=kind,
        email=_email(email),
        created_by=by.user if by.user is not None and by.user.pk else None,
        created_at=now,
        updated_at=now,
        **values.__dict__,
    )
    audit_record(
        by=by,
        action="usage_alert.created",
        tenant=tenant,
        target=alert,
        details=_describe(alert),
        now=now,
    )
    return alert


@transaction.atomic
def usage_alert_update(
    *,
    by: Principal,
    alert: UsageAlert,
    now: datetime,
    threshold=None,
    email: str | None = None,
    currency: str | None = None,
) -> UsageAlert:
    """Change an alert's threshold or address. A new threshold re-arms it for this month."""
    alert = UsageAlert.objects.select_for_update().select_related("tenant").get(pk=alert.pk)
    before = _describe(alert)
    if threshold is not None or currency is not None:
        values = _threshold(
            tenant=alert.tenant,
            kind=alert.kind,
            threshold=threshold_value(alert) if threshold is None else threshold,
            currency=currency or alert.currency,
            now=now,
        )
        for name, value in values.__dict__.items():
            setattr(alert, name, value)
    if email is not None:
        alert.email = _email(email)
    after = _describe(alert)
    if after == before:
        return alert
    alert.updated_at = now
    alert.save()
    if after["threshold"] != before["threshold"]:
        UsageAlertNotice.objects.filter(
            alert=alert, month=Period.month_of(utc_today(now)).start
        ).delete()
    audit_record(
        by=by,
        action="usage_alert.updated",
        tenant=alert.tenant,
        target=alert,
        details={k: {"from": before[k], "to": after[k]} for k in after if after[k] != before[k]},
        now=now,
    )
    return alert


@transaction.atomic
def usage_alert_delete(*, by: Principal, alert: UsageAlert, now: datetime) -> None:
    audit_record(
        by=by,
        action="usage_alert.deleted",
        tenant=alert.tenant,
        target=alert,
        details=_describe(alert),
        now=now,
    )
    alert.delete()


# --- the daily check --------------------------------------------------------------------------


def usage_alerts_check(*, now: datetime) -> list[UsageAlertNotice]:
    """Record a notice for every alert whose threshold is crossed this month, then send the
    notices not sent yet. A constant number of queries for the figures, one per e-mail."""
    today = utc_today(now)
    month = Period.month_of(today)
    alerts = list(UsageAlert.objects.select_related("tenant").order_by("tenant_id", "pk"))
    if alerts:
        _record_crossings(alerts=alerts, month=month, today=today, now=now)
    return _send_pending(month=month, now=now)


def _record_crossings(*, alerts, month: Period, today, now) -> None:
    tenant_ids = sorted({a.tenant_id for a in alerts})
    already = set(
        UsageAlertNotice.objects.filter(alert__in=alerts, month=month.start).values_list(
            "alert_id", flat=True
        )
    )
    pending = [a for a in alerts if a.pk not in already]
    if not pending:
        return
    money_tenants = [a.tenant_id for a in pending if a.kind != UsageAlertKind.GB]
    accrued = {}
    if money_tenants:
        inputs = billing_inputs(month=month, tenant_ids=sorted(set(money_tenants)))
        for tenant_id, (segments, history) in inputs.items():
            bill = bill_of(tenant_id, month, segments, history, until=today)
            if bill is not None:
                accrued[tenant_id] = bill
    previous = {
        row["tenant_id"]: (row["net"], row["currency"])
        for row in Invoice.objects.live()
        .filter(tenant_id__in=tenant_ids, period_start=month.previous_month().start)
        .values("tenant_id", "currency")
        .annotate(net=Sum("total_minor") - Sum("credited_minor"))
        .order_by()
    }
    latest_gb = _latest_gb(tenant_ids)

    notices = []
    for alert in pending:
        observed = _crossed(alert, accrued.get(alert.tenant_id), previous, latest_gb)
        if observed is not None:
            notices.append(
                UsageAlertNotice(alert=alert, month=month.start, observed=observed, created_at=now)
            )
    UsageAlertNotice.objects.bulk_create(notices, ignore_conflicts=True)


def _crossed(alert, bill, previous, latest_gb) -> str | None:
    if alert.kind == UsageAlertKind.GB:
        gb = latest_gb.get(alert.tenant_id)
        if gb is not None and gb >= alert.threshold_gb:
            return f"{gb.normalize():f} GB protected"
        return None
    if bill is None:
        return None
    spent = bill.total_minor
    if alert.kind == UsageAlertKind.AMOUNT:
        if bill.currency == alert.currency and spent >= alert.threshold_minor:
            return f"{format_money(spent, bill.currency)} so far this month"
        return None
    last = previous.get(alert.tenant_id)
    if last is None or last[1] != bill.currency or last[0] <= 0:
        return None
    if spent * 100 >= alert.threshold_percent * last[0]:
        share = quantize_quantity(ratio(spent * 100, last[0])).quantize(Decimal("0.1"))
        return (
            f"{format_money(spent, bill.currency)} so far this month, {share} % of last "
            f"month's {format_money(last[0], last[1])}"
        )
    return None


def _latest_gb(tenant_ids) -> dict[int, Decimal]:
    """Protected GB of each tenant on its latest metered day."""
    latest_day = (
        UsageRecord.objects.filter(tenant_id=OuterRef("tenant_id"))
        .order_by("-day")
        .values("day")[:1]
    )
    rows = (
        UsageRecord.objects.filter(tenant_id__in=tenant_ids, day=Subquery(latest_day))
        .values("tenant_id")
        .annotate(total=Sum("protected_bytes"))
        .order_by()
    )
    return {
        row["tenant_id"]: quantize_quantity(ratio(row["total"] or 0, GIB)).quantize(
            Decimal("0.001")
        )
        for row in rows
    }


def _send_pending(*, month: Period, now: datetime) -> list[UsageAlertNotice]:
    sent = []
    pending = UsageAlertNotice.objects.filter(month=month.start, sent_at__isnull=True).values_list(
        "pk", flat=True
    )
    for pk in list(pending):
        try:
            with transaction.atomic():
                notice = (
                    UsageAlertNotice.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("alert__tenant")
                    .filter(pk=pk, sent_at__isnull=True)
                    .first()
                )
                if notice is None:  # sent by a concurrent check meanwhile
                    continue
                _mail(notice, month)
                notice.sent_at = now
                notice.save(update_fields=["sent_at"])
                sent.append(notice)
        except Exception:
            logger.exception("usage alert notice %s could not be sent; retried next time", pk)
    return sent


def _mail(notice: UsageAlertNotice, month: Period) -> None:
    alert = notice.alert
    tenant = alert.tenant
    url = f"{settings.PORTAL_BASE_URL.rstrip('/')}/t/{tenant.slug}/billing/"
    send_mail(
        subject=f"{tenant.name}: usage alert for {month.start:%B %Y}",
        message=(
            f"Your alert ({threshold_label(alert)}) was reached: {notice.observed}.\n\n"
            f"Usage and charges: {url}\n\n"
            "You get this e-mail once a month per alert. Customer admins can change or "
            "remove alerts on that page."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[alert.email],
    )
