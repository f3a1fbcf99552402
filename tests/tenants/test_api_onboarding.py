import pytest
from django.utils import timezone

from tenants.choices import AppProfileStatus
from tenants.models import AppProfile, ConsentRequest, Tenant
from tests.backups.factories import BackupServiceFactory

pytestmark = pytest.mark.django_db


def test_onboard_from_a_domain_resolves_the_entra_tenant(
    api, msp_operator, portal_m365, emulated_tenant
):
    emulated = emulated_tenant()
    answer = api.as_user(msp_operator).post(
        "/api/v1/tenants/onboard/",
        {"name": "Woodgrove", "domain": emulated.domain.upper()},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    tenant = Tenant.objects.get(pk=answer.json()["id"])
    assert str(tenant.entra_tenant_id) == emulated.id
    assert tenant.primary_domain == emulated.domain
    assert AppProfile.objects.get(tenant=tenant).status == AppProfileStatus.PENDING_CONSENT


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("nobody-knows-this.example", "No Microsoft 365 tenant has verified the domain"),
        ("not a domain", "Enter a domain"),
        ("", "This field may not be blank."),
    ],
)
def test_onboard_refuses_unknown_or_malformed_domains(api, msp_admin, portal_m365, domain, message):
    answer = api.as_user(msp_admin).post(
        "/api/v1/tenants/onboard/", {"name": "X", "domain": domain}, format="json"
    )
    assert answer.status_code == 400
    assert message in answer.json()["errors"]["domain"][0]
    assert not Tenant.objects.exists()


def test_onboarding_the_same_tenant_twice_is_refused(api, msp_admin, portal_m365, emulated_tenant):
    emulated = emulated_tenant()
    client = api.as_user(msp_admin)
    body = {"name": "Once", "domain": emulated.domain}
    assert client.post("/api/v1/tenants/onboard/", body, format="json").status_code == 201
    again = client.post("/api/v1/tenants/onboard/", {**body, "slug": "twice"}, format="json")
    assert again.status_code == 409
    assert "already exists" in again.json()["errors"]["entra_tenant_id"][0]


def test_staff_create_a_consent_link_shown_once_and_emailed(api, msp_admin, tenant_a, mailoutbox):
    profile = AppProfile.objects.create(tenant=tenant_a)
    answer = api.as_user(msp_admin).post(
        f"/api/v1/app-profiles/{profile.pk}/consent-links/",
        {"sent_to": "it@alpha.example", "valid_hours": 48},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["purpose"] == "create" and "/consent/" in body["url"]
    token = body["url"].rstrip("/").rsplit("/", 1)[1]
    request = ConsentRequest.objects.get(pk=body["id"])
    assert token not in request.link_token_hash  # only its hash is stored
    listed = api.get("/api/v1/consent-requests/").content.decode()
    assert token not in listed


@pytest.mark.parametrize("hours", [0, 721, "soon"])
def test_consent_link_validity_must_be_sensible(api, msp_admin, tenant_a, hours):
    profile = AppProfile.objects.create(tenant=tenant_a)
    answer = api.as_user(msp_admin).post(
        f"/api/v1/app-profiles/{profile.pk}/consent-links/", {"valid_hours": hours}, format="json"
    )
    assert answer.status_code == 400 and "valid_hours" in answer.json()["errors"]


def test_customer_admin_starts_a_reauthorization_of_its_own_tenant_only(
    api, customer_a, viewer_a, tenant_a, tenant_b
):
    mine = AppProfile.objects.create(
        tenant=tenant_a, status=AppProfileStatus.INVALID, consented_at=timezone.now()
    )
    theirs = AppProfile.objects.create(tenant=tenant_b, consented_at=timezone.now())
    client = api.as_user(customer_a)
    answer = client.post(f"/api/v1/app-profiles/{mine.pk}/reauthorize/", {}, format="json")
    assert answer.status_code == 201 and answer.json()["purpose"] == "reauthorize"
    assert (
        client.post(f"/api/v1/app-profiles/{theirs.pk}/reauthorize/", {}, format="json").status_code
        == 404
    )
    assert (
        client.post(f"/api/v1/app-profiles/{mine.pk}/consent-links/", {}, format="json").status_code
        == 403
    )
    viewer = api.as_user(viewer_a).post(
        f"/api/v1/app-profiles/{mine.pk}/reauthorize/", {}, format="json"
    )
    assert viewer.status_code == 403


def test_reauthorizing_a_profile_never_authorized_is_a_400(api, msp_admin, tenant_a):
    profile = AppProfile.objects.create(tenant=tenant_a)
    answer = api.as_user(msp_admin).post(
        f"/api/v1/app-profiles/{profile.pk}/reauthorize/", {}, format="json"
    )
    assert answer.status_code == 400 and "never authorized" in answer.json()["message"]


def test_verify_is_accepted_for_later(api, msp_operator, tenant_a):
    profile = AppProfile.objects.create(tenant=tenant_a, status=AppProfileStatus.ACTIVE)
    assert (
        api.as_user(msp_operator).post(f"/api/v1/app-profiles/{profile.pk}/verify/").status_code
        == 202
    )


def test_enabling_the_service_needs_an_active_profile(api, msp_admin, tenant_a):
    service = BackupServiceFactory(tenant=tenant_a)
    AppProfile.objects.create(tenant=tenant_a, status=AppProfileStatus.INVALID)
    answer = api.as_user(msp_admin).post(f"/api/v1/backup-services/{service.pk}/enable/")
    assert answer.status_code == 409
    assert answer.json()["code"] == "app_profile_not_active"
    assert "invalid" in answer.json()["message"]


def test_profiles_needing_attention(api, msp_admin, tenant_a, tenant_b):
    AppProfile.objects.create(tenant=tenant_a, status=AppProfileStatus.ACTIVE)
    AppProfile.objects.create(tenant=tenant_b, status=AppProfileStatus.REVOKED)
    rows = (
        api.as_user(msp_admin)
        .get("/api/v1/app-profiles/", {"needs_attention": "true"})
        .json()["results"]
    )
    assert [row["tenant_slug"] for row in rows] == ["bravo"]
