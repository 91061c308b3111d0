"""Set resources: many entries of one settings type as one resource, written through ``/batch``, read by listing.

One generic engine serves every settings type from its :class:`SettingsType` declaration, as
:mod:`.engine` does for single entries. A set's inputs are ``account_id``, ``entries`` (the single
resource's fields, per entry), ``exclusive`` and ``adopt_existing``; its outputs add, per entry, the
entry's ``id`` and computed fields, and ``count``.

Entries are matched by the type's natural key (:meth:`SettingsType.key_of`), never by position:

* **Create and update** list the collection (every page, 1,000 a page), then work out deletes, patches
  (only of entries whose values differ) and posts, and send them through the type's ``/batch`` endpoint,
  at most 1,000 items per array in a call. Kinds of write the endpoint lacks (the impersonation registry
  has no batch endpoint, sending-domain restrictions batch deletes only) go as single calls, a few at a
  time, within the process's rate budget.
* **Which entries are the set's**: the ids recorded in its state, those it adopted (``adopt_existing``),
  and those it created. An existing entry with a declared key is refused before anything is written unless
  ``adopt_existing`` is set. ``exclusive=True`` makes the set own the whole collection: every other entry
  is deleted. Entries the API does not let anyone change (directory-synced impersonation entries) are
  never touched, never reported, and may not be declared.
* **Failures midway.** The Pulumi engine keeps no partial state for a failed create or update, so a
  write must leave nothing that a later ``up`` would duplicate or take over unasked. The first listing
  of a call is its baseline. After a failed write whose outcome is unknown, the collection is listed
  again before anything else is sent: an entry that was not in the baseline and carries a key this call
  POSTed was made by this call, so it is the set's, and that key is never POSTed again. The remaining
  work is planned afresh from that listing and retried until the retry deadline (which restarts whenever
  a write succeeds). A key whose POST got no answer at all (the connection dropped or the try was cut off
  after the request was sent) and that the listing does not show is not POSTed again in this call, since
  the server may still commit that POST: the rest of the work is done, the collection is listed once more
  after a short grace wait, and a key still missing fails the call, named, with the advice to run
  ``pulumi up`` again (it then finds the entry, and refuses it unless ``adopt_existing``, or creates it).
  A POST the server answered with 5xx or 429 is retried as above. When the call must fail, the entries it
  created are deleted again, so the account holds no entry the state does not know of (patches and deletes
  stay: the next ``up`` finds them done), save those whose POST got no answer, which the error names; when
  even that fails, the error lists the entries left behind and says to rerun with ``adopt_existing=True``.
* **Read** lists the collection and reports the set's entries as they are (one deleted elsewhere drops
  out, so the next ``up`` creates it again); an exclusive set also reports every other entry, as drift.
* **Delete** deletes the set's entries in batches; an entry already gone counts as deleted.

The provider classes are pickled into every set's state, by reference: they hold no state, and stay at
their import paths.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from .claims import claimed
from .client import CloudflareClient, settings_path
from .existing import process_existing_keys
from .read_cache import writing
from .reporting import reported
from .set_inputs import (
    COUNT,
    DRIFT_IDS,
    ENTRIES,
    ENTRY_ID,
    EXCLUSIVE,
    Entry,
    check_set,
    diff_set,
    entry_after_write,
    entry_as_read,
    owned_ids,
    recorded_ids,
)
from .set_write import SetWrite
from .settings.base import (
    ACCOUNT_ID,
    ADOPT_EXISTING,
    Bag,
)
from .stateless import StatelessProvider

logger = logging.getLogger(__name__)


# --- the provider --------------------------------------------------------------------------------------


class SetProvider(StatelessProvider):
    """A Pulumi dynamic provider for a set of entries of the settings type named by ``settings_type``.

    Subclasses only name the type; the set resource's name is the subclass's name less ``Provider``.
    """

    @classmethod
    def set_name(cls) -> str:
        """The set resource's class name, for messages: ``BlockedSenderSet``."""
        return cls.__name__.removesuffix("Provider")

    @reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every entry and the set's own inputs before any API call; unknowns pass unchecked.

        The configuration is checked first, as create would meet it, without any request either.
        """
        self.check_configuration()
        inputs, failures = check_set(self.settings_type, self.set_name(), news)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    @reported
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare declared entries with the recorded ones by natural key; a new account replaces the set."""
        return diff_set(self.settings_type, olds, news)

    @reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Write the declared entries (adopting existing ones only with ``adopt_existing``)."""
        outputs = self._write(props, owned=())
        return CreateResult(str(uuid.uuid4()), outputs)

    @reported
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Bring the set's entries to the declared ones: post, patch (changed entries only) and delete."""
        return UpdateResult(self._write(news, owned=owned_ids(self.settings_type, olds, news)))

    def _write(self, props: Mapping[str, Any], owned: Iterable[str]) -> Bag:
        spec, client, account_id = self.settings_type, self.client(), str(props[ACCOUNT_ID])
        declared = list(props.get(ENTRIES) or [])
        write = SetWrite(
            spec,
            self.set_name(),
            client,
            account_id,
            declared,
            owned,
            exclusive=bool(props.get(EXCLUSIVE)),
            adopt_existing=bool(props.get(ADOPT_EXISTING)),
        )
        keys = [spec.key_of(entry) for entry in declared]
        with claimed(client, account_id, spec.collection, keys), _writing(client, account_id, spec.collection):
            listed = write.run()
        entries = [entry_after_write(spec, wanted, entry) for wanted, entry in zip(declared, listed, strict=True)]
        return self._outputs(props, entries)

    @staticmethod
    def _outputs(props: Mapping[str, Any], entries: list[Entry], drift: Iterable[str] | None = ()) -> Bag:
        """The set's outputs; ``drift`` ``None`` leaves ``drift_ids`` out (a state that has never marked drift)."""
        outputs = {
            ACCOUNT_ID: props.get(ACCOUNT_ID),
            ENTRIES: entries,
            COUNT: len(entries),
            DRIFT_IDS: None if drift is None else list(drift),
            EXCLUSIVE: bool(props.get(EXCLUSIVE)),
            ADOPT_EXISTING: bool(props.get(ADOPT_EXISTING)),
        }
        return {k: v for k, v in outputs.items() if k != DRIFT_IDS or v is not None}

    @reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """List the collection (every page) and report the set's entries as they are: one deleted elsewhere
        drops out. An exclusive set also reports every other manageable entry, so the next diff shows it."""
        spec, account_id = self.settings_type, str(props[ACCOUNT_ID])
        listed = self.client().list_all(settings_path(account_id, spec.collection))
        by_id = {str(e[ENTRY_ID]): e for e in listed if e.get(ENTRY_ID)}

        known_drift = {str(i) for i in props.get(DRIFT_IDS) or []}
        entries, drift = [], []
        for recorded in props.get(ENTRIES) or []:
            entry = by_id.pop(str(recorded.get(ENTRY_ID)), None)
            if entry is not None and not spec.unmanageable_reason(entry):
                entries.append(entry_as_read(spec, recorded, entry))
                if str(entry[ENTRY_ID]) in known_drift:
                    drift.append(str(entry[ENTRY_ID]))
        if props.get(EXCLUSIVE):
            found = [entry for entry in by_id.values() if not spec.unmanageable_reason(entry)]
            entries += [entry_as_read(spec, entry, entry) for entry in found]
            drift += [str(entry[ENTRY_ID]) for entry in found]
        # A state from before drift was marked may hold drift recorded then: marking starts at the next write.
        return ReadResult(id_, self._outputs(props, entries, drift if DRIFT_IDS in props else None))

    @reported
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Delete the set's entries (in batches where the type has them); one already gone counts as deleted."""
        spec, client, account_id = self.settings_type, self.client(), str(props[ACCOUNT_ID])
        recorded = [e for e in props.get(ENTRIES) or [] if isinstance(e, dict) and e.get(ENTRY_ID)]
        write = SetWrite(spec, self.set_name(), client, account_id, [], recorded_ids(recorded))
        with _writing(client, account_id, spec.collection):
            write.remove(recorded)


@contextmanager
def _writing(client: CloudflareClient, account_id: str, collection: str) -> Iterator[None]:
    """Around a set's write: afterwards, neither a refresh nor a single resource's Create goes by a listing of
    the collection taken before (see :mod:`.read_cache` and :mod:`.existing`)."""
    try:
        with writing(client, account_id, collection):
            yield
    finally:
        process_existing_keys().forget(client, account_id, collection)
