"""The Cloud Backup Express permission manifest, as the portal registers it."""

from __future__ import annotations

from typing import Any

from ..catalog import EXCHANGE, GRAPH, SHAREPOINT, ResourceApp

# The Cloud Backup Express manifest (shared/seed/cloud-backup-express-permissions.txt):
# 11 application permissions and 1 delegated one, by resource.
SEED_PERMISSIONS: tuple[tuple[ResourceApp, str, str], ...] = (
    (EXCHANGE, "Exchange.ManageAsApp", "Role"),
    (SHAREPOINT, "Sites.FullControl.All", "Role"),
    (SHAREPOINT, "User.Read.All", "Role"),
    (GRAPH, "BackupRestore-Configuration.ReadWrite.All", "Role"),
    (GRAPH, "BackupRestore-Restore.ReadWrite.All", "Role"),
    (GRAPH, "BackupRestore-Search.Read.All", "Role"),
    (GRAPH, "Directory.Read.All", "Role"),
    (GRAPH, "User.Read.All", "Role"),
    (GRAPH, "Sites.Read.All", "Role"),
    (GRAPH, "Group.Read.All", "Role"),
    (GRAPH, "Reports.Read.All", "Role"),
    (GRAPH, "BackupRestore-Control.ReadWrite.All", "Scope"),
)


def seed_required_resource_access() -> list[dict[str, Any]]:
    """requiredResourceAccess equal to the 12 permissions of the seed manifest."""
    blocks: dict[str, list[dict[str, str]]] = {}
    for resource, value, kind in SEED_PERMISSIONS:
        permission = resource.by_value(value, kind)
        assert permission is not None, f"{value} missing from the catalog"
        blocks.setdefault(resource.app_id, []).append({"id": permission.id, "type": kind})
    return [{"resourceAppId": k, "resourceAccess": v} for k, v in blocks.items()]
