"""The billing dashboard (MSP staff): revenue, Microsoft's cost and margin by month and by
tenant, as charts and tables. Reads `margin_rows` (two aggregate queries) and tenant names."""

from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from billing.money import format_money, to_major
from billing.periods import Period, add_months, utc_today
from billing.selectors import margin_rows
from tenants.models import Tenant

TOP_TENANTS = 20


def dashboard_view(admin_site):
    def view(request):
        if not request.user.has_perm("billing.view_invoice"):
            raise PermissionDenied
        today = utc_today(timezone.now())
        months = _int(request.GET.get("months"), default=12, low=1, high=36)
        first = add_months(Period.month_of(today).start, -(months - 1))
        try:
            focus = Period.parse_month(request.GET.get("month", ""))
        except ValueError:
            focus = Period.month_of(today).previous_month()
        rows = margin_rows(first=min(first, focus.start), last=max(today, focus.start))
        names = dict(Tenant.objects.values_list("pk", "name"))
        return TemplateResponse(
            request,
            "admin/billing/dashboard.html",
            {
                **admin_site.each_context(request),
                "title": "Billing dashboard",
                "rate": f"{settings.MICROSOFT_BACKUP_RATE_PER_GB_MONTH.normalize():f}",
                "months": months,
                "focus": focus,
                "by_month": _by_month(rows, first),
                "by_tenant": _by_tenant(rows, focus, names),
                "previous_focus": focus.previous_month().label,
                "next_focus": focus.next_month().label if focus.next_month().start <= today else "",
            },
        )

    return view


def _int(text, *, default, low, high):
    try:
        return max(low, min(high, int(text)))
    except (TypeError, ValueError):
        return default


def _by_month(rows, first):
    months = defaultdict(lambda: {"revenue": 0, "cost": 0, "margin": 0, "other": defaultdict(int)})
    for row in rows:
        if row.month < first:
            continue
        month = months[row.month]
        month["cost"] += row.cost_minor
        if row.margin_minor is None:
            month["other"][row.currency] += row.revenue_minor
        else:
            month["revenue"] += row.revenue_minor
            month["margin"] += row.margin_minor
    table = [
        {
            "month": key,
            "revenue": format_money(v["revenue"], "USD"),
            "cost": format_money(v["cost"], "USD"),
            "margin": format_money(v["margin"], "USD"),
            "other": ", ".join(format_money(m, c) for c, m in sorted(v["other"].items()) if m),
        }
        for key, v in sorted(months.items())
    ]
    chart = {
        "labels": [f"{key:%Y-%m}" for key in sorted(months)],
        "revenue": [str(to_major(months[k]["revenue"], "USD")) for k in sorted(months)],
        "cost": [str(to_major(months[k]["cost"], "USD")) for k in sorted(months)],
        "margin": [str(to_major(months[k]["margin"], "USD")) for k in sorted(months)],
    }
    return {"table": table, "chart": chart}


def _by_tenant(rows, focus, names):
    selected = sorted(
        (r for r in rows if r.month == focus.start),
        key=lambda r: (-r.cost_minor, -r.revenue_minor, names.get(r.tenant_id, "")),
    )
    table = [
        {
            "tenant": names.get(r.tenant_id, r.tenant_id),
            "gb_month": f"{r.gb_month.normalize():f}",
            "cost": format_money(r.cost_minor, "USD"),
            "revenue": format_money(r.revenue_minor, r.currency or "USD"),
            "margin": "" if r.margin_minor is None else format_money(r.margin_minor, "USD"),
            "unbilled": r.cost_minor > 0 and not r.invoice_statuses,
            "negative": r.margin_minor is not None and r.margin_minor < 0,
            "statuses": ", ".join(sorted(set(r.invoice_statuses))),
        }
        for r in selected
    ]
    top = selected[:TOP_TENANTS]
    chart = {
        "labels": [str(names.get(r.tenant_id, r.tenant_id)) for r in top],
        "cost": [str(to_major(r.cost_minor, "USD")) for r in top],
        "revenue": [
            str(to_major(r.revenue_minor, "USD")) if r.margin_minor is not None else None
            for r in top
        ],
    }
    return {"table": table, "chart": chart, "shown": len(top)}


__all__ = ["dashboard_view"]
