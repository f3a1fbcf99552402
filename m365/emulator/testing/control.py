"""EmulatorControl: a typed httpx client of the control API (`/_emulator/`)."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from .manifest import seed_required_resource_access


class EmulatorControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    user_principal_name: str
    display_name: str
    password: str
    roles: tuple[str, ...]
    account_enabled: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectoryUser:
        return cls(
            data["id"],
            data["userPrincipalName"],
            data["displayName"],
            data["password"],
            tuple(data["roles"]),
            data["accountEnabled"],
        )


@dataclass(frozen=True)
class TenantInfo:
    id: str
    domain: str
    initial_domain: str
    display_name: str
    seed: int
    users: int
    groups: int
    sites: int
    sharepoint_host: str
    directory_users: tuple[DirectoryUser, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TenantInfo:
        return cls(
            data["id"],
            data["domain"],
            data["initialDomain"],
            data["displayName"],
            data["seed"],
            data["users"],
            data["groups"],
            data["sites"],
            data["sharePointHost"],
            tuple(DirectoryUser.from_json(u) for u in data["directoryUsers"]),
        )

    def directory_user(self, local_part: str) -> DirectoryUser:
        upn = f"{local_part}@{self.domain}"
        for user in self.directory_users:
            if user.user_principal_name == upn:
                return user
        raise KeyError(upn)

    @property
    def admin(self) -> DirectoryUser:
        """Global Administrator."""
        return self.directory_user("admin")

    @property
    def backup_admin(self) -> DirectoryUser:
        """Microsoft 365 Backup Administrator."""
        return self.directory_user("backup.admin")

    @property
    def privileged_admin(self) -> DirectoryUser:
        """Privileged Role Administrator."""
        return self.directory_user("privileged.admin")

    @property
    def user(self) -> DirectoryUser:
        """A user with no role."""
        return self.directory_user("user")


def trust(ca_path: str | Path) -> ssl.SSLContext:
    """An SSL context trusting only the emulator's CA (httpx's `verify=`)."""
    return ssl.create_default_context(cafile=str(ca_path))


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class EmulatorControl:
    """Typed client of the control API; raises EmulatorControlError on 4xx answers."""

    def __init__(self, base_url: str, ca_path: str | Path, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url, verify=trust(ca_path), timeout=timeout, trust_env=False
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"/_emulator{path}", json=body)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise EmulatorControlError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError):
                raise EmulatorControlError(response.status_code, "unknown", response.text) from None
        return response.json() if response.content else None

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    # apps ------------------------------------------------------------------------------

    def register_app(
        self,
        app_id: str,
        *,
        display_name: str,
        secret: str,
        owner_tenant_id: str,
        redirect_uris: Sequence[str] = (),
        required_resource_access: list[dict[str, Any]] | None = None,
        has_billing_policy: bool = True,
    ) -> dict[str, Any]:
        """Register (or replace) a multi-tenant app; by default with the seed manifest."""
        return self._call(
            "PUT",
            f"/apps/{app_id}",
            {
                "displayName": display_name,
                "secret": secret,
                "ownerTenantId": owner_tenant_id,
                "redirectUris": list(redirect_uris),
                "requiredResourceAccess": required_resource_access
                if required_resource_access is not None
                else seed_required_resource_access(),
                "hasBillingPolicy": has_billing_policy,
            },
        )

    def get_app(self, app_id: str) -> dict[str, Any]:
        return self._call("GET", f"/apps/{app_id}")

    # tenants ---------------------------------------------------------------------------

    def create_tenant(
        self,
        *,
        domain: str,
        seed: int,
        users: int,
        id: str | None = None,
        display_name: str | None = None,
        groups: int | None = None,
        sites: int | None = None,
    ) -> TenantInfo:
        body: dict[str, Any] = {"domain": domain, "seed": seed, "users": users}
        for key, value in (
            ("id", id),
            ("displayName", display_name),
            ("groups", groups),
            ("sites", sites),
        ):
            if value is not None:
                body[key] = value
        return TenantInfo.from_json(self._call("POST", "/tenants", body))

    def list_tenants(self) -> list[TenantInfo]:
        return [TenantInfo.from_json(t) for t in self._call("GET", "/tenants")["value"]]

    def get_tenant(self, tenant_id: str) -> TenantInfo:
        return TenantInfo.from_json(self._call("GET", f"/tenants/{tenant_id}"))

    def delete_tenant(self, tenant_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}")

    # clocks ----------------------------------------------------------------------------

    def advance_clock(self, seconds: float, tenant_id: str | None = None) -> datetime:
        path = f"/tenants/{tenant_id}/clock" if tenant_id else "/clock"
        return _parse_time(self._call("POST", path, {"advanceSeconds": seconds})["now"])

    def now(self, tenant_id: str | None = None) -> datetime:
        path = f"/tenants/{tenant_id}/clock" if tenant_id else "/clock"
        return _parse_time(self._call("GET", path)["now"])

    # faults ----------------------------------------------------------------------------

    def set_faults(
        self,
        tenant_id: str | None = None,
        *,
        seed: int = 0,
        throttle_rate: float = 0.0,
        retry_after_seconds: float = 2.0,
        service_unavailable_rate: float = 0.0,
        latency_ms: int = 0,
        token_endpoint_failure: bool = False,
        restore_failure_unit_ids: Sequence[str] = (),
        page_size: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        path = f"/tenants/{tenant_id}/faults" if tenant_id else "/faults"
        return self._call(
            "PUT",
            path,
            {
                "seed": seed,
                "throttleRate": throttle_rate,
                "retryAfterSeconds": retry_after_seconds,
                "serviceUnavailableRate": service_unavailable_rate,
                "latencyMs": latency_ms,
                "tokenEndpointFailure": token_endpoint_failure,
                "restoreFailureUnitIds": list(restore_failure_unit_ids),
                "pageSize": page_size or {},
            },
        )["faults"]

    def clear_faults(self, tenant_id: str | None = None) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/faults" if tenant_id else "/faults")

    # directory events ------------------------------------------------------------------

    def reset_password(self, tenant_id: str, user: str) -> DirectoryUser:
        """Reset a password: the user's refresh tokens then fail with invalid_grant."""
        return DirectoryUser.from_json(
            self._call("POST", f"/tenants/{tenant_id}/users/{user}/password-reset")
        )

    def disable_user(self, tenant_id: str, user: str) -> DirectoryUser:
        return DirectoryUser.from_json(
            self._call("POST", f"/tenants/{tenant_id}/users/{user}/disable")
        )

    def enable_user(self, tenant_id: str, user: str) -> DirectoryUser:
        return DirectoryUser.from_json(
            self._call("POST", f"/tenants/{tenant_id}/users/{user}/enable")
        )

    def get_user(self, tenant_id: str, user: str) -> DirectoryUser:
        return DirectoryUser.from_json(self._call("GET", f"/tenants/{tenant_id}/users/{user}"))

    def set_roles(self, tenant_id: str, user: str, roles: Sequence[str]) -> DirectoryUser:
        return DirectoryUser.from_json(
            self._call("PUT", f"/tenants/{tenant_id}/users/{user}/roles", {"roles": list(roles)})
        )

    def delete_user(self, tenant_id: str, user: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/users/{user}")

    def delete_site(self, tenant_id: str, site_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/sites/{site_id}")

    # consent, backup controller, stats, tokens -----------------------------------------

    def revoke_grant(
        self, tenant_id: str, *, app_id: str, permission: str, resource_app_id: str | None = None
    ) -> list[str]:
        body = {"appId": app_id, "permission": permission}
        if resource_app_id:
            body["resourceAppId"] = resource_app_id
        return self._call("POST", f"/tenants/{tenant_id}/grants/revoke", body)["removed"]

    def set_controller(
        self, tenant_id: str, *, app_id: str, display_name: str | None = None
    ) -> dict[str, Any]:
        """Make `app_id` the tenant's active controller with the backup service enabled."""
        body = {"appId": app_id}
        if display_name:
            body["displayName"] = display_name
        return self._call("POST", f"/tenants/{tenant_id}/controller", body)

    def stats(self, tenant_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tenants/{tenant_id}/stats")

    def reset_stats(self, tenant_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/stats")

    def mint_token(
        self,
        tenant_id: str,
        *,
        app_id: str | None = None,
        roles: Sequence[str] = (),
        user: str | None = None,
        scopes: Sequence[str] = (),
        lifetime_seconds: int = 3599,
    ) -> str:
        """A Graph access token with chosen claims, without any flow (e.g. an expired one)."""
        body: dict[str, Any] = {
            "roles": list(roles),
            "scopes": list(scopes),
            "lifetimeSeconds": lifetime_seconds,
        }
        if app_id:
            body["appId"] = app_id
        if user:
            body["user"] = user
        return self._call("POST", f"/tenants/{tenant_id}/tokens", body)["access_token"]
