"""Directory reads: organization, users, memberships, directory roles, groups."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from ..catalog import ROLE_TEMPLATES, ROLES_BY_ID, RoleTemplate
from ..clock import iso
from ..errors import ControlError
from ..generator import SHARED, Group, User
from ..ids import guid_from
from ..world import Tenant
from . import permissions as perm
from .core import Ctx, lookup_user, not_found, route
from .odata import (
    Collection,
    collection_page,
    count_response,
    entity,
    needed_properties,
    parse_filter,
    sequence_source,
)

USER_PROPERTIES = frozenset(
    {
        "id",
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "accountEnabled",
        "assignedLicenses",
        "createdDateTime",
        "department",
        "usageLocation",
        "userType",
        "city",
        "country",
        "mailNickname",
        "proxyAddresses",
        "deletedDateTime",
    }
)
# What v1.0 returns without $select (beta returns every property).
USER_DEFAULT_SELECT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
GROUP_PROPERTIES = frozenset(
    {
        "id",
        "displayName",
        "description",
        "mail",
        "mailEnabled",
        "mailNickname",
        "securityEnabled",
        "groupTypes",
        "resourceProvisioningOptions",
        "createdDateTime",
        "visibility",
        "deletedDateTime",
        "proxyAddresses",
    }
)


_DEFAULT_USER_FIELDS = frozenset(USER_DEFAULT_SELECT)
# Properties beyond v1.0's default set, computed only when asked for (or on beta).
_EXTRA_USER_PROPERTIES = {
    "accountEnabled": lambda t, u: t.account_enabled(u),
    "assignedLicenses": lambda t, u: [{"disabledPlans": [], "skuId": u.sku_id}] if u.sku_id else [],
    "createdDateTime": lambda t, u: iso(u.created),
    "department": lambda t, u: u.department,
    "usageLocation": lambda t, u: u.usage_location,
    "userType": lambda t, u: "Member",
    "city": lambda t, u: u.city,
    "country": lambda t, u: u.country,
    "mailNickname": lambda t, u: u.user_principal_name.partition("@")[0],
    "proxyAddresses": lambda t, u: [f"SMTP:{u.mail}"] if u.mail else [],
    "deletedDateTime": lambda t, u: None,
}


@lru_cache(maxsize=256)
def _extras(fields: frozenset[str] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(
        (name, get)
        for name, get in _EXTRA_USER_PROPERTIES.items()
        if fields is None or name in fields
    )


def user_json(tenant: Tenant, user: User, fields: frozenset[str] | None = None) -> dict[str, Any]:
    """A user as Graph shows it. `fields` (when not None) names the properties the caller
    needs; others beyond the default set are skipped, since listing 100,000 users is
    dominated by building properties nobody selected."""
    body = {
        "id": user.id,
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": user.job_title,
        "mail": user.mail,
        "mobilePhone": user.mobile_phone,
        "officeLocation": user.office_location,
        "preferredLanguage": "en-US" if user.kind != SHARED else None,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
    }
    if fields is None or not fields <= _DEFAULT_USER_FIELDS:
        for name, get in _extras(fields):
            body[name] = get(tenant, user)
    return body


def typed_user(tenant: Tenant, user: User) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.user", **user_json(tenant, user)}


def group_json(tenant: Tenant, group: Group) -> dict[str, Any]:
    unified = group.is_unified
    return {
        "id": group.id,
        "deletedDateTime": None,
        "createdDateTime": iso(group.created),
        "description": group.description,
        "displayName": group.display_name,
        "groupTypes": ["Unified"] if unified else [],
        "mail": f"{group.mail_nickname}@{tenant.domain}" if unified else None,
        "mailEnabled": unified,
        "mailNickname": group.mail_nickname,
        "proxyAddresses": [f"SMTP:{group.mail_nickname}@{tenant.domain}"] if unified else [],
        "resourceProvisioningOptions": ["Team"] if group.kind == "team" else [],
        "securityEnabled": not unified,
        "visibility": ("Private" if group.index % 3 == 0 else "Public") if unified else None,
    }


def role_id(tenant: Tenant, template: RoleTemplate) -> str:
    return guid_from(tenant.id, "directory-role", template.id)


def role_json(tenant: Tenant, template: RoleTemplate) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": role_id(tenant, template),
        "deletedDateTime": None,
        "description": template.description,
        "displayName": template.display_name,
        "roleTemplateId": template.id,
    }


# ---- organization --------------------------------------------------------------------


@route("/organization", "GET", perm.ORGANIZATION)
def list_organization(ctx: Ctx):
    tenant = ctx.tenant
    org = {
        "id": tenant.id,
        "displayName": tenant.display_name,
        "tenantType": "AAD",
        "createdDateTime": iso(tenant.data["createdDateTime"]),
        "countryLetterCode": "US",
        "preferredLanguage": "en",
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": name == tenant.domain,
                "isInitial": name == tenant.initial_domain,
                "name": name,
                "type": "Managed",
            }
            for name in tenant.domains()
        ],
    }
    coll = Collection(
        name="organization",
        context="organization",
        source=sequence_source([org]),
        entity="microsoft.graph.organization",
    )
    return collection_page(ctx, coll)


@route("/organization/<org_id>", "GET", perm.ORGANIZATION)
def get_organization(ctx: Ctx, org_id: str):
    if org_id.lower() != ctx.tenant.id:
        raise not_found("Request_ResourceNotFound", f"Resource '{org_id}' does not exist.")
    body = list_organization(ctx).body["value"][0]
    return entity(ctx, body, "organization/$entity")


# ---- users ---------------------------------------------------------------------------


def _users_collection(ctx: Ctx) -> Collection:
    tenant = ctx.tenant
    gen = tenant.gen
    deleted = tenant.overrides["deletedUsers"]
    shape = _user_shape(ctx, lambda start: iter(()))
    compiled = parse_filter(ctx, shape)
    direct = _direct_user_lookup(ctx, compiled.equalities if compiled else {})
    fields = needed_properties(ctx, shape)

    def read(start: int) -> Iterator[tuple[int, dict[str, Any]]]:
        if direct is not None:
            for index in direct:
                if index >= start:
                    yield index, user_json(tenant, gen.user(index), fields)
            return
        for index in range(start, gen.user_count):
            user = gen.user(index)
            if user.id not in deleted:
                yield index, user_json(tenant, user, fields)

    coll = _user_shape(ctx, read)
    coll.total = gen.user_count - len(deleted)
    return coll


def _user_shape(ctx: Ctx, source) -> Collection:
    return Collection(
        name="users",
        context="users",
        source=source,
        entity="microsoft.graph.user",
        properties=USER_PROPERTIES,
        default_select=USER_DEFAULT_SELECT,
        filterable=USER_PROPERTIES,
        filter_error_code="Request_UnsupportedQuery",
        count_needs_eventual=True,
    )


def _direct_user_lookup(ctx: Ctx, equalities: dict[str, Any]) -> list[int] | None:
    """For `id eq` / `userPrincipalName eq` / `mail eq` filters: the one candidate index."""
    for key in ("id", "userPrincipalName", "mail"):
        value = equalities.get(key)
        if isinstance(value, str):
            user = ctx.tenant.user(value)
            return [user.index] if user is not None else []
    return None


@route("/users", "GET", perm.USERS)
def list_users(ctx: Ctx):
    return collection_page(ctx, _users_collection(ctx))


@route("/users/$count", "GET", perm.USERS)
def count_users(ctx: Ctx):
    return count_response(ctx, _users_collection(ctx))


@route("/me", "GET", perm.ME)
def get_me(ctx: Ctx):
    if ctx.user is None:
        raise ControlError(
            400, "BadRequest", "/me request is only valid with delegated authentication flow."
        )
    return entity(
        ctx,
        user_json(ctx.tenant, ctx.user),
        "users/$entity",
        properties=USER_PROPERTIES,
        entity_type="microsoft.graph.user",
        default_select=USER_DEFAULT_SELECT,
    )


@route("/users/<user_ref>", "GET", perm.USERS)
def get_user(ctx: Ctx, user_ref: str):
    user = lookup_user(ctx, user_ref)
    return entity(
        ctx,
        user_json(ctx.tenant, user),
        "users/$entity",
        properties=USER_PROPERTIES,
        entity_type="microsoft.graph.user",
        default_select=USER_DEFAULT_SELECT,
    )


def _member_of(ctx: Ctx, user: User, kinds: tuple[str, ...]) -> Collection:
    tenant = ctx.tenant
    items: list[dict[str, Any]] = []
    if "group" in kinds:
        items += [
            {"@odata.type": "#microsoft.graph.group", **group_json(tenant, tenant.gen.group(g))}
            for g in tenant.gen.member_of(user.index)
        ]
    if "directoryRole" in kinds:
        items += [
            role_json(tenant, t) for t in ROLE_TEMPLATES if t.display_name in tenant.roles_of(user)
        ]
    return Collection(
        name="memberOf",
        context="directoryObjects",
        source=sequence_source(items),
        entity="microsoft.graph.directoryObject",
        filter_error_code="Request_UnsupportedQuery",
        count_needs_eventual=True,
    )


@route("/users/<user_ref>/memberOf", "GET", perm.MEMBER_OF)
def user_member_of(ctx: Ctx, user_ref: str):
    return collection_page(
        ctx, _member_of(ctx, lookup_user(ctx, user_ref), ("group", "directoryRole"))
    )


@route("/users/<user_ref>/memberOf/microsoft.graph.directoryRole", "GET", perm.MEMBER_OF)
def user_member_of_roles(ctx: Ctx, user_ref: str):
    coll = _member_of(ctx, lookup_user(ctx, user_ref), ("directoryRole",))
    coll.context = "directoryRoles"
    return collection_page(ctx, coll)


@route("/users/<user_ref>/memberOf/microsoft.graph.group", "GET", perm.MEMBER_OF)
def user_member_of_groups(ctx: Ctx, user_ref: str):
    coll = _member_of(ctx, lookup_user(ctx, user_ref), ("group",))
    coll.context = "groups"
    return collection_page(ctx, coll)


# ---- directory roles -----------------------------------------------------------------


def _role_by_ref(ctx: Ctx, ref: str) -> RoleTemplate:
    for template in ROLE_TEMPLATES:
        if ref.lower() in (role_id(ctx.tenant, template), template.id):
            return template
    raise not_found("Request_ResourceNotFound", f"Resource '{ref}' does not exist.")


@route("/directoryRoles", "GET", perm.DIRECTORY_ROLES)
def list_directory_roles(ctx: Ctx):
    items = [role_json(ctx.tenant, t) for t in ROLE_TEMPLATES]
    return collection_page(
        ctx,
        Collection(
            name="directoryRoles",
            context="directoryRoles",
            source=sequence_source(items),
            entity="microsoft.graph.directoryRole",
            filter_error_code="Request_UnsupportedQuery",
        ),
    )


@route("/directoryRoles/<role_ref>", "GET", perm.DIRECTORY_ROLES)
def get_directory_role(ctx: Ctx, role_ref: str):
    ref = role_ref
    if ref.startswith("roleTemplateId="):
        ref = ref.split("=", 1)[1].strip("'")
    return entity(ctx, role_json(ctx.tenant, _role_by_ref(ctx, ref)), "directoryRoles/$entity")


@route("/directoryRoles(roleTemplateId='<template_id>')", "GET", perm.DIRECTORY_ROLES)
def get_directory_role_by_template(ctx: Ctx, template_id: str):
    return entity(
        ctx, role_json(ctx.tenant, _role_by_ref(ctx, template_id)), "directoryRoles/$entity"
    )


@route("/directoryRoles/<role_ref>/members", "GET", perm.DIRECTORY_ROLES)
def list_directory_role_members(ctx: Ctx, role_ref: str):
    template = _role_by_ref(ctx, role_ref)
    users = ctx.tenant.users_with_role(template.display_name)
    items = [typed_user(ctx.tenant, u) for u in users]
    return collection_page(
        ctx,
        Collection(
            name="members",
            context="directoryObjects",
            source=sequence_source(items),
            entity="microsoft.graph.directoryObject",
            filter_error_code="Request_UnsupportedQuery",
        ),
    )


@route("/directoryRoleTemplates", "GET", perm.DIRECTORY_ROLES)
def list_role_templates(ctx: Ctx):
    items = [
        {
            "id": t.id,
            "displayName": t.display_name,
            "description": t.description,
            "deletedDateTime": None,
        }
        for t in ROLES_BY_ID.values()
    ]
    return collection_page(
        ctx,
        Collection(
            name="directoryRoleTemplates",
            context="directoryRoleTemplates",
            source=sequence_source(items),
            entity="microsoft.graph.directoryRoleTemplate",
        ),
    )


# ---- groups --------------------------------------------------------------------------


def _lookup_group(ctx: Ctx, group_id: str) -> Group:
    index = ctx.tenant.gen.group_index_by_id(group_id)
    if index is None:
        raise not_found(
            "Request_ResourceNotFound",
            f"Resource '{group_id}' does not exist or one of its queried "
            "reference-property objects are not present.",
        )
    return ctx.tenant.gen.group(index)


def _groups_collection(ctx: Ctx) -> Collection:
    tenant = ctx.tenant
    gen = tenant.gen

    def read(start: int) -> Iterator[tuple[int, dict[str, Any]]]:
        for index in range(start, gen.group_count):
            yield index, group_json(tenant, gen.group(index))

    return Collection(
        name="groups",
        context="groups",
        source=read,
        entity="microsoft.graph.group",
        properties=GROUP_PROPERTIES,
        filterable=GROUP_PROPERTIES,
        total=gen.group_count,
        filter_error_code="Request_UnsupportedQuery",
        count_needs_eventual=True,
    )


@route("/groups", "GET", perm.GROUPS)
def list_groups(ctx: Ctx):
    return collection_page(ctx, _groups_collection(ctx))


@route("/groups/$count", "GET", perm.GROUPS)
def count_groups(ctx: Ctx):
    return count_response(ctx, _groups_collection(ctx))


@route("/groups/<group_id>", "GET", perm.GROUPS)
def get_group(ctx: Ctx, group_id: str):
    group = _lookup_group(ctx, group_id)
    return entity(
        ctx,
        group_json(ctx.tenant, group),
        "groups/$entity",
        properties=GROUP_PROPERTIES,
        entity_type="microsoft.graph.group",
    )


@route("/groups/<group_id>/members", "GET", perm.GROUPS)
def list_group_members(ctx: Ctx, group_id: str):
    group = _lookup_group(ctx, group_id)
    tenant = ctx.tenant
    members = [tenant.gen.user(i) for i in tenant.gen.group_members(group.index)]
    items = [typed_user(tenant, u) for u in members if not tenant.is_deleted(u)]
    return collection_page(
        ctx,
        Collection(
            name="members",
            context="directoryObjects",
            source=sequence_source(items),
            entity="microsoft.graph.directoryObject",
            filter_error_code="Request_UnsupportedQuery",
            count_needs_eventual=True,
        ),
    )
