"""The consent journey end to end: the portal (Django test client), the emulator's pages
(driven like a browser) and the Graph client over HTTPS. Nothing is mocked."""

import pytest
from django.db import connection
from django.urls import reverse

from backups.choices import BackupServiceStatus, ServiceAppStatus
from backups.models import BackupService
from tenants.choices import AppProfileStatus, ConsentFailure, GrantStatus, TenantStatus
from tenants.models import AppProfile, ConsentRequest, PermissionGrant
from tenants.principals import Principal
from tenants.services.onboarding import consent_request_create
from tests.fixtures.portal_m365 import consent_journey, path_of

pytestmark = pytest.mark.django_db


def test_onboarding_from_a_domain_through_consent_to_an_enabled_service(
    client, portal_m365, onboarded, django_capture_on_commit_callbacks
):
    emulated, tenant = onboarded()
    assert str(tenant.entra_tenant_id) == emulated.id
    assert tenant.status == TenantStatus.ONBOARDING

    with django_capture_on_commit_callbacks(execute=True):
        done, request = consent_journey(client, portal_m365, tenant, emulated.admin)

    assert done.status_code == 200, done.content.decode()[:800]
    assert "Cloud Backup Express is authorized" in done.content.decode()
    profile = AppProfile.objects.get(tenant=tenant)
    assert profile.status == AppProfileStatus.ACTIVE
    assert profile.consented_by_upn == emulated.admin.user_principal_name
    assert profile.consented_by_role == "Global Administrator"
    grants = PermissionGrant.objects.filter(profile=profile)
    assert grants.count() == 12
    assert set(grants.values_list("status", flat=True)) == {GrantStatus.GRANTED}
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE

    service = BackupService.objects.get(tenant=tenant)
    assert service.service_app_status == ServiceAppStatus.ACTIVE
    assert service.status == BackupServiceStatus.ENABLED
    assert service.enabled_at is not None

    # The refresh token is encrypted at rest: not in the raw column, nowhere else either.
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM tenants_appprofile WHERE id = %s", [profile.pk])
        raw = cursor.fetchone()[0]
    assert raw and profile.refresh_token and profile.refresh_token not in raw
    request.refresh_from_db()
    assert request.pending_refresh_token == ""


def test_denied_consent_is_recorded_and_changes_nothing(client, portal_m365, onboarded):
    emulated, tenant = onboarded()
    done, request = consent_journey(client, portal_m365, tenant, emulated.admin, consent="cancel")
    assert done.status_code == 400
    assert "declined" in done.content.decode()
    request.refresh_from_db()
    assert request.failure == ConsentFailure.DENIED
    assert AppProfile.objects.get(tenant=tenant).status == AppProfileStatus.PENDING_CONSENT
    assert not BackupService.objects.filter(tenant=tenant).exists()


def test_sign_in_from_another_tenant_is_refused(client, portal_m365, onboarded, emulated_tenant):
    _, tenant = onboarded()
    stranger = emulated_tenant()
    done, request = consent_journey(client, portal_m365, tenant, stranger.admin)
    assert done.status_code == 400
    request.refresh_from_db()
    assert request.failure == ConsentFailure.WRONG_TENANT
    assert stranger.admin.user_principal_name in request.failure_detail


def test_forged_and_reused_state_are_refused(client, portal_m365, onboarded):
    emulated, tenant = onboarded()
    forged = client.get(
        reverse("consent:callback"),
        {"admin_consent": "True", "tenant": emulated.id, "state": "made-up"},
        follow=True,
    )
    assert forged.status_code == 400 and "does not belong" in forged.content.decode()
    done, request = consent_journey(client, portal_m365, tenant, emulated.admin)
    assert done.status_code == 200
    # The answer replayed: refused, and the success stands.
    replay = client.get(
        reverse("consent:callback"),
        {"admin_consent": "True", "tenant": emulated.id, "state": "made-up"},
        follow=True,
    )
    assert replay.status_code == 400
    request.refresh_from_db()
    assert request.outcome == "succeeded"
    assert ConsentRequest.objects.filter(tenant=tenant).count() == 1


def _onboard_fully(client, portal_m365, onboarded, **options):
    emulated, tenant = onboarded(**options)
    done, _ = consent_journey(client, portal_m365, tenant, emulated.admin)
    assert done.status_code == 200, done.content.decode()[:800]
    return emulated, tenant, AppProfile.objects.get(tenant=tenant)


