"""The emulator's state: registered apps, tenants, clocks and faults, and their persistence.

`World` is what every handler receives. It owns the emulator-wide persisted document
(apps, global clock offset, global faults) and one `Tenant` per emulated tenant. A tenant
keeps its persisted document in `tenant.data` and its generated content in `tenant.gen`;
handlers change `data` only inside `with tenant.mutation():`, which holds the tenant lock
and writes the file when the block ends.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import ROLES_BY_NAME
from .clock import DAY, real_now
from .errors import ControlError
from .faults import FaultCounter
from .generator import DIRECTORY_USERS, SHARED, TenantData, User
from .ids import guid_from
from .secrets_store import Keys
from .stats import RequestStats
from .store import StateStore


@dataclass(frozen=True)
class Durations:
    """Simulated seconds each long operation takes (defaults suit `make run`)."""

    unit_protect: float = 60.0
    first_restore_point: float = 120.0
    restore_point_interval: float = 600.0
    short_retention: float = 14 * DAY
    weekly_interval: float = 7 * DAY
    long_retention: float = 365 * DAY
    artifact_step: float = 30.0
    rule_run: float = 60.0
    bulk_job: float = 60.0
    bulk_job_per_thousand: float = 30.0
    service_app_grace: float = 7 * DAY
    restore_allowed_after_grace: float = 30 * DAY
    # Real (wall-clock) seconds: tokens live on the client's clock, not the tenant's.
    access_token_lifetime: float = 3599.0
    authorization_code_lifetime: float = 600.0
    refresh_token_lifetime: float = 90 * DAY
    download_link_lifetime: float = 300.0


class Tenant:
    """One emulated tenant: its persisted document (`data`), its generated content (`gen`),
    its lock, and in-memory request stats and fault counter."""

    def __init__(self, world: World, data: dict[str, Any]) -> None:
        self.world = world
        self.data = data
        self.lock = threading.RLock()
        self.stats = RequestStats()
        self.fault_counter = FaultCounter()
        self.gen = TenantData(
            tenant_id=data["id"],
            domain=data["domain"],
            seed=data["seed"],
            users=data["users"],
            groups=data.get("groups"),
            sites=data.get("sites"),
        )

    # ---- identity of the tenant -------------------------------------------------------

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def domain(self) -> str:
        return self.data["domain"]

    @property
    def initial_domain(self) -> str:
        return f"{self.gen.tenant_name}.onmicrosoft.com"

    @property
    def display_name(self) -> str:
        return self.data["displayName"]

    def domains(self) -> list[str]:
        return sorted({self.domain.lower(), self.initial_domain})

    # ---- time -------------------------------------------------------------------------

    def now(self) -> float:
        return real_now() + self.world.clock_offset() + self.data.get("clockOffset", 0.0)

    def faults(self) -> dict[str, Any] | None:
        """This tenant's fault configuration, else the global one, else None."""
        return self.data.get("faults") or self.world.data.get("faults")

    def day(self, ts: float) -> int:
        """Whole days since the tenant was registered: what sizes grow with."""
        return int((ts - self.data["createdDateTime"]) // DAY)

    # ---- persistence ------------------------------------------------------------------

    @contextmanager
    def mutation(self) -> Iterator[dict[str, Any]]:
        with self.lock:
            yield self.data
            self.world.store.save_tenant(self.data)

    # ---- directory with its overrides -------------------------------------------------

    @property
    def overrides(self) -> dict[str, Any]:
        return self.data["directory"]

    def user(self, id_or_upn: str, *, include_deleted: bool = False) -> User | None:
        index = self.gen.user_index(id_or_upn)
        if index is None:
            return None
        user = self.gen.user(index)
        if not include_deleted and user.id in self.overrides["deletedUsers"]:
            return None
        return user

    def is_deleted(self, user: User) -> bool:
        return user.id in self.overrides["deletedUsers"]

    def account_enabled(self, user: User) -> bool:
        override = self.overrides["accountEnabled"].get(user.id)
        return (user.kind != SHARED) if override is None else override

    def roles_of(self, user: User) -> list[str]:
        override = self.overrides["roles"].get(user.id)
        if override is not None:
            return list(override)
        if user.index < len(DIRECTORY_USERS):
            return list(DIRECTORY_USERS[user.index][2])
        return []

    def users_with_role(self, role_name: str) -> list[User]:
        found = [
            self.gen.user(i)
            for i in range(min(len(DIRECTORY_USERS), self.gen.user_count))
            if self.gen.user(i).id not in self.overrides["roles"]
        ]
        found += [u for u in map(self.user, list(self.overrides["roles"])) if u is not None]
        return [u for u in found if role_name in self.roles_of(u) and not self.is_deleted(u)]

    def password_version(self, user: User) -> int:
        return self.overrides["passwordVersions"].get(user.id, 0)

    def password_of(self, user: User) -> str:
        return self.gen.password_of(user.index, self.password_version(user))

    def site_deleted_at(self, site_id: str) -> float | None:
        return self.overrides["deletedSites"].get(site_id)

    def directory_users(self) -> list[dict[str, Any]]:
        """The contract's sign-in accounts with their current passwords and roles."""
        shown = [self.gen.user(i) for i in range(len(DIRECTORY_USERS))]
        shown += [u for u in map(self.user, list(self.overrides["roles"])) if u and u not in shown]
        return [
            {
                "id": u.id,
                "userPrincipalName": u.user_principal_name,
                "displayName": u.display_name,
                "password": self.password_of(u),
                "roles": self.roles_of(u),
                "accountEnabled": self.account_enabled(u),
            }
            for u in shown
            if not self.is_deleted(u)
        ]

    def summary(self) -> dict[str, Any]:
        data = self.data
        return {
            "id": self.id,
            "domain": self.domain,
            "initialDomain": self.initial_domain,
            "displayName": self.display_name,
            "seed": data["seed"],
            "users": data["users"],
            "groups": self.gen.group_count,
            "sites": self.gen.plain_site_count,
            "sharePointHost": self.gen.sharepoint_host,
            "directoryUsers": self.directory_users(),
        }


def empty_tenant_sections() -> dict[str, Any]:
    return {
        "clockOffset": 0.0,
        "faults": None,
        "directory": {
            "passwordVersions": {},
            "accountEnabled": {},
            "deletedUsers": {},
            "deletedSites": {},
            "roles": {},
        },
        "consent": {"servicePrincipals": {}, "appRoleAssignments": {}, "grants": {}},
        "backup": None,  # created on first use by backup.state
    }


class World:
    def __init__(self, state_dir: Path, durations: Durations | None = None) -> None:
        self.state_dir = state_dir
        self.store = StateStore(state_dir)
        self.keys = Keys(state_dir)
        self.durations = durations or Durations()
        self.lock = threading.RLock()
        self.data: dict[str, Any] = self.store.load_global() or {
            "apps": {},
            "clockOffset": 0.0,
            "faults": None,
        }
        self.tenants: dict[str, Tenant] = {}
        for tenant_data in self.store.load_tenants():
            self.tenants[tenant_data["id"]] = Tenant(self, tenant_data)

    # ---- emulator-wide state ----------------------------------------------------------

    def clock_offset(self) -> float:
        return self.data.get("clockOffset", 0.0)

    def now(self) -> float:
        return real_now() + self.clock_offset()

    @contextmanager
    def mutation(self) -> Iterator[dict[str, Any]]:
        with self.lock:
            yield self.data
            self.store.save_global(self.data)

    def app(self, app_id: str) -> dict[str, Any] | None:
        return self.data["apps"].get(str(app_id).lower())

    # ---- tenants ----------------------------------------------------------------------

    def tenant(self, ref: str) -> Tenant | None:
        """A tenant by GUID, verified domain or initial (onmicrosoft.com) domain."""
        ref = ref.lower()
        found = self.tenants.get(ref)
        if found is not None:
            return found
        for tenant in list(self.tenants.values()):
            if ref in tenant.domains():
                return tenant
        return None

    def create_tenant(self, body: dict[str, Any]) -> Tenant:
        domain = body.get("domain")
        if not isinstance(domain, str) or not re.fullmatch(
            r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", domain.lower()
        ):
            raise ControlError(400, "invalidRequest", "domain must be a DNS name")
        seed = body.get("seed")
        users = body.get("users")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ControlError(400, "invalidRequest", "seed must be an integer")
        if not isinstance(users, int) or isinstance(users, bool) or not 10 <= users <= 100_000:
            raise ControlError(400, "invalidRequest", "users must be an integer in 10..100000")
        for key in ("groups", "sites"):
            value = body.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 50_000):
                raise ControlError(400, "invalidRequest", f"{key} must be an integer 0..50000")
        domain = domain.lower()
        tenant_id = str(body.get("id") or guid_from("tenant", seed, domain)).lower()
        if not re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", tenant_id):
            raise ControlError(400, "invalidRequest", "id must be a GUID")
        with self.lock:
            if tenant_id in self.tenants:
                raise ControlError(409, "conflict", f"tenant {tenant_id} already exists")
            name_taken = {d for t in self.tenants.values() for d in t.domains()}
            probe = TenantData(tenant_id=tenant_id, domain=domain, seed=seed, users=users)
            if domain in name_taken or f"{probe.tenant_name}.onmicrosoft.com" in name_taken:
                raise ControlError(409, "conflict", f"domain {domain} is already in use")
            data = {
                "id": tenant_id,
                "domain": domain,
                "displayName": body.get("displayName") or f"{probe.tenant_name.title()} Ltd",
                "seed": seed,
                "users": users,
                "groups": body.get("groups"),
                "sites": body.get("sites"),
                "createdDateTime": self.now(),
                **empty_tenant_sections(),
            }
            tenant = Tenant(self, data)
            self.store.save_tenant(data)
            self.tenants[tenant_id] = tenant
        return tenant

    def delete_tenant(self, tenant_id: str) -> None:
        with self.lock:
            self.tenants.pop(tenant_id, None)
            self.store.delete_tenant(tenant_id)


def role_name(value: str) -> str:
    """The canonical spelling of a directory role name, or ControlError."""
    role = ROLES_BY_NAME.get(value.lower()) if isinstance(value, str) else None
    if role is None:
        known = ", ".join(sorted(r.display_name for r in ROLES_BY_NAME.values()))
        raise ControlError(400, "invalidRequest", f"unknown role {value!r}; known: {known}")
    return role.display_name
