from backups.api import views


def register(router) -> None:
    router.register("backup-services", views.BackupServiceViewSet)
    router.register("resources", views.ResourceViewSet)
    router.register("protection-scopes", views.ProtectionScopeViewSet)
    router.register("protection-policies", views.ProtectionPolicyViewSet)
    router.register("protection-units", views.ProtectionUnitViewSet)
    router.register("restore-points", views.RestorePointViewSet)
    router.register("restores", views.RestoreSessionViewSet)
    router.register("backup-jobs", views.BackupJobViewSet)
    router.register("graph-health", views.GraphHealthViewSet)
