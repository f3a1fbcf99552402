"""Onboarding a customer tenant and the consent journey of its administrator.

1. MSP staff onboard a tenant from its domain: the Entra tenant id comes from OpenID
   discovery, the tenant starts in `onboarding` with an app profile pending consent.
2. A consent request makes a single-use link that expires (`consent_request_create`); MSP
   staff send it, or a customer admin starts it from their pages.
3. The administrator signs in with Microsoft (social-auth, `organizations` authority); the
   pipeline hands the verified id_token claims and the refresh token to
   `consent_sign_in_complete`, which refuses an account of any other tenant.
4. Admin consent (when new permissions must be granted) with a fresh single-use `state`
   bound to the request; `consent_callback` checks `error` first, the state, its age, and
   never trusts the returned `tenant` alone.
5. `consent_finish` proves the consent with an app-only token: it reads the grants, checks
   the signed-in user's directory role through Graph (Global Administrator to create; Backup
   Administrator or Global Administrator to re-authorize), then activates the profile,
   stores the administrator's refresh token encrypted, and asks the backups app to connect
   the backup service (by task name: tenants does not import backups).

Every refusal completes the request as failed with a ConsentFailure code and a sentence the
administrator and MSP staff can act on.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import slugify

from m365.errors import M365Error, UnknownTenant
from m365.identity import admin_consent_url, resolve_tenant_id
from tenants.choices import (
    AppProfileStatus,
    ConsentFailure,
    ConsentOutcome,
    ConsentPurpose,
    DirectoryRole,
    TenantStatus,
)
from tenants.exceptions import ConsentError, DomainError, InvalidTransition, MicrosoftUnavailable
from tenants.graph import graph_settings
from tenants.manifest import manifest_version
from tenants.models import AppProfile, ConsentRequest, Tenant
from tenants.notifications import consent_link_send
from tenants.principals import Principal
from tenants.services.app_profiles import (
    GrantCheck,
    app_profile_set_status,
    grants_inspect,
    grants_store,
    qualifying_role,
    user_roles,
)
from tenants.services.audit import audit_record
from tenants.services.tenants import tenant_create, tenant_set_status

logger = logging.getLogger(__name__)


def profile_activated(tenant_id: int) -> None:
    """Queue the tasks configured in APP_PROFILE_ACTIVATED_TASKS (the backups app connects
    the backup service): wiring by setting, so tenants imports no other app."""
    for dotted_path in settings.APP_PROFILE_ACTIVATED_TASKS:
        import_string(dotted_path).delay(tenant_id)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def consent_callback_url() -> str:
    return _absolute(reverse("consent:callback"))


# --- onboarding -----------------------------------------------------------------------------


def tenant_onboard(*, by: Principal, name: str, domain: str, slug: str = "") -> Tenant:
    """Create a tenant from one of its domains; its Entra id comes from OpenID discovery.

    The discovery call happens before the transaction: no row is written when Microsoft
    knows no such domain (DomainError on `domain`) or does not answer (MicrosoftUnavailable).
    """
    domain = domain.strip().lower()
    try:
        entra_tenant_id = resolve_tenant_id(graph_settings(), domain)
    except UnknownTenant as exc:
        raise DomainError(
            f"No Microsoft 365 tenant has verified the domain {domain}.", field="domain"
        ) from exc
    except M365Error as exc:
        raise MicrosoftUnavailable(f"Microsoft did not answer the tenant lookup: {exc}") from exc
    with transaction.atomic():
        tenant = tenant_create(
            by=by,
            name=name,
            slug=slug or slugify(name)[:60] or slugify(domain.split(".")[0]),
            entra_tenant_id=entra_tenant_id,
            primary_domain=domain,
        )
        app_profile_ensure(by=by, tenant=tenant)
    return tenant


def app_profile_ensure(*, by: Principal, tenant: Tenant) -> AppProfile:
    profile, created = AppProfile.objects.get_or_create(tenant=tenant)
    if created:
        audit_record(by=by, action="app_profile.created", tenant=tenant, target=profile)
    return profile


# --- consent requests -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentLink:
    request: ConsentRequest
    url: str  # contains the single-use token: shown once, e-mailed, never stored


@transaction.atomic
def consent_request_create(
    *,
    by: Principal,
    tenant: Tenant,
    sent_to: str = "",
    valid_for: timedelta | None = None,
    now: datetime | None = None,
) -> ConsentLink:
    """A single-use consent link for the tenant's administrator, e-mailed when `sent_to`.

    The purpose follows the profile: the first consent creates it, later ones re-authorize.
    """
    now = now or timezone.now()
    if tenant.status == TenantStatus.OFFBOARDED:
        raise InvalidTransition("This tenant is offboarded; onboard it again first.")
    valid_for = valid_for or timedelta(hours=settings.CONSENT_LINK_VALID_HOURS)
    if not timedelta(minutes=5) <= valid_for <= timedelta(days=30):
        raise DomainError("A consent link is valid for 5 minutes to 30 days.", field="valid_for")
    profile = app_profile_ensure(by=by, tenant=tenant)
    purpose = ConsentPurpose.CREATE if profile.consented_at is None else ConsentPurpose.REAUTHORIZE
    token = secrets.token_urlsafe(32)
    request = ConsentRequest.objects.create(
        tenant=tenant,
        profile=profile,
        purpose=purpose,
        link_token_hash=_digest(token),
        expires_at=now + valid_for,
        sent_to=sent_to,
        created_by_label=by.label[:200],
    )
    audit_record(
        by=by,
        action="consent_request.created",
        tenant=tenant,
        target=request,
        details={
            "purpose": purpose,
            "expires_at": request.expires_at.isoformat(),
            "sent_to": sent_to,
        },
        now=now,
    )
    url = _absolute(reverse("consent:start", args=[token]))
    if sent_to:
        transaction.on_commit(
            lambda: consent_link_send(
                tenant_name=tenant.name, url=url, to=sent_to, expires_at=request.expires_at
            )
        )
    return ConsentLink(request, url)


def consent_request_for_link(*, token: str, now: datetime | None = None) -> ConsentRequest:
    """The pending request a link names. Raises ConsentError (forged, reused, expired)."""
    now = now or timezone.now()
    request = (
        ConsentRequest.objects.select_related("tenant", "profile")
        .filter(link_token_hash=_digest(token))
        .first()
    )
    if request is None:
        raise ConsentError(ConsentFailure.FORGED, "This consent link is not valid.")
    _check_open(request, now)
    return request


def _check_open(request: ConsentRequest, now: datetime) -> None:
    """Raise ConsentError when the request can no longer proceed, recording an expiry.
    Call it outside any transaction that the error will roll back."""
    if request.outcome != ConsentOutcome.PENDING:
        raise ConsentError(
            ConsentFailure.REUSED,
            "This consent link was already used. Ask your service provider for a new one.",
        )
    if request.expires_at <= now:
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.EXPIRED,
            detail="The consent link expired before the consent finished.",
            now=now,
        )
        raise ConsentError(
            ConsentFailure.EXPIRED,
            "This consent link has expired. Ask your service provider for a new one.",
        )


def consent_fail(*, request_id: int, failure: str, detail: str, now: datetime) -> ConsentRequest:
    """Complete a pending request as failed (idempotent: a completed one is left alone).
    The administrator's token from the sign-in is dropped."""
    with transaction.atomic():
        request = (
            ConsentRequest.objects.select_for_update().select_related("tenant").get(pk=request_id)
        )
        if request.outcome != ConsentOutcome.PENDING:
            return request
        request.outcome = ConsentOutcome.FAILED
        request.failure = failure
        request.failure_detail = detail[:500]
        request.completed_at = now
        request.pending_refresh_token = ""
        request.save()
        audit_record(
            by=Principal.system(),
            action="consent_request.failed",
            tenant=request.tenant,
            target=request,
            details={"failure": failure, "detail": detail, "upn": request.signed_in_upn},
            now=now,
        )
    return request


