"""The `/api/v1/` router. Each app registers its viewsets through its `api/urls.py`."""

from django.utils.module_loading import import_string
from rest_framework.routers import DefaultRouter

API_APPS = ("tenants", "backups", "billing")


class PortalRouter(DefaultRouter):
    include_format_suffixes = False


router = PortalRouter()
for app in API_APPS:
    try:
        register = import_string(f"{app}.api.urls.register")
    except ImportError:
        continue
    register(router)

urlpatterns = router.urls
