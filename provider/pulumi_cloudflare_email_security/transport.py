"""Where requests go: one pooled httpx client per process for the network, one per embedded state file.

Clients are created lazily, shared by every thread, and never pickled. A base URL of the form
``embedded:PATH`` is answered by the in-process emulator persisted to ``PATH``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from .credentials import resolve_base_url_setting
from .errors import ConfigurationError

EMBEDDED_PREFIX = "embedded:"
EMBEDDED_ORIGIN = "http://embedded.emulator/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "pulumi-cloudflare-email-security"


class _HttpPool:
    """The process's shared httpx clients: one for the network, one per embedded state file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, httpx.Client] = {}

    def get(self, base_url: str, source: str | None = None) -> httpx.Client:
        key = base_url if base_url.startswith(EMBEDDED_PREFIX) else "network"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._new(base_url, source)
            return client

    @staticmethod
    def _new(base_url: str, source: str | None) -> httpx.Client:
        headers = {"User-Agent": USER_AGENT}
        if base_url.startswith(EMBEDDED_PREFIX):
            transport = _embedded_transport(base_url, source)
            return httpx.Client(transport=transport, headers=headers, timeout=DEFAULT_TIMEOUT)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
        return httpx.Client(headers=headers, timeout=DEFAULT_TIMEOUT, limits=limits)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def _embedded_transport(base_url: str, source: str | None) -> httpx.BaseTransport:
    """The in-process emulator for an ``embedded:PATH`` base URL; a bad PATH raises ``ConfigurationError``."""
    from .emulator import EmbeddedTransport  # the emulator is loaded only when asked for

    if source is None:
        current, found = resolve_base_url_setting()
        source = found if current == base_url else "the API base URL"
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


def pooled_client(base_url: str, source: str | None = None) -> tuple[httpx.Client, str]:
    """The shared client for ``base_url``, and the URL prefix to put before API paths.

    ``source`` names where ``base_url`` came from (see ``resolve_base_url_setting``), for the message of
    the ``ConfigurationError`` raised when an ``embedded:PATH`` cannot hold the emulator's state.
    """
    origin = EMBEDDED_ORIGIN if base_url.startswith(EMBEDDED_PREFIX) else base_url
    return _POOL.get(base_url, source), origin


def close_shared_clients() -> None:
    """Close the process's pooled HTTP connections (they reopen on the next call)."""
    _POOL.close()
