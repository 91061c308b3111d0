"""Which natural keys exist already, for the Creates of single resources: one listing per collection, not a
request per resource.

A single resource whose natural key already exists in the account (made in the dashboard, by another
stack, or left by a lost state) is refused before its POST, as a set refuses such entries. An ``up`` that
creates many resources of one collection asks once, the way a refresh reads (:mod:`.read_cache`): Creates
are grouped into *rounds* per API base URL, account and collection.

* The first Create of a round asks the API for its key alone where the type's list filters find it in one
  small answer (one request); otherwise it lists the collection, every page, as the second Create of a
  round does. Creates that arrive meanwhile wait for that listing, and it answers every later Create of
  the round.
* What this process writes to the collection meanwhile (its own creates, updates and deletes) is applied
  to the listing, so a later Create of the round sees it; a set's write ends the round instead.
* An entry the listing shows with the Create's key is read again (one GET) before the Create is refused:
  the listing may be minutes old, and a refusal must be true. A key that is free costs no request.
* A round ends after :data:`IDLE_SECONDS` without a Create, when its listing is :data:`MAX_AGE_SECONDS` old,
  and by :meth:`ExistingKeys.forget`.
* A Create waiting for a listing that reads nothing for :func:`.waits.listing_patience` (the retry deadline
  plus the rate budget's period) fails with a :class:`.WaitTimeoutError`, rather than wait for ever.

Rounds live in this process only, never on a provider instance (which is pickled into the state).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .adoption import find_by_key
from .client import CloudflareClient, settings_path
from .credentials import displayed_base_url
from .errors import NotFoundError
from .per_process import PerProcess
from .settings.base import SettingsType
from .waits import SharedWork, listing_patience

IDLE_SECONDS = 10.0
"""A round with no Create for this long is over (an ``up`` waiting out the rate budget may pause that long)."""
MAX_AGE_SECONDS = 300.0
"""The oldest listing a Create is answered from: a key it shows is confirmed anyway, so only keys made
elsewhere since can be missed, as they can between any listing and a POST."""

Entry = dict[str, Any]
Key = tuple[Any, ...]
_Scope = tuple[str, str, str]


@dataclass
class _Listing:
    work: SharedWork = field(default_factory=SharedWork)
    by_id: dict[str, Entry] | None = None
    """The entries by id once listed; ``None`` while listing, and for good when the listing failed."""
    by_key: dict[Key, set[str]] = field(default_factory=dict)


@dataclass
class _Round:
    last_use: float
    listing: _Listing | None = None
    listed_at: float = 0.0
    written: dict[str, Entry | None] = field(default_factory=dict)
    """What this process wrote since the round began, by id (``None``: deleted)."""
    written_keys: dict[Key, set[str]] = field(default_factory=dict)

    def over(self, now: float) -> bool:
        listing_in_progress = self.listing is not None and not self.listing.work.over
        if listing_in_progress:
            return False
        too_old = self.listing is not None and now - self.listed_at > MAX_AGE_SECONDS
        return too_old or now - self.last_use > IDLE_SECONDS

    def ids_of(self, key: Key) -> set[str]:
        """The ids with ``key``: the listing's, as this process's writes since have left them."""
        assert self.listing is not None and self.listing.by_id is not None
        listed = {i for i in self.listing.by_key.get(key, ()) if i not in self.written}
        return listed | self.written_keys.get(key, set())

    def entry(self, entry_id: str) -> Entry:
        written = self.written.get(entry_id)
        if written is not None:
            return written
        assert self.listing is not None and self.listing.by_id is not None
        return self.listing.by_id[entry_id]


class ExistingKeys:
    """The rounds of Creates of one process (thread-safe); ``clock`` can be replaced in tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rounds: dict[_Scope, _Round] = {}

    def matches(
        self, client: CloudflareClient, spec: SettingsType, account_id: str, inputs: Mapping[str, Any]
    ) -> list[Entry]:
        """The entries of the account whose natural key is that of ``inputs`` (see the module's documentation)."""
        scope = _scope(client, account_id, spec.collection)
        with self._lock:
            now = self._clock()
            self._drop_over(now)
            round_ = self._rounds.get(scope)
            asks_alone = round_ is None and _asks_for_key_alone(spec, inputs)
            if round_ is None:
                round_ = self._rounds[scope] = _Round(last_use=now)
            listing, lists = round_.listing, False
            if listing is None and not asks_alone:
                listing = round_.listing = _Listing()
                lists, round_.listed_at = True, now
            round_.last_use = now
        if listing is None:
            return find_by_key(client, spec, account_id, inputs)
        if lists:
            self._list(client, spec, account_id, round_, listing)
        else:
            listing.work.wait(listing_patience(client), lambda: _stuck(client, spec, account_id))
        with self._lock:
            if listing.by_id is None:
                listed = None
            else:
                listed = [copy.deepcopy(round_.entry(i)) for i in round_.ids_of(spec.key_of(inputs))]
        if listed is None:  # no listing to go by
            return find_by_key(client, spec, account_id, inputs)
        return self._confirmed(client, spec, account_id, inputs, listed)

    def _confirmed(
        self,
        client: CloudflareClient,
        spec: SettingsType,
        account_id: str,
        inputs: Mapping[str, Any],
        listed: list[Entry],
    ) -> list[Entry]:
        """The listed entries of the key that still have it: the listing may be minutes old, and a refusal must
        be true, so each is read again (a GET per entry of a refused key, none for a key that is free)."""
        found = []
        for entry in listed:
            entry_id = str(entry.get("id"))
            try:
                now = client.get(settings_path(account_id, spec.collection, entry_id))
            except NotFoundError:
                self.note_deleted(client, spec, account_id, entry_id)
                continue
            self.note_written(client, spec, account_id, {**now, "id": entry_id})
            if spec.key_of(now) == spec.key_of(inputs):
                found.append(now)
        return found

    def _list(
        self, client: CloudflareClient, spec: SettingsType, account_id: str, round_: _Round, listing: _Listing
    ) -> None:
        try:
            entries = []
            for entry in client.iter_list(settings_path(account_id, spec.collection)):
                entries.append(entry)
                listing.work.moved()
            by_key: dict[Key, set[str]] = {}
            by_id = {}
            for entry in entries:
                if entry.get("id") is not None:
                    by_id[str(entry["id"])] = entry
                    by_key.setdefault(spec.key_of(entry), set()).add(str(entry["id"]))
            listing.by_key, listing.by_id = by_key, by_id
        except NotFoundError:
            pass  # a collection the API does not list: each Create asks for its own key
        finally:
            with self._lock:
                round_.last_use = max(round_.last_use, self._clock())
            listing.work.finish()

    def note_written(
        self, client: CloudflareClient, spec: SettingsType, account_id: str, entry: Mapping[str, Any]
    ) -> None:
        """An entry this process created or updated, as the API answered."""
        self._note(client, spec, account_id, str(entry.get("id")), dict(entry))

    def note_deleted(self, client: CloudflareClient, spec: SettingsType, account_id: str, entry_id: str) -> None:
        """An entry this process deleted."""
        self._note(client, spec, account_id, entry_id, None)

    def _note(
        self, client: CloudflareClient, spec: SettingsType, account_id: str, entry_id: str, entry: Entry | None
    ) -> None:
        scope = _scope(client, account_id, spec.collection)
        with self._lock:
            round_ = self._rounds.get(scope)
            if round_ is None:
                return
            previous = round_.written.get(entry_id)
            if previous is not None:
                round_.written_keys.get(spec.key_of(previous), set()).discard(entry_id)
            round_.written[entry_id] = entry
            if entry is not None:
                round_.written_keys.setdefault(spec.key_of(entry), set()).add(entry_id)

    def forget(self, client: CloudflareClient, account_id: str, collection: str) -> None:
        """End the round of a collection: the next Create begins a new one."""
        scope = _scope(client, account_id, collection)
        with self._lock:
            self._rounds.pop(scope, None)

    def clear(self) -> None:
        """End every round."""
        with self._lock:
            self._rounds.clear()

    def _drop_over(self, now: float) -> None:
        for scope in [s for s, r in self._rounds.items() if r.over(now)]:
            del self._rounds[scope]


