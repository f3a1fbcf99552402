"""Customer pages of the backups app, mounted under `/t/<slug>/` in the `customer` namespace."""

from django.urls import path

from backups import views

urlpatterns = [
    path("backups/", views.BackupStatusView.as_view(), name="backups"),
    path(
        "backups/jobs/progress.json", views.JobProgressView.as_view(), name="backup_jobs_progress"
    ),
    path("backups/restores/", views.RestoreListView.as_view(), name="restores"),
    path("backups/restores/new/", views.RestoreCreateView.as_view(), name="restore_new"),
    path(
        "backups/restores/progress.json",
        views.RestoreProgressView.as_view(),
        name="restores_progress",
    ),
    path("backups/restores/<int:pk>/", views.RestoreDetailView.as_view(), name="restore"),
]
