"""The WSGI application that routes the four roles, and the threaded HTTPS server.

Werkzeug's threaded server wraps its listening socket in TLS, which makes the accepting
thread perform every handshake (and it closes every connection after one answer, so there
is one handshake per request). `TlsThreadingServer` accepts plain sockets and performs the
handshake in the request's own thread, so a slow client never holds up the others, and
sets TCP_NODELAY so small answers are not held back.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import sys
import traceback
from socket import IPPROTO_TCP, TCP_NODELAY, socket

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .control import ControlApp
from .graph import reports
from .graph.app import GraphApp
from .identity.app import IdentityApp
from .world import World

_GRAPH_VERSIONS = ("v1.0", "beta")


class EmulatorApp:
    def __init__(self, world: World) -> None:
        self.world = world
        self.graph = GraphApp(world)
        self.identity = IdentityApp(world)
        self.control = ControlApp(world)

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # never an HTML 500
            traceback.print_exc(file=sys.stderr)
            response = Response(
                json.dumps(
                    {
                        "error": {
                            "code": "generalException",
                            "message": "An unexpected error occurred.",
                        }
                    }
                ),
                status=500,
                content_type="application/json",
            )
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self.control.handle(request)
        if path.startswith("/_downloads/"):
            return reports.download(self.world, request)
        for version in _GRAPH_VERSIONS:
            if path == f"/{version}" or path.startswith(f"/{version}/"):
                return self.graph.handle(request, version, path[len(version) + 1 :])
        if path == "/":
            return Response(
                json.dumps({"emulator": "Microsoft 365", "control": "/_emulator/"}),
                content_type="application/json",
            )
        return self.identity.handle(request)


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class TlsThreadingServer(ThreadedWSGIServer):
    request_queue_size = 256

    def __init__(self, host: str, port: int, app, context: ssl.SSLContext) -> None:
        super().__init__(host, port, app, handler=QuietRequestHandler)
        self._tls = context
        # Set after construction so the listening socket itself stays plain; Werkzeug reads
        # it to report wsgi.url_scheme = https.
        self.ssl_context = context

    def finish_request(self, request: socket, client_address) -> None:
        request.settimeout(60)
        # Without it Nagle's algorithm and delayed ACKs add ~12 ms to every answer.
        request.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
        try:
            tls = self._tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that gave up or does not speak TLS
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.close()
