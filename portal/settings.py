# Placeholder replaced by the platform core; kept minimal so helpers' test runs can start.
SECRET_KEY = "placeholder"
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
