"""The permission manifest of the Cloud Backup Express app: every row of
`shared/seed/cloud-backup-express-permissions.txt`, as data.

It is the single source for what the portal asks a customer to consent to (the app
registration's requiredResourceAccess), what verification expects to find granted in the
customer tenant, and what the pages tell a customer each permission is for.

A row's `last_update` is the month the vendor last changed it (None: unchanged since the app
was first published). The manifest's version is its newest `last_update`; a consent records
the version it was given against, and any row updated after that version makes the profile
need re-authorization.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tenants.choices import PermissionType

# Resource applications (their appId is the same in every tenant).
MICROSOFT_GRAPH = "00000003-0000-0000-c000-000000000000"
EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
SHAREPOINT_ONLINE = "00000003-0000-0ff1-ce00-000000000000"

RESOURCE_NAMES = {
    MICROSOFT_GRAPH: "Microsoft Graph",
    EXCHANGE_ONLINE: "Office 365 Exchange Online",
    SHAREPOINT_ONLINE: "Office 365 SharePoint Online",
}

# The version given to rows the seed shows without a date: before every dated change.
ORIGINAL_VERSION = date(2024, 1, 1)


@dataclass(frozen=True)
class ManifestPermission:
    resource_app_id: str
    # The permission's value as Entra shows it, e.g. "Reports.Read.All".
    value: str
    display_name: str
    type: PermissionType
    # The app role id (application) or OAuth2 permission scope id (delegated) on the resource.
    permission_id: str
    purpose: str
    last_update: date | None = None

    @property
    def key(self) -> str:
        """Stable identity of the row: resource, type and value."""
        return f"{self.resource_app_id}/{self.type}/{self.value}"

    @property
    def api(self) -> str:
        return RESOURCE_NAMES[self.resource_app_id]

    @property
    def version(self) -> date:
        return self.last_update or ORIGINAL_VERSION


APP = PermissionType.APPLICATION
DELEGATED = PermissionType.DELEGATED

MANIFEST: tuple[ManifestPermission, ...] = (
    ManifestPermission(
        EXCHANGE_ONLINE,
        "Exchange.ManageAsApp",
        "Manage Exchange as Application",
        APP,
        "dc50a0fb-09a3-484d-be87-e023b12c6440",
        "Scan mailboxes.",
    ),
    ManifestPermission(
        SHAREPOINT_ONLINE,
        "Sites.FullControl.All",
        "Have full control of all site collections",
        APP,
        "678536fe-1083-478a-9c59-b99265e6b0d3",
        "Scan SharePoint Online site collections.",
    ),
    ManifestPermission(
        SHAREPOINT_ONLINE,
        "User.Read.All",
        "Read all users' full profiles",
        APP,
        # SharePoint's own id for this role is unconfirmed; matching uses the value.
        "df021288-bdef-4463-88db-98f22de89214",
        "Retrieve the Microsoft 365 Users' user profiles.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "BackupRestore-Configuration.ReadWrite.All",
        "Read and edit all backup configuration policies",
        APP,
        "18133149-5489-40ac-80f0-4b6fa85f6cdc",
        "Update backup settings and trigger backup jobs in Microsoft 365.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "BackupRestore-Restore.ReadWrite.All",
        "Read all restore sessions and start restore sessions from backups",
        APP,
        "bebd0841-a3d8-4313-a51d-731112c8ee41",
        "Perform data recovery.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "BackupRestore-Search.Read.All",
        "Search for metadata properties in all backup snapshots",
        APP,
        "f6135c51-c766-4be1-9638-ed90c2ed2443",
        "Retrieve recovery points.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "Directory.Read.All",
        "Read directory data",
        APP,
        "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        "Retrieve users and Groups.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "User.Read.All",
        "Read all users' full profiles",
        APP,
        "df021288-bdef-4463-88db-98f22de89214",
        "Read and list users for the sync of recovery points.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "Sites.Read.All",
        "Read items in all site collections",
        APP,
        "332a536c-c7ef-4017-ab91-336970924f0d",
        "Read and list sites for the sync of recovery points.",
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "Group.Read.All",
        "Read all groups",
        APP,
        "5b567255-7703-4780-807c-7be8301ae99b",
        "Scan Microsoft 365 Groups and Teams.",
        date(2024, 4, 1),
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "Reports.Read.All",
        "Read all usage reports",
        APP,
        "230c1aed-a721-4c5d-9cb4-a90514e508ef",
        "Retrieve Microsoft 365 data size.",
        date(2024, 4, 1),
    ),
    ManifestPermission(
        MICROSOFT_GRAPH,
        "BackupRestore-Control.ReadWrite.All",
        "Manage backup controller",
        DELEGATED,
        "96d46335-d92d-41b8-bc9f-273a692381ea",
        "Manage app for bill consuming and enable backup service.",
        date(2024, 8, 1),
    ),
)


def manifest() -> tuple[ManifestPermission, ...]:
    """The current manifest (a function so tests can stand in a changed one)."""
    return MANIFEST


def manifest_row(key: str) -> ManifestPermission | None:
    """The current row with this `ManifestPermission.key`, if the manifest still has it."""
    return next((row for row in manifest() if row.key == key), None)


def manifest_version(rows: tuple[ManifestPermission, ...] | None = None) -> date:
    return max(row.version for row in rows or manifest())


def rows_newer_than(version: date) -> list[ManifestPermission]:
    """Rows changed after a consent given against `version`: they need re-authorization."""
    return [row for row in manifest() if row.version > version]


def delegated_scopes() -> list[str]:
    """Delegated scopes for the administrator's sign-in, as Graph scope URIs."""
    return [
        f"https://graph.microsoft.com/{row.value}"
        for row in manifest()
        if row.type == PermissionType.DELEGATED and row.resource_app_id == MICROSOFT_GRAPH
    ]


def required_resource_access() -> list[dict]:
    """The app registration's requiredResourceAccess, in Entra's JSON shape."""
    by_resource: dict[str, list[dict]] = {}
    for row in manifest():
        by_resource.setdefault(row.resource_app_id, []).append(
            {"id": row.permission_id, "type": "Role" if row.type == APP else "Scope"}
        )
    return [
        {"resourceAppId": resource, "resourceAccess": access}
        for resource, access in by_resource.items()
    ]
