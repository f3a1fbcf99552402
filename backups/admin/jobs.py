"""Backup jobs for MSP staff: every job with its live progress (the list polls a small JSON
endpoint while jobs run), filters by tenant, kind, state and time, cancel and retry, and a
page to start one."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from backups.choices import ACTIVE_JOB_STATES, JobKind
from backups.models import BackupJob
from backups.services.jobs import backup_job_cancel, backup_job_retry, backup_job_start
from tenants.exceptions import DomainError
from tenants.models import Tenant
from tenants.principals import request_principal

MAX_POLLED = 200


def progress_html(job: BackupJob) -> str:
    total = job.progress_total or 0
    label = (
        f"{job.progress_done:,} / {total:,}"
        if job.progress_total is not None
        else f"{job.progress_done:,}"
    )
    bar = (
        format_html(
            '<progress data-job="{}" value="{}" max="{}"></progress>',
            job.pk,
            job.progress_done,
            total,
        )
        if job.progress_total
        else format_html('<progress data-job="{}"></progress>', job.pk)
    )
    return format_html(
        '{} <span class="job-progress" data-job-label="{}">{}</span>', bar, job.pk, label
    )


class StartJobForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.order_by("name"))
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in JobKind if k != JobKind.RESTORE])
    idempotency_key = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional: the same key again returns the first job.",
    )


@admin.register(BackupJob)
class BackupJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "tenant",
        "kind",
        "state_badge",
        "progress",
        "attempts",
        "created_at",
        "started_at",
        "duration",
        "short_error",
    ]
    list_display_links = ["id", "kind"]
    list_filter = ["state", "kind", ("tenant", admin.RelatedOnlyFieldListFilter), "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["tenant__name", "tenant__slug", "idempotency_key", "error"]
    list_select_related = ["tenant"]
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    actions = ["cancel_selected", "retry_selected"]
    fields = [
        "tenant",
        "kind",
        "state",
        "phase",
        "progress",
        "attempts",
        "idempotency_key",
        "requested_by",
        "retry_of",
        "params",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "next_run_at",
        "cancel_requested_at",
        "error_code",
        "error",
        "summary_table",
        "log_table",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj):
        return format_html(
            '<span class="badge status-{}" data-job-state="{}">{}</span>',
            obj.state,
            obj.pk,
            obj.get_state_display(),
        )

    @admin.display(description="Progress")
    def progress(self, obj):
        return progress_html(obj)

    @admin.display(description="Duration")
    def duration(self, obj):
        seconds = obj.duration_seconds
        if seconds is None:
            return "—"
        return (
            f"{int(seconds // 60)} min {int(seconds % 60)} s"
            if seconds >= 60
            else f"{seconds:.1f} s"
        )

    @admin.display(description="Error")
    def short_error(self, obj):
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error

    @admin.display(description="Summary")
    def summary_table(self, obj):
        if not obj.summary:
            return "—"
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                (
                    (
                        key.replace("_", " "),
                        json.dumps(value) if isinstance(value, dict | list) else value,
                    )
                    for key, value in obj.summary.items()
                ),
            ),
        )

    @admin.display(description="Log (latest last)")
    def log_table(self, obj):
        if not obj.log:
            return "—"
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                '<tr><td>{}</td><td><span class="badge status-{}">{}</span></td><td>{}</td></tr>',
                (
                    (
                        line.get("at", ""),
                        "failed"
                        if line.get("level") == "error"
                        else "queued"
                        if line.get("level") == "warning"
                        else "succeeded",
                        line.get("level", ""),
                        line.get("message", ""),
                    )
                    for line in obj.log
                ),
            ),
        )

    # --- actions ---------------------------------------------------------------------

    @admin.action(description="Cancel the selected jobs", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        principal = request_principal(request)
        done = 0
        for job in queryset.filter(state__in=ACTIVE_JOB_STATES):
            try:
                backup_job_cancel(by=principal, job=job, now=timezone.now())
                done += 1
            except DomainError as exc:
                messages.error(request, exc.message)
        messages.success(request, f"Cancel requested for {done} jobs.")

    @admin.action(description="Retry the selected jobs (as new jobs)", permissions=["retry"])
    def retry_selected(self, request, queryset):
        principal = request_principal(request)
        for job in queryset.exclude(state__in=ACTIVE_JOB_STATES):
            try:
                new = backup_job_retry(by=principal, job=job, now=timezone.now())
                messages.success(request, f"Job {job.pk} retried as job {new.pk}.")
            except DomainError as exc:
                messages.error(request, f"Job {job.pk}: {exc.message}")

    def has_cancel_permission(self, request):
        return request.user.has_perm("backups.change_backupjob")

    def has_retry_permission(self, request):
        return request.user.has_perm("backups.add_backupjob")

    # --- extra pages -----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "progress.json",
                self.admin_site.admin_view(self.progress_view),
                name="backups_backupjob_progress",
            ),
            path(
                "start/",
                self.admin_site.admin_view(self.start_view),
                name="backups_backupjob_start",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request):
        """State and progress of the jobs named in `?ids=1,2,3` (one query)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][
            :MAX_POLLED
        ]
        jobs = BackupJob.objects.filter(pk__in=ids).only(
            "pk", "state", "phase", "progress_done", "progress_total", "attempts", "error"
        )
        return JsonResponse(
            {
                "jobs": [
                    {
                        "id": job.pk,
                        "state": job.state,
                        "state_display": job.get_state_display(),
                        "active": job.state in ACTIVE_JOB_STATES,
                        "done": job.progress_done,
                        "total": job.progress_total,
                        "percent": job.progress_percent,
                        "phase": job.phase,
                        "attempts": job.attempts,
                        "error": job.error[:200],
                    }
                    for job in jobs
                ]
            }
        )

    def start_view(self, request):
        if not request.user.has_perm("backups.add_backupjob"):
            raise PermissionDenied
        form = StartJobForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                job, created = backup_job_start(
                    by=request_principal(request),
                    tenant=form.cleaned_data["tenant"],
                    kind=form.cleaned_data["kind"],
                    now=timezone.now(),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    f"Job {job.pk} {'queued' if created else 'already started with this key'}.",
                )
                return redirect(reverse("admin:backups_backupjob_changelist"))
        return TemplateResponse(
            request,
            "admin/backups/backupjob/start.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "opts": self.model._meta,
                "title": "Start a backup job",
            },
        )
