"""Where requests go: one pooled httpx client per process for the network, one per embedded state file.

Clients are created lazily, shared by every thread, and never pickled. A base URL of the form
``embedded:PATH`` is answered by the in-process emulator persisted to ``PATH``; any other base URL is
checked (:func:`.credentials.check_base_url`) before a client is handed out for it.

httpx has no limit on a request's total time, only on each read and write, so a server that trickles its
answer a byte at a time keeps a request alive for ever. Under :func:`time_limit`, every socket operation of
the network client (connect, TLS, each write and read, headers and body alike) waits at most until the
limit, and none starts after it, so the request ends with a timeout when the limit comes. The network
client's transports (:class:`DeadlineTransport`, one for direct connections and one per proxy the
environment names) are built on httpx's and httpcore's public API for that.
"""

from __future__ import annotations

import contextvars
import ipaddress
import ssl
import threading
import time
import urllib.request
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

ENGINE_THREADS = 4
"""How many calls the Pulumi engine has one provider process serve at once: the worker threads of the Pulumi
SDK's dynamic provider server, which a provider cannot change."""
CALLS_PER_ENGINE_CALL = 8
"""How many requests one engine call sends at once, at most: a set's single calls (``set_write``) run on this
many threads; every other call sends one request at a time."""
MAX_CONNECTIONS = ENGINE_THREADS * CALLS_PER_ENGINE_CALL
"""The network pool's size: every request the provider process can have in flight at once gets a connection
without waiting for another request's, since a wait for a free connection is not cut off at the retry deadline
as a socket operation is, and would only end at httpx's pool timeout."""


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


_HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)
"""httpcore's errors and the httpx errors they stand for, each before its base classes: what httpx's own
transport raises for them, so that callers see the same errors through this one."""


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """Raise httpcore's errors as httpx's (:data:`_HTTPCORE_ERRORS`)."""
    try:
        yield
    except Exception as exc:
        for theirs, ours in _HTTPCORE_ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _ResponseBody(httpx.SyncByteStream):
    """An answer's body as httpcore reads it, its errors raised as httpx's."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if callable(close):
            with _as_httpx_errors():
                close()


class DeadlineTransport(httpx.BaseTransport):
    """An httpx transport whose every socket operation respects the current :func:`time_limit`.

    It is httpx's own ``HTTPTransport`` but for the one thing that one does not let a caller choose:
    httpcore's connection pool (direct, or through ``proxy``) is built here, public API only, over a
    network backend that bounds each connect, TLS handshake, write and read by the limit. TLS is set up as
    httpx sets it up (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured).
    """

    def __init__(self, limits: httpx.Limits, proxy: httpx.Proxy | None = None) -> None:
        self._pool = _connection_pool(limits, proxy)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool; httpcore's errors are raised as the httpx errors they stand for."""
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("DeadlineTransport sends requests with a synchronous body only")
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            answer = self._pool.handle_request(sent)
        if not isinstance(answer.stream, Iterable):
            raise TypeError("httpcore's synchronous pool answered with an asynchronous body")
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_ResponseBody(answer.stream),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        """Close the pool's connections."""
        with _as_httpx_errors():
            self._pool.close()


def _connection_pool(limits: httpx.Limits, proxy: httpx.Proxy | None) -> httpcore.ConnectionPool:
    """httpcore's pool for ``limits``, through ``proxy`` if any, as ``httpx.HTTPTransport`` builds it, but over
    :class:`_LimitedBackend`."""
    ssl_context = httpx.create_ssl_context(trust_env=True)
    backend = _LimitedBackend(httpcore.SyncBackend())
    if proxy is None:
        return httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
    url = httpcore.URL(
        scheme=proxy.url.raw_scheme, host=proxy.url.raw_host, port=proxy.url.port, target=proxy.url.raw_path
    )
    if proxy.url.scheme in ("http", "https"):
        return httpcore.HTTPProxy(
            proxy_url=url,
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            ssl_context=ssl_context,
            proxy_ssl_context=proxy.ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
    return httpcore.SOCKSProxy(  # httpx.Proxy takes no other scheme
        proxy_url=url,
        proxy_auth=proxy.raw_auth,
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )


def environment_proxies() -> dict[str, str | None]:
    """The proxies the environment names (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, and the hosts
    ``NO_PROXY`` exempts, as ``None``), keyed by httpx's URL patterns for mounts: what ``httpx.Client`` reads
    when it builds its own transports (``trust_env``), which it does not when given one, as the network client
    is."""
    found = urllib.request.getproxies()
    proxies: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if found.get(scheme):
            url = found[scheme]
            proxies[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (h.strip() for h in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if host:
            proxies[_no_proxy_pattern(host)] = None
    return proxies


def _no_proxy_pattern(host: str) -> str:
    """The mount pattern of one ``NO_PROXY`` entry, read as curl reads it: ``.corp.example`` exempts the hosts
    under it, ``corp.example`` that host too; an address or ``localhost`` exempts that host alone."""
    if "://" in host:
        return host
    if host.lower() == "localhost":
        return f"all://{host}"
    try:
        address = ipaddress.ip_address(host.split("/")[0])
    except ValueError:
        return f"all://*{host}"
    return f"all://{host}" if address.version == 4 else f"all://[{host}]"


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
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS // 2)
        mounts: dict[str, httpx.BaseTransport | None] = {
            pattern: None if url is None else DeadlineTransport(limits, httpx.Proxy(url))
            for pattern, url in environment_proxies().items()
        }
        return httpx.Client(
            transport=DeadlineTransport(limits), mounts=mounts, headers=headers, timeout=DEFAULT_TIMEOUT
        )

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
