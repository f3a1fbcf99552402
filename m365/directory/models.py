"""Directory objects as frozen dataclasses, parsed defensively from Graph JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from m365.odata import boolean, integer, parse_datetime, strings, text

Json = Mapping[str, Any]


@dataclass(frozen=True)
class VerifiedDomain:
    name: str
    is_default: bool
    is_initial: bool


@dataclass(frozen=True)
class Organization:
    """The customer tenant itself (`GET /organization`)."""

    id: str
    display_name: str
    verified_domains: tuple[VerifiedDomain, ...]

    @property
    def initial_domain(self) -> str:
        """The `*.onmicrosoft.com` domain, which never changes."""
        for domain in self.verified_domains:
            if domain.is_initial:
                return domain.name
        return ""

    @classmethod
    def from_graph(cls, data: Json) -> Organization:
        return cls(
            id=text(data, "id"),
            display_name=text(data, "displayName"),
            verified_domains=tuple(
                VerifiedDomain(
                    text(item, "name"),
                    bool(boolean(item.get("isDefault"))),
                    bool(boolean(item.get("isInitial"))),
                )
                for item in data.get("verifiedDomains") or []
                if isinstance(item, Mapping)
            ),
        )


@dataclass(frozen=True)
class User:
    id: str
    user_principal_name: str
    display_name: str
    mail: str
    account_enabled: bool | None  # None when not selected
    assigned_sku_ids: tuple[str, ...]
    user_type: str

    @property
    def is_licensed(self) -> bool:
        return bool(self.assigned_sku_ids)

    @classmethod
    def from_graph(cls, data: Json) -> User:
        return cls(
            id=text(data, "id"),
            user_principal_name=text(data, "userPrincipalName"),
            display_name=text(data, "displayName"),
            mail=text(data, "mail"),
            account_enabled=boolean(data.get("accountEnabled")),
            assigned_sku_ids=tuple(
                text(item, "skuId")
                for item in data.get("assignedLicenses") or []
                if isinstance(item, Mapping) and item.get("skuId")
            ),
            user_type=text(data, "userType"),
        )


@dataclass(frozen=True)
class Drive:
    """A OneDrive or a site's document library; sizes in bytes."""

    id: str
    drive_type: str  # "business", "documentLibrary", ...
    web_url: str
    owner_id: str
    quota_used: int | None
    quota_total: int | None
    quota_deleted: int | None

    @classmethod
    def from_graph(cls, data: Json) -> Drive:
        quota = data.get("quota") if isinstance(data.get("quota"), Mapping) else {}
        owner = data.get("owner") if isinstance(data.get("owner"), Mapping) else {}
        owner_user = owner.get("user") if isinstance(owner.get("user"), Mapping) else {}
        return cls(
            id=text(data, "id"),
            drive_type=text(data, "driveType"),
            web_url=text(data, "webUrl"),
            owner_id=text(owner_user, "id"),
            quota_used=integer(quota.get("used")),
            quota_total=integer(quota.get("total")),
            quota_deleted=integer(quota.get("deleted")),
        )


@dataclass(frozen=True)
class DirectoryRole:
    """An activated directory role; compare `role_template_id`, names are localized."""

    id: str
    display_name: str
    role_template_id: str

    @classmethod
    def from_graph(cls, data: Json) -> DirectoryRole:
        return cls(text(data, "id"), text(data, "displayName"), text(data, "roleTemplateId"))


@dataclass(frozen=True)
class DirectoryObject:
    """A member of a group or role: a user, group, service principal or device."""

    id: str
    odata_type: str  # e.g. "#microsoft.graph.user"
    display_name: str
    user_principal_name: str
    mail: str

    @property
    def is_user(self) -> bool:
        return self.odata_type.endswith(".user")

    @classmethod
    def from_graph(cls, data: Json) -> DirectoryObject:
        return cls(
            text(data, "id"),
            text(data, "@odata.type"),
            text(data, "displayName"),
            text(data, "userPrincipalName"),
            text(data, "mail"),
        )


@dataclass(frozen=True)
class Group:
    id: str
    display_name: str
    mail: str
    group_types: tuple[str, ...]
    resource_provisioning_options: tuple[str, ...]
    mail_enabled: bool | None
    security_enabled: bool | None

    @property
    def is_microsoft_365(self) -> bool:
        """A Microsoft 365 ("Unified") group: has a mailbox and a SharePoint site."""
        return any(kind.lower() == "unified" for kind in self.group_types)

    @property
    def is_team(self) -> bool:
        return any(option.lower() == "team" for option in self.resource_provisioning_options)

    @classmethod
    def from_graph(cls, data: Json) -> Group:
        return cls(
            id=text(data, "id"),
            display_name=text(data, "displayName"),
            mail=text(data, "mail"),
            group_types=strings(data.get("groupTypes")),
            resource_provisioning_options=strings(data.get("resourceProvisioningOptions")),
            mail_enabled=boolean(data.get("mailEnabled")),
            security_enabled=boolean(data.get("securityEnabled")),
        )