def _asks_for_key_alone(spec: SettingsType, inputs: Mapping[str, Any]) -> bool:
    """Whether the API's list filters find the entries of this key alone, in one small answer: the type has
    filters for its key, and none is a field whose letter case does not count (the filters match exactly,
    so such a key is looked for again without its filter, which can be the whole collection)."""
    caseless = {rule.field for rule in spec.case_insensitive if rule.holds(inputs)}
    return bool(spec.key_filters) and caseless.isdisjoint(spec.key_filters)


def _scope(client: CloudflareClient, account_id: str, collection: str) -> _Scope:
    return displayed_base_url(client.base_url()), account_id, collection


def _stuck(client: CloudflareClient, spec: SettingsType, account_id: str) -> str:
    return (
        f"A write of a {spec.resource_name} waited {listing_patience(client):g}s for the listing of "
        f"{spec.collection} in account {account_id} that another write of this run is making at "
        f"{displayed_base_url(client.base_url())}, to find the entries of its natural key, and that listing read "
        f"nothing in that time: it may be stuck. Nothing was written; run `pulumi up` again, and if this happens "
        f"again, raise {client.retry.setting}"
    )


_EXISTING = PerProcess(ExistingKeys)


def process_existing_keys() -> ExistingKeys:
    """This process's rounds, created at first use."""
    return _EXISTING.get()
