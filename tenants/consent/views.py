"""The public consent pages. The link itself is the credential (single-use, expiring): an
administrator of the customer needs no portal account."""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from social_django.views import auth as social_begin

from tenants.choices import ConsentOutcome
from tenants.consent.backend import CustomerAdminSignIn
from tenants.consent.pipeline import SESSION_ERROR, SESSION_REQUEST
from tenants.exceptions import ConsentError
from tenants.manifest import manifest
from tenants.models import ConsentRequest
from tenants.services.onboarding import consent_callback, consent_request_for_link


@never_cache
@require_http_methods(["GET", "POST"])
def start(request, token: str):
    """What the app will be allowed to do and why; 'Sign in with Microsoft' starts it."""
    try:
        consent = consent_request_for_link(token=token, now=timezone.now())
    except ConsentError as exc:
        return render(request, "consent/invalid.html", {"message": exc.message}, status=410)
    if request.method == "POST":
        request.session[SESSION_REQUEST] = consent.pk
        request.session.pop(SESSION_ERROR, None)
        return social_begin(request, backend=CustomerAdminSignIn.name)
    return render(
        request,
        "consent/start.html",
        {
            "consent": consent,
            "tenant": None,
            "consent_tenant": consent.tenant,
            "permissions": manifest(),
        },
    )


@never_cache
@require_GET
def callback(request):
    """Microsoft's redirect after admin consent."""
    try:
        step = consent_callback(params=request.GET.dict(), now=timezone.now())
    except ConsentError as exc:
        request.session[SESSION_ERROR] = exc.message
        return redirect("consent:done")
    request.session[SESSION_REQUEST] = step.request.pk
    return redirect("consent:done")


@never_cache
@require_GET
def done(request):
    """The outcome, for the browser that went through the journey."""
    error = request.session.pop(SESSION_ERROR, None)
    consent = None
    if request_id := request.session.get(SESSION_REQUEST):
        consent = (
            ConsentRequest.objects.select_related("tenant", "profile").filter(pk=request_id).first()
        )
    if error is None and consent is not None and consent.outcome == ConsentOutcome.FAILED:
        error = consent.failure_detail or consent.get_failure_display()
    if error is None and consent is None:
        error = "There is no consent in progress in this browser."
    return render(
        request,
        "consent/done.html",
        {
            "error": error,
            "consent": consent,
            "succeeded": consent is not None
            and consent.outcome == ConsentOutcome.SUCCEEDED
            and error is None,
        },
        status=200 if error is None else 400,
    )
