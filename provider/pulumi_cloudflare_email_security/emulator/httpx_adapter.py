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
    """An httpx transport that answers from an emulator persisted to ``state_path``, in this process."""

    def __init__(self, state_path: str | os.PathLike[str]) -> None:
        self.state = StateFile(state_path)
        self.router = Router(self.state.backend, around=self.state.transaction)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request."""
        return answer(self.router, request)
