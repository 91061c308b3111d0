"""HTTP translation: a request (method, path, query, headers, body) to a backend call to an API envelope.

The same :class:`Router` serves all three ways of running the emulator: the respx mock in tests, the HTTP
server of ``cfes emulator``, and the embedded in-process transport.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..rate import RateBudget
from . import openapi
from .backend import Backend
from .failures import CODE_AUTH, CODE_METHOD, CODE_NO_ROUTE, CODE_SERVER, CODE_THROTTLED, ApiFailure
from .faults import FaultPlan
from .persistence import StateFileError

ROUTE = re.compile(
    r"/accounts/(?P<account>[^/]*)/email-security/settings/(?P<collection>[a-z_]+)"
    r"(?:/(?P<item>[^/]+))?(?:/(?P<sub>verification))?/?$"
)


@dataclass
class EmulatorResponse:
    """What the emulator answers: status, JSON body and headers."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False
    """Send nothing and drop the connection (an injected connection reset)."""

    def content(self) -> bytes:
        """The body as bytes."""
        return b"" if self.body is None else json.dumps(self.body).encode()


def _success(result: Any, info: Mapping[str, int] | None = None) -> dict[str, Any]:
    envelope: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        envelope["result_info"] = dict(info)
    return envelope


class Router:
    """Routes settings API requests to a :class:`Backend`.

    ``accepted_tokens``, when given, is the set of API tokens the emulator accepts, and email + key
    authentication is refused; otherwise any non-empty token (or email + key pair) is accepted, as moto
    does. ``around`` wraps every request, for a persisted backend that loads and saves around each call.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        accepted_tokens: Collection[str] | None = None,
        around: Callable[[], contextlib.AbstractContextManager[None]] | None = None,
        faults: FaultPlan | None = None,
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        self.backend = backend if backend is not None else Backend()
        self.accepted_tokens = accepted_tokens
        self.faults = faults if faults is not None else FaultPlan()
        self.limiter = RateBudget(*rate_limit) if rate_limit else None
        """Cloudflare's rate limit, when enforced: requests over it get a 429 with ``Retry-After``."""
        self.refused = 0
        """How many requests the rate limit refused."""
        self._count_lock = threading.Lock()
        self._around = around or contextlib.nullcontext

    def handle(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> EmulatorResponse:
        """Answer one request."""
        ray = {"cf-ray": f"{secrets.token_hex(8)}-EMU", "content-type": "application/json"}
        wait = self.limiter.try_acquire() if self.limiter else 0.0
        if wait:
            with self._count_lock:
                self.refused += 1
            failure = ApiFailure(
                429, [(CODE_THROTTLED, "Rate limited. Please wait and consider throttling your request speed")]
            )
            return EmulatorResponse(429, failure.envelope(), {**ray, "retry-after": str(math.ceil(wait))})
        route = ROUTE.search(path)
        fault = self.faults.draw(method.upper(), route["collection"] if route else None)
        if fault is not None and fault.kind == "latency":
            time.sleep(fault.latency)
        elif fault is not None and fault.kind == "reset_before":
            return EmulatorResponse(0, None, drop_connection=True)
        elif fault is not None and fault.kind in ("429", "500", "502", "503"):
            status = int(fault.kind)
            failure = ApiFailure(status, [(CODE_THROTTLED if status == 429 else CODE_SERVER, f"injected {status}")])
            if status == 429:
                ray["retry-after"] = f"{fault.retry_after:g}"
            return EmulatorResponse(status, failure.envelope(), ray)
        try:
            self._authenticate(headers)
            with self._around():
                status, envelope = self._dispatch(method.upper(), path, query, body)
        except ApiFailure as failure:
            return EmulatorResponse(failure.status, failure.envelope(), ray)
        except StateFileError as error:
            # Served over HTTP, the state file's problem is told to the client; the embedded transport
            # runs the state transaction outside the router, so that it raises instead.
            return EmulatorResponse(500, ApiFailure(500, [(CODE_SERVER, str(error))]).envelope(), ray)
        if fault is not None and fault.kind == "reset_after":
            return EmulatorResponse(0, None, drop_connection=True)
        return EmulatorResponse(status, envelope, ray)

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        authorization = headers.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        if not token and not (headers.get("x-auth-email") and headers.get("x-auth-key")):
            raise ApiFailure(401, [(CODE_AUTH, "Authentication error: no credentials in the request")])
        if self.accepted_tokens is not None and token not in self.accepted_tokens:
            reason = "invalid API token" if token else "only API tokens are accepted (email + API key refused)"
            raise ApiFailure(403, [(CODE_AUTH, f"Authentication error: {reason}")])

    def _dispatch(
        self, method: str, path: str, query: Sequence[tuple[str, str]], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        match = ROUTE.search(path)
        if match is None:
            raise ApiFailure(404, [(CODE_NO_ROUTE, "No route for the URI")])
        account, collection = unquote(match["account"]), match["collection"]
        item, sub = (unquote(match["item"]) if match["item"] else None), match["sub"]  # path segments arrive encoded
        if collection not in openapi.collections():
            known = ", ".join(sorted(openapi.collections()))
            raise ApiFailure(
                404, [(CODE_NO_ROUTE, f"No route for the URI: unknown collection {collection!r} ({known})")]
            )
        backend = self.backend
        body = _parse_body(raw, method)
        if item is None:
            if method == "GET":
                return 200, _success(*backend.list_entries(account, collection, query))
            if method == "POST":
                return 201, _success(backend.create(account, collection, body))
            if method == "DELETE" and collection == "domains":
                return 200, _success(backend.bulk_delete_domains(account, body))
        elif item == "batch" and sub is None:
            if method == "POST":
                return 200, _success(backend.batch(account, collection, body))
        elif sub == "verification":
            if method == "GET" and collection == "domains":
                return 200, _success(backend.verification(account, item))
        else:
            if method == "GET":
                return 200, _success(backend.get(account, collection, item))
            if method == "PATCH":
                return 200, _success(backend.edit(account, collection, item, body))
            if method == "PUT":
                return 200, _success(backend.replace(account, collection, item, body))
            if method == "DELETE":
                return 200, _success(backend.delete(account, collection, item))
        raise ApiFailure(405, [(CODE_METHOD, f"Method {method} not allowed for this route")])


def _parse_body(raw: bytes, method: str) -> Any:
    if method == "GET" or (method == "DELETE" and not raw):
        return None
    if not raw:
        raise ApiFailure.invalid("body: a JSON request body is required")
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiFailure.invalid("body: is not valid JSON") from None