# --- the journey ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentStep:
    """Where the administrator's browser goes next: Microsoft's admin consent page
    (`redirect_to`) or the result page of the request."""

    request: ConsentRequest
    redirect_to: str | None = None


def consent_sign_in_complete(
    *, request_id: int, claims: dict, refresh_token: str, now: datetime | None = None
) -> ConsentStep:
    """Record the administrator's verified sign-in and decide the next step.

    `claims` are the id_token claims social-auth verified (signature, audience, issuer).
    Refusals are recorded on the request before ConsentError is raised.
    """
    now = now or timezone.now()
    tid, oid = str(claims.get("tid") or "").lower(), str(claims.get("oid") or "")
    upn = str(claims.get("preferred_username") or claims.get("upn") or claims.get("email") or "")
    request = ConsentRequest.objects.select_related("tenant", "profile").get(pk=request_id)
    _check_open(request, now)
    expected = str(request.tenant.entra_tenant_id).lower()
    if tid != expected:
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.WRONG_TENANT,
            detail=(
                f"{upn or 'The account'} belongs to another Microsoft 365 tenant ({tid}); "
                f"sign in with an administrator of {request.tenant.primary_domain}."
            ),
            now=now,
        )
        raise ConsentError(
            ConsentFailure.WRONG_TENANT,
            f"{upn or 'This account'} is not an account of {request.tenant.name}'s Microsoft "
            f"365 tenant. Sign in with an administrator of {request.tenant.primary_domain}.",
        )
    if not refresh_token:
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.PROVIDER_ERROR,
            detail="Microsoft issued no refresh token (offline_access was not granted).",
            now=now,
        )
        raise ConsentError(
            ConsentFailure.PROVIDER_ERROR,
            "Microsoft issued no refresh token, so the portal could not keep the authorization.",
        )
    # Read before locking the request: Graph calls never run under a row lock.
    standing_grants = _grants_if_renewable(request)
    needs_admin_consent = standing_grants is None or bool(standing_grants.missing)
    state = secrets.token_urlsafe(32)
    with transaction.atomic():
        request = (
            ConsentRequest.objects.select_for_update()
            .select_related("tenant", "profile")
            .get(pk=request_id)
        )
        if request.outcome != ConsentOutcome.PENDING:
            raise ConsentError(ConsentFailure.REUSED, "This consent was already completed.")
        request.signed_in_tid, request.signed_in_oid, request.signed_in_upn = tid, oid, upn[:320]
        request.pending_refresh_token = refresh_token
        if needs_admin_consent:
            request.consent_state_hash = _digest(state)
            request.consent_started_at = now
        request.save()
        audit_record(
            by=Principal.system(),
            action="consent_request.signed_in",
            tenant=request.tenant,
            target=request,
            details={"upn": upn, "admin_consent_next": needs_admin_consent},
            now=now,
        )
    if needs_admin_consent:
        url = admin_consent_url(
            graph_settings(), redirect_uri=consent_callback_url(), state=state, tenant=expected
        )
        return ConsentStep(request, redirect_to=url)
    return consent_finish(request_id=request.pk, now=now, check=standing_grants)


