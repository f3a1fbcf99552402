"""The sign-in, consent and error pages of the identity platform, as plain accessible HTML.

Inputs are named `username` / `password` with `<label for>`; buttons read "Sign in",
"Accept" and "Cancel" (browser tests find them by role and name). Every page posts back to
the URL it was served from, carrying the original query as hidden fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from werkzeug.wrappers import Response

_STYLE = """
body{font-family:Segoe UI,Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0}
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem 2.5rem;
box-shadow:0 2px 6px rgba(0,0,0,.2)}
label{display:block;margin-top:1rem;font-weight:600}
input[type=email],input[type=text],input[type=password]{width:100%;padding:.5rem;
box-sizing:border-box;margin-top:.25rem;font-size:1rem}
button{margin-top:1.5rem;margin-right:.5rem;padding:.5rem 1.5rem;font-size:1rem}
.primary{background:#0067b8;color:#fff;border:0}
.alert{color:#a80000;margin-top:1rem}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in fields.items()
        if v is not None
    )


def sign_in(
    *,
    action: str,
    hidden: Mapping[str, str],
    heading: str,
    username: str = "",
    error: str | None = None,
) -> Response:
    alert = f'<p class="alert" role="alert">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Sign in</h1>"
        f"<p>{escape(heading)}</p>{alert}"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        '<input type="hidden" name="stage" value="signin">'
        '<label for="username">Username</label>'
        f'<input id="username" name="username" type="email" autocomplete="username" '
        f'value="{escape(username)}" required>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit" class="primary">Sign in</button>'
        "</form>"
    )
    return _page("Sign in to your account", body, 401 if error else 200)


def consent(
    *,
    action: str,
    hidden: Mapping[str, str],
    app_name: str,
    publisher: str,
    user_name: str,
    rows: Iterable[tuple[str, str, str, str]],
    can_accept: bool,
    on_behalf_of_org: bool,
) -> Response:
    table_rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(kind)}</td><td>{escape(resource)}</td>"
        f"<td>{escape(description)}</td></tr>"
        for name, kind, resource, description in rows
    )
    if can_accept:
        intro = (
            f"<p>{escape(app_name)} ({escape(publisher)}) needs permission to access resources "
            "in your organization that only an admin can grant."
            + (
                " Accepting consents on behalf of your entire organization."
                if on_behalf_of_org
                else ""
            )
            + "</p>"
        )
        buttons = (
            '<button type="submit" name="decision" value="accept" class="primary">Accept</button>'
            '<button type="submit" name="decision" value="cancel">Cancel</button>'
        )
    else:
        intro = (
            '<p class="alert" role="alert"><strong>Need admin approval.</strong> '
            f"{escape(app_name)} needs permission to access resources in your organization "
            "that only an admin can grant. Please ask an admin to grant permission to this app "
            "before you can use it.</p>"
        )
        buttons = '<button type="submit" name="decision" value="cancel">Cancel</button>'
    body = (
        "<h1>Permissions requested</h1>"
        f"<p>Signed in as {escape(user_name)}</p>{intro}"
        "<table><caption>This app would like to:</caption>"
        '<thead><tr><th scope="col">Permission</th><th scope="col">Type</th>'
        '<th scope="col">API</th><th scope="col">Description</th></tr></thead>'
        f"<tbody>{table_rows}</tbody></table>"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        '<input type="hidden" name="stage" value="consent">'
        f"{buttons}</form>"
    )
    return _page("Permissions requested", body)


def error(code: int, message: str, status: int = 400) -> Response:
    body = (
        "<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p class="alert" role="alert">AADSTS{code}: {escape(message)}</p>'
    )
    return _page("Sign in error", body, status)
