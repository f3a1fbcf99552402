"""Customer pages of the backups app under `/t/<slug>/backups/`: backup status per workload,
the restore request form (customer admins; viewers read) and the restore history with live
progress. Rows are reached through `self.scoped(...)`, the API's scoping."""

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import DetailView, TemplateView

from backups.choices import (
    ARTIFACT_FINISHED_STATUSES,
    RESTORE_FINISHED_STATUSES,
    ArtifactStatus,
    DestinationType,
    ProtectionUnitStatus,
    RestoreStatus,
    Workload,
)
from backups.models import (
    BackupJob,
    BackupService,
    ProtectionUnit,
    Resource,
    RestoreArtifact,
    RestorePoint,
    RestoreSession,
)
from backups.selectors import coverage, latest_restore_points, units_with_errors
from backups.services.restores import ArtifactRequest, restore_request
from tenants.exceptions import DomainError
from tenants.pages import TenantPageMixin

# Restore statuses as the badge classes and the progress script read them.
RESTORE_CSS = {
    RestoreStatus.QUEUED: "queued",
    RestoreStatus.CREATING: "running",
    RestoreStatus.ACTIVATING: "running",
    RestoreStatus.ACTIVE: "running",
    RestoreStatus.COMPLETED: "succeeded",
    RestoreStatus.COMPLETED_WITH_ERRORS: "partially_succeeded",
    RestoreStatus.FAILED: "failed",
    RestoreStatus.CANCELLED: "draft",
}
MAX_CANDIDATES = 200


def restores_with_progress(queryset):
    return queryset.annotate(
        artifacts_total=Count("artifacts"),
        artifacts_done=Count(
            "artifacts", filter=Q(artifacts__status__in=ARTIFACT_FINISHED_STATUSES)
        ),
        artifacts_failed=Count("artifacts", filter=Q(artifacts__status=ArtifactStatus.FAILED)),
    )


class BackupStatusView(TenantPageMixin, TemplateView):
    """Coverage, latest restore point and refused units per workload; recent jobs."""

    template_name = "backups/customer/status.html"
    section = "customer:backups"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = {c.workload: c for c in coverage(self.scoped(Resource.objects))}
        latest = latest_restore_points(self.tenant)
        failed = units_with_errors(self.scoped(ProtectionUnit.objects)).select_related("resource")
        context.update(
            service=self.scoped(BackupService.objects).first(),
            workloads=[
                {
                    "workload": w,
                    "coverage": rows.get(w.value),
                    "latest": latest.get(w.value),
                    "failed": [u for u in failed if u.workload == w.value][:20],
                }
                for w in Workload
            ],
            failed_total=failed.count(),
            jobs=self.scoped(BackupJob.objects).order_by("-created_at")[:10],
        )
        return context


class JobProgressView(TenantPageMixin, TemplateView):
    """JSON: state and progress of this tenant's jobs named in `?ids=` (polled by the page)."""

    def get(self, request, *args, **kwargs):
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:50]
        jobs = self.scoped(BackupJob.objects).filter(pk__in=ids)
        return JsonResponse(
            {
                "jobs": [
                    {
                        "id": j.pk,
                        "state": j.state,
                        "state_display": j.get_state_display(),
                        "done": j.progress_done,
                        "total": j.progress_total,
                        "phase": j.phase,
                    }
                    for j in jobs
                ]
            }
        )


class RestoreListView(TenantPageMixin, TemplateView):
    template_name = "backups/customer/restores.html"
    section = "customer:restores"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        restores = restores_with_progress(self.scoped(RestoreSession.objects)).order_by(
            "-created_at", "-pk"
        )
        context["restores"] = [(r, RESTORE_CSS[r.status]) for r in restores[:100]]
        return context


class RestoreProgressView(TenantPageMixin, TemplateView):
    """JSON: status and progress of this tenant's restores named in `?ids=`."""

    def get(self, request, *args, **kwargs):
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:100]
        restores = restores_with_progress(self.scoped(RestoreSession.objects).filter(pk__in=ids))
        return JsonResponse(
            {
                "jobs": [
                    {
                        "id": r.pk,
                        "state": RESTORE_CSS[r.status],
                        "state_display": r.get_status_display(),
                        "done": r.artifacts_done,
                        "total": r.artifacts_total,
                        "phase": r.waiting_reason,
                    }
                    for r in restores
                ]
            }
        )


