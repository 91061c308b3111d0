"""Refresh by listing: the Reads of one refresh share one listing of a collection instead of a GET each.

A refresh Reads every resource of a stack, four at a time (the provider process's worker threads), so N
entries of one collection would cost N GETs where one listing (1,000 entries a page) answers them all. The
Reads of one API base URL, account and collection are grouped into *rounds*:

* The first Read of a round is answered by its own GET: refreshing a single resource costs one request.
* The second Read of the round lists the collection, every page. Reads that arrive meanwhile wait for that
  listing (one per round, however the threads interleave); it answers every later Read of the round.
* An entry the listing lacks may have been created since: one GET decides, and only its 404 says "gone".
* A round ends, and the next Read begins a new one, when a Read names an entry the round has already
  answered (a refresh Reads each resource once, so the next refresh has begun), when no Read came for
  :data:`IDLE_SECONDS`, when its listing is :data:`MAX_AGE_SECONDS` old, and when this process writes to
  the collection (:func:`writing`). So what another process changed between two refreshes is seen by the
  second, and what this process wrote is never answered from a listing taken before.
* A listing that fails fails the Read that made it; the round's other Reads then GET their entry each.
* A Read waiting for a listing that reads nothing for :func:`.waits.listing_patience` (the retry deadline
  plus the rate budget's period) fails with a :class:`.WaitTimeoutError`, rather than wait for ever.

Cost: a round of N Reads over a collection of M entries makes one request when N is 1, and 1 + P when N
is 2 or more, P being the listing's pages, ``⌊M/1000⌋ + 1`` (a full last page is only known to be the last
by the empty page after it): at most ``⌈M/1000⌉ + 2``, and at most N once N exceeds P. Each entry that is
missing from the listing adds one GET.

Rounds live in this process only (never on a provider instance, which is pickled into the state), keyed
by base URL (any ``user:password@`` part masked), account and collection: never by credentials.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .client import CloudflareClient, settings_path
from .credentials import displayed_base_url
from .errors import NotFoundError
from .per_process import PerProcess
from .waits import SharedWork, listing_patience

logger = logging.getLogger(__name__)

IDLE_SECONDS = 5.0
"""A round with no Read for this long is over: a refresh Reads without pauses, four at a time."""
MAX_AGE_SECONDS = 60.0
"""The oldest listing a Read is answered from; a longer refresh lists again."""

Entry = dict[str, Any]
_Key = tuple[str, str, str]


@dataclass
class _Listing:
    """One listing of a collection, made once for the Reads of a round."""

    work: SharedWork = field(default_factory=SharedWork)
    entries: dict[str, Entry] | None = None
    """The entries by id, once listed; ``None`` while listing, and for good when the listing failed."""


@dataclass
class _Round:
    """The Reads of one collection during one refresh."""

    last_read: float
    answered: set[str] = field(default_factory=set)
    listing: _Listing | None = None
    listed_at: float = 0.0

    def over(self, entry_id: str, now: float) -> bool:
        listing_in_progress = self.listing is not None and not self.listing.work.over
        return (
            entry_id in self.answered
            or (now - self.last_read > IDLE_SECONDS and not listing_in_progress)
            or (self.listing is not None and not listing_in_progress and now - self.listed_at > MAX_AGE_SECONDS)
        )


class RefreshRounds:
    """The rounds of Reads of one process, by API base URL, account and collection (thread-safe).

    ``clock`` (monotonic seconds) can be replaced in tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rounds: dict[_Key, _Round] = {}

    def read(self, client: CloudflareClient, account_id: str, collection: str, entry_id: str) -> Entry:
        """The entry as the API has it (from a GET or this round's listing); :class:`NotFoundError` when a
        GET says it is gone."""
        key = _key(client, account_id, collection)
        with self._lock:
            now = self._clock()
            self._drop_idle(now)
            round_ = self._rounds.get(key)
            listing, lists = None, False
            if round_ is None or round_.over(entry_id, now):
                round_ = self._rounds[key] = _Round(last_read=now)
            else:
                listing, lists = round_.listing, round_.listing is None
                if listing is None:
                    listing = round_.listing = _Listing()
                    round_.listed_at = now
            round_.answered.add(entry_id)
            round_.last_read = now
        path = settings_path(account_id, collection, entry_id)
        if listing is None:
            return client.get(path)
        if lists:
            self._list(client, account_id, collection, round_, listing)
        else:
            listing.work.wait(listing_patience(client), lambda: _stuck(client, account_id, collection))
        found = listing.entries.get(entry_id) if listing.entries is not None else None
        # Absent from the listing: created since, or gone; only a GET can tell.
        return copy.deepcopy(found) if found is not None else client.get(path)

    def _list(
        self, client: CloudflareClient, account_id: str, collection: str, round_: _Round, listing: _Listing
    ) -> None:
        try:
            entries = []
            for entry in client.iter_list(settings_path(account_id, collection)):
                entries.append(entry)
                listing.work.moved()
            listing.entries = {str(e["id"]): e for e in entries if e.get("id") is not None}
            logger.debug("listed %d %s of account %s for a refresh", len(entries), collection, account_id)
        except NotFoundError:
            pass  # a collection the API does not list: each Read's GET decides
        finally:
            # A failed listing leaves ``entries`` unset: every further Read of the round GETs its entry.
            with self._lock:
                round_.last_read = max(round_.last_read, self._clock())
            listing.work.finish()

    def forget(self, client: CloudflareClient, account_id: str, collection: str) -> None:
        """End the round of a collection: the next Read begins a new one."""
        key = _key(client, account_id, collection)
        with self._lock:
            self._rounds.pop(key, None)

    def clear(self) -> None:
        """End every round."""
        with self._lock:
            self._rounds.clear()

    def _drop_idle(self, now: float) -> None:
        # Ended rounds would otherwise keep their listings (up to whole collections) for the process's life.
        for key in [k for k, r in self._rounds.items() if r.over("", now)]:
            del self._rounds[key]


def _key(client: CloudflareClient, account_id: str, collection: str) -> _Key:
    return displayed_base_url(client.base_url()), account_id, collection


def _stuck(client: CloudflareClient, account_id: str, collection: str) -> str:
    return (
        f"A Read of {collection} in account {account_id} waited {listing_patience(client):g}s for the listing "
        f"another Read of this refresh is making at {displayed_base_url(client.base_url())}, and it read nothing "
        f"in that time: it may be stuck. Run the refresh again; if this happens again, raise {client.retry.setting}"
    )


_ROUNDS = PerProcess(RefreshRounds)


def process_rounds() -> RefreshRounds:
    """This process's rounds, created at first use (never pickled, never on a provider instance)."""
    return _ROUNDS.get()


def read_entry(client: CloudflareClient, account_id: str, collection: str, entry_id: str) -> Entry:
    """Read one entry for a refresh, sharing listings with the process's other Reads of its collection
    (see the module's documentation); :class:`NotFoundError` when it is gone."""
    return process_rounds().read(client, account_id, collection, entry_id)


@contextmanager
def writing(client: CloudflareClient, account_id: str, collection: str) -> Iterator[None]:
    """Around a write to a collection: when it is over, whatever its outcome, the collection's round ends,
    so that no later Read is answered from a listing taken before the write."""
    try:
        yield
    finally:
        process_rounds().forget(client, account_id, collection)
