"""The respx-mounted emulator for tests, moto style: a decorator that is also a context manager."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from types import TracebackType

import httpx

try:
    import respx
except ModuleNotFoundError as missing:  # pragma: no cover - exercised by the plain-install test
    raise ModuleNotFoundError(
        "mock_cloudflare needs respx, which the package's mock extra installs: "
        "pip install 'pulumi-cloudflare-email-security[mock]'",
        name="respx",
    ) from missing

from ..credentials import CLOUDFLARE_API_URL
from .backend import Backend
from .faults import FaultPlan
from .httpx_adapter import answer
from .routes import Router


class mock_cloudflare(contextlib.ContextDecorator):
    """Route every httpx request to ``base_url`` into a fresh emulator.

    Use as ``with mock_cloudflare() as cf:`` or as a ``@mock_cloudflare()`` decorator; ``cf.backend``
    is the emulator's state, ``cf.reset()`` empties it.
    """

    def __init__(
        self,
        base_url: str = CLOUDFLARE_API_URL,
        *,
        backend: Backend | None = None,
        accepted_tokens: Collection[str] | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.base_url = base_url
        self.router = Router(backend, accepted_tokens=accepted_tokens, faults=faults)
        self.requests: list[httpx.Request] = []
        """Every request the emulator answered, in order (kept after the mock stops)."""
        self._respx: respx.MockRouter | None = None

    @property
    def faults(self) -> FaultPlan:
        """The faults in force (none unless added)."""
        return self.router.faults

    @property
    def backend(self) -> Backend:
        """The emulator's state."""
        return self.router.backend

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return answer(self.router, request)

    def reset(self) -> None:
        """Forget every entry and every recorded call."""
        self.backend.reset()
        self.requests.clear()

    def __enter__(self) -> mock_cloudflare:
        self._respx = respx.mock(base_url=self.base_url, assert_all_called=False, assert_all_mocked=True)
        router = self._respx.__enter__()
        router.route().mock(side_effect=self._answer)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._respx is not None
        self._respx.__exit__(exc_type, exc, tb)
