"""Where requests go: one pooled httpx client per process for the network, one per embedded state file.

Clients are created lazily, shared by every thread, and never pickled. A base URL of the form
``embedded:PATH`` is answered by the in-process emulator persisted to ``PATH``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

EMBEDDED_PREFIX = "embedded:"
EMBEDDED_ORIGIN = "http://embedded.emulator/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "pulumi-cloudflare-email-security"


class _HttpPool:
    """The process's shared httpx clients: one for the network, one per embedded state file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, httpx.Client] = {}

    def get(self, base_url: str) -> httpx.Client:
        key = base_url if base_url.startswith(EMBEDDED_PREFIX) else "network"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._new(base_url)
            return client

    @staticmethod
    def _new(base_url: str) -> httpx.Client:
        headers = {"User-Agent": USER_AGENT}
        if base_url.startswith(EMBEDDED_PREFIX):
            from .emulator import EmbeddedTransport  # the emulator is loaded only when asked for

            path = Path(base_url.removeprefix(EMBEDDED_PREFIX)).expanduser().resolve()
            return httpx.Client(transport=EmbeddedTransport(path), headers=headers, timeout=DEFAULT_TIMEOUT)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
        return httpx.Client(headers=headers, timeout=DEFAULT_TIMEOUT, limits=limits)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


_POOL = _HttpPool()


def pooled_client(base_url: str) -> tuple[httpx.Client, str]:
    """The shared client for ``base_url``, and the URL prefix to put before API paths."""
    origin = EMBEDDED_ORIGIN if base_url.startswith(EMBEDDED_PREFIX) else base_url
    return _POOL.get(base_url), origin


def close_shared_clients() -> None:
    """Close the process's pooled HTTP connections (they reopen on the next call)."""
    _POOL.close()