class RestoreDetailView(TenantPageMixin, DetailView):
    model = RestoreSession
    template_name = "backups/customer/restore_detail.html"
    section = "customer:restores"
    context_object_name = "restore"

    def get_queryset(self):
        return restores_with_progress(self.scoped(RestoreSession.objects)).prefetch_related(
            Prefetch(
                "artifacts",
                queryset=RestoreArtifact.objects.select_related("unit__resource").order_by("pk"),
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["css"] = RESTORE_CSS[self.object.status]
        context["finished"] = self.object.status in RESTORE_FINISHED_STATUSES
        return context


class RestoreForm(forms.Form):
    WHEN = [
        ("latest", "The latest restore point"),
        ("point_in_time", "The latest restore point before a moment"),
        ("restore_point", "A specific restore point"),
    ]

    units = forms.ModelMultipleChoiceField(
        queryset=ProtectionUnit.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    destination_type = forms.ChoiceField(
        choices=DestinationType.choices, initial=DestinationType.IN_PLACE, widget=forms.RadioSelect
    )
    when = forms.ChoiceField(choices=WHEN, initial="latest", widget=forms.RadioSelect)
    point_in_time = forms.DateTimeField(
        required=False,
        help_text="UTC",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    restore_point = forms.ModelChoiceField(queryset=RestorePoint.objects.none(), required=False)

    def __init__(self, *args, units, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = units
        self.fields["restore_point"].queryset = points
        self.fields["restore_point"].label_from_instance = lambda p: (
            f"{p.unit.resource} — {p.protected_at:%Y-%m-%d %H:%M} UTC{' (fast restore)' if p.fast_restore else ''}"
        )

    def clean(self):
        data = super().clean()
        if data.get("when") == "point_in_time" and not data.get("point_in_time"):
            self.add_error("point_in_time", "Give the moment to restore to.")
        if data.get("when") == "restore_point":
            point = data.get("restore_point")
            if point is None:
                self.add_error("restore_point", "Pick the restore point.")
            elif [u.pk for u in data.get("units") or []] != [point.unit_id]:
                self.add_error(
                    "restore_point",
                    "A specific restore point restores its own unit only: select just that unit.",
                )
        return data


class RestoreCreateView(TenantPageMixin, TemplateView):
    """The restore request form. Customer viewers see it read-only; POST needs an admin."""

    template_name = "backups/customer/restore_form.html"
    section = "customer:restores"
    writes = True

    def _workload(self):
        value = (
            self.request.GET.get("workload")
            or self.request.POST.get("workload")
            or Workload.EXCHANGE
        )
        return Workload(value) if value in Workload.values else Workload.EXCHANGE

    def _form(self, data=None):
        workload = self._workload()
        units = (
            self.scoped(ProtectionUnit.objects)
            .filter(workload=workload, protected_at__isnull=False)
            .exclude(graph_id="")
            .exclude(status=ProtectionUnitStatus.FAILED)
            .select_related("resource")
        )
        points = (
            self.scoped(RestorePoint.objects)
            .filter(workload=workload, expires_at__gt=timezone.now())
            .select_related("unit__resource")
            .order_by("-protected_at")[:MAX_CANDIDATES]
        )
        form = RestoreForm(
            data,
            units=units,
            points=RestorePoint.objects.filter(pk__in=[p.pk for p in points])
            .select_related("unit__resource")
            .order_by("-protected_at"),
        )
        query = (self.request.GET.get("q") or "").strip()
        candidates = units.order_by("resource__display_name")
        if query:
            candidates = candidates.filter(
                Q(resource__display_name__icontains=query)
                | Q(resource__email__icontains=query)
                | Q(resource__web_url__icontains=query)
            )
        return form, workload, list(candidates[:MAX_CANDIDATES]), query

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        built, workload, candidates, query = self._form()
        latest = {
            p["unit_id"]: p
            for p in self.scoped(RestorePoint.objects)
            .filter(unit__in=[u.pk for u in candidates])
            .order_by("unit_id", "-protected_at")
            .values("unit_id", "protected_at", "fast_restore")
        }
        context.update(
            form=form or built,
            workload=workload,
            workloads=Workload.choices,
            candidates=[(u, latest.get(u.pk)) for u in candidates],
            query=query,
        )
        return context

    def post(self, request, *args, **kwargs):
        form, _, _, _ = self._form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        data = form.cleaned_data
        point = data.get("restore_point") if data["when"] == "restore_point" else None
        try:
            session, _ = restore_request(
                by=self.principal,
                tenant=self.tenant,
                now=timezone.now(),
                destination_type=data["destination_type"],
                point_in_time=data.get("point_in_time")
                if data["when"] == "point_in_time"
                else None,
                artifacts=[
                    ArtifactRequest(u, point if point and point.unit_id == u.pk else None)
                    for u in data["units"]
                ],
            )
        except DomainError as exc:
            field = {"artifacts": "units", "point_in_time": "point_in_time"}.get(
                exc.field or "",
                "restore_point" if (exc.field or "").endswith("restore_point") else None,
            )
            form.add_error(field, exc.message)
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, f"Restore {session.pk} requested.")
        return redirect("customer:restore", slug=self.tenant.slug, pk=session.pk)