def _grants_if_renewable(request: ConsentRequest) -> GrantCheck | None:
    """The tenant's grants when a sign-in alone might renew the consent, else None.

    Creating always needs Microsoft's admin consent (None). Re-authorizing needs it only when
    the tenant lacks a grant (checked live): a new permission must be granted tenant-wide,
    which Entra lets only privileged administrators do. When every grant is present, the
    sign-in itself renews the authorization, which a Backup Administrator may do."""
    profile = request.profile
    if request.purpose == ConsentPurpose.CREATE or not profile.manifest_version:
        return None
    if profile.status == AppProfileStatus.REVOKED:
        return None
    return grants_inspect(request.tenant)


def consent_callback(*, params: dict[str, str], now: datetime | None = None) -> ConsentStep:
    """Microsoft's redirect after admin consent. Order matters: the state first (it names the
    request), then `error` (Microsoft sets admin_consent=True on errors too), then age, then
    the tenant it names, which is only a claim until `consent_finish` proves it."""
    now = now or timezone.now()
    state = params.get("state") or ""
    request = (
        ConsentRequest.objects.filter(consent_state_hash=_digest(state)).first() if state else None
    )
    if request is None:
        audit_record(
            by=Principal.system(),
            action="consent_request.unknown_answer",
            details={"error": params.get("error", ""), "tenant": params.get("tenant", "")[:64]},
            now=now,
        )
        raise ConsentError(
            ConsentFailure.FORGED,
            "This answer from Microsoft does not belong to any consent in progress.",
        )
    if request.outcome != ConsentOutcome.PENDING:
        raise ConsentError(
            ConsentFailure.REUSED, "This consent was already completed; the answer was ignored."
        )
    error = params.get("error")
    if error:
        description = (params.get("error_description") or error).splitlines()[0][:300]
        denied = error in {"access_denied", "consent_required", "permission_denied"}
        failure = ConsentFailure.DENIED if denied else ConsentFailure.PROVIDER_ERROR
        consent_fail(request_id=request.pk, failure=failure, detail=description, now=now)
        raise ConsentError(
            failure,
            "The consent was declined, so the app was not authorized."
            if denied
            else f"Microsoft answered with an error: {description}",
        )
    max_age = timedelta(minutes=settings.CONSENT_STATE_VALID_MINUTES)
    if request.consent_started_at is None or now - request.consent_started_at > max_age:
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.EXPIRED,
            detail="Microsoft's answer came after the consent state expired.",
            now=now,
        )
        raise ConsentError(ConsentFailure.EXPIRED, "The consent took too long; please start again.")
    _check_open(request, now)
    expected = str(request.tenant.entra_tenant_id).lower()
    answered = (params.get("tenant") or "").lower()
    if str(params.get("admin_consent", "")).lower() != "true" or answered != expected:
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.WRONG_TENANT,
            detail=f"The consent answer named tenant {answered or '(none)'}, not {expected}.",
            now=now,
        )
        raise ConsentError(
            ConsentFailure.WRONG_TENANT,
            f"The consent was given in another tenant, not {request.tenant.primary_domain}.",
        )
    return consent_finish(request_id=request.pk, now=now)


