"""Settings for every environment, all read from the environment (django-environ).

Unset variables fall back to the embedded default: SQLite, a filesystem Celery broker,
the local Microsoft 365 emulator, and secrets generated once into `var/`. Production sets
them explicitly and runs with `DJANGO_SETTINGS_MODULE=portal.settings_production`, which
refuses to start without them.
"""

from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

from portal.devsecrets import dev_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or dev_secret(VAR_DIR, "secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Trust X-Forwarded-For for client addresses (audit log, throttling) only behind a proxy
# that overwrites it.
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "social_django",
    "tenants",
    "backups",
    "billing",
    # Last: its post_migrate step syncs staff roles with every other app's permissions.
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# PostgreSQL (psycopg 3) in production and CI; a SQLite file is the embedded default.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and a Celery worker share the file: IMMEDIATE transactions and WAL
    # remove the "database is locked" errors of read-then-write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "tenants.consent.backend.CustomerAdminSignIn",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    # Development: each e-mail is a file in var/mail/ (read them there).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Cloud Backup Express <noreply@localhost>"
)
MSP_NOTIFICATION_EMAILS = env.list("MSP_NOTIFICATION_EMAILS", default=[])
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Secrets at rest ------------------------------------------------------------------------
# Fernet keys for client secrets and refresh tokens, newest first; separate from SECRET_KEY
# so either can rotate alone (`manage.py rotate_encryption_keys`).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [
    dev_secret(VAR_DIR, "field_encryption_key", fernet=True)
]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.PortalPermission"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.PrincipalRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per API key (or signed-in user, or anonymous IP) and window.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Cloud Backup Express portal API",
    "DESCRIPTION": (
        "Tenants, onboarding, backups and billing of the MSP's Microsoft 365 Backup service. "
        "Authenticate with `Authorization: Bearer <API key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # One named enum per choice set, so that fields called "status" in different models
    # do not collide in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TenantStatusEnum": "tenants.choices.TenantStatus",
        "AppProfileStatusEnum": "tenants.choices.AppProfileStatus",
        "GrantStatusEnum": "tenants.choices.GrantStatus",
        "ConsentOutcomeEnum": "tenants.choices.ConsentOutcome",
        "BackupServiceStatusEnum": "backups.choices.BackupServiceStatus",
        "ServiceAppStatusEnum": "backups.choices.ServiceAppStatus",
        "InvoiceStatusEnum": "billing.choices.InvoiceStatus",
        "PlanKindEnum": "billing.choices.PlanKind",
        "InvoiceLineKindEnum": "billing.choices.InvoiceLineKind",
        "UsageAlertKindEnum": "billing.choices.UsageAlertKind",
        "WorkloadEnum": "backups.choices.Workload",
        "ResourceKindEnum": "backups.choices.ResourceKind",
        "ProtectionUnitStatusEnum": "backups.choices.ProtectionUnitStatus",
        "ScopeModeEnum": "backups.choices.ScopeMode",
        "BackupJobKindEnum": "backups.choices.JobKind",
        "BackupJobStateEnum": "backups.choices.JobState",
        "DestinationTypeEnum": "backups.choices.DestinationType",
        "RestoreStatusEnum": "backups.choices.RestoreStatus",
        "ArtifactStatusEnum": "backups.choices.ArtifactStatus",
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    for _sub in ("in", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "in"),
        "data_folder_out": str(_queue_dir / "in"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than the longest task: Redis redelivers unacknowledged tasks after this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3 * 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("scans"), Queue("billing"))
# Scans are slow and bursty; billing must never wait behind them.
CELERY_TASK_ROUTES = {
    "backups.tasks.scan_*": {"queue": "scans"},
    "backups.tasks.scope_*": {"queue": "scans"},
    "billing.tasks.*": {"queue": "billing"},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "portal.tasks.worker_heartbeat",
        "schedule": 60.0,
    },
    "verify-app-profiles": {
        "task": "tenants.tasks.app_profiles_verify_all",
        "schedule": crontab(minute=5, hour="*/6"),
    },
    "sync-backup-services": {
        "task": "backups.tasks.backup_services_sync_all",
        "schedule": crontab(minute=20),
    },
    "purge-expired-audit-events": {
        "task": "tenants.tasks.audit_events_purge",
        "schedule": crontab(hour=3, minute=15),
    },
    # Billing (README, "Billing"): all on the `billing` queue, all safe to repeat.
    "billing-meter-usage": {  # yesterday's usage, once the UTC day is over
        "task": "billing.tasks.usage_meter_yesterday",
        "schedule": crontab(hour=0, minute=30),
    },
    "billing-usage-alerts": {  # after metering: month-to-date figures are fresh
        "task": "billing.tasks.usage_alerts_check",
        "schedule": crontab(hour=1, minute=0),
    },
    "billing-invoice-run": {  # drafts for the month before, after its last day is metered
        "task": "billing.tasks.invoices_monthly",
        "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
    "billing-finalize-due": {  # drafts whose grace period is over
        "task": "billing.tasks.invoices_finalize_due",
        "schedule": crontab(hour=3, minute=0),
    },
    "billing-reconcile-usage": {  # billable days without a usage record, mailed to the MSP
        "task": "billing.tasks.usage_reconcile",
        "schedule": crontab(hour=6, minute=0),
    },
    # Backups (README "Backups"): jobs waiting for Microsoft and lost tasks, nightly scans
    # then scope application, restore point sync, daily sizes from the usage reports.
    "backups-jobs-poll": {"task": "backups.tasks.jobs_poll", "schedule": 30.0},
    "backups-nightly-scans": {
        "task": "backups.tasks.scans_start_all",
        "schedule": crontab(hour=1, minute=0),
    },
    "backups-nightly-scope": {
        "task": "backups.tasks.scope_apply_all",
        "schedule": crontab(hour=3, minute=30),
    },
    "backups-restore-points": {
        "task": "backups.tasks.restore_points_sync_all",
        "schedule": crontab(hour="*/6", minute=40),
    },
    "backups-daily-sizes": {
        "task": "backups.tasks.sizes_collect_all",
        "schedule": crontab(hour=6, minute=10),
    },
}
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=730)

