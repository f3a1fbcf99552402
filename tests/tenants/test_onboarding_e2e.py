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
from tenants.services.onboarding import consent_request_create, tenant_onboard
from tests.fixtures.portal_m365 import path_of

pytestmark = pytest.mark.django_db


def journey(client, portal_m365, tenant, user, *, sign_in="accept", consent="accept"):
    """Follow a consent link through Microsoft and back; returns the final portal answer."""
    link = consent_request_create(by=Principal.system(), tenant=tenant)
    start = client.get(path_of(link.url))
    assert start.status_code == 200
    to_microsoft = client.post(path_of(link.url))
    assert to_microsoft.status_code == 302, to_microsoft.content[:500]
    signed_in = portal_m365.on_pages(to_microsoft["Location"], user, sign_in)
    assert signed_in.location, signed_in.html[:1500]
    after_sign_in = client.get(path_of(signed_in.location))
    assert after_sign_in.status_code == 302
    location = after_sign_in["Location"]
    if "adminconsent" in location:
        consented = portal_m365.on_pages(location, user, consent)
        assert consented.location, consented.html[:1500]
        location = path_of(consented.location)
    return client.get(location, follow=True), link.request


@pytest.fixture
def onboarded(portal_m365, emulated_tenant):
    def make(**options):
        emulated = emulated_tenant(**options)
        tenant = tenant_onboard(by=Principal.system(), name="Contoso", domain=emulated.domain)
        return emulated, tenant

    return make


def test_onboarding_from_a_domain_through_consent_to_an_enabled_service(
    client, portal_m365, onboarded, django_capture_on_commit_callbacks
):
    emulated, tenant = onboarded()
    assert str(tenant.entra_tenant_id) == emulated.id
    assert tenant.status == TenantStatus.ONBOARDING

    with django_capture_on_commit_callbacks(execute=True):
        done, request = journey(client, portal_m365, tenant, emulated.admin)

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
    done, request = journey(client, portal_m365, tenant, emulated.admin, consent="cancel")
    assert done.status_code == 400
    assert "declined" in done.content.decode()
    request.refresh_from_db()
    assert request.failure == ConsentFailure.DENIED
    assert AppProfile.objects.get(tenant=tenant).status == AppProfileStatus.PENDING_CONSENT
    assert not BackupService.objects.filter(tenant=tenant).exists()


def test_sign_in_from_another_tenant_is_refused(client, portal_m365, onboarded, emulated_tenant):
    _, tenant = onboarded()
    stranger = emulated_tenant()
    done, request = journey(client, portal_m365, tenant, stranger.admin)
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
    done, request = journey(client, portal_m365, tenant, emulated.admin)
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
