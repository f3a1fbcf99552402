"""The backups API without Microsoft: starts with idempotency keys, one active job per kind,
cancel and retry, restore requests refused with the field to blame, scopes, Graph health,
who may do what, and list query counts that do not grow with the data."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.choices import (
    BackupServiceStatus,
    JobKind,
    JobState,
    ProtectionUnitStatus,
    ResourceKind,
    ServiceAppStatus,
    Workload,
)
from backups.models import BackupJob, ProtectionScope, RestoreSession
from tenants.choices import AppProfileStatus
from tenants.models import AppProfile
from tests.backups.factories import (
    BackupJobFactory,
    BackupServiceFactory,
    ProtectionUnitFactory,
    ResourceFactory,
    RestorePointFactory,
)

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/backup-jobs/"
RESTORES = "/api/v1/restores/"


def ready(tenant, *, profile=AppProfileStatus.ACTIVE, service=True):
    AppProfile.objects.update_or_create(tenant=tenant, defaults={"status": profile})
    if service:
        BackupServiceFactory(
            tenant=tenant,
            status=BackupServiceStatus.ENABLED,
            service_app_status=ServiceAppStatus.ACTIVE,
            service_app_id="app",
            enabled_at=timezone.now(),
        )
    return tenant


def protected_unit(tenant, workload=Workload.EXCHANGE, **kwargs):
    kind = {
        Workload.EXCHANGE: ResourceKind.USER_MAILBOX,
        Workload.ONEDRIVE: ResourceKind.ONEDRIVE,
        Workload.SHAREPOINT: ResourceKind.SITE,
    }[workload]
    return ProtectionUnitFactory(
        resource=ResourceFactory(tenant=tenant, kind=kind),
        graph_id=f"unit-{kind}-{ResourceFactory._meta.model.objects.count()}",
        **kwargs,
    )


# --- jobs ---------------------------------------------------------------------------------


def test_a_second_start_with_the_same_idempotency_key_returns_the_first_job(
    api, msp_operator, tenant_a
):
    ready(tenant_a)
    client = api.as_user(msp_operator)
    first = client.post(
        JOBS,
        {"tenant": tenant_a.pk, "kind": "scan_inventory"},
        HTTP_IDEMPOTENCY_KEY="nightly-2026-11-30",
    )
    assert first.status_code == 201, first.json()
    again = client.post(
        JOBS,
        {"tenant": tenant_a.pk, "kind": "scan_inventory"},
        HTTP_IDEMPOTENCY_KEY="nightly-2026-11-30",
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert BackupJob.objects.filter(tenant=tenant_a).count() == 1
    # The key in the body works the same way.
    body = client.post(
        JOBS,
        {"tenant": tenant_a.pk, "kind": "scan_inventory", "idempotency_key": "nightly-2026-11-30"},
    )
    assert body.status_code == 200 and body.json()["id"] == first.json()["id"]
    # Reused for something else: a conflict naming the field.
    other = client.post(
        JOBS,
        {"tenant": tenant_a.pk, "kind": "collect_sizes"},
        HTTP_IDEMPOTENCY_KEY="nightly-2026-11-30",
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert "idempotency_key" in other.json()["errors"]


def test_one_active_job_of_a_kind_per_tenant(api, msp_operator, tenant_a, tenant_b):
    ready(tenant_a)
    ready(tenant_b)
    client = api.as_user(msp_operator)
    assert client.post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_sites"}).status_code == 201
    second = client.post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_sites"})
    assert second.status_code == 409
    assert second.json()["code"] == "job_already_active"
    # Another kind, or another tenant, may run meanwhile.
    assert client.post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_groups"}).status_code == 201
    assert client.post(JOBS, {"tenant": tenant_b.pk, "kind": "scan_sites"}).status_code == 201


def test_a_tenant_whose_app_profile_is_not_active_cannot_start_a_job(api, msp_operator, tenant_a):
    ready(tenant_a, profile=AppProfileStatus.INVALID)
    answer = api.as_user(msp_operator).post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_inventory"})
    assert answer.status_code == 409
    assert answer.json()["code"] == "app_profile_not_active"
    assert "invalid" in answer.json()["message"]


def test_protection_needs_the_backup_service(api, msp_operator, tenant_a):
    ready(tenant_a, service=False)
    answer = api.as_user(msp_operator).post(JOBS, {"tenant": tenant_a.pk, "kind": "apply_scope"})
    assert answer.status_code == 409
    assert answer.json()["code"] == "backup_service_not_ready"


def test_restore_jobs_are_not_started_directly(api, msp_operator, tenant_a):
    ready(tenant_a)
    answer = api.as_user(msp_operator).post(JOBS, {"tenant": tenant_a.pk, "kind": "restore"})
    assert answer.status_code == 400
    assert "kind" in answer.json()["errors"]


def test_cancel_and_retry(api, msp_operator, tenant_a):
    ready(tenant_a)
    client = api.as_user(msp_operator)
    job_id = client.post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_groups"}).json()["id"]
    cancelled = client.post(f"{JOBS}{job_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert client.post(f"{JOBS}{job_id}/cancel/").json()["code"] == "invalid_transition"
    retried = client.post(f"{JOBS}{job_id}/retry/", {})
    assert retried.status_code == 201
    assert retried.json()["retry_of"] == job_id
    assert retried.json()["state"] == "queued"
    assert client.post(f"{JOBS}{retried.json()['id']}/retry/", {}).status_code == 409


def test_a_running_job_is_asked_to_stop(api, msp_operator, tenant_a):
    ready(tenant_a)
    job = BackupJobFactory(
        tenant=tenant_a,
        state=JobState.RUNNING,
        finished_at=None,
        lease_token="someone",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )
    answer = api.as_user(msp_operator).post(f"{JOBS}{job.pk}/cancel/")
    assert answer.status_code == 200
    assert answer.json()["state"] == "running"
    assert answer.json()["cancel_requested_at"] is not None


def test_customers_read_their_jobs_but_do_not_start_them(api, customer_a, tenant_a):
    ready(tenant_a)
    BackupJobFactory(tenant=tenant_a)
    client = api.as_user(customer_a)
    assert client.get(JOBS).status_code == 200
    assert client.post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_inventory"}).status_code == 403


def test_billing_staff_read_but_do_not_start(api, msp_billing, tenant_a):
    ready(tenant_a)
    client = api.as_user(msp_billing)
    assert client.get(JOBS).status_code == 200
    assert client.post(JOBS, {"tenant": tenant_a.pk, "kind": "scan_inventory"}).status_code == 403


# --- restores: bad input ------------------------------------------------------------------


def test_mixed_destination_types_are_refused(api, customer_a, tenant_a):
    ready(tenant_a)
    one, two = protected_unit(tenant_a), protected_unit(tenant_a)
    answer = api.as_user(customer_a).post(
        RESTORES,
        {
            "tenant": tenant_a.pk,
            "artifacts": [
                {"unit": one.pk, "destination_type": "in_place"},
                {"unit": two.pk, "destination_type": "new"},
            ],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_restore"
    assert "destination type" in answer.json()["errors"]["artifacts"][0]
    assert not RestoreSession.objects.exists()


def test_units_of_another_tenant_are_unknown(api, customer_a, tenant_a, tenant_b):
    ready(tenant_a)
    theirs = protected_unit(tenant_b)
    answer = api.as_user(customer_a).post(
        RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": theirs.pk}]}
    )
    assert answer.status_code == 400
    assert "artifacts" in answer.json()["errors"]
    assert "does not exist" in answer.json()["message"]
    missing = api.post(RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": 999999}]})
    assert missing.status_code == 400 and "artifacts" in missing.json()["errors"]


def test_a_point_in_time_outside_retention_is_refused(api, customer_a, tenant_a):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    old = timezone.now() - timedelta(days=400)
    answer = api.as_user(customer_a).post(
        RESTORES,
        {"tenant": tenant_a.pk, "point_in_time": old.isoformat(), "artifacts": [{"unit": unit.pk}]},
    )
    assert answer.status_code == 400
    assert "outside retention" in answer.json()["errors"]["point_in_time"][0]
    future = api.post(
        RESTORES,
        {
            "tenant": tenant_a.pk,
            "point_in_time": (timezone.now() + timedelta(days=1)).isoformat(),
            "artifacts": [{"unit": unit.pk}],
        },
    )
    assert future.status_code == 400 and "point_in_time" in future.json()["errors"]


def test_an_expired_restore_point_is_refused(api, customer_a, tenant_a):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    point = RestorePointFactory(
        unit=unit,
        protected_at=timezone.now() - timedelta(days=20),
        expires_at=timezone.now() - timedelta(days=6),
    )
    answer = api.as_user(customer_a).post(
        RESTORES,
        {"tenant": tenant_a.pk, "artifacts": [{"unit": unit.pk, "restore_point": point.pk}]},
    )
    assert answer.status_code == 400
    assert "outside retention" in answer.json()["errors"]["artifacts[0].restore_point"][0]


def test_another_units_restore_point_and_mixed_workloads_are_refused(api, customer_a, tenant_a):
    ready(tenant_a)
    mailbox, other = protected_unit(tenant_a), protected_unit(tenant_a)
    site = protected_unit(tenant_a, Workload.SHAREPOINT)
    point = RestorePointFactory(unit=other)
    client = api.as_user(customer_a)
    wrong = client.post(
        RESTORES,
        {"tenant": tenant_a.pk, "artifacts": [{"unit": mailbox.pk, "restore_point": point.pk}]},
    )
    assert wrong.status_code == 400 and "artifacts[0].restore_point" in wrong.json()["errors"]
    mixed = client.post(
        RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": mailbox.pk}, {"unit": site.pk}]}
    )
    assert mixed.status_code == 400 and "one workload" in mixed.json()["errors"]["artifacts"][0]
    empty = client.post(RESTORES, {"tenant": tenant_a.pk, "artifacts": []})
    assert empty.status_code == 400 and "artifacts" in empty.json()["errors"]


def test_units_never_protected_are_refused(api, customer_a, tenant_a):
    ready(tenant_a)
    pending = protected_unit(
        tenant_a, status=ProtectionUnitStatus.PROTECT_REQUESTED, protected_at=None
    )
    answer = api.as_user(customer_a).post(
        RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": pending.pk}]}
    )
    assert answer.status_code == 400
    assert "never been protected" in answer.json()["errors"]["artifacts"][0]


def test_restores_need_an_active_app_profile(api, customer_a, tenant_a):
    ready(tenant_a, profile=AppProfileStatus.REAUTHORIZATION_REQUIRED)
    unit = protected_unit(tenant_a)
    answer = api.as_user(customer_a).post(
        RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": unit.pk}]}
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "app_profile_not_active"


def test_unknown_fields_are_errors(api, customer_a, tenant_a):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    answer = api.as_user(customer_a).post(
        RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": unit.pk}], "destination": "new"}
    )
    assert answer.status_code == 400 and "destination" in answer.json()["errors"]


def test_a_restore_is_queued_once_per_idempotency_key(api, customer_a, viewer_a, tenant_a):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    client = api.as_user(customer_a)
    body = {"tenant": tenant_a.pk, "destination_type": "new", "artifacts": [{"unit": unit.pk}]}
    first = client.post(RESTORES, body, HTTP_IDEMPOTENCY_KEY="ticket-4711")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "queued"
    assert first.json()["artifacts"][0]["status"] == "pending"
    again = client.post(RESTORES, body, HTTP_IDEMPOTENCY_KEY="ticket-4711")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    job = BackupJob.objects.get(tenant=tenant_a, kind=JobKind.RESTORE)
    assert first.json()["job"] == job.pk
    # A second request joins the same restore job.
    second = client.post(RESTORES, body)
    assert second.json()["job"] == job.pk
    # Viewers read restores but may not request one.
    viewer = api.as_user(viewer_a)
    assert viewer.get(RESTORES).status_code == 200
    assert viewer.post(RESTORES, body).status_code == 403


def test_a_queued_restore_can_be_cancelled(api, customer_a, tenant_a):
    ready(tenant_a)
    unit = protected_unit(tenant_a)
    client = api.as_user(customer_a)
    created = client.post(
        RESTORES, {"tenant": tenant_a.pk, "artifacts": [{"unit": unit.pk}]}
    ).json()
    answer = client.post(f"{RESTORES}{created['id']}/cancel/")
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["artifacts"][0]["status"] == "cancelled"
    assert client.post(f"{RESTORES}{created['id']}/cancel/").status_code == 409


# --- scopes, coverage, Graph health -------------------------------------------------------


def test_scopes_are_set_through_the_api(api, msp_operator, tenant_a):
    ready(tenant_a)
    group = ResourceFactory(tenant=tenant_a, kind=ResourceKind.TEAM, external_id="g-1")
    mailbox = ResourceFactory(tenant=tenant_a)
    client = api.as_user(msp_operator)
    created = client.post(
        "/api/v1/protection-scopes/",
        {
            "tenant": tenant_a.pk,
            "workload": "exchange",
            "mode": "rules",
            "group_ids": ["g-1"],
            "url_patterns": ["*@sales.example"],
            "exclude": [mailbox.pk],
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["exclude"] == [mailbox.pk]
    scope_id = created.json()["id"]
    assert (
        client.post(
            "/api/v1/protection-scopes/", {"tenant": tenant_a.pk, "workload": "exchange"}
        ).status_code
        == 400
    )
    changed = client.patch(f"/api/v1/protection-scopes/{scope_id}/", {"mode": "all", "exclude": []})
    assert (
        changed.status_code == 200
        and changed.json()["mode"] == "all"
        and changed.json()["exclude"] == []
    )
    bad = client.patch(f"/api/v1/protection-scopes/{scope_id}/", {"url_patterns": ["*"]})
    assert bad.status_code == 400 and "url_patterns" in bad.json()["errors"]
    unknown = client.patch(f"/api/v1/protection-scopes/{scope_id}/", {"group_ids": ["nope"]})
    assert unknown.status_code == 400 and "group_ids" in unknown.json()["errors"]
    assert group.pk
    applied = client.post(
        f"/api/v1/protection-scopes/{scope_id}/apply/", HTTP_IDEMPOTENCY_KEY="apply-1"
    )
    assert applied.status_code == 201 and applied.json()["kind"] == "apply_scope"
    assert (
        client.post(
            f"/api/v1/protection-scopes/{scope_id}/apply/", HTTP_IDEMPOTENCY_KEY="apply-1"
        ).status_code
        == 200
    )
    assert ProtectionScope.objects.get(pk=scope_id).mode == "all"


def test_coverage_and_the_unprotected(api, msp_operator, customer_a, tenant_a, tenant_b):
    protected_unit(tenant_a)
    lonely = ResourceFactory(tenant=tenant_a)
    protected_unit(tenant_b)
    client = api.as_user(msp_operator)
    rows = client.get("/api/v1/resources/coverage/", {"tenant": tenant_a.pk}).json()
    assert rows == [
        {
            "tenant": tenant_a.pk,
            "workload": "exchange",
            "discovered": 2,
            "protected": 1,
            "pending": 0,
            "failed": 0,
            "unprotected": 1,
            "percent": 50,
        }
    ]
    unprotected = client.get(
        "/api/v1/resources/", {"tenant": tenant_a.pk, "protected": "false"}
    ).json()
    assert [r["id"] for r in unprotected["results"]] == [lonely.pk]
    own = api.as_user(customer_a).get("/api/v1/resources/coverage/").json()
    assert {r["tenant"] for r in own} == {tenant_a.pk}


def test_graph_health_is_for_msp_staff(api, msp_operator, customer_a, tenant_a):
    from backups.models import GraphHealth

    GraphHealth.objects.create(
        tenant=tenant_a,
        day=timezone.now().date(),
        requests=200,
        throttled=30,
        errors=2,
        waited_seconds=12.5,
    )
    rows = (
        api.as_user(msp_operator)
        .get("/api/v1/graph-health/", {"throttled": "true"})
        .json()["results"]
    )
    assert rows[0]["throttled_percent"] == 15.0
    assert api.as_user(customer_a).get("/api/v1/graph-health/").status_code == 403


# --- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "rows"),
    [
        ("/api/v1/backup-jobs/", 24),
        ("/api/v1/resources/", 24),
        ("/api/v1/protection-units/", 24),
        ("/api/v1/restores/", 24),
        ("/api/v1/restore-points/", 24),
        ("/api/v1/protection-policies/", 2),
    ],
)
def test_list_queries_do_not_grow_with_the_data(
    api, msp_operator, tenant_a, tenant_b, url, rows, django_assert_max_num_queries
):
    def grow(n):
        for tenant in (tenant_a, tenant_b):
            for _ in range(n):
                BackupJobFactory(tenant=tenant, kind=JobKind.SCAN_GROUPS, state=JobState.SUCCEEDED)
                unit = protected_unit(tenant)
                RestorePointFactory(unit=unit)
                from tests.backups.factories import RestoreSessionFactory

                RestoreSessionFactory(tenant=tenant)

    client = api.as_user(msp_operator)
    grow(2)
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    grow(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        answer = client.get(url)
    assert answer.status_code == 200
    assert len(answer.json()["results"]) >= rows
