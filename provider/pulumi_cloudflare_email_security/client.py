"""The Cloudflare API client: authentication, rate budget, retries, never-twice creates, paging and batch.

Credentials and the base URL are resolved and checked at each call (see :mod:`.credentials`), before
anything is sent; connections come from the process's pool (:mod:`.transport`); answers are unwrapped by
:mod:`.envelope`, which masks the credentials in whatever the API sends back.

Retries: 429s, 5xx answers and transport failures are retried with exponential backoff and full jitter
until the retry deadline, which also bounds each try: a request, retries included, is over by then. A
``Retry-After`` is honoured, but never waits less than the backoff; one that reaches past the deadline
fails at once, saying so. Each retry is logged at INFO, and after about 10 seconds of retrying a warning
says what is retried and why; a policy with a ``report`` (the ``cfes`` commands') is told of each retry
instead. A request that cannot be sent as configured (a local protocol error, an unusable URL) is never
retried.

A listing always ends (:meth:`CloudflareClient.iter_list`): pages that repeat, or more pages than the list
can take, are a malformed answer.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from .credentials import (
    Credentials,
    displayed_base_url,
    resolve_base_url,
    resolve_base_url_setting,
    resolve_credentials,
)
from .envelope import Page, ray_id_of, scrub, unwrap
from .errors import (
    ApiMessage,
    CloudflareAPIError,
    ConfigurationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .rate import process_budget
from .transport import pooled_client, time_limit
from .tuning import configure_logging, rate_limit, retry_policy, warn

logger = logging.getLogger(__name__)

API_PATH = "/client/v4"
"""Where Cloudflare's API lives on its host; every base URL for it ends so."""
NO_ROUTE = 7003
"""Cloudflare's error code for a path it has no route for."""

MAX_PER_PAGE = 1000
MAX_LIST_ENTRIES = 1_000_000
"""The most entries one listing reads when the API reports no ``total_count``: far more than an Email Security
collection holds, so that an answer that never ends costs a bounded number of requests."""
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
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that no retry can change: the request cannot be built or sent as configured.
_UNSENDABLE = (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)


@dataclass
class Tries:
    """The retry bookkeeping of one request (or one create): when it was first tried, how often since."""

    started: float | None = None
    """When the first try was sent (the client's clock); the retry deadline counts from here."""
    attempt: int = 0
    """Retries so far."""
    warned: bool = False
    """Whether the warning that retries are taking long was given."""


@dataclass
class _Listing:
    """What one listing has read so far: the ids of its entries (never the entries), how many, and the largest
    ``total_count`` the API reported."""

    path: str
    per_page: int
    ids: set[str] = field(default_factory=set)
    count: int = 0
    total: int | None = None

    def take(self, page: Page) -> list[dict[str, Any]]:
        """The page's entries not read before; an entry without an id cannot be told apart, so it counts as new."""
        fresh = []
        for entry in page.result:
            if not isinstance(entry, dict):
                found = f"expected objects, got {type(entry).__name__}"
                raise malformed("a list with a malformed entry", "GET", self.path, found)
            entry_id = entry.get("id")
            if entry_id is not None and entry_id != "":
                if str(entry_id) in self.ids:
                    continue
                self.ids.add(str(entry_id))
            fresh.append(entry)
        self.count += len(fresh)
        total = page.result_info.get("total_count")
        if isinstance(total, int) and not isinstance(total, bool) and total >= 0 and self.total is None:
            self.total = total  # the first: a total that grows page by page must not stretch the bound
        return fresh

    def ended(self, page: Page) -> bool:
        """Whether the list is over after ``page``: a short page, or as many entries as ``total_count`` says."""
        return len(page.result) < self.per_page or (self.total is not None and self.count >= self.total)

    def repeated(self, page_number: int, where: str) -> NoReturn:
        """Raise for a full page that holds nothing new: the next one would hold the same."""
        raise malformed(
            "a list whose pages repeat",
            "GET",
            self.path,
            f"page {page_number} (per_page={self.per_page}) from {where} holds only entries of earlier pages, so "
            "the list would never end: the server seems to ignore the page parameter",
        )

    def check_bound(self, page_number: int, where: str) -> None:
        """Raise when page ``page_number`` is past the most pages the list can take, or the list already holds
        more entries than any list is read for."""
        limit = math.ceil(MAX_LIST_ENTRIES / self.per_page) + 1
        why = f"{MAX_LIST_ENTRIES} entries (the most a list is read for) take at per_page={self.per_page}"
        if self.total is not None and math.ceil(self.total / self.per_page) + 1 < limit:
            limit = math.ceil(self.total / self.per_page) + 1
            why = f"its first total_count of {self.total} takes at per_page={self.per_page}, plus one"
        if page_number > limit or self.count > MAX_LIST_ENTRIES:
            raise malformed(
                "a list that does not end",
                "GET",
                self.path,
                f"{self.count} entries in {page_number - 1} pages from {where} and no end: more pages than the "
                f"{limit} that {why}",
            )


