from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal.api import schema  # noqa: F401  (registers the OpenAPI auth extension)

        # Staff role groups follow the permissions of every app after each migrate, like
        # Django's own permissions (this is set-up, not a business rule).
        post_migrate.connect(_sync_staff_roles, sender=self)


def _sync_staff_roles(**kwargs) -> None:
    from tenants.services import staff_roles_sync

    staff_roles_sync()
