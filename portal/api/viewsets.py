"""Base viewsets: every API view narrows its queryset with `visible_to(principal)` here and
nowhere else. Subclasses may not override `get_queryset` (the check runs at class creation),
so no endpoint can forget the tenant filter. Another tenant's object answers 404.

Writes go through services so that each one is validated, transactional and audited; the
default `perform_*` hooks refuse to write directly.
"""

from rest_framework import mixins, viewsets

from tenants.principals import Principal, request_principal


class ScopedViewSetMixin:
    # Actions customers and tenant-owned keys may call (reads by default). MSP principals may
    # call every action their Django permissions allow.
    customer_actions: tuple[str, ...] = ("list", "retrieve")
    # Django permission per custom action, e.g. {"suspend": "tenants.change_tenant"}.
    action_permissions: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; set `queryset` instead so that "
                "tenant scoping stays in ScopedViewSetMixin."
            )

    @property
    def principal(self) -> Principal:
        return request_principal(self.request)

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.visible_to(self.principal)

    def tenant_id_of(self, obj) -> int | None:
        """The id of the tenant that owns `obj`, following the queryset's scope field."""
        path = type(self).queryset.scope_field
        if path == "pk":
            return obj.pk
        *parents, last = path.split("__")
        for name in parents:
            obj = getattr(obj, name)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id")

    def perform_create(self, serializer):
        raise NotImplementedError(f"{type(self).__name__}: create through a service")

    def perform_update(self, serializer):
        raise NotImplementedError(f"{type(self).__name__}: update through a service")

    def perform_destroy(self, instance):
        raise NotImplementedError(f"{type(self).__name__}: delete through a service")


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class ScopedCreateReadViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    pass
