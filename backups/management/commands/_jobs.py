"""Running a backup job in the command's own process with a tqdm progress bar.

The job is the same row and the same runner as the Celery task uses, so what a command
starts is visible (and cancellable) in the admin and the API while it runs."""

from __future__ import annotations

import time

from django.core.management.base import CommandError
from django.utils import timezone
from tqdm import tqdm

from backups.choices import ACTIVE_JOB_STATES
from backups.models import BackupJob
from backups.services.jobs import LeaseHeld, RetryLater, backup_job_run, backup_job_start
from tenants.exceptions import DomainError
from tenants.models import Tenant
from tenants.principals import Principal


def tenant_of(slug: str) -> Tenant:
    try:
        return Tenant.objects.get(slug=slug)
    except Tenant.DoesNotExist as exc:
        raise CommandError(f"No tenant with the slug {slug!r}.") from exc


def run_job(command, *, tenant: Tenant, kind: str, follow: bool, params=None) -> BackupJob:
    """Start a job of `kind` and run it here until it ends (or, without `follow`, until it
    waits for Microsoft: the beat poller carries on from there)."""
    try:
        job, _ = backup_job_start(
            by=Principal.system(),
            tenant=tenant,
            kind=kind,
            now=timezone.now(),
            params=params,
            enqueue=False,
        )
    except DomainError as exc:
        raise CommandError(exc.message) from exc
    command.stdout.write(f"Job {job.pk}: {job.get_kind_display()} of {tenant.name}")
    bar = tqdm(total=None, unit="item", dynamic_ncols=True, file=command.stderr._out)

    def show(current: BackupJob) -> None:
        if current.progress_total is not None and bar.total != current.progress_total:
            bar.total = current.progress_total
        bar.n = current.progress_done
        bar.set_description((current.phase or current.get_state_display())[:60], refresh=False)
        bar.refresh()

    try:
        while True:
            try:
                backup_job_run(job_id=job.pk, on_progress=show)
            except RetryLater as exc:
                bar.write(f"{exc.message}; retrying in {exc.countdown:.0f} s")
                time.sleep(exc.countdown)
                continue
            except LeaseHeld as exc:
                time.sleep(min(exc.seconds + 1, 30))
                continue
            job.refresh_from_db()
            if job.state not in ACTIVE_JOB_STATES:
                break
            if job.next_run_at is not None:
                if not follow:
                    bar.write(
                        f"Waiting for Microsoft ({job.phase}); the beat poller follows it from here."
                    )
                    break
                time.sleep(max(1.0, (job.next_run_at - timezone.now()).total_seconds()))
    finally:
        bar.close()
    command.stdout.write(
        f"Job {job.pk} {job.get_state_display().lower()}"
        f"{': ' + (job.error or (job.log[-1]['message'] if job.log else '')) if job.log or job.error else ''}"
    )
    return job
