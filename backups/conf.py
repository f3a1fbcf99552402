"""Settings of the backups app with their defaults (override any in portal/settings.py or
the environment; README "Backups" lists them)."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # A run holds its job for this long past its last checkpoint; a worker killed mid-job
    # frees it when the lease runs out and the redelivered task takes over.
    "BACKUP_JOB_LEASE_SECONDS": 300,
    # Task retries after transient failures (throttling, Microsoft or the database away).
    "BACKUP_JOB_MAX_RETRIES": 8,
    "BACKUP_JOB_LOG_LINES": 50,
    # Queued jobs whose message was lost, or running ones whose worker vanished, are sent
    # again by the poller after this long.
    "BACKUP_JOB_STALE_SECONDS": 900,
    # How often a scope application looks at units Microsoft is still protecting, and for
    # how long before it ends and leaves the rest to the next application.
    "BACKUP_FOLLOW_POLL_SECONDS": 300,
    "BACKUP_FOLLOW_TIMEOUT_HOURS": 12,
    "BACKUP_RESTORE_POLL_SECONDS": 30,
    # Graph `$top` for directory pages (999 is Graph's maximum) and for protection unit lists
    # (0: let Graph choose).
    "BACKUP_SCAN_PAGE_SIZE": 999,
    "BACKUP_UNIT_PAGE_SIZE": 999,
    # More additions than this in one workload go through bulk addition jobs (ids) of at
    # most BACKUP_BULK_JOB_SIZE each instead of PATCH requests of 50.
    "BACKUP_BULK_ADDITION_THRESHOLD": 500,
    "BACKUP_BULK_JOB_SIZE": 10_000,
    # Rows written per database round trip by scans and scope applications.
    "BACKUP_DB_BATCH_SIZE": 1000,
    # Microsoft runs at most 25 restore sessions per tenant at once; more wait in the portal.
    "BACKUP_MAX_ACTIVE_RESTORE_SESSIONS": 25,
    "BACKUP_RESTORE_MAX_ARTIFACTS": 500,
    # Unit ids per restore point search; synced points older than this are pruned (the
    # latest of each unit is always kept until it expires).
    "BACKUP_RESTORE_POINT_BATCH": 50,
    "BACKUP_RESTORE_POINT_HISTORY_DAYS": 14,
    # Used until a policy's retentionSettings have been read.
    "BACKUP_RETENTION_DAYS": 365,
    "BACKUP_POLICY_NAME": "Cloud Backup Express - {workload}",
    # Remove from protection the units of resources deleted in the tenant (their size is
    # frozen and billed until Microsoft's retention ends) instead of keeping them.
    "BACKUP_UNPROTECT_DELETED": True,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
