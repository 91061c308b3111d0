"""Serving the emulator to httpx: as an in-process transport (embedded mode) and for respx side effects."""

from __future__ import annotations

import os

import httpx

from .persistence import StateFile
from .routes import Router


def answer(router: Router, request: httpx.Request) -> httpx.Response:
    """Let ``router`` answer an httpx request."""
    reply = router.handle(
        request.method,
        request.url.path,
        request.url.params.multi_items(),
        request.headers,
        request.read(),
    )
    if reply.drop_connection:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    return httpx.Response(reply.status, headers=reply.headers, content=reply.content())


class EmbeddedTransport(httpx.BaseTransport):
    """An httpx transport that answers from an emulator persisted to ``state_path``, in this process.

    The state file is checked and loaded when the transport is made. A :class:`StateFileError` (a
    ``ConfigurationError``) is raised to the caller as is, never turned into an HTTP answer that a client
    would retry. ``origin`` says where the path came from, for error messages.
    """

    def __init__(self, state_path: str | os.PathLike[str], *, origin: str | None = None) -> None:
        self.state = StateFile(state_path, origin=origin).open()
        # The transaction wraps the router rather than running inside it, so that state file errors reach
        # the caller instead of the router's error answers.
        self.router = Router(self.state.backend)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request."""
        with self.state.transaction():
            return answer(self.router, request)
