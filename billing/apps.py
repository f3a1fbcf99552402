from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from tenants.pages import CUSTOMER_SECTIONS

        # Billing's customer pages in the sidebar, after the overview.
        for section in (
            ("Usage and billing", "customer:billing-usage"),
            ("Invoices", "customer:billing-invoices"),
        ):
            if section not in CUSTOMER_SECTIONS:
                CUSTOMER_SECTIONS.append(section)
