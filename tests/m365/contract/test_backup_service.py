"""Backup Storage switch and controller apps against the emulator (reference 2.1 and 3)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from m365.backup import service
from m365.backup.enums import (
    BackupServiceConsumer,
    BackupServiceStatus,
    DisableReason,
    ServiceAppStatus,
)
from m365.errors import ErrorCode, GraphBadRequest, GraphForbidden


def tenant_now(control, tenant) -> datetime:
    return control.now(tenant.id)


def test_controller_lifecycle(graph, delegated_graph, settings):
    assert service.get_service_status(graph).status is BackupServiceStatus.DISABLED
    created = service.create_service_app(graph)
    assert created.status is ServiceAppStatus.INACTIVE
    assert created.registered_at is not None
    assert created.application_id == settings.client_id
    assert service.get_service_app(graph, created.id) == created
    assert [a.id for a in service.iter_service_apps(graph)] == [created.id]
    assert service.find_service_app(graph, application_id=settings.client_id) == created

    # activate is delegated-only
    with pytest.raises(GraphForbidden):
        service.activate_service_app(graph, created.id)
    active = service.activate_service_app(delegated_graph, created.id)
    assert active.status is ServiceAppStatus.ACTIVE
    with pytest.raises(GraphForbidden):  # deactivating the active controller is refused
        service.deactivate_service_app(delegated_graph, created.id)

    status = service.enable_backup_service(graph, app_owner_tenant_id=settings.msp_tenant_id)
    assert status.status is BackupServiceStatus.ENABLED
    assert status.consumer is BackupServiceConsumer.THIRD_PARTY
    again = service.enable_backup_service(graph, app_owner_tenant_id=settings.msp_tenant_id)
    assert again.status is BackupServiceStatus.ENABLED  # idempotent
    assert service.get_service_status(graph).status is BackupServiceStatus.ENABLED


def test_enable_with_a_wrong_owner_tenant(graph, delegated_graph):
    app = service.create_service_app(graph)
    service.activate_service_app(delegated_graph, app.id)
    with pytest.raises(GraphBadRequest) as caught:
        service.enable_backup_service(graph, app_owner_tenant_id="not-a-guid")
    assert caught.value.has_code(ErrorCode.INVALID_APP_OWNER_TENANT_ID)


def test_inactive_app_deactivate_is_a_no_op_and_delete_unregisters(graph, delegated_graph):
    app = service.create_service_app(graph)
    assert (
        service.deactivate_service_app(delegated_graph, app.id).status is ServiceAppStatus.INACTIVE
    )
    service.delete_service_app(graph, app.id)
    assert list(service.iter_service_apps(graph)) == []


def test_hand_over_from_another_controller(control, graph, delegated_graph, tenant):
    control.set_controller(
        tenant.id,
        app_id="0a0b0c0d-0000-0000-0000-000000000001",
        display_name="Microsoft 365 admin center",
    )
    assert service.get_service_status(graph).status is BackupServiceStatus.ENABLED
    app = service.create_service_app(graph)
    with pytest.raises((GraphBadRequest, GraphForbidden)):  # a date 7-30 days ahead is needed
        service.activate_service_app(delegated_graph, app.id)
    when = tenant_now(control, tenant) + timedelta(days=8)
    pending = service.activate_service_app(delegated_graph, app.id, effective_at=when)
    assert pending.status is ServiceAppStatus.PENDING_ACTIVE
    assert abs((pending.effective_at - when).total_seconds()) < 1
    with pytest.raises(GraphForbidden):  # another change is already pending
        service.activate_service_app(delegated_graph, app.id, effective_at=when)
    control.advance_clock(9 * 86400, tenant.id)
    assert service.get_service_app(graph, app.id).status is ServiceAppStatus.ACTIVE


def test_deleting_the_active_controller_starts_the_grace_period(
    control, graph, delegated_graph, settings, tenant
):
    app = service.create_service_app(graph)
    service.activate_service_app(delegated_graph, app.id)
    service.enable_backup_service(graph, app_owner_tenant_id=settings.msp_tenant_id)
    deleted_at = tenant_now(control, tenant)
    service.delete_service_app(graph, app.id)
    status = service.get_service_status(graph)
    assert status.grace_period_until is not None
    assert status.grace_period_until - deleted_at == pytest.approx(
        timedelta(days=7), abs=timedelta(minutes=1)
    )
    control.advance_clock(8 * 86400, tenant.id)
    later = service.get_service_status(graph)
    assert later.status is not BackupServiceStatus.ENABLED
    assert later.disable_reason == DisableReason.CONTROLLER_SERVICE_APP_DELETED
    # Billing may go on 30 days after the 7-day grace: 37 days from the deletion.
    assert later.restore_allowed_until - deleted_at == pytest.approx(
        timedelta(days=37), abs=timedelta(minutes=1)
    )
