"""A faithful fake of the Email Security settings API, in the style of moto.

State and behaviour live in :class:`Backend`; :class:`Router` translates HTTP to backend calls and can
inject faults (:class:`FaultPlan`). The router is served three ways: :class:`mock_cloudflare` (respx, for
tests), :class:`EmulatorServer` (HTTP on loopback, ``cfes emulator``) and :class:`EmbeddedTransport`
(in-process, persisted to a file; chosen with a base URL of the form ``embedded:PATH``).
"""

from .backend import Backend
from .failures import ApiFailure
from .faults import Fault, FaultPlan
from .httpx_adapter import EmbeddedTransport
from .mock import mock_cloudflare
from .persistence import StateFile
from .routes import EmulatorResponse, Router
from .server import EmulatorServer

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
    "mock_cloudflare",
]
