import socket

from celery import shared_task
from django.utils import timezone

from portal.models import WorkerHeartbeat


@shared_task(ignore_result=True)
def worker_heartbeat(hostname: str | None = None) -> None:
    """Record that a worker is alive and consuming; scheduled every minute by beat."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname or socket.gethostname(), defaults={"seen_at": timezone.now()}
    )
