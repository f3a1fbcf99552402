"""The documented variants the client must accept ([I] items of the reference), on scripted
answers: the emulator answers one way, Microsoft's docs show both."""

import httpx
import pytest

from m365.backup import policies, restore_sessions, service
from m365.backup.enums import (
    BackupServiceConsumer,
    BackupServiceStatus,
    DestinationType,
    ServiceAppStatus,
)
from m365.backup.workloads import Workload
from tests.m365.test_graph_unit import make_client

APP = {
    "id": "app-1",
    "application": {"id": "app-1", "displayName": "MSP"},
    "status": "inactive",
    "registrationDateTime": "2024-05-01T10:00:00Z",
}


def route(table):
    seen = []

    def handler(request):
        seen.append(request)
        return table[(request.method, request.url.path)](request)

    return handler, seen


@pytest.mark.parametrize("wrapped", [True, False])
def test_enable_answer_bare_or_wrapped_in_value(wrapped):
    status = {
        "@odata.type": "#microsoft.graph.serviceStatus",
        "status": "enabled",
        "serviceConsumer": "thirdParty",
    }
    body = {"value": status} if wrapped else status
    handler, seen = route(
        {("POST", "/v1.0/solutions/backupRestore/enable"): lambda r: httpx.Response(200, json=body)}
    )
    client, _ = make_client(handler)
    result = service.enable_backup_service(client, app_owner_tenant_id="msp-tenant")
    assert result.status is BackupServiceStatus.ENABLED
    assert result.consumer is BackupServiceConsumer.THIRD_PARTY
    assert seen[0].content == b'{"appOwnerTenantId":"msp-tenant"}'


@pytest.mark.parametrize("status", [201, 202])
def test_service_app_create_201_with_body_or_202_with_content_location(status):
    location = "https://graph.test/v1.0/solutions/backupRestore/serviceApps/app-1"
    answers = {
        ("POST", "/v1.0/solutions/backupRestore/serviceApps"): lambda r: (
            httpx.Response(201, json=APP)
            if status == 201
            else httpx.Response(202, headers={"Content-Location": location})
        ),
        ("GET", "/v1.0/solutions/backupRestore/serviceApps/app-1"): lambda r: httpx.Response(
            200, json=APP
        ),
    }
    handler, seen = route(answers)
    client, _ = make_client(handler)
    app = service.create_service_app(client)
    assert app.status is ServiceAppStatus.INACTIVE and app.id == "app-1"
    assert seen[0].content == b"{}"  # the empty object Graph requires
    assert len(seen) == (1 if status == 201 else 2)
    assert all(r.headers["Prefer"] == "include-unknown-enum-members" for r in seen)


def test_policy_patch_sends_at_most_fifty_per_request():
    bodies = []

    def patch(request):
        import json

        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(
            200,
            json={
                "mailboxProtectionUnits@delta": [
                    {"id": f"u{i}", "status": "protectRequested"}
                    for i, _ in enumerate(body["mailboxProtectionUnits@delta"])
                ]
            },
        )

    handler, _ = route(
        {("PATCH", "/v1.0/solutions/backupRestore/exchangeProtectionPolicies/p"): patch}
    )
    client, _ = make_client(handler)
    changes = policies.add_protection_units(
        client,
        workload=Workload.EXCHANGE,
        policy_id="p",
        resource_ids=[f"user-{i}" for i in range(120)],
    )
    assert [len(b["mailboxProtectionUnits@delta"]) for b in bodies] == [50, 50, 20]
    assert bodies[0]["mailboxProtectionUnits@delta"][0] == {"directoryObjectId": "user-0"}
    assert len(changes) == 120 and all(c.ok for c in changes)


def test_restore_session_body_shape():
    sent = []

    def create(request):
        import json

        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "s1", "status": "draft"})

    path = "/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"
    handler, _ = route({("POST", path): create})
    client, _ = make_client(handler)
    session = restore_sessions.create_restore_session(
        client,
        workload=Workload.ONEDRIVE,
        restore_point_ids=["rp1"],
        destination_type=DestinationType.IN_PLACE,
    )
    assert sent == [
        {
            "driveRestoreArtifacts": [
                {"restorePoint": {"@odata.id": "rp1"}, "destinationType": "inPlace"}
            ]
        }
    ]
    assert session.id == "s1" and session.workload is Workload.ONEDRIVE


def test_a_refusal_echoed_with_only_its_content_id_names_the_resource_sent():
    # The reference's per-item failure: @contentId and the error, no directoryObjectId.
    answer = {
        "mailboxProtectionUnits@delta": [
            {"id": "unit-1", "directoryObjectId": "user-1", "status": "protectRequested"},
            {
                "@contentId": "2",
                "@Core.DataModificationException": {
                    "info": {"code": "ProtectionUnitAlreadyExists", "message": "Exists"},
                    "failedOperation": "add",
                    "responseCode": 409,
                },
            },
        ]
    }
    handler, _ = route(
        {
            ("PATCH", "/v1.0/solutions/backupRestore/exchangeProtectionPolicies/p-1"): lambda r: (
                httpx.Response(200, json=answer)
            )
        }
    )
    client, _ = make_client(handler)
    changes = policies.add_protection_units(
        client, workload=Workload.EXCHANGE, policy_id="p-1", resource_ids=["user-1", "user-2"]
    )
    refused = [change for change in changes if not change.ok]
    assert [(c.resource_id, c.error_code) for c in refused] == [
        ("user-2", "ProtectionUnitAlreadyExists")
    ]
    assert changes[0].resource_id == "user-1" and changes[0].ok
