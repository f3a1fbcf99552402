"""Well-known Microsoft identifiers every emulated tenant shares.

Resource applications (Graph, Exchange Online, SharePoint Online) with the app roles and
delegated scopes the emulator knows by id, directory role templates and licence SKUs.
Ids named in the contract or in reference section 2 are confirmed; the few extra Graph
permissions (used only to accept higher privileges than the least-privileged one) carry
Microsoft's published ids too.
"""

from __future__ import annotations

from dataclasses import dataclass

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"


@dataclass(frozen=True)
class Permission:
    """One app role (type "Role") or delegated scope (type "Scope") of a resource app."""

    id: str
    value: str
    type: str  # "Role" | "Scope", the spelling of requiredResourceAccess
    display_name: str
    description: str


@dataclass(frozen=True)
class ResourceApp:
    app_id: str
    display_name: str
    # Scope prefixes (audiences) that name this resource in a `scope=` parameter.
    audiences: tuple[str, ...]
    permissions: tuple[Permission, ...]

    def permission(self, permission_id: str, type_: str) -> Permission | None:
        for p in self.permissions:
            if p.id == permission_id and p.type == type_:
                return p
        return None

    def by_value(self, value: str, type_: str) -> Permission | None:
        for p in self.permissions:
            if p.value.lower() == value.lower() and p.type == type_:
                return p
        return None


def _role(id_: str, value: str, name: str, description: str) -> Permission:
    return Permission(id_, value, "Role", name, description)


def _scope(id_: str, value: str, name: str, description: str) -> Permission:
    return Permission(id_, value, "Scope", name, description)


