from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        from tenants.pages import CUSTOMER_SECTIONS

        # The customer pages' navigation (tenants.pages): backup status, then restores.
        for section in (("Backups", "customer:backups"), ("Restores", "customer:restores")):
            if section not in CUSTOMER_SECTIONS:
                CUSTOMER_SECTIONS.append(section)
