"""The emulator as an HTTP server: the API under ``/client/v4`` on a loopback address.

Built on the standard library's threading HTTP server (HTTP/1.1, keep-alive), because an injected
connection reset must really drop the TCP connection, which ASGI servers do not let an app do.
"""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from .failures import CODE_NO_ROUTE, ApiFailure
from .routes import EmulatorResponse, Router

API_PREFIX = "/client/v4"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not url.path.startswith(API_PREFIX + "/"):
            failure = ApiFailure(404, [(CODE_NO_ROUTE, "No route for the URI")])
            reply = EmulatorResponse(404, failure.envelope(), {"content-type": "application/json"})
        else:
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = parse_qsl(url.query, keep_blank_values=True)
            reply = self.server.router.handle(self.command, url.path, query, headers, body)
        if reply.drop_connection:
            # RST instead of FIN: the client sees a reset, as when a connection breaks mid-request.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        content = reply.content()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and `cfes emulator` print what matters themselves


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    router: Router


class EmulatorServer:
    """Run the HTTP emulator in a background thread; a context manager that always stops it.

    ``port=0`` picks a free port; ``base_url`` is what ``CLOUDFLARE_BASE_URL`` should be set to.
    """

    def __init__(self, router: Router | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.router = router if router is not None else Router()
        self.host = host
        self._server = _Server((host, port), _Handler)
        self._server.router = self.router
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1})

    @property
    def base_url(self) -> str:
        """The API base URL this server answers on."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    def start(self) -> EmulatorServer:
        """Start serving (the socket is already listening)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wait for the thread to end."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