GRAPH = ResourceApp(
    GRAPH_APP_ID,
    "Microsoft Graph",
    ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"),
    (
        _role(
            "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
            "Directory.Read.All",
            "Read directory data",
            "Allows the app to read data in your organization's "
            "directory, such as users, groups and apps, without a signed-in user.",
        ),
        _role(
            "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
            "Directory.ReadWrite.All",
            "Read and write directory data",
            "Allows the app to read and write data in "
            "your organization's directory without a signed-in user.",
        ),
        _role(
            "df021288-bdef-4463-88db-98f22de89214",
            "User.Read.All",
            "Read all users' full profiles",
            "Allows the app to read user profiles without a signed in user.",
        ),
        _role(
            "741f803b-c850-494e-b5df-cde7c675a1ca",
            "User.ReadWrite.All",
            "Read and write all users' full profiles",
            "Allows the app to read and update user profiles without a signed in user.",
        ),
        _role(
            "5b567255-7703-4780-807c-7be8301ae99b",
            "Group.Read.All",
            "Read all groups",
            "Allows the app to read group properties and memberships, "
            "and read conversations for all groups, without a signed-in user.",
        ),
        _role(
            "98830695-27a2-44f7-8c18-0c3ebc9698f6",
            "GroupMember.Read.All",
            "Read all group memberships",
            "Allows the app to read memberships and basic "
            "group properties for all groups without a signed-in user.",
        ),
        _role(
            "332a536c-c7ef-4017-ab91-336970924f0d",
            "Sites.Read.All",
            "Read items in all site collections",
            "Allows the app to read documents and "
            "list items in all site collections without a signed in user.",
        ),
        _role(
            "9492366f-7969-46a4-8d15-ed1a20078fff",
            "Sites.ReadWrite.All",
            "Read and write items in all site collections",
            "Allows the app to create, "
            "read, update, and delete documents and list items in all site collections.",
        ),
        _role(
            "a82116e5-55eb-4c41-a434-62fe8a61c773",
            "Sites.FullControl.All",
            "Have full control of all site collections",
            "Allows the app to have full control of all site collections without a signed in user.",
        ),
        _role(
            "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
            "Files.Read.All",
            "Read files in all site collections",
            "Allows the app to read all files in all site collections without a signed in user.",
        ),
        _role(
            "230c1aed-a721-4c5d-9cb4-a90514e508ef",
            "Reports.Read.All",
            "Read all usage reports",
            "Allows an app to read all service usage reports without a signed-in user.",
        ),
        _role(
            "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
            "Application.Read.All",
            "Read all applications",
            "Allows the app to read all applications and "
            "service principals without a signed-in user.",
        ),
        _role(
            "06b708a9-e830-4db3-a914-8e69da51d44f",
            "AppRoleAssignment.ReadWrite.All",
            "Manage app permission grants and app role assignments",
            "Allows the app to manage permission grants for application permissions to any API.",
        ),
        _role(
            "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
            "RoleManagement.Read.Directory",
            "Read all directory RBAC settings",
            "Allows the app to read the role-based "
            "access control settings for your company's directory.",
        ),
        _role(
            "fb240865-88f8-4a1d-923f-98dbc7920860",
            "BackupRestore-Control.ReadWrite.All",
            "Update Microsoft 365 Backup Storage service status",
            "Allows the app to update the Microsoft 365 Backup Storage service status "
            "and its controller apps without a signed-in user.",
        ),
        _role(
            "18133149-5489-40ac-80f0-4b6fa85f6cdc",
            "BackupRestore-Configuration.ReadWrite.All",
            "Read and edit all backup configuration policies",
            "Allows the app to read and update the backup and restore configuration "
            "policies without a signed-in user.",
        ),
        _role(
            "5fbb5982-3230-4882-93c0-2167523ce0c2",
            "BackupRestore-Configuration.Read.All",
            "Read all backup configuration policies",
            "Allows the app to read the backup and restore configuration policies "
            "without a signed-in user.",
        ),
        _role(
            "bebd0841-a3d8-4313-a51d-731112c8ee41",
            "BackupRestore-Restore.ReadWrite.All",
            "Read all restore sessions and start restore sessions from backups",
            "Allows the app to search backup snapshots and start restore sessions "
            "without a signed-in user.",
        ),
        _role(
            "f6135c51-c766-4be1-9638-ed90c2ed2443",
            "BackupRestore-Search.Read.All",
            "Search for metadata properties in all backup snapshots",
            "Allows the app to search metadata of all backup snapshots without a signed-in user.",
        ),
        _role(
            "ecae8511-f2d7-4be4-bdbf-91f244d45986",
            "BackupRestore-Monitor.Read.All",
            "Read all monitoring, quota and billing information",
            "Allows the app to read backup quota and billing information without a signed-in user.",
        ),
        _scope(
            "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
            "User.Read",
            "Sign in and read user profile",
            "Allows users to sign-in to the app, and allows the app to read the profile "
            "of signed-in users.",
        ),
        _scope(
            "06da0dbc-49e2-44d2-8312-53f166ab848a",
            "Directory.Read.All",
            "Read directory data",
            "Allows the app to read data in your organization's "
            "directory on behalf of the signed-in user.",
        ),
        _scope(
            "a154be20-db9c-4678-8ab7-66f6cc099a59",
            "User.Read.All",
            "Read all users' full profiles",
            "Allows the app to read the full set of "
            "profile properties of all users on behalf of the signed-in user.",
        ),
        _scope(
            "02e97553-ed7b-43d0-ab3c-f8bace0d040c",
            "Reports.Read.All",
            "Read all usage reports",
            "Allows an app to read all service usage reports on behalf of the signed-in user.",
        ),
        _scope(
            "96d46335-d92d-41b8-bc9f-273a692381ea",
            "BackupRestore-Control.ReadWrite.All",
            "Manage backup controller",
            "Allows the app to enable and disable the "
            "Microsoft 365 Backup Storage service and manage its controller apps on "
            "behalf of the signed-in user.",
        ),
        _scope(
            "a0244d16-171c-4496-8ffb-7b9b6954d339",
            "BackupRestore-Configuration.ReadWrite.All",
            "Read and edit all backup configuration policies",
            "Allows the app to read and update the backup configuration policies on "
            "behalf of the signed-in user.",
        ),
        _scope(
            "444ed4b6-0554-4dc6-8e9c-3f9a34ee3ff6",
            "BackupRestore-Configuration.Read.All",
            "Read all backup configuration policies",
            "Allows the app to read the backup configuration policies on behalf of the "
            "signed-in user.",
        ),
        _scope(
            "9f89e109-94b9-4c9b-b4fc-98cdaa54f574",
            "BackupRestore-Restore.ReadWrite.All",
            "Read all restore sessions and start restore sessions from backups",
            "Allows the app to start restore sessions on behalf of the signed-in user.",
        ),
        _scope(
            "2b24830f-f435-446f-ab5a-b1e70d9a2eb5",
            "BackupRestore-Search.Read.All",
            "Search for metadata properties in all backup snapshots",
            "Allows the app to search backup snapshot metadata on behalf of the signed-in user.",
        ),
    ),
)