def consent_finish(
    *, request_id: int, now: datetime | None = None, check: GrantCheck | None = None
) -> ConsentStep:
    """Prove the consent through Graph (grants, then the signer's role) and activate.
    `check`: the grants already read in this sign-in, if any (not read twice)."""
    now = now or timezone.now()
    request = ConsentRequest.objects.select_related("tenant", "profile").get(pk=request_id)
    tenant = request.tenant
    try:
        check = check or grants_inspect(tenant)
        roles = user_roles(tenant, request.signed_in_oid) if check.app_present else set()
    except (MicrosoftUnavailable, M365Error) as exc:
        consent_fail(
            request_id=request.pk, failure=ConsentFailure.PROVIDER_ERROR, detail=str(exc), now=now
        )
        raise ConsentError(
            ConsentFailure.PROVIDER_ERROR,
            "Microsoft could not confirm the consent just now. Please try again in a few minutes.",
        ) from exc
    if check.missing:
        names = ", ".join(row.value for row in check.missing)
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.GRANTS_MISSING,
            detail=f"Not granted in the tenant: {names}.",
            now=now,
        )
        raise ConsentError(
            ConsentFailure.GRANTS_MISSING,
            f"Some permissions were not granted ({names}); the app cannot work without them.",
        )
    role = qualifying_role(request.purpose, roles)
    if role is None:
        wanted = (
            "Global Administrator"
            if request.purpose == ConsentPurpose.CREATE
            else "Microsoft 365 Backup Administrator or Global Administrator"
        )
        consent_fail(
            request_id=request.pk,
            failure=ConsentFailure.ROLE_MISSING,
            detail=f"{request.signed_in_upn} holds none of: {wanted}.",
            now=now,
        )
        raise ConsentError(
            ConsentFailure.ROLE_MISSING,
            f"{request.signed_in_upn} is not a {wanted} of this tenant. "
            f"{'Creating the app profile' if request.purpose == ConsentPurpose.CREATE else 'Re-authorizing'} "
            "needs that role.",
        )
    system = Principal.system()
    with transaction.atomic():
        request = ConsentRequest.objects.select_for_update().get(pk=request_id)
        if request.outcome != ConsentOutcome.PENDING:
            raise ConsentError(ConsentFailure.REUSED, "This consent was already completed.")
        profile = (
            AppProfile.objects.select_for_update()
            .select_related("tenant")
            .get(pk=request.profile_id)
        )
        profile.refresh_token = request.pending_refresh_token
        profile.token_user_oid = request.signed_in_oid
        profile.token_user_upn = request.signed_in_upn
        profile.token_obtained_at = now
        profile.consented_by_oid = request.signed_in_oid
        profile.consented_by_upn = request.signed_in_upn
        profile.consented_by_role = DirectoryRole(role).label
        profile.consented_at = now
        profile.manifest_version = manifest_version()
        profile.service_principal_id = check.service_principal_id or ""
        profile.last_verified_at = now
        profile.last_verification_error = ""
        profile.save()
        grants_store(profile=profile, check=check, now=now)
        app_profile_set_status(
            by=system, profile=profile, status=AppProfileStatus.ACTIVE, reason="", now=now
        )
        request.outcome = ConsentOutcome.SUCCEEDED
        request.completed_at = now
        request.pending_refresh_token = ""
        request.save()
        audit_record(
            by=system,
            action="app_profile.consented",
            tenant=tenant,
            target=profile,
            details={
                "purpose": request.purpose,
                "upn": request.signed_in_upn,
                "role": profile.consented_by_role,
                "manifest_version": profile.manifest_version.isoformat(),
            },
            now=now,
        )
        if tenant.status == TenantStatus.ONBOARDING:
            tenant_set_status(by=system, tenant=tenant, status=TenantStatus.ACTIVE, now=now)
        transaction.on_commit(lambda: profile_activated(tenant.pk))
    return ConsentStep(request)