@dataclass(frozen=True)
class Site:
    """A SharePoint site. `id` is `{hostname},{siteCollectionId},{webId}`, the form Backup
    Storage's siteProtectionUnit takes."""

    id: str
    web_url: str
    display_name: str
    name: str
    is_personal_site: bool | None
    created_at: datetime | None

    @property
    def hostname(self) -> str:
        return self.id.split(",")[0]

    @classmethod
    def from_graph(cls, data: Json) -> Site:
        return cls(
            id=text(data, "id"),
            web_url=text(data, "webUrl"),
            display_name=text(data, "displayName"),
            name=text(data, "name"),
            is_personal_site=boolean(data.get("isPersonalSite")),
            created_at=parse_datetime(data.get("createdDateTime")),
        )


@dataclass(frozen=True)
class AppRole:
    """An application permission a resource app offers (e.g. Graph's Reports.Read.All)."""

    id: str
    value: str
    display_name: str
    allowed_member_types: tuple[str, ...]


@dataclass(frozen=True)
class PermissionScope:
    """A delegated permission a resource app offers (an oauth2PermissionScope)."""

    id: str
    value: str
    admin_consent_display_name: str


@dataclass(frozen=True)
class ServicePrincipal:
    """An app's presence in the tenant: what admin consent creates."""

    id: str
    app_id: str
    display_name: str
    account_enabled: bool | None
    app_roles: tuple[AppRole, ...]
    oauth2_permission_scopes: tuple[PermissionScope, ...]

    @classmethod
    def from_graph(cls, data: Json) -> ServicePrincipal:
        return cls(
            id=text(data, "id"),
            app_id=text(data, "appId"),
            display_name=text(data, "displayName"),
            account_enabled=boolean(data.get("accountEnabled")),
            app_roles=tuple(
                AppRole(
                    text(item, "id"),
                    text(item, "value"),
                    text(item, "displayName"),
                    strings(item.get("allowedMemberTypes")),
                )
                for item in data.get("appRoles") or []
                if isinstance(item, Mapping)
            ),
            oauth2_permission_scopes=tuple(
                PermissionScope(
                    text(item, "id"), text(item, "value"), text(item, "adminConsentDisplayName")
                )
                for item in data.get("oauth2PermissionScopes") or []
                if isinstance(item, Mapping)
            ),
        )


@dataclass(frozen=True)
class AppRoleAssignment:
    """One application permission granted to a service principal."""

    id: str
    principal_id: str  # the client service principal
    resource_id: str  # the resource service principal (e.g. Microsoft Graph's)
    resource_display_name: str
    app_role_id: str
    created_at: datetime | None

    @classmethod
    def from_graph(cls, data: Json) -> AppRoleAssignment:
        return cls(
            text(data, "id"),
            text(data, "principalId"),
            text(data, "resourceId"),
            text(data, "resourceDisplayName"),
            text(data, "appRoleId"),
            parse_datetime(data.get("createdDateTime")),
        )


@dataclass(frozen=True)
class PermissionGrant:
    """Delegated permissions granted to a client: for everyone (`AllPrincipals`, what admin
    consent gives) or one user (`Principal`)."""

    id: str
    client_id: str  # the client service principal's object id
    consent_type: str
    principal_id: str
    resource_id: str
    scopes: frozenset[str]

    @classmethod
    def from_graph(cls, data: Json) -> PermissionGrant:
        return cls(
            text(data, "id"),
            text(data, "clientId"),
            text(data, "consentType"),
            text(data, "principalId"),
            text(data, "resourceId"),
            frozenset(text(data, "scope").split()),
        )


@dataclass(frozen=True)
class GrantedPermissions:
    """What the tenant granted an app, by resource app id and permission value, e.g.
    `{"00000003-0000-0000-c000-000000000000": frozenset({"Reports.Read.All", ...})}`."""

    service_principal_id: str
    application: Mapping[str, frozenset[str]]
    delegated: Mapping[str, frozenset[str]]

    def missing_application(self, resource_app_id: str, wanted: set[str]) -> frozenset[str]:
        return frozenset(wanted) - self.application.get(resource_app_id, frozenset())

    def missing_delegated(self, resource_app_id: str, wanted: set[str]) -> frozenset[str]:
        return frozenset(wanted) - self.delegated.get(resource_app_id, frozenset())
