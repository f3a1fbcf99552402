from tenants.models import GraphCallStats


class GraphHealth(GraphCallStats):
    """Microsoft Graph health of one tenant on one day (requests, throttled answers,
    errors, seconds waited), as MSP staff read it under Backups. The rows are the tenants
    app's `GraphCallStats`, written by every Graph session; this proxy only shows them."""

    class Meta:
        proxy = True
        verbose_name = "Graph health (per tenant and day)"
        verbose_name_plural = "Graph health"
        ordering = ["-day", "tenant__name"]
