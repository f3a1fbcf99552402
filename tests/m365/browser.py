"""A tiny scripted browser for the emulator's sign-in and consent pages (admin consent and
authorization-code flows), so contract tests and the benchmark consent as an admin would.

It reads the HTML forms generically (no knowledge of the emulator's markup beyond "a form
with a password field signs in; a form with Accept/Cancel buttons consents")."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    password_fields: list[str] = field(default_factory=list)
    text_fields: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, label)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), (a.get("method") or "get").upper()))
        elif not self.forms:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name", "")
            if kind in ("submit", "button"):
                self.forms[-1].buttons.append((name, a.get("value", ""), a.get("value", "")))
            elif name and kind == "password":
                self.forms[-1].password_fields.append(name)
            elif name and kind in ("text", "email"):
                self.forms[-1].text_fields.append(name)
                self.forms[-1].fields[name] = a.get("value", "")
            elif name and kind == "checkbox":
                if "checked" in a:
                    self.forms[-1].fields[name] = a.get("value", "on")
            elif name:
                self.forms[-1].fields[name] = a.get("value", "")
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, label = self._button
            self.forms[-1].buttons.append((name, value, label.strip() or value))
            self._button = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class FlowError(AssertionError):
    """The pages did not lead where the flow expected (the emulator page is shown)."""


def drive(
    client: httpx.Client,
    url: str,
    *,
    username: str,
    password: str,
    accept: bool = True,
    redirect_prefix: str,
    max_steps: int = 10,
) -> dict[str, str]:
    """Open `url`, sign in, Accept (or Cancel) consent, and return the query parameters of
    the final redirect to `redirect_prefix`. Raises FlowError on a page with no way on."""
    response = client.get(url)
    for _ in range(max_steps):
        if response.status_code in (301, 302, 303, 307, 308):
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(redirect_prefix):
                return dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
            response = client.get(location)
            continue
        forms = parse_forms(response.text)
        if not forms:
            raise FlowError(f"HTTP {response.status_code}, no form: {response.text[:500]}")
        form = forms[0]
        data = dict(form.fields)
        if form.password_fields:
            for name in form.text_fields or ["username"]:
                data[name] = username
            data[form.password_fields[0]] = password
            button = form.buttons[0] if form.buttons else None
        else:
            wanted = ("accept", "yes", "allow") if accept else ("cancel", "no", "deny")
            button = next(
                (b for b in form.buttons if any(w in (b[2] or b[1]).lower() for w in wanted)), None
            )
            if button is None:
                raise FlowError(
                    f"no {'accept' if accept else 'cancel'} button: {response.text[:500]}"
                )
        if button is not None and button[0]:
            data[button[0]] = button[1]
        target = urljoin(str(response.url), form.action or str(response.url))
        if form.method == "POST":
            response = client.post(target, data=data)
        else:
            response = client.get(target, params=data)
    raise FlowError("too many steps")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def browser(ca_path: str) -> httpx.Client:
    """A cookie-keeping client that does not follow redirects by itself."""
    import ssl

    return httpx.Client(
        verify=ssl.create_default_context(cafile=ca_path),
        trust_env=False,
        follow_redirects=False,
        timeout=30,
    )