def test_creation_needs_a_global_administrator(client, portal_m365, onboarded):
    emulated, tenant = onboarded()
    # A Privileged Role Administrator may grant consent in Entra, but the seed's rule asks
    # for a Global Administrator to create the profile: the portal checks through Graph.
    done, request = consent_journey(client, portal_m365, tenant, emulated.privileged_admin)
    assert done.status_code == 400
    assert "Global Administrator" in done.content.decode()
    request.refresh_from_db()
    assert request.failure == ConsentFailure.ROLE_MISSING
    assert AppProfile.objects.get(tenant=tenant).status == AppProfileStatus.PENDING_CONSENT


def test_backup_administrator_reauthorizes_and_an_ordinary_user_cannot(
    client, portal_m365, onboarded
):
    emulated, tenant, profile = _onboard_fully(client, portal_m365, onboarded)
    refused, request = consent_journey(client, portal_m365, tenant, emulated.user)
    assert refused.status_code == 400
    request.refresh_from_db()
    assert request.failure == ConsentFailure.ROLE_MISSING
    assert "Backup Administrator" in request.failure_detail

    done, request = consent_journey(client, portal_m365, tenant, emulated.backup_admin)
    assert done.status_code == 200, done.content.decode()[:800]
    profile.refresh_from_db()
    assert profile.status == AppProfileStatus.ACTIVE
    assert profile.consented_by_upn == emulated.backup_admin.user_principal_name
    assert profile.consented_by_role == "Microsoft 365 Backup Administrator"
    assert profile.token_user_upn == emulated.backup_admin.user_principal_name


