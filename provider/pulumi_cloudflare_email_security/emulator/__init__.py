"""A faithful fake of the Email Security settings API, in the style of moto.

State and behaviour live in :class:`Backend`; :class:`Router` translates HTTP to backend calls. The
router is served three ways: :class:`mock_cloudflare` (respx, for tests), :class:`EmulatorServer` (HTTP on
loopback, ``cfes emulator``) and :class:`EmbeddedTransport` (in-process, persisted to a file; chosen with
a base URL of the form ``embedded:PATH``).
"""

from .backend import Backend
from .failures import ApiFailure
from .httpx_adapter import EmbeddedTransport
from .mock import mock_cloudflare
from .persistence import StateFile
from .routes import EmulatorResponse, Router
from .server import EmulatorServer, create_app

__all__ = [
    "ApiFailure",
    "Backend",
    "EmbeddedTransport",
    "EmulatorResponse",
    "EmulatorServer",
    "Router",
    "StateFile",
    "create_app",
    "mock_cloudflare",
]
