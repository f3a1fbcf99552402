"""The admin site as MSP staff see it: the portal's name, and on the index the queue of
what needs attention (profiles to re-authorize, failing jobs, throttled tenants)."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Sum
from django.utils import timezone
from social_django.models import Association, Nonce, UserSocialAuth

from backups.choices import ACTIVE_JOB_STATES, JobState
from backups.models import BackupJob
from tenants.models import AppProfile, GraphCallStats

admin.site.site_header = "Cloud Backup Express · MSP admin"
admin.site.site_title = "Cloud Backup Express"
admin.site.index_title = "Operations"

# The consent journey never stores social-auth rows (tokens live encrypted on the app
# profile), so their admin pages would only ever be empty.
for model in (Association, Nonce, UserSocialAuth):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


def attention(request) -> dict:
    """Counts for the admin index; a fixed handful of queries whatever the data size."""
    now = timezone.now()
    today = now.date()
    throttled = GraphCallStats.objects.filter(day=today, throttled__gt=0).aggregate(
        tenants=Sum(1), answers=Sum("throttled")
    )
    return {
        "profiles_needing_attention": AppProfile.objects.needs_attention().count(),
        "jobs_active": BackupJob.objects.filter(state__in=ACTIVE_JOB_STATES).count(),
        "jobs_failed_recently": BackupJob.objects.filter(
            state=JobState.FAILED, finished_at__gte=now - timedelta(days=1)
        ).count(),
        "throttled_tenants_today": GraphCallStats.objects.filter(
            day=today, throttled__gt=0
        ).count(),
        "throttled_answers_today": throttled["answers"] or 0,
    }


_index = admin.site.index


def index(request, extra_context=None):
    return _index(request, {**(extra_context or {}), "attention": attention(request)})


admin.site.index = index
