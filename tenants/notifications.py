"""E-mails about app profiles, sent after the change they report has committed."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from tenants.choices import AppProfileStatus, MembershipRole, StaffRole
from tenants.models import AppProfile, Membership

logger = logging.getLogger(__name__)


def msp_recipients() -> list[str]:
    """MSP staff who run tenants (admins and operators) plus MSP_NOTIFICATION_EMAILS."""
    User = get_user_model()
    staff = User.objects.filter(
        is_active=True,
        is_staff=True,
        groups__name__in=[StaffRole.MSP_ADMIN.label, StaffRole.OPERATOR.label],
    ).exclude(email="")
    return sorted({*settings.MSP_NOTIFICATION_EMAILS, *staff.values_list("email", flat=True)})


def customer_admin_recipients(tenant_id: int) -> list[str]:
    return sorted(
        set(
            Membership.objects.filter(
                tenant_id=tenant_id, role=MembershipRole.CUSTOMER_ADMIN, user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def app_profile_status_changed(profile_id: int, previous: str) -> None:
    profile = AppProfile.objects.select_related("tenant").get(pk=profile_id)
    tenant = profile.tenant
    status = profile.get_status_display()
    was = AppProfileStatus(previous).label
    base = settings.PORTAL_BASE_URL.rstrip("/")
    customer_page = base + reverse("customer:authorization", kwargs={"slug": tenant.slug})
    admin_page = base + reverse("admin:tenants_appprofile_change", args=[profile.pk])
    action = (
        "No action is needed."
        if profile.status == AppProfileStatus.ACTIVE
        else "An administrator of the Microsoft 365 tenant must authorize the app again."
    )
    body = (
        f"The Cloud Backup Express app profile of {tenant.name} ({tenant.primary_domain}) "
        f"changed from {was} to {status}.\n\n"
        f"{profile.status_reason or ''}\n\n{action}\n\n"
    )
    subject = f"[Cloud Backup Express] {tenant.name}: app profile {status.lower()}"
    for recipients, link in (
        (msp_recipients(), admin_page),
        (customer_admin_recipients(tenant.pk), customer_page),
    ):
        if recipients:
            send_mail(subject, body + f"Details: {link}\n", None, recipients)
    logger.info(
        "app profile %s of tenant %s: %s -> %s", profile.pk, tenant.pk, previous, profile.status
    )


def consent_link_send(*, tenant_name: str, url: str, to: str, expires_at) -> None:
    send_mail(
        f"Authorize Cloud Backup Express for {tenant_name}",
        (
            f"Your service provider asks you to authorize the Cloud Backup Express app for "
            f"{tenant_name}, so that it can back up your Microsoft 365 data.\n\n"
            f"Open this link and sign in with a Microsoft 365 administrator account:\n{url}\n\n"
            f"The page lists every permission the app needs and why. The link works once and "
            f"expires on {expires_at:%d %B %Y at %H:%M} UTC.\n"
        ),
        None,
        [to],
    )