# --- Billing --------------------------------------------------------------------------------
# What Microsoft charges the MSP per GB-month of protected data, in USD (third-party list
# price; Microsoft's own product is 0.15). Shown beside revenue as cost and margin.
MICROSOFT_BACKUP_RATE_PER_GB_MONTH = Decimal(
    env.str("MICROSOFT_BACKUP_RATE_PER_GB_MONTH", default="0.07")
)
# Days after the end of a month before its draft invoices are finalized automatically.
BILLING_INVOICE_GRACE_DAYS = env.int("BILLING_INVOICE_GRACE_DAYS", default=3)
# Invoices are due this many days after finalization.
BILLING_PAYMENT_TERMS_DAYS = env.int("BILLING_PAYMENT_TERMS_DAYS", default=30)
# Gapless numbers per year: INV-2026-000123, CN-2026-000007.
BILLING_INVOICE_NUMBER_PREFIX = env.str("BILLING_INVOICE_NUMBER_PREFIX", default="INV")
BILLING_CREDIT_NOTE_NUMBER_PREFIX = env.str("BILLING_CREDIT_NOTE_NUMBER_PREFIX", default="CN")
# Who issues the invoices (printed on PDFs).
BILLING_ISSUER_NAME = env.str("BILLING_ISSUER_NAME", default="Cloud Backup Express")
BILLING_ISSUER_ADDRESS = env.str("BILLING_ISSUER_ADDRESS", default="")
# Tenants per transaction in the invoice run.
BILLING_RUN_BATCH_SIZE = env.int("BILLING_RUN_BATCH_SIZE", default=500)
# Days back the daily reconciliation looks for billable days without a usage record.
BILLING_RECONCILE_DAYS = env.int("BILLING_RECONCILE_DAYS", default=35)

