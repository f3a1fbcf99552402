"""A task sent through a real Celery worker on the Redis broker, seen in PostgreSQL."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from portal.models import WorkerHeartbeat
from portal.tasks import worker_heartbeat
from tests.services import celery_broker, redis_url, require, tcp_reachable


@pytest.fixture
def redis_worker(transactional_db):
    url = redis_url()
    require("Redis", tcp_reachable(url, 6379), f"start redis-server (tried {url})")
    require("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    with celery_broker(url, {"visibility_timeout": 3600}) as app:
        app.conf.task_always_eager = False
        app.control.purge()
        try:
            with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
                yield url
        finally:
            app.conf.task_always_eager = True


@pytest.mark.redis
@pytest.mark.postgres
def test_a_task_runs_on_a_real_worker_and_its_write_lands_in_postgres(redis_worker):
    worker_heartbeat.apply_async(kwargs={"hostname": "ci-worker"}, queue="default")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(hostname="ci-worker").exists():
            break
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.filter(hostname="ci-worker").exists()
