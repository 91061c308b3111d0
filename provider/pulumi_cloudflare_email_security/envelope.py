"""The API's answers: unwrapping the ``{success, errors, messages, result, result_info}`` envelope, and
turning a failed answer into the matching :class:`CloudflareAPIError`.

Nothing the API sends back can carry a credential further: error messages and codes, the ``cf-ray`` id,
a non-JSON body (masked before it is cut short) and the values of a successful result are all scrubbed
of the request's secrets, in plain, escaped and URL-encoded forms (see :func:`scrub`). A successful answer
that quotes a secret is kept, masked, rather than refused: refusing the answer to a POST would leave the
created entry behind with no resource to own it. Nor does anything the API sends back reach a terminal as
something to act on: the error's message escapes it (see :class:`.errors.CloudflareAPIError`), and so does
the ray id.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

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
from .formats import escaped

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


MASK = "***"
MIN_MASKED_LENGTH = 8
"""Secrets shorter than this are not masked: masking ``t`` would garble every message ("Could no*** reach"),
and no real credential is that short (Cloudflare API tokens have 40 characters, global API keys 37)."""
MAX_RAY_ID_LENGTH = 80
BODY_EXCERPT = 200


def unwrap(response: httpx.Response, method: str, path: str, ray_id: str | None, credentials: Credentials) -> Page:
    """The result of a successful answer, or the :class:`CloudflareAPIError` that stands for a failed one.

    ``ray_id`` is the answer's ``cf-ray`` id as :func:`ray_id_of` gives it.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    ok = response.is_success and isinstance(body, dict) and body.get("success") is not False
    if ok:
        assert isinstance(body, dict)
        if _quotes_a_secret(response.text, credentials):
            body = scrub_value(body, credentials)
        result = body.get("result")
        info = body.get("result_info") or {}
        return Page(result if isinstance(result, list) else [result] if result else [], info)
    errors = [_api_message(e, credentials) for e in (body.get("errors") or [] if isinstance(body, dict) else [])]
    errors = [e for e in errors if e is not None]
    status = response.status_code
    if status < 400:  # a 2xx envelope that says success: false
        status = 400
    if not errors and body is None:
        excerpt = scrub(response.text, credentials)  # masked before the cut, which could split a secret
        cut = excerpt if len(excerpt) <= BODY_EXCERPT else excerpt[:BODY_EXCERPT] + "…"
        errors = [ApiMessage(None, f"non-JSON answer: {scrub(repr(cut), credentials)}")]
    kind = error_class_for_status(status)
    kwargs: dict[str, Any] = {"method": method, "path": path, "status": status, "errors": errors}
    kwargs["ray_id"] = ray_id
    kwargs["outcome_unknown"] = status >= 500
    if kind is RateLimitedError:
        raise RateLimitedError(
            _SUMMARIES[kind], retry_after=retry_after_seconds(response.headers.get("retry-after")), **kwargs
        )
    raise kind(_SUMMARIES[kind], **kwargs)


def _api_message(entry: object, credentials: Credentials) -> ApiMessage | None:
    """One entry of ``errors``; a code that is not a number is kept, masked, in the message instead."""
    if not isinstance(entry, dict):
        return None
    code, message = entry.get("code"), scrub(str(entry.get("message", "")), credentials)
    if isinstance(code, int) and not isinstance(code, bool):
        return ApiMessage(code, message)
    if code is not None:
        message = f"{scrub(str(code), credentials)}: {message}" if message else scrub(str(code), credentials)
    return ApiMessage(None, message)


def ray_id_of(response: httpx.Response, credentials: Credentials) -> str | None:
    """The answer's ``cf-ray`` id, masked and shortened: any header can quote what was sent."""
    raw = response.headers.get("cf-ray")
    if not raw:
        return None
    shown = escaped(scrub(raw, credentials))
    return shown if len(shown) <= MAX_RAY_ID_LENGTH else shown[:MAX_RAY_ID_LENGTH] + "…"


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
    """``text`` with every secret of ``credentials`` masked as ``***``, in every form it could take there:
    as sent, escaped as ``repr`` or JSON would escape it (also twice), and URL-encoded.

    Secrets shorter than :data:`MIN_MASKED_LENGTH` are left alone.
    """
    for secret in credentials.secrets():
        if len(secret) >= MIN_MASKED_LENGTH:
            text = _masker(secret).sub(MASK, text)
    return text


def scrub_value(value: Any, credentials: Credentials) -> Any:
    """``value`` (JSON: dicts, lists, strings, …) with :func:`scrub` applied to every string, keys included."""
    if isinstance(value, str):
        return scrub(value, credentials)
    if isinstance(value, dict):
        return {scrub_value(k, credentials): scrub_value(v, credentials) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v, credentials) for v in value]
    return value


def _quotes_a_secret(text: str, credentials: Credentials) -> bool:
    return any(len(s) >= MIN_MASKED_LENGTH and _masker(s).search(text) for s in credentials.secrets())


@lru_cache(maxsize=32)
def _masker(secret: str) -> re.Pattern[str]:
    """One pattern matching every form of ``secret``, longest first so that no part of one is left over."""
    escaped = {secret}
    for _ in range(2):  # escaped once, or twice (a repr of a repr, JSON inside JSON)
        escaped |= {form for f in escaped for form in (json.dumps(f)[1:-1], repr(f)[1:-1], _unicode_escaped(f))}
    escaped |= {f.replace("/", "\\/") for f in escaped}  # JSON may escape the slash
    patterns = {re.escape(f): len(f) for f in escaped}
    for encoded in (quote(secret, safe=""), quote_plus(secret)):  # %XX in either case
        pattern = re.sub(r"%([0-9A-F])([0-9A-F])", _either_case, "%".join(re.escape(p) for p in encoded.split("%")))
        patterns[pattern] = len(encoded)
    return re.compile("|".join(sorted(patterns, key=lambda p: patterns[p], reverse=True)))


def _unicode_escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _either_case(match: re.Match[str]) -> str:
    return "%" + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in match.groups())