# --- Backups (backups/conf.py holds every default; README "Backups") -----------------------
BACKUP_JOB_LEASE_SECONDS = env.int("BACKUP_JOB_LEASE_SECONDS", default=300)
BACKUP_JOB_MAX_RETRIES = env.int("BACKUP_JOB_MAX_RETRIES", default=8)
BACKUP_FOLLOW_POLL_SECONDS = env.int("BACKUP_FOLLOW_POLL_SECONDS", default=300)
BACKUP_FOLLOW_TIMEOUT_HOURS = env.int("BACKUP_FOLLOW_TIMEOUT_HOURS", default=12)
BACKUP_RESTORE_POLL_SECONDS = env.int("BACKUP_RESTORE_POLL_SECONDS", default=30)
BACKUP_BULK_ADDITION_THRESHOLD = env.int("BACKUP_BULK_ADDITION_THRESHOLD", default=500)
BACKUP_MAX_ACTIVE_RESTORE_SESSIONS = env.int("BACKUP_MAX_ACTIVE_RESTORE_SESSIONS", default=25)
BACKUP_RESTORE_MAX_ARTIFACTS = env.int("BACKUP_RESTORE_MAX_ARTIFACTS", default=500)
BACKUP_UNPROTECT_DELETED = env.bool("BACKUP_UNPROTECT_DELETED", default=True)

# --- Microsoft 365 --------------------------------------------------------------------------
# Production: https://login.microsoftonline.com and https://graph.microsoft.com with the
# MSP's app registration. Default: the local emulator (`python -m m365.emulator`).
M365_EMULATOR_URL = env.str("M365_EMULATOR_URL", default="https://127.0.0.1:8765")
M365_LOGIN_BASE_URL = env.str("M365_LOGIN_BASE_URL", default=M365_EMULATOR_URL)
M365_GRAPH_BASE_URL = env.str("M365_GRAPH_BASE_URL", default=M365_EMULATOR_URL)
M365_CLIENT_ID = env.str("M365_CLIENT_ID", default="5b0e6e4a-3f2c-4c1e-9d7a-cbe0e1a0b001")
M365_CLIENT_SECRET = env.str("M365_CLIENT_SECRET", default="") or dev_secret(
    VAR_DIR, "m365_client_secret"
)
M365_MSP_TENANT_ID = env.str("M365_MSP_TENANT_ID", default="0f5c4b1e-7a1d-4c8e-9e55-6d2b1a0c0d01")
# PEM file to trust for Microsoft's endpoints; empty means the system store (production).
M365_CA_BUNDLE = env.str("M365_CA_BUNDLE", default=str(VAR_DIR / "emulator" / "tls" / "ca.pem"))

# Consent journey (tenants/consent): links and states are single-use and expire.
CONSENT_LINK_VALID_HOURS = env.int("CONSENT_LINK_VALID_HOURS", default=7 * 24)
CONSENT_STATE_VALID_MINUTES = env.int("CONSENT_STATE_VALID_MINUTES", default=60)
# Tasks queued (with the tenant id) when an app profile turns active after a consent.
APP_PROFILE_ACTIVATED_TASKS = ["backups.tasks.backup_service_connect"]
# Days ahead a hand-over from an existing backup controller takes effect (Graph: 7 to 30).
BACKUP_HANDOVER_DAYS = env.int("BACKUP_HANDOVER_DAYS", default=7)
# The administrator's Microsoft sign-in: every URL and credential comes from the M365_*
# settings above (tenants/consent/backend.py); the pipeline never creates portal users.
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "tenants.consent.pipeline.complete_admin_sign_in",
)
SOCIAL_AUTH_LOGIN_ERROR_URL = "/consent/done/"
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_URL_NAMESPACE = "social"
SOCIAL_AUTH_REDIRECT_IS_HTTPS = env.bool("SOCIAL_AUTH_REDIRECT_IS_HTTPS", default=False)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # httpx logs full URLs at INFO; they can carry consent state and codes.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "msal": {"level": "WARNING"},
    },
}
