"""A real Celery worker (a subprocess on Redis DB 14, acks late, a visibility timeout of a
few seconds) is killed with SIGKILL in the middle of a scan. Redis redelivers the message
to a second worker, which takes the job over when the dead run's lease runs out, resumes
from the last committed page and finishes it once: no duplicate row, exact counts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backups.choices import JobKind, JobState
from backups.models import BackupJob, Resource
from backups.services.jobs import backup_job_start
from backups.tasks import scan_run
from tenants.principals import Principal
from tests.backups.conftest import Expected
from tests.services import celery_broker, require, tcp_reachable

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

REDIS_URL = os.environ.get("TEST_BACKUPS_REDIS_URL", "redis://127.0.0.1:6379/14")
VISIBILITY_TIMEOUT = 4
ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys
import django
django.setup()
from portal.celery import app
app.conf.task_always_eager = False
# Kombu looks for unacknowledged messages past their visibility timeout every 10th restore
# interval: every 5 s here.
app.conf.broker_transport_options = {"visibility_timeout": float(sys.argv[2]),
                                     "unacked_restore_interval": 0.5}
app.worker_main(["worker", "-Q", "scans,default", "--pool", "solo", "-l", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "-n", sys.argv[1] + "@%h"])
"""


def start_worker(name: str, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "M365_LOGIN_BASE_URL": settings.M365_LOGIN_BASE_URL,
        "M365_GRAPH_BASE_URL": settings.M365_GRAPH_BASE_URL,
        "M365_CA_BUNDLE": settings.M365_CA_BUNDLE,
        "M365_CLIENT_ID": settings.M365_CLIENT_ID,
        "M365_CLIENT_SECRET": settings.M365_CLIENT_SECRET,
        "M365_MSP_TENANT_ID": settings.M365_MSP_TENANT_ID,
        # A dead run's hold on its job ends this long after its last checkpoint.
        "BACKUP_JOB_LEASE_SECONDS": "3",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, name, str(VISIBILITY_TIMEOUT)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def redis_broker():
    require("Redis", tcp_reachable(REDIS_URL, 6379), f"start redis-server (tried {REDIS_URL})")
    require("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    from portal.celery import app as portal_app

    # celery_broker() force-closes `app._pool`, which is kombu's process-wide connection pool
    # of the default broker once a task has been sent (the consent journey's, here): later
    # tests would get "Acquire on closed pool". Drop our reference instead of closing it.
    portal_app._pool = None
    with celery_broker(REDIS_URL, {"visibility_timeout": VISIBILITY_TIMEOUT}) as app:
        app.conf.task_always_eager = False
        try:
            yield app
        finally:
            app.conf.task_always_eager = True
            redis.Redis.from_url(REDIS_URL).flushdb()


def test_a_worker_killed_mid_scan_finishes_the_job_once_on_redelivery(
    transactional_db, active_tenant, tmp_path
):
    emulated, tenant = active_tenant(users=90)  # consent and enablement run inline, as usual
    # Small pages and slow answers: the scan takes long enough to be killed in the middle.
    emulated.control.set_faults(emulated.id, latency_ms=150, page_size={"users": 5, "sites": 5})
    log = tmp_path / "workers.log"
    with redis_broker():
        job, killed_at, output = _kill_and_redeliver(tenant, log)
    assert job.state == JobState.SUCCEEDED, (job.error, job.log, output[-3000:])
    assert job.attempts == 2
    assert any("previous run was lost" in line["message"] for line in job.log), job.log
    assert killed_at >= 20
    assert job.summary["users"] == 90
    expected = Expected.of(emulated).counts
    found = Counter(
        Resource.objects.filter(tenant=tenant, deleted_at__isnull=True).values_list(
            "kind", flat=True
        )
    )
    assert found == expected
    assert Resource.objects.filter(tenant=tenant).count() == sum(expected.values())

    # The same message delivered once more changes nothing.
    scan_run.apply(args=[job.pk])
    again = BackupJob.objects.get(pk=job.pk)
    assert (again.state, again.attempts, again.finished_at) == (
        job.state,
        job.attempts,
        job.finished_at,
    )
    assert Resource.objects.filter(tenant=tenant).count() == sum(expected.values())


def _kill_and_redeliver(tenant, log: Path):
    first = start_worker("first", log)
    second = None
    try:
        job, _ = backup_job_start(
            by=Principal.system(), tenant=tenant, kind=JobKind.SCAN_INVENTORY, now=timezone.now()
        )

        def midway():
            job.refresh_from_db()
            return job.state == JobState.RUNNING and 20 <= job.progress_done < 90

        wait_for(midway, 60, "the scan to be half way through the users")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = job.progress_done
        job.refresh_from_db()
        assert job.state == JobState.RUNNING and job.lease_token  # it died holding the job

        second = start_worker("second", log)

        def finished():
            job.refresh_from_db()
            return job.state not in (JobState.QUEUED, JobState.RUNNING)

        wait_for(finished, 120, "the redelivered task to finish the job")
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(20)
    return job, killed_at, log.read_text(errors="replace")
