from backups.api import views


def register(router) -> None:
    router.register("backup-services", views.BackupServiceViewSet)
