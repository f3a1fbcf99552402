"""The social-auth pipeline of the consent journey.

It never creates or logs in a portal user: the last step hands the verified claims and the
refresh token to the onboarding service and answers with a redirect, which ends the
pipeline. So no UserSocialAuth row (whose extra_data would hold tokens in clear) is written.
"""

from django.shortcuts import redirect
from social_core.exceptions import AuthPolicyError

from tenants.exceptions import ConsentError
from tenants.services.onboarding import consent_sign_in_complete

SESSION_REQUEST = "consent_request_id"
SESSION_ERROR = "consent_error"


def complete_admin_sign_in(strategy, backend, response, *args, **kwargs):
    request_id = strategy.session_get(SESSION_REQUEST)
    if not request_id:
        # The portal uses Microsoft sign-in only inside a consent journey.
        raise AuthPolicyError(backend, "Microsoft sign-in is used only to authorize the app.")
    try:
        step = consent_sign_in_complete(
            request_id=request_id, claims=response, refresh_token=response.get("refresh_token", "")
        )
    except ConsentError as exc:
        strategy.session_set(SESSION_ERROR, exc.message)
        return redirect("consent:done")
    if step.redirect_to:
        return redirect(step.redirect_to)
    return redirect("consent:done")
