"""The Cloudflare API client: authentication, rate budget, retries, never-twice creates, paging and batch.

Credentials and the base URL are resolved at each call (see :mod:`.credentials`); connections come from
the process's pool (:mod:`.transport`); answers are unwrapped by :mod:`.envelope`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from .credentials import resolve_base_url_setting, resolve_credentials
from .envelope import Page, scrub, unwrap
from .errors import (
    ApiMessage,
    CloudflareAPIError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .rate import process_budget
from .transport import pooled_client
from .tuning import configure_logging, rate_limit, retry_policy

logger = logging.getLogger(__name__)

MAX_PER_PAGE = 1000
MAX_BATCH_ITEMS = 1000
BATCH_PARTS = ("deletes", "patches", "puts", "posts")


def settings_path(account_id: str, collection: str, *rest: str) -> str:
    """The API path of a settings collection, or of an entry or sub-resource under it."""
    parts = [quote(account_id, safe=""), "email-security", "settings", collection]
    parts += [quote(p, safe="") for p in rest]
    return "/accounts/" + "/".join(parts)


def malformed(what: str, method: str, path: str, detail: str) -> ServerError:
    """The error for an answer that is not what the API documents: ``Cloudflare answered {what}``."""
    return ServerError(f"Cloudflare answered {what}", method=method, path=path, errors=[ApiMessage(None, detail)])


# Failures where the request provably never reached the server: safe to send again, even a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class CloudflareClient:
    """Calls the Email Security settings API, within the process's rate budget, retrying what is safe.

    ``http`` injects an httpx client (e.g. with ``httpx.MockTransport``); by default the process's pooled
    client is used. ``environ`` replaces ``os.environ`` for settings lookup; ``sleep``, ``clock`` and
    ``jitter`` can be replaced in tests.
    """

    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._http = http
        self._environ = environ
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        configure_logging(environ)
        self.retry = retry_policy(environ)
        self.budget = process_budget(*rate_limit(environ))

    def _target(self) -> tuple[httpx.Client, str]:
        http, origin = pooled_client(*resolve_base_url_setting(self._environ))
        return self._http or http, origin

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Page:
        """Send a request and unwrap the envelope, retrying 429s, 5xx and transport failures with
        exponential backoff and jitter (honouring ``Retry-After``) until the retry deadline.

        A request that is not idempotent (a POST, unless told otherwise) is only sent again when it
        provably was not applied; otherwise the error is raised with ``outcome_unknown`` set.
        """
        repeatable = method != "POST" if idempotent is None else idempotent
        started, attempt = self._clock(), 0
        while True:
            try:
                return self._send_once(method, path, params, json)
            except (RateLimitedError, ServerError, TransportError) as error:
                if error.outcome_unknown and not repeatable:
                    raise
                self.wait_before_retry(error, attempt, started)
                attempt += 1

    def wait_before_retry(self, error: CloudflareAPIError, attempt: int, started: float) -> None:
        """Sleep before try ``attempt + 1`` of a request first tried at ``started``; re-raise ``error``
        when the retry deadline would pass."""
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        delay = self.retry.backoff(attempt, retry_after, self._jitter())
        if self._clock() + delay - started > self.retry.deadline:
            tries = f"{attempt + 1} {'try' if attempt == 0 else 'tries'}"
            error.add_detail(f"gave up after {tries} in {self._clock() - started:.1f}s (retry deadline)")
            raise error
        logger.debug(
            "retrying %s %s in %.2fs after %s (try %d, cf-ray %s)",
            error.method,
            error.path,
            delay,
            error.summary,
            attempt + 2,
            error.ray_id,
        )
        self._sleep(delay)

    def _send_once(self, method: str, path: str, params: Mapping[str, Any] | None, json: Any) -> Page:
        credentials = resolve_credentials(self._environ)
        http, origin = self._target()
        self.budget.acquire()
        try:
            response = http.request(method, origin + path, params=params, json=json, headers=credentials.headers())
        except httpx.TransportError as exc:
            raise TransportError(
                scrub(f"Could not reach the Cloudflare API ({type(exc).__name__}: {exc})", credentials),
                method=method,
                path=path,
                outcome_unknown=not isinstance(exc, _NOT_SENT),
            ) from None
        ray_id = response.headers.get("cf-ray")
        logger.debug("%s %s -> HTTP %s (cf-ray %s)", method, path, response.status_code, ray_id)
        return unwrap(response, method, path, ray_id, credentials)

    def get(self, path: str) -> dict[str, Any]:
        """GET one object."""
        return self._single(self.request("GET", path), "GET", path)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        """POST once (retried only when it provably was not applied) and return the created object."""
        return self._single(self.request("POST", path, json=body), "POST", path)

    def patch(self, path: str, body: Any) -> dict[str, Any]:
        """PATCH and return the updated object."""
        return self._single(self.request("PATCH", path, json=body), "PATCH", path)

    def create(self, path: str, body: Any, find_landed: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
        """POST a new entry without ever creating it twice.

        When a POST's outcome is unknown (the answer was lost, or the server failed mid-way),
        ``find_landed`` looks for the entry that POST would have made: one found is the result; none
        found means the POST provably did not land, so it is sent again, within the retry deadline;
        several found is an error, since which one is ours cannot be told.
        """
        started, attempt = self._clock(), 0
        while True:
            try:
                entry = self.post(path, body)
            except CloudflareAPIError as error:
                if not error.outcome_unknown:
                    raise
                try:
                    landed = find_landed()
                except CloudflareAPIError:
                    error.add_detail(
                        "the entry may have been created, and looking for it failed too: check the account, "
                        "and adopt it (adopt_existing=True) rather than creating it again"
                    )
                    raise error from None
                if len(landed) == 1:
                    logger.info("POST %s: the answer was lost, but the entry landed: %s", path, landed[0].get("id"))
                    entry = landed[0]
                elif landed:
                    ids = ", ".join(str(e.get("id")) for e in landed)
                    error.add_detail(f"{len(landed)} entries now match what was sent ({ids}); check them by hand")
                    raise
                else:
                    self.wait_before_retry(error, attempt, started)
                    attempt += 1
                    continue
            if not entry.get("id"):
                fields = f"result had fields {sorted(entry)}"
                raise malformed("a create without the new entry's id", "POST", path, fields)
            return entry

    def delete(self, path: str) -> None:
        """DELETE an object."""
        self.request("DELETE", path)

    @staticmethod
    def _single(page: Page, method: str = "", path: str = "") -> dict[str, Any]:
        result = page.result[0] if page.result else {}
        if not isinstance(result, dict):
            raise malformed("a malformed result", method, path, f"expected an object, got {type(result).__name__}")
        return result

    def iter_list(
        self, path: str, params: Mapping[str, Any] | None = None, *, per_page: int = MAX_PER_PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every entry of a list, page after page until a short or empty page."""
        page_number = 1
        while True:
            query = {**(params or {}), "page": page_number, "per_page": per_page}
            page = self.request("GET", path, params=query)
            for entry in page.result:
                if not isinstance(entry, dict):
                    found = f"expected objects, got {type(entry).__name__}"
                    raise malformed("a list with a malformed entry", "GET", path, found)
                yield entry
            if len(page.result) < per_page:
                return
            page_number += 1

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every entry of a list, all pages."""
        return list(self.iter_list(path, params))

    def batch(
        self,
        path: str,
        *,
        deletes: Sequence[str] = (),
        patches: Sequence[Mapping[str, Any]] = (),
        puts: Sequence[Mapping[str, Any]] = (),
        posts: Sequence[Mapping[str, Any]] = (),
        parts: Sequence[str] = BATCH_PARTS,
    ) -> dict[str, list[Any]]:
        """POST ``{path}/batch`` in chunks of at most 1000 items per part; merge the results.

        ``parts`` names the arrays the endpoint takes (all four are sent, empty when unused, as the API
        requires; sending-domain restrictions take ``deletes`` only).
        """
        wanted: dict[str, list[Any]] = {
            "deletes": [{"id": i} for i in deletes],
            "patches": list(patches),
            "puts": list(puts),
            "posts": list(posts),
        }
        unsupported = [name for name, items in wanted.items() if items and name not in parts]
        if unsupported:
            raise ValueError(f"this batch endpoint does not take {', '.join(unsupported)}")
        merged: dict[str, list[Any]] = {name: [] for name in parts}
        longest = max((len(items) for items in wanted.values()), default=0)
        for start in range(0, max(longest, 1), MAX_BATCH_ITEMS):
            body = {name: wanted[name][start : start + MAX_BATCH_ITEMS] for name in parts}
            if not any(body.values()):
                break
            result = self._single(self.request("POST", f"{path}/batch", json=body), "POST", f"{path}/batch")
            for name in parts:
                merged[name].extend(result.get(name) or [])
        return merged
