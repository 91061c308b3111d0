"""Where requests go: one pooled httpx client per process for the network, one per embedded state file.

Clients are created lazily, shared by every thread, and never pickled. A base URL of the form
``embedded:PATH`` is answered by the in-process emulator persisted to ``PATH``; any other base URL is
checked (:func:`.credentials.check_base_url`) before a client is handed out for it.

httpx has no limit on a request's total time, only on each read and write, so a server that trickles its
answer a byte at a time keeps a request alive for ever. Under :func:`time_limit`, every socket operation of
the network client (connect, TLS, each write and read, headers and body alike) waits at most until the
limit, and none starts after it, so the request ends with a timeout when the limit comes.
"""

from __future__ import annotations

import contextvars
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpcore
import httpx

from .credentials import EMBEDDED_PREFIX, check_base_url
from .errors import ConfigurationError

EMBEDDED_ORIGIN = "http://embedded.emulator/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "pulumi-cloudflare-email-security"


class TimeLimit:
    """The moment by which the current request must be over (``time.monotonic()`` seconds)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        """Whether the limit has come."""
        return time.monotonic() >= self.ends

    def bound(self, timeout: float | None, error: type[Exception]) -> float:
        """``timeout`` shortened to the time left; ``error`` when none is left."""
        left = self.ends - time.monotonic()
        if left <= 0:
            raise error(f"no time left: the request's time limit of {self.seconds:.1f}s has passed")
        return left if timeout is None else min(timeout, left)


_LIMIT: contextvars.ContextVar[TimeLimit | None] = contextvars.ContextVar("cfes_time_limit", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[TimeLimit]:
    """Bound the network requests made in this block (by this thread) to ``seconds`` in total."""
    limit = TimeLimit(seconds)
    token = _LIMIT.set(limit)
    try:
        yield limit
    finally:
        _LIMIT.reset(token)


def _bound(timeout: float | None, error: type[Exception]) -> float | None:
    limit = _LIMIT.get()
    return timeout if limit is None else limit.bound(timeout, error)


class _LimitedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _LimitedStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _LimitedBackend(httpcore.NetworkBackend):
    """A network backend whose every socket operation respects the current :func:`time_limit`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _LimitedStream(self._backend.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _LimitedStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _limit_sockets(client: httpx.Client) -> None:
    """Put every connection pool of ``client`` (proxies from the environment included) under
    :func:`time_limit`. httpx offers no public hook for this, hence the private names; the tests of a
    trickling server fail if they ever change."""
    for transport in (client._transport, *client._mounts.values()):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _LimitedBackend):
            pool._network_backend = _LimitedBackend(backend)  # type: ignore[union-attr]


class _HttpPool:
    """The process's shared httpx clients: one for the network, one per embedded state file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, httpx.Client] = {}

    def get(self, base_url: str, source: str) -> httpx.Client:
        key = base_url if base_url.startswith(EMBEDDED_PREFIX) else "network"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._new(base_url, source)
            return client

    @staticmethod
    def _new(base_url: str, source: str) -> httpx.Client:
        headers = {"User-Agent": USER_AGENT}
        if base_url.startswith(EMBEDDED_PREFIX):
            transport = _embedded_transport(base_url, source)
            return httpx.Client(transport=transport, headers=headers, timeout=DEFAULT_TIMEOUT)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
        client = httpx.Client(headers=headers, timeout=DEFAULT_TIMEOUT, limits=limits)
        _limit_sockets(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def _embedded_transport(base_url: str, source: str) -> httpx.BaseTransport:
    """The in-process emulator for an ``embedded:PATH`` base URL; a bad PATH raises ``ConfigurationError``."""
    from .emulator import EmbeddedTransport  # the emulator is loaded only when asked for

    raw = base_url.removeprefix(EMBEDDED_PREFIX)
    if not raw.strip():
        raise ConfigurationError(
            f"{source} is {base_url!r}, which names no emulator state file: set it to embedded:PATH, "
            f"PATH a JSON file (existing or new) in a writable directory, e.g. embedded:./emulator-state.json."
        )
    try:
        path = Path(raw).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise ConfigurationError(
            f"{source} is {base_url!r}, whose path cannot be resolved ({exc}): name a plain file path."
        ) from None
    return EmbeddedTransport(path, origin=f"{source}={base_url}")


_POOL = _HttpPool()


def pooled_client(base_url: str, source: str) -> tuple[httpx.Client, str]:
    """The shared client for ``base_url``, and the URL prefix to put before API paths.

    ``source`` names where ``base_url`` came from (see ``resolve_base_url_setting``), for the message of
    the ``ConfigurationError`` raised when ``base_url`` is not one credentials may be sent to, or when an
    ``embedded:PATH`` cannot hold the emulator's state.
    """
    check_base_url(base_url, source)
    origin = EMBEDDED_ORIGIN if base_url.startswith(EMBEDDED_PREFIX) else base_url
    return _POOL.get(base_url, source), origin


def close_shared_clients() -> None:
    """Close the process's pooled HTTP connections (they reopen on the next call)."""
    _POOL.close()
