import pytest
from django.test import override_settings

from portal.models import WorkerHeartbeat
from portal.tasks import worker_heartbeat
from tests.services import celery_broker

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_and_worker(client):
    worker_heartbeat(hostname="worker-1")
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["workers"]["ok"] and WorkerHeartbeat.objects.count() == 1


def test_healthz_is_503_when_the_broker_is_unreachable(client):
    with celery_broker("redis://127.0.0.1:1/0"):
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["broker"]["ok"] is False


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    document = schema.json()
    assert "/api/v1/tenants/" in document["paths"]
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"

    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in docs


@override_settings(DEBUG=False)
def test_schema_generation_has_no_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
