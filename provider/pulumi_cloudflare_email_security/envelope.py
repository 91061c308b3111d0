"""The API's answers: unwrapping the ``{success, errors, messages, result, result_info}`` envelope, and
turning a failed answer into the matching :class:`CloudflareAPIError` (with credentials scrubbed)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .credentials import Credentials
from .errors import (
    ApiMessage,
    AuthenticationError,
    CloudflareAPIError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
    error_class_for_status,
)

_SUMMARIES: dict[type[CloudflareAPIError], str] = {
    NotFoundError: "Not found",
    AuthenticationError: (
        "Cloudflare refused the credentials (check that the token is valid and has the "
        "'Cloud Email Security: Write' permission for this account)"
    ),
    ValidationError: "Cloudflare rejected the request",
    RateLimitedError: "Cloudflare rate limit reached",
    ServerError: "Cloudflare API server error",
}


@dataclass(frozen=True)
class Page:
    """One page of a list: its entries and the ``result_info`` the API sent."""

    result: list[dict[str, Any]]
    result_info: Mapping[str, Any] = field(default_factory=dict)


def unwrap(response: httpx.Response, method: str, path: str, ray_id: str | None, credentials: Credentials) -> Page:
    """The result of a successful answer, or the :class:`CloudflareAPIError` that stands for a failed one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    ok = response.is_success and isinstance(body, dict) and body.get("success") is not False
    if ok:
        assert isinstance(body, dict)
        result = body.get("result")
        info = body.get("result_info") or {}
        return Page(result if isinstance(result, list) else [result] if result else [], info)
    errors = [
        ApiMessage(e.get("code"), scrub(str(e.get("message", "")), credentials))
        for e in (body.get("errors") or [] if isinstance(body, dict) else [])
        if isinstance(e, dict)
    ]
    status = response.status_code
    if status < 400:  # a 2xx envelope that says success: false
        status = 400
    if not errors and body is None:
        errors = [ApiMessage(None, f"non-JSON answer: {scrub(response.text[:200], credentials)!r}")]
    kind = error_class_for_status(status)
    kwargs: dict[str, Any] = {"method": method, "path": path, "status": status, "errors": errors}
    kwargs["ray_id"] = ray_id
    kwargs["outcome_unknown"] = status >= 500
    if kind is RateLimitedError:
        raise RateLimitedError(
            _SUMMARIES[kind], retry_after=retry_after_seconds(response.headers.get("retry-after")), **kwargs
        )
    raise kind(_SUMMARIES[kind], **kwargs)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header as seconds to wait: a number of seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def scrub(text: str, credentials: Credentials) -> str:
    """``text`` with every secret of ``credentials`` masked."""
    for secret in credentials.secrets():
        text = text.replace(secret, "***")
    return text
