"""A faithful fake of the Email Security settings API, in the style of moto.

State and behaviour live in :class:`Backend`; :class:`Router` translates HTTP to backend calls and can
inject faults (:class:`FaultPlan`). The router is served three ways: :class:`mock_cloudflare` (respx, for
tests), :class:`EmulatorServer` (HTTP on loopback, ``cfes emulator``) and :class:`EmbeddedTransport`
(in-process, persisted to a file; chosen with a base URL of the form ``embedded:PATH``).

:class:`mock_cloudflare` needs respx, which only the ``mock`` extra installs: it is imported on first use,
so that the emulator itself runs on a plain install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import Backend
from .failures import ApiFailure
from .faults import Fault, FaultPlan
from .httpx_adapter import EmbeddedTransport
from .persistence import StateFile, StateFileError
from .routes import EmulatorResponse, Router
from .server import EmulatorServer

if TYPE_CHECKING:
    from .mock import mock_cloudflare


def __getattr__(name: str) -> Any:
    if name == "mock_cloudflare":
        from .mock import mock_cloudflare

        return mock_cloudflare
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ApiFailure",
    "Backend",
    "EmbeddedTransport",
    "EmulatorResponse",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "Router",
    "StateFile",
    "StateFileError",
    "mock_cloudflare",
]