def test_an_expired_link_and_an_expired_state_are_refused(client, portal_m365, onboarded, settings):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    emulated, tenant = onboarded()
    link = consent_request_create(
        by=Principal.system(), tenant=tenant, valid_for=timedelta(minutes=5)
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        page = client.get(path_of(link.url))
    assert page.status_code == 410 and "expired" in page.content.decode()
    link.request.refresh_from_db()
    assert link.request.failure == ConsentFailure.EXPIRED

    settings.CONSENT_STATE_VALID_MINUTES = -1  # any answer arrives too late
    done, request = consent_journey(client, portal_m365, tenant, emulated.admin)
    assert done.status_code == 400
    request.refresh_from_db()
    assert request.failure == ConsentFailure.EXPIRED


def test_verification_flags_a_revoked_grant_and_notifies(
    client, portal_m365, onboarded, mailoutbox, msp_operator, django_capture_on_commit_callbacks
):
    from tenants.services.app_profiles import app_profile_verify

    emulated, _, profile = _onboard_fully(client, portal_m365, onboarded)
    portal_m365.emulator.control.revoke_grant(
        emulated.id, app_id=portal_m365.app_id, permission="Reports.Read.All"
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        profile = app_profile_verify(by=Principal.system(), profile=profile)

    assert profile.status == AppProfileStatus.REAUTHORIZATION_REQUIRED
    assert "Reports.Read.All" in profile.status_reason
    missing = PermissionGrant.objects.get(profile=profile, status=GrantStatus.MISSING)
    assert missing.permission == "Reports.Read.All"
    assert PermissionGrant.objects.filter(profile=profile, status=GrantStatus.GRANTED).count() == 11
    assert mailoutbox and "re-authorization required" in mailoutbox[0].subject.lower()


def test_a_password_reset_makes_the_profile_invalid(client, portal_m365, onboarded):
    from tenants.services.app_profiles import app_profile_verify

    emulated, _, profile = _onboard_fully(client, portal_m365, onboarded)
    portal_m365.emulator.control.reset_password(emulated.id, emulated.admin.user_principal_name)
    profile = app_profile_verify(by=Principal.system(), profile=profile)
    assert profile.status == AppProfileStatus.INVALID
    assert emulated.admin.user_principal_name in profile.status_reason


def test_losing_the_global_administrator_role_does_not_invalidate(client, portal_m365, onboarded):
    from tenants.services.app_profiles import app_profile_verify

    emulated, _, profile = _onboard_fully(client, portal_m365, onboarded)
    portal_m365.emulator.control.set_roles(emulated.id, emulated.admin.user_principal_name, [])
    profile = app_profile_verify(by=Principal.system(), profile=profile)
    assert profile.status == AppProfileStatus.ACTIVE
    # Each verification rotates the delegated token; the stored rotated one keeps working.
    first = AppProfile.objects.get(pk=profile.pk).refresh_token
    profile = app_profile_verify(by=Principal.system(), profile=profile)
    assert profile.status == AppProfileStatus.ACTIVE
    assert AppProfile.objects.get(pk=profile.pk).refresh_token != first


def test_a_manifest_update_requires_reauthorization(client, portal_m365, onboarded, monkeypatch):
    import dataclasses
    from datetime import date

    from tenants import manifest as manifest_module
    from tenants.services.app_profiles import app_profile_verify

    emulated, tenant, profile = _onboard_fully(client, portal_m365, onboarded)
    changed = tuple(
        dataclasses.replace(row, last_update=date(2099, 1, 1))
        if row.value == "Reports.Read.All"
        else row
        for row in manifest_module.MANIFEST
    )
    monkeypatch.setattr(manifest_module, "MANIFEST", changed)
    profile = app_profile_verify(by=Principal.system(), profile=profile)
    assert profile.status == AppProfileStatus.REAUTHORIZATION_REQUIRED
    assert "changed after the consent" in profile.status_reason

    # Every grant is still in place, so a Backup Administrator's sign-in renews it.
    done, _ = consent_journey(client, portal_m365, tenant, emulated.backup_admin)
    assert done.status_code == 200, done.content.decode()[:800]
    profile.refresh_from_db()
    assert profile.status == AppProfileStatus.ACTIVE
    assert profile.manifest_version == date(2099, 1, 1)


FIRST_PARTY_ADMIN_CENTER = "0c52cd27-4e43-4a1f-8a8e-55d51bd5b4a4"


def test_hand_over_from_an_existing_controller_then_enablement(
    client, portal_m365, onboarded, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from backups.services.backup_service import backup_service_sync

    emulated, tenant = onboarded()
    portal_m365.emulator.control.set_controller(
        emulated.id, app_id=FIRST_PARTY_ADMIN_CENTER, display_name="Microsoft 365 admin center"
    )
    with django_capture_on_commit_callbacks(execute=True):
        done, _ = consent_journey(client, portal_m365, tenant, emulated.admin)
    assert done.status_code == 200

    service = BackupService.objects.get(tenant=tenant)
    assert service.service_app_status == ServiceAppStatus.PENDING_ACTIVE
    assert service.enabled_at is None  # the MSP is not billed while the old controller rules
    days_ahead = (service.service_app_effective_at - timezone.now()) / timedelta(days=1)
    assert 7 <= days_ahead <= 8

    portal_m365.emulator.control.advance_clock(8 * 86400, emulated.id)
    service = backup_service_sync(by=Principal.system(), tenant=tenant)
    assert service.service_app_status == ServiceAppStatus.ACTIVE
    assert service.status == BackupServiceStatus.ENABLED
    assert service.enabled_at is not None


def test_offboarding_unregisters_and_shows_how_long_the_msp_pays(
    client, portal_m365, onboarded, django_capture_on_commit_callbacks, api, msp_admin
):
    emulated, tenant = onboarded()
    with django_capture_on_commit_callbacks(execute=True):
        consent_journey(client, portal_m365, tenant, emulated.admin)
    service = BackupService.objects.get(tenant=tenant)
    answer = api.as_user(msp_admin).post(f"/api/v1/backup-services/{service.pk}/offboard/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert 36 <= body["billed_days_remaining"] <= 37  # 7-day grace plus up to 30 days
    service.refresh_from_db()
    assert service.grace_period_ends_at and service.billing_ends_at > service.grace_period_ends_at
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.OFFBOARDED
    # Offboarding twice changes nothing.
    again = api.post(f"/api/v1/backup-services/{service.pk}/offboard/")
    assert again.status_code == 200 and again.json()["billing_ends_at"] == body["billing_ends_at"]


def test_no_token_or_secret_is_stored_in_plaintext_anywhere(
    client, portal_m365, active_tenant, settings
):
    """After a whole journey (sign-in, consent, verification, controller registration and
    enablement), no table holds the refresh token, an access token or the client secret."""
    from m365.emulator.testing import refresh as refresh_at_emulator

    emulated, tenant = active_tenant()
    profile = AppProfile.objects.get(tenant=tenant)
    refresh_token = profile.refresh_token
    # An access token minted from it, to look for too (as social-auth would have stored one).
    access_token = refresh_at_emulator(
        portal_m365.emulator,
        emulated.id,
        settings.M365_CLIENT_ID,
        settings.M365_CLIENT_SECRET,
        refresh_token,
    ).json()["access_token"]
    needles = {
        "refresh token": refresh_token,
        "access token": access_token,
        "client secret": settings.M365_CLIENT_SECRET,
    }
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    text = value if isinstance(value, str) else str(value)
                    for name, needle in needles.items():
                        assert needle not in text, f"{name} in plaintext in {table}"
