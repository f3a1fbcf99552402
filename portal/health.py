"""`/healthz`: is the database reachable, is the broker reachable, when did a worker last run.

Answers 200 when the database and the broker answer, 503 otherwise, so a load balancer can
take an instance out. The worker's age is informative only: web instances stay in service
while workers restart.
"""

from datetime import timedelta

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.celery import app as celery_app
from portal.models import WorkerHeartbeat

WORKER_STALE_AFTER = timedelta(minutes=3)


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is "down"; the class name says which
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "transport": str(transport)}


def _workers(database_ok: bool) -> dict:
    if not database_ok:
        return {"ok": False, "last_seen": None}
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return {"ok": False, "last_seen": None}
    age = timezone.now() - latest.seen_at
    return {
        "ok": age < WORKER_STALE_AFTER,
        "last_seen": latest.seen_at.isoformat(),
        "age_seconds": int(age.total_seconds()),
    }


@never_cache
@require_GET
def healthz(request):
    database = _database()
    broker = _broker()
    workers = _workers(database["ok"])
    healthy = database["ok"] and broker["ok"]
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": database,
            "broker": broker,
            "workers": workers,
        },
        status=200 if healthy else 503,
    )
