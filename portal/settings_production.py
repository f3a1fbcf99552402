"""Production profile: every secret from the environment, HTTPS only, no embedded defaults.

`DJANGO_SETTINGS_MODULE=portal.settings_production python manage.py check --deploy` reports
nothing when the environment below is set.
"""

from portal.settings import *  # noqa: F403
from portal.settings import DATABASES, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
M365_CLIENT_SECRET = env.str("M365_CLIENT_SECRET")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES["default"] = env.db_url("DATABASE_URL")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
M365_LOGIN_BASE_URL = env.str("M365_LOGIN_BASE_URL", default="https://login.microsoftonline.com")
M365_GRAPH_BASE_URL = env.str("M365_GRAPH_BASE_URL", default="https://graph.microsoft.com")
M365_CA_BUNDLE = env.str("M365_CA_BUNDLE", default="")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SOCIAL_AUTH_REDIRECT_IS_HTTPS = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# /healthz is probed over plain HTTP by load balancers inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