class ApiAuth(httpx.Auth):
    """Authenticates a request with ``credentials``: the one place their headers go onto requests.

    The client resolves the credentials at each try (so a rotated token is used from the next one on) and
    masks the same ones in what comes back. A base URL's ``user:password@`` part goes as HTTP Basic
    authentication, as httpx sends it for a request without an ``auth`` of its own.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the credentials' headers to ``request`` and send it."""
        request.headers.update(self.credentials.headers())
        if request.url.username or request.url.password:
            yield from httpx.BasicAuth(request.url.username, request.url.password).auth_flow(request)
        else:
            yield request


@dataclass(frozen=True)
class _Target:
    http: httpx.Client
    origin: str
    base_url: str
    source: str

    def describe(self) -> str:
        where = displayed_base_url(self.base_url)
        return where if self.source == "default" else f"{where} (from {self.source})"


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

    def base_url(self) -> str:
        """The API base URL requests go to now, as configured (checked only when a request is sent)."""
        return resolve_base_url(self._environ)

    def check_settings(self) -> None:
        """Raise the :class:`ConfigurationError` the next request would meet, without sending anything: for
        the credentials, the base URL and, for ``embedded:PATH``, the emulator's state file (the reliability
        settings were checked when this client was made). A base URL missing ``/client/v4`` only shows in
        the API's answer, so it is not found here."""
        resolve_credentials(self._environ)
        self._target()

    def _target(self) -> _Target:
        base_url, source = resolve_base_url_setting(self._environ)
        http, origin = pooled_client(base_url, source)
        return _Target(self._http or http, origin, base_url, source)

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
        provably was not applied; otherwise the error is raised with ``outcome_unknown`` set. Settings
        that make the request impossible to send raise :class:`ConfigurationError` before it is sent.
        """
        repeatable = method != "POST" if idempotent is None else idempotent
        tries, previous = Tries(), None
        while True:
            try:
                return self._send_once(method, path, params, json, tries)
            except (RateLimitedError, ServerError, TransportError) as error:
                if error.outcome_unknown and not repeatable:
                    raise
                if isinstance(error, TransportError) and error.deadline_passed:
                    # A retry cut off at the deadline says less than the answer that made us retry.
                    self._give_up(previous or error, tries, cut_off=previous is not None)
                self.wait_before_retry(error, tries)
                previous = error

    def wait_before_retry(self, error: CloudflareAPIError, tries: Tries) -> None:
        """Sleep before the next try of a request; re-raise ``error`` when that try would start after the
        retry deadline, or when the server's ``Retry-After`` reaches past it."""
        if tries.started is None:
            tries.started = self._clock()
        deadline = self.retry.deadline
        elapsed = self._clock() - tries.started
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        if retry_after is not None and elapsed + retry_after > deadline:
            error.add_detail(
                f"the server asked to wait {retry_after:.0f}s before trying again (Retry-After), past the retry "
                f"deadline of {deadline:g}s ({max(0.0, deadline - elapsed):.1f}s left): to wait that long, "
                f"raise {self.retry.setting}"
            )
            raise error
        delay = self.retry.backoff(tries.attempt, retry_after, self._jitter())
        if elapsed + delay > deadline:
            self._give_up(error, tries)
        self._tell_retry(error, tries, elapsed, delay)
        self._sleep(delay)
        tries.attempt += 1

    def _tell_retry(self, error: CloudflareAPIError, tries: Tries, elapsed: float, delay: float) -> None:
        """Say that ``error`` is retried, and when: to the policy's ``report`` if it has one, else in the log
        at INFO, plus one warning (shown by ``pulumi up``) once the request has been retried for long."""
        deadline = self.retry.deadline
        left = f"{deadline - elapsed:.1f}s left of the {deadline:g}s retry deadline"
        line = f"retrying in {delay:.1f}s (try {tries.attempt + 2}, {left}): {' '.join(str(error).split())}"
        if self.retry.report is not None:
            self.retry.report(line)
            return
        logger.info("%s", line)
        if not tries.warned and elapsed + delay >= self.retry.warn_after:
            tries.warned = True
            warn(
                f"{error.method} {error.path}: still retrying after {elapsed:.0f}s, next try in {delay:.1f}s, "
                f"because: {str(error).splitlines()[0]}. Giving up {deadline:g}s after the first try "
                f"({self.retry.setting})."
            )

    def _give_up(self, error: CloudflareAPIError, tries: Tries, *, cut_off: bool = False) -> NoReturn:
        """Raise ``error``, saying how many tries were made in how long, and how to allow more time."""
        elapsed = self._clock() - (tries.started if tries.started is not None else self._clock())
        count = f"{tries.attempt + 1} {'try' if tries.attempt == 0 else 'tries'}"
        last = "; the last try got no complete answer before the deadline" if cut_off else ""
        error.add_detail(
            f"gave up after {count} in {elapsed:.1f}s (retry deadline of {self.retry.deadline:g}s, "
            f"set by {self.retry.setting}){last}"
        )
        raise error

    def _send_once(self, method: str, path: str, params: Mapping[str, Any] | None, json: Any, tries: Tries) -> Page:
        credentials = resolve_credentials(self._environ)
        target = self._target()
        self.budget.acquire()
        if tries.started is None:
            tries.started = self._clock()
        left = max(0.0, self.retry.deadline - (self._clock() - tries.started))
        try:
            with time_limit(left) as limit:
                response = target.http.request(
                    method, target.origin + path, params=params, json=json, auth=ApiAuth(credentials)
                )
        except _UNSENDABLE as exc:
            raise ConfigurationError(
                scrub(
                    f"Cannot send {method} {path} to the Cloudflare API at {target.describe()}: "
                    f"{type(exc).__name__}: {exc}. Retrying cannot help: check the base URL and credentials.",
                    credentials,
                )
            ) from None
        except httpx.TransportError as exc:
            cut_off = limit.expired
            if cut_off:
                summary = (
                    f"The Cloudflare API at {target.describe()} sent no complete answer within the retry "
                    f"deadline of {self.retry.deadline:g}s ({type(exc).__name__})"
                )
            else:
                summary = f"Could not reach the Cloudflare API at {target.describe()} ({type(exc).__name__}: {exc})"
            error = TransportError(
                scrub(summary, credentials), method=method, path=path, outcome_unknown=not isinstance(exc, _NOT_SENT)
            )
            error.deadline_passed = cut_off
            raise error from None
        ray_id = ray_id_of(response, credentials)
        logger.debug("%s %s -> HTTP %s (cf-ray %s)", method, path, response.status_code, ray_id)
        try:
            return unwrap(response, method, path, ray_id, credentials)
        except NotFoundError as error:
            if NO_ROUTE in error.codes and not target.origin.rstrip("/").endswith(API_PATH):
                # Not "the entry is gone" (which would make a refresh drop it from the state): the URL is wrong.
                raise ConfigurationError(
                    f"{error.summary} for {method} {path} at {target.describe()}: the base URL does not end in "
                    f"{API_PATH}; is that part missing?"
                ) from None
            raise

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
        tries = Tries(started=self._clock())
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
                    self.wait_before_retry(error, tries)
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
        """Every entry of a list, page after page until a short or empty page, or until a full page reaches
        the ``total_count`` the API reports (saving the empty page that would otherwise end the list).

        An entry is given once, even if a later page repeats it (the list shifted while it was read). A list
        that would not end is a malformed answer (:func:`malformed`): a full page holding only entries of
        earlier pages (a server that ignores ``page``), or more pages than ``total_count`` takes plus one,
        or, without a ``total_count``, than :data:`MAX_LIST_ENTRIES` take.
        """
        listing = _Listing(path, per_page)
        page_number = 1
        while True:
            query = {**(params or {}), "page": page_number, "per_page": per_page}
            page = self.request("GET", path, params=query)
            fresh = listing.take(page)
            yield from fresh
            if listing.ended(page):
                return
            where = displayed_base_url(self.base_url())
            if not fresh:
                listing.repeated(page_number, where)
            page_number += 1
            listing.check_bound(page_number, where)

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