EXCHANGE = ResourceApp(
    EXCHANGE_APP_ID,
    "Office 365 Exchange Online",
    ("https://outlook.office365.com", "https://outlook.office.com", EXCHANGE_APP_ID),
    (
        _role(
            "dc50a0fb-09a3-484d-be87-e023b12c6440",
            "Exchange.ManageAsApp",
            "Manage Exchange As Application",
            "Allows the app to manage the "
            "organization's Exchange environment without any user interaction.",
        ),
    ),
)

SHAREPOINT = ResourceApp(
    SHAREPOINT_APP_ID,
    "Office 365 SharePoint Online",
    # The tenant's own https://{name}.sharepoint.com is matched by suffix in resolve().
    (SHAREPOINT_APP_ID,),
    (
        _role(
            "678536fe-1083-478a-9c59-b99265e6b0d3",
            "Sites.FullControl.All",
            "Have full control of all site collections",
            "Allows the app to have full control of all site collections without a signed in user.",
        ),
        # SharePoint's own id for User.Read.All is unconfirmed; the contract fixes this one.
        _role(
            "df021288-bdef-4463-88db-98f22de89214",
            "User.Read.All",
            "Read user profiles",
            "Allows the app to read profiles of users without a signed in user.",
        ),
    ),
)

RESOURCE_APPS: dict[str, ResourceApp] = {r.app_id: r for r in (GRAPH, EXCHANGE, SHAREPOINT)}

# OpenID Connect scopes: they never need consent and never reach an access token.
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def resource_for_audience(audience: str) -> ResourceApp | None:
    """The resource app a scope prefix (e.g. `https://graph.microsoft.com`) names."""
    audience = audience.rstrip("/").lower()
    for app in RESOURCE_APPS.values():
        if audience in (a.lower() for a in app.audiences):
            return app
    if audience.endswith(".sharepoint.com"):
        return SHAREPOINT
    return None


@dataclass(frozen=True)
class RoleTemplate:
    id: str
    display_name: str
    description: str


ROLE_TEMPLATES: tuple[RoleTemplate, ...] = (
    RoleTemplate(
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that "
        "use Microsoft Entra identities.",
    ),
    RoleTemplate(
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of "
        "Privileged Identity Management.",
    ),
    RoleTemplate(
        "1707125e-0aa2-4d4d-8655-a7c786c76a25",
        "Microsoft 365 Backup Administrator",
        "Can manage Microsoft 365 Backup.",
    ),
    RoleTemplate(
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
        "Can manage all aspects of the Exchange product.",
    ),
    RoleTemplate(
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
        "Can manage all aspects of the SharePoint service.",
    ),
    RoleTemplate(
        "4a5d8f65-41da-4de4-8968-e035b65339cf",
        "Reports Reader",
        "Can read sign-in and audit reports.",
    ),
    RoleTemplate(
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
)
ROLES_BY_NAME = {r.display_name.lower(): r for r in ROLE_TEMPLATES}
ROLES_BY_ID = {r.id: r for r in ROLE_TEMPLATES}

# Roles allowed to grant tenant-wide consent to application permissions (contract).
CONSENT_ADMIN_ROLES = frozenset({"Global Administrator", "Privileged Role Administrator"})

# Licence SKUs handed out to generated users: (skuId, skuPartNumber).
SKUS = (
    ("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK"),  # Office 365 E3
    ("c7df2760-2c81-4ef7-b578-5b5392b571df", "ENTERPRISEPREMIUM"),  # Office 365 E5
    ("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB"),  # Microsoft 365 Business Premium
)
