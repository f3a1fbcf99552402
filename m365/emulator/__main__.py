"""`python -m m365.emulator --port 8765 --state-dir var/emulator [--tenants-file FILE]`."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from .certs import ensure_tls_files
from .errors import ControlError
from .server import EmulatorApp, TlsThreadingServer
from .world import Durations, World


def _load_tenants_file(world: World, path: Path) -> None:
    """Register the apps and create the tenants a JSON file lists (existing ones are kept).

    The file is either a list of tenant bodies or {"apps": {appId: body} | [body],
    "tenants": [body]}, with the bodies of the control API.
    """
    from .control import _validate_app

    document: Any = json.loads(path.read_text())
    if isinstance(document, list):
        document = {"tenants": document}
    apps = document.get("apps") or {}
    if isinstance(apps, list):
        apps = {a["appId"]: a for a in apps}
    for app_id, body in apps.items():
        app = _validate_app(app_id, body)
        with world.mutation() as data:
            data["apps"][app["appId"]] = app
    for body in document.get("tenants") or []:
        try:
            world.create_tenant(body)
        except ControlError as err:
            if err.status != 409:
                raise


def _durations(parser: argparse.ArgumentParser, overrides: list[str]) -> Durations:
    known = {f.name for f in fields(Durations)}
    values: dict[str, float] = {}
    for item in overrides:
        name, _, raw = item.partition("=")
        try:
            values[name] = float(raw)
        except ValueError:
            parser.error(f"--duration {item}: SECONDS must be a number")
        if name not in known or values[name] < 0:
            parser.error(f"--duration {item}: unknown name or negative value")
    return replace(Durations(), **values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m m365.emulator", description="A local Microsoft 365 over HTTPS."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--state-dir", default="var/emulator", type=Path)
    parser.add_argument("--tenants-file", type=Path)
    parser.add_argument(
        "--duration",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="override a simulated duration, e.g. unit_protect=5 (repeatable; "
        f"names: {', '.join(f.name for f in fields(Durations))})",
    )
    args = parser.parse_args(argv)
    durations = _durations(parser, args.duration)

    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    tls = ensure_tls_files(state_dir)
    world = World(state_dir, durations)
    if args.tenants_file:
        _load_tenants_file(world, args.tenants_file)
    server = TlsThreadingServer(args.host, args.port, EmulatorApp(world), tls.server_context())

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host  # noqa: S104
    print(f"CA file: {tls.ca_cert}", flush=True)
    print(f"Base URL: https://{host}:{server.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
