"""One permission class for every endpoint.

- Anonymous callers get 401.
- Reads are open to every authenticated principal; `visible_to` decides what they see.
- Writes need a principal that is not read-only, allowed for the viewset's audience
  (`customer_actions` lists what customers and tenant keys may do) and, for MSP staff, the
  Django model permission of the action (or `action_permissions` for custom actions).
- Object writes also need write access to the object's tenant (customer viewers cannot).
"""

from rest_framework import permissions

from tenants.principals import request_principal

ACTION_PERMS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


class PortalPermission(permissions.BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        principal = request_principal(request)
        if not principal.is_authenticated:
            return False
        action = getattr(view, "action", None) or ""
        if not principal.is_msp and action not in self._customer_actions(view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return self._staff_perm_ok(principal, view, action)
        if principal.read_only:
            self.message = "This credential is read-only."
            return False
        return self._staff_perm_ok(principal, view, action)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        principal = request_principal(request)
        return principal.can_write_tenant(view.tenant_id_of(obj))

    @staticmethod
    def _customer_actions(view) -> frozenset[str]:
        return frozenset(getattr(view, "customer_actions", ()))

    @staticmethod
    def _staff_perm_ok(principal, view, action: str) -> bool:
        if not principal.is_msp:
            return True
        perm = getattr(view, "action_permissions", {}).get(action)
        if perm is None:
            model = view.get_queryset().model
            verb = ACTION_PERMS.get(action, "view")
            perm = f"{model._meta.app_label}.{verb}_{model._meta.model_name}"
        return principal.has_staff_perm(perm)
