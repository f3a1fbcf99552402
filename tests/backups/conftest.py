"""Fixtures of the backups tests: a tenant through the real consent journey with Microsoft
365 Backup enabled (`active_tenant`), what the emulator's generator says it holds (the
oracle the scans are checked against), a clock moving the portal and the emulator together,
and helpers to run jobs the way Celery does (tasks run inline, after commit)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from backups.choices import JobState, ResourceKind
from backups.models import BackupJob
from backups.services.jobs import backup_job_run, backup_job_start
from m365.emulator.generator import MEMBER, SHARED, TenantData
from tenants.principals import Principal


@dataclass(frozen=True)
class Expected:
    """What an emulated tenant holds, from the emulator's own generator."""

    counts: Counter

    @classmethod
    def of(cls, emulated, *, deleted_user_ids: frozenset[str] = frozenset()) -> Expected:
        info = emulated.info
        data = TenantData(
            tenant_id=info.id,
            domain=info.domain,
            seed=info.seed,
            users=info.users,
            groups=info.groups,
            sites=info.sites,
        )
        counts: Counter = Counter()
        for index in range(data.user_count):
            user = data.user(index)
            if user.id in deleted_user_ids:
                continue
            if data.kinds[index] == MEMBER:
                counts[ResourceKind.USER_MAILBOX] += 1
                counts[ResourceKind.ONEDRIVE] += 1
            elif data.kinds[index] == SHARED:
                counts[ResourceKind.SHARED_MAILBOX] += 1
        for index in range(data.group_count):
            kind = data.group(index).kind
            counts[
                {
                    "team": ResourceKind.TEAM,
                    "unified": ResourceKind.GROUP,
                    "security": ResourceKind.SECURITY_GROUP,
                }[kind]
            ] += 1
        counts[ResourceKind.SITE] = data.non_personal_site_count
        return cls(counts)

    def generator(self, emulated) -> TenantData:
        info = emulated.info
        return TenantData(
            tenant_id=info.id,
            domain=info.domain,
            seed=info.seed,
            users=info.users,
            groups=info.groups,
            sites=info.sites,
        )


@pytest.fixture
def backup_tenant(active_tenant):
    """Factory: (emulated, tenant) ready for backups (consented, service enabled)."""
    return active_tenant


class Clock:
    """The portal's clock (time_machine) and the emulated tenant's clock, moved together so
    Microsoft's long operations end without sleeping."""

    def __init__(self):
        self._traveller = None
        self._shift = timedelta(0)

    def start(self):
        self._traveller = time_machine.travel(timezone.now(), tick=True)
        self._coordinates = self._traveller.start()

    def advance(self, emulated, seconds: float) -> datetime:
        emulated.control.advance_clock(seconds, emulated.id)
        self._coordinates.shift(timedelta(seconds=seconds))
        return timezone.now()

    def stop(self):
        if self._traveller is not None:
            self._traveller.stop()


@pytest.fixture
def clock():
    moving = Clock()
    moving.start()
    yield moving
    moving.stop()


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    """Start a job like the API does and let its task run (inline, after commit)."""

    def start(tenant, kind, **kwargs) -> BackupJob:
        with django_capture_on_commit_callbacks(execute=True):
            job, _ = backup_job_start(
                by=Principal.system(), tenant=tenant, kind=kind, now=timezone.now(), **kwargs
            )
        job.refresh_from_db()
        return job

    return start


@pytest.fixture
def poll(django_capture_on_commit_callbacks):
    """Run a waiting job once more now (what the beat poller does when it is due)."""

    def again(job: BackupJob) -> BackupJob:
        job.refresh_from_db()
        if job.state == JobState.RUNNING and job.next_run_at is not None:
            BackupJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            backup_job_run(job_id=job.pk)
        job.refresh_from_db()
        return job

    return again
