"""The emulator as an HTTP server: the API under ``/client/v4`` on a loopback address.

Built on the standard library's threading HTTP server (HTTP/1.1, keep-alive), because an injected
connection reset must really drop the TCP connection, which ASGI servers do not let an app do.

Each response leaves in a single write, with Nagle's algorithm off: a response split into a header write
and a body write would otherwise wait for the client's delayed ACK (about 40 ms) on every keep-alive
request.
"""

from __future__ import annotations

import re
import socket
import struct
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from .failures import CODE_INVALID, CODE_METHOD, CODE_NO_ROUTE, CODE_SERVER, ApiFailure
from .routes import EmulatorResponse, Router

API_PREFIX = "/client/v4"
_JSON = {"content-type": "application/json"}
_LENGTH = re.compile(r"[0-9]+")
IDLE_SECONDS = 300.0
"""How long a connection may stay silent (idle between requests, or stalled mid-request) before it is closed,
so that a client that never finishes cannot hold a server thread for ever."""
_ERROR_CODES = {404: CODE_NO_ROUTE, 405: CODE_METHOD, 501: CODE_METHOD}
"""The API error code for a status the standard library's request parsing answers with."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_SECONDS
    server: _Server

    def _answer(self) -> None:
        try:
            reply = self._reply()
            content = reply.content()
        except ApiFailure as failure:
            reply, content = _failure(failure)
        except Exception as exc:
            # Answer like the API's own internal error; the traceback still goes to stderr for whoever debugs.
            self.server.handle_error(self.request, self.client_address)
            reply, content = _failure(
                ApiFailure(500, [(CODE_SERVER, f"Internal emulator error: {type(exc).__name__}")])
            )
        if reply.drop_connection:
            # RST instead of FIN: the client sees a reset, as when a connection breaks mid-request.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self._send(reply.status, reply.headers, content)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def _reply(self) -> EmulatorResponse:
        url = urlsplit(self.path)
        length = self._content_length()
        try:
            body = self.rfile.read(length) if length else b""
        except TimeoutError:
            self.close_connection = True
            raise ApiFailure(
                408, [(CODE_INVALID, f"the request body did not arrive within {self.timeout:g} s")]
            ) from None
        if len(body) < length:
            # The client went away mid-body: there is no one left to answer.
            return EmulatorResponse(0, None, drop_connection=True)
        if not url.path.startswith(API_PREFIX + "/"):
            raise ApiFailure(404, [(CODE_NO_ROUTE, "No route for the URI")])
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qsl(url.query, keep_blank_values=True)
        return self.server.router.handle(self.command, url.path, query, headers, body)

    def _content_length(self) -> int:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiFailure(411, [(CODE_INVALID, "Transfer-Encoding is not supported: send a Content-Length")])
        values = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        value = values.pop() if len(values) == 1 else ""  # differing repeated lengths are as bad as none
        if not _LENGTH.fullmatch(value):
            # Where this request's body ends is unknown, so nothing after it on the connection can be read.
            self.close_connection = True
            raise ApiFailure.invalid("Content-Length: is not a valid length")
        return int(value)

    def _send(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        """Write the status line, headers and body in one write (``wfile`` is unbuffered)."""
        phrase = self.responses[status][0] if status in self.responses else ""
        lines = [
            f"{self.protocol_version} {status} {phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            *(f"{name}: {value}" for name, value in headers.items()),
            f"Content-Length: {len(content)}",
        ]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        self.wfile.write(head if self.command == "HEAD" else head + content)
        self.log_request(status, len(content))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a request the standard library refuses (malformed, unsupported method) with the API's
        failure envelope, then close: the rest of the connection cannot be trusted to be in step."""
        self.close_connection = True
        error = _ERROR_CODES.get(code, CODE_SERVER if code >= 500 else CODE_INVALID)
        text = message or (self.responses[code][0] if code in self.responses else "Error")
        _, content = _failure(ApiFailure(code, [(error, text)]))
        self._send(code, _JSON, content)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and `cfes emulator` print what matters themselves


def _failure(failure: ApiFailure) -> tuple[EmulatorResponse, bytes]:
    reply = EmulatorResponse(failure.status, failure.envelope(), dict(_JSON))
    return reply, reply.content()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    router: Router

    def handle_error(self, request: object, client_address: object) -> None:
        """Print a handler's unexpected error, but not a client that went away: clients drop connections."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


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
