"""The emulator as an HTTP server: the API under ``/client/v4`` on a loopback address."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .failures import CODE_NO_ROUTE, ApiFailure
from .routes import Router

API_PREFIX = "/client/v4"
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def create_app(router: Router) -> Starlette:
    """A Starlette app that serves ``router`` under ``/client/v4``."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        reply = await run_in_threadpool(
            router.handle,
            request.method,
            request.url.path,
            request.query_params.multi_items(),
            request.headers,
            body,
        )
        return Response(reply.content(), status_code=reply.status, headers=reply.headers)

    async def no_route(request: Request) -> Response:
        failure = ApiFailure(404, [(CODE_NO_ROUTE, "No route for the URI")])
        return JSONResponse(failure.envelope(), status_code=failure.status)

    return Starlette(
        routes=[
            Route(API_PREFIX + "/{rest:path}", endpoint, methods=METHODS),
            Route("/{rest:path}", no_route, methods=METHODS),
        ]
    )


class EmulatorServer:
    """Run the HTTP emulator in a background thread; a context manager that always stops it.

    ``port=0`` picks a free port; ``base_url`` is what ``CLOUDFLARE_BASE_URL`` should be set to.
    """

    def __init__(self, router: Router | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.router = router if router is not None else Router()
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(create_app(self.router), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]})

    @property
    def base_url(self) -> str:
        """The API base URL this server answers on."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    def start(self) -> EmulatorServer:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
