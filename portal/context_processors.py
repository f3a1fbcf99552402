from tenants.principals import request_principal


def navigation(request):
    """The signed-in principal and the tenants they can open, for the base layout."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    principal = request_principal(request)
    return {"principal": principal}
