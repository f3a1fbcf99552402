from django.db import models

from backups.choices import ACTIVE_JOB_STATES, JobKind, JobState
from tenants.models import ScopedQuerySet


class BackupJobQuerySet(ScopedQuerySet):
    scope_field = "tenant"

    def active(self):
        return self.filter(state__in=ACTIVE_JOB_STATES)


class BackupJob(models.Model):
    """One long backup operation of a tenant (a scan, a scope application, a restore point
    sync, the tenant's restores, a size collection), run by Celery tasks and watched here.

    The row is the truth; tasks only carry its id. A run takes a lease (`lease_token`,
    renewed with every checkpoint) so two deliveries of the same message never work at
    once; work is committed together with `checkpoint`, so a run killed mid-job resumes
    where the last commit left it and writes nothing twice. At most one job of a kind is
    queued or running per tenant (`backup_job_one_active_per_kind`)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=JobKind.choices)
    state = models.CharField(max_length=24, choices=JobState.choices, default=JobState.QUEUED)
    # Given by the caller who started it: a second start with the same key (in the same
    # tenant) returns this job instead of starting another.
    idempotency_key = models.CharField(max_length=200, blank=True)
    requested_by = models.CharField(max_length=200, blank=True)
    # The finished job this one repeats ("retry").
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # What the job was asked to do (e.g. the workloads of a scope application).
    params = models.JSONField(default=dict, blank=True)
    # Where a run resumes: the step, the next page link, what is pending at Microsoft.
    checkpoint = models.JSONField(default=dict, blank=True)
    # A short human description of the current step ("following 120 units").
    phase = models.CharField(max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    # None while the amount of work is not known yet.
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    # Runs begun other than planned polls: the first, retries after transient errors and
    # redeliveries after a worker was lost.
    attempts = models.PositiveIntegerField(default=0)
    lease_token = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # A running job waiting for Microsoft (units being protected, restores in progress) is
    # run again at this time by the poller.
    next_run_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last checkpoint of a run: a running job whose heartbeat stops has lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    # Counts worth showing when it ends (added, removed, failed, new, disappeared ...).
    summary = models.JSONField(default=dict, blank=True)
    # The last lines of what it did: [{"at": iso, "level": "info", "message": ...}].
    log = models.JSONField(default=list, blank=True)

    objects = BackupJobQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind"],
                condition=models.Q(state__in=ACTIVE_JOB_STATES),
                name="backup_job_one_active_per_kind",
                violation_error_message="A job of this kind is already queued or running.",
            ),
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="backup_job_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=JobState.values), name="backup_job_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=JobKind.values), name="backup_job_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(progress_total__isnull=True)
                | models.Q(progress_done__lte=models.F("progress_total")),
                name="backup_job_progress_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | ~models.Q(state__in=ACTIVE_JOB_STATES),
                name="backup_job_finished_only_when_done",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_run_at"], name="backup_job_due_idx"),
            models.Index(
                fields=["tenant", "kind", "-created_at"], name="backup_job_tenant_kind_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_JOB_STATES

    @property
    def progress_percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.state not in ACTIVE_JOB_STATES else None
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.heartbeat_at or self.started_at
        return (end - self.started_at).total_seconds()
