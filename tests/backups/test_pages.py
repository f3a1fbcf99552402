"""Admin pages (MSP staff) and customer pages of the backups app: they render, their lists
cost the same number of queries however many rows they show, the job progress endpoint
answers, and the restore form respects roles."""

import pytest
from django.urls import reverse
from django.utils import timezone

from backups.choices import JobKind, JobState, ProtectionUnitStatus, ResourceKind
from backups.models import BackupJob, GraphHealth, RestoreSession
from tests.backups.factories import (
    BackupJobFactory,
    ProtectionUnitFactory,
    ResourceFactory,
    RestorePointFactory,
    RestoreSessionFactory,
)
from tests.backups.test_api import protected_unit, ready

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "admin:backups_backupjob_changelist",
    "admin:backups_resource_changelist",
    "admin:backups_resource_coverage",
    "admin:backups_protectionunit_changelist",
    "admin:backups_protectionpolicy_changelist",
    "admin:backups_protectionscope_changelist",
    "admin:backups_restoresession_changelist",
    "admin:backups_restorepoint_changelist",
    "admin:backups_graphhealth_changelist",
]


def grow(tenants, n):
    for tenant in tenants:
        for i in range(n):
            BackupJobFactory(tenant=tenant, kind=JobKind.SCAN_GROUPS)
            unit = protected_unit(tenant)
            ProtectionUnitFactory(
                resource=ResourceFactory(tenant=tenant),
                status=ProtectionUnitStatus.FAILED,
                error_code="ProtectionUnitNotFound",
                protected_at=None,
            )
            RestorePointFactory(unit=unit)
            RestoreSessionFactory(tenant=tenant)
            GraphHealth.objects.get_or_create(
                tenant=tenant,
                day=timezone.now().date() - timezone.timedelta(days=len(tenants) * n + i),
                defaults={"requests": 10, "throttled": 1},
            )


@pytest.mark.parametrize("name", ADMIN_LISTS)
def test_admin_lists_render_with_constant_queries(
    client, msp_operator, tenant_a, tenant_b, name, django_assert_max_num_queries
):
    client.force_login(msp_operator)
    grow([tenant_a, tenant_b], 2)
    url = reverse(name)
    with django_assert_max_num_queries(40) as few:
        assert client.get(url).status_code == 200
    grow([tenant_a, tenant_b], 8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200


def test_the_job_list_polls_progress_and_staff_can_start_cancel_and_retry(
    client, msp_operator, tenant_a
):
    ready(tenant_a)
    running = BackupJobFactory(
        tenant=tenant_a,
        kind=JobKind.SCAN_SITES,
        state=JobState.RUNNING,
        finished_at=None,
        progress_done=40,
        progress_total=100,
        phase="Reading sites",
    )
    client.force_login(msp_operator)
    page = client.get(reverse("admin:backups_backupjob_changelist"))
    body = page.content.decode()
    assert f'data-job-state="{running.pk}"' in body and "jobProgressUrl" in body
    answer = client.get(
        reverse("admin:backups_backupjob_progress"), {"ids": f"{running.pk},x"}
    ).json()
    assert answer["jobs"] == [
        {
            "id": running.pk,
            "state": "running",
            "state_display": "Running",
            "active": True,
            "done": 40,
            "total": 100,
            "percent": 40,
            "phase": "Reading sites",
            "attempts": 1,
            "error": "",
        }
    ]
    started = client.post(
        reverse("admin:backups_backupjob_start"),
        {"tenant": tenant_a.pk, "kind": "scan_groups", "idempotency_key": "k1"},
    )
    assert started.status_code == 302
    job = BackupJob.objects.get(tenant=tenant_a, kind=JobKind.SCAN_GROUPS)
    client.post(
        reverse("admin:backups_backupjob_changelist"),
        {"action": "cancel_selected", "_selected_action": [job.pk]},
    )
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    client.post(
        reverse("admin:backups_backupjob_changelist"),
        {"action": "retry_selected", "_selected_action": [job.pk]},
    )
    assert BackupJob.objects.filter(retry_of=job).exists()
    detail = client.get(reverse("admin:backups_backupjob_change", args=[job.pk]))
    assert "Cancel requested by" in detail.content.decode()


def test_billing_staff_read_jobs_but_do_not_start_them(client, msp_billing):
    client.force_login(msp_billing)
    assert client.get(reverse("admin:backups_backupjob_changelist")).status_code == 200
    assert client.get(reverse("admin:backups_backupjob_start")).status_code == 403


def test_coverage_page_links_to_the_unprotected(client, msp_operator, tenant_a):
    protected_unit(tenant_a)
    ResourceFactory(tenant=tenant_a, kind=ResourceKind.SITE, workload="sharepoint")
    client.force_login(msp_operator)
    body = client.get(reverse("admin:backups_resource_coverage")).content.decode()
    assert "Alpha Corp" in body and "protection=unprotected" in body
    unprotected = client.get(
        reverse("admin:backups_resource_changelist") + "?protection=unprotected"
    )
    assert unprotected.status_code == 200


# --- customer pages -----------------------------------------------------------------------


def test_the_status_page_shows_coverage_and_refused_units(client, customer_a, tenant_a, tenant_b):
    protected_unit(tenant_a)
    ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant_a, display_name="Lost Mailbox"),
        status=ProtectionUnitStatus.FAILED,
        error_code="ProtectionUnitNotFound",
        protected_at=None,
    )
    protected_unit(tenant_b)
    client.force_login(customer_a)
    body = client.get(reverse("customer:backups", kwargs={"slug": tenant_a.slug})).content.decode()
    assert "50 %" in body
    assert "Lost Mailbox" in body and "ProtectionUnitNotFound" in body
    assert reverse("customer:restores", kwargs={"slug": tenant_a.slug}) in body  # navigation


def test_viewers_read_the_restore_form_and_admins_request_restores(
    client, customer_a, viewer_a, tenant_a
):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    url = reverse("customer:restore_new", kwargs={"slug": tenant_a.slug})
    client.force_login(viewer_a)
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="read-only"' in page.content.decode()
    assert (
        client.post(
            url,
            {
                "units": [unit.pk],
                "when": "latest",
                "destination_type": "in_place",
                "workload": "exchange",
            },
        ).status_code
        == 403
    )

    client.force_login(customer_a)
    assert str(unit.resource) in client.get(url).content.decode()
    answer = client.post(
        url,
        {"units": [unit.pk], "when": "latest", "destination_type": "new", "workload": "exchange"},
    )
    session = RestoreSession.objects.get(tenant=tenant_a)
    assert answer.status_code == 302
    assert answer["Location"] == reverse(
        "customer:restore", kwargs={"slug": tenant_a.slug, "pk": session.pk}
    )
    assert session.destination_type == "new"
    detail = client.get(answer["Location"]).content.decode()
    assert str(unit.resource) in detail
    progress = client.get(
        reverse("customer:restores_progress", kwargs={"slug": tenant_a.slug}),
        {"ids": str(session.pk)},
    ).json()
    assert progress["jobs"][0]["total"] == 1


def test_restore_form_errors_name_the_field(client, customer_a, tenant_a):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    client.force_login(customer_a)
    url = reverse("customer:restore_new", kwargs={"slug": tenant_a.slug})
    old = (timezone.now() - timezone.timedelta(days=500)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        url,
        {
            "units": [unit.pk],
            "when": "point_in_time",
            "point_in_time": old,
            "destination_type": "in_place",
            "workload": "exchange",
        },
    )
    assert answer.status_code == 200
    assert "outside retention" in answer.content.decode()
    assert not RestoreSession.objects.exists()
