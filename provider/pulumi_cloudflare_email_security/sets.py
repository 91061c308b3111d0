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

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from .adoption import describe_key
from .client import MAX_BATCH_ITEMS, CloudflareClient, Tries, malformed, settings_path
from .errors import (
    CloudflareAPIError,
    ConfigurationError,
    InputError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .formats import ACCOUNT_ID_RULE, account_id_problem, shown, shown_name
from .read_cache import writing
from .reporting import reported
from .settings.base import (
    ACCOUNT_ID,
    ADOPT_EXISTING,
    PROVIDER_KEY,
    Bag,
    SettingsType,
    integral_floats_to_ints,
    is_unknown,
)
from .settings.checking import Failure, check_inputs
from .stateless import StatelessProvider

logger = logging.getLogger(__name__)

ENTRIES = "entries"
COUNT = "count"
EXCLUSIVE = "exclusive"
ENTRY_ID = "id"
SET_INPUTS = (ACCOUNT_ID, ENTRIES, EXCLUSIVE, ADOPT_EXISTING)
"""Every input of a set resource."""
SINGLE_CALL_WORKERS = 8
"""How many single calls (for writes a type cannot batch) are in flight at once; the rate budget still rules."""
LISTED_IN_MESSAGES = 20
"""How many entries an error message names before it only counts the rest."""
LOST_GRACE = 3.0
"""Seconds to wait, at most (and never past the retry deadline), for POSTs that got no answer to show in a listing."""

Entry = dict[str, Any]
Key = tuple[Any, ...]

_RECOVERABLE = (RateLimitedError, ServerError, TransportError, NotFoundError)
"""Failures after which listing again and carrying on can succeed: a 404 means an entry went meanwhile."""


# --- check ---------------------------------------------------------------------------------------------


def check_set(spec: SettingsType, set_name: str, news: Mapping[str, Any]) -> tuple[Bag, list[Failure]]:
    """Validate a set's inputs: each entry by the single resource's rules, named by position and field
    (``entries[3].pattern: …``), and each natural key declared once. Unknown values pass unchecked."""
    bag = {k: v for k, v in news.items() if k != PROVIDER_KEY}
    if bag.get(COUNT) is None:
        bag.pop(COUNT, None)  # the output placeholder the resource class registers
    failures = []
    for name in bag:
        if name not in SET_INPUTS:
            unknown = shown_name(name)
            failures.append(
                Failure(unknown, f"{unknown}: is not an input of {set_name}; inputs are {', '.join(SET_INPUTS)}")
            )
    failures += _account_failures(bag.get(ACCOUNT_ID))
    for name in (EXCLUSIVE, ADOPT_EXISTING):
        value = bag.get(name)
        if value is not None and not is_unknown(value) and not isinstance(value, bool):
            failures.append(Failure(name, f"{name}: must be true or false (got {shown(value)})"))
    entries, entry_failures = check_entries(spec, bag.get(ENTRIES))
    inputs = {
        ACCOUNT_ID: bag.get(ACCOUNT_ID),
        ENTRIES: entries,
        EXCLUSIVE: False if bag.get(EXCLUSIVE) is None else bag[EXCLUSIVE],
        ADOPT_EXISTING: False if bag.get(ADOPT_EXISTING) is None else bag[ADOPT_EXISTING],
    }
    return inputs, failures + entry_failures


def _account_failures(value: Any) -> list[Failure]:
    if is_unknown(value):
        return []
    if value is None or value == "":
        return [Failure(ACCOUNT_ID, f"{ACCOUNT_ID}: is required: {ACCOUNT_ID_RULE}")]
    problem = account_id_problem(value)
    return [Failure(ACCOUNT_ID, f"{ACCOUNT_ID}: {problem}")] if problem else []


def check_entries(spec: SettingsType, entries: Any) -> tuple[Any, list[Failure]]:
    """The checked entries (each with every field of the type) and the failures, by position and field."""
    if entries is None:
        return [], [Failure(ENTRIES, f"{ENTRIES}: is required: a list of {spec.resource_name} entries (may be empty)")]
    if not isinstance(entries, list):
        if is_unknown(entries):
            return entries, []
        what = f"a list of {spec.resource_name} entries, each a mapping of field names to values"
        return entries, [Failure(ENTRIES, f"{ENTRIES}: must be {what} (got {shown(entries)})")]
    checked: list[Any] = []
    failures: list[Failure] = []
    first_at: dict[Key, int] = {}
    for index, entry in enumerate(entries):
        where = f"{ENTRIES}[{index}]"
        if not isinstance(entry, dict):
            checked.append(entry)
            if not is_unknown(entry):
                got = shown(entry)
                failures.append(Failure(where, f"{where}: must be a mapping of field names to values (got {got})"))
            continue
        values, problems = _check_entry(spec, where, entry)
        checked.append(values)
        failures += problems
        if problems or any(is_unknown(values.get(k)) for k in spec.natural_key):
            continue
        first = first_at.setdefault(spec.key_of(values), index)
        if first != index:
            failures.append(
                Failure(
                    where,
                    f"{where}: declares the same {spec.resource_name} as {ENTRIES}[{first}] "
                    f"({describe_key(spec, values)}): declare each entry once",
                )
            )
    return checked, failures


def _check_entry(spec: SettingsType, where: str, entry: Mapping[str, Any]) -> tuple[Bag, list[Failure]]:
    allowed = {*spec.fields, *spec.deprecated_inputs}
    failures = []
    for name in entry:
        if name not in allowed:
            path = f"{where}.{shown_name(name)}"
            fields = ", ".join(spec.fields)
            failures.append(Failure(path, f"{path}: is not a field of {spec.resource_name}; fields are {fields}"))
    values, problems = check_inputs(spec, {k: v for k, v in entry.items() if k in allowed})
    # An entry carries no account_id: the set's is checked once, above.
    failures += [Failure(f"{where}.{p.property}", f"{where}.{p.reason}") for p in problems if p.property != ACCOUNT_ID]
    return {k: values.get(k) for k in spec.fields}, failures


# --- diff and outputs ----------------------------------------------------------------------------------


def diff_set(spec: SettingsType, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Compare declared inputs with recorded outputs: entries by natural key in any order (each field by the
    type's order and case rules); a new account replaces the set."""
    changed = []
    new_account = news.get(ACCOUNT_ID)
    if is_unknown(new_account) or new_account != olds.get(ACCOUNT_ID):
        changed.append(ACCOUNT_ID)
    exclusive = news.get(EXCLUSIVE)
    if is_unknown(exclusive) or bool(exclusive) != bool(olds.get(EXCLUSIVE)):
        changed.append(EXCLUSIVE)
    if entries_differ(spec, olds.get(ENTRIES), news.get(ENTRIES)):
        changed.append(ENTRIES)
    replaces = [name for name in changed if name in spec.replace_on]
    return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)


def entries_differ(spec: SettingsType, recorded: Any, declared: Any) -> bool:
    """Whether the declared entries differ from the recorded ones (an unknown value anywhere counts)."""
    if not isinstance(declared, list) or is_unknown(declared):
        return True
    olds = [e for e in recorded or [] if isinstance(e, dict)]
    if len(olds) != len(declared):
        return True
    by_key: dict[Key, list[Entry]] = {}
    for old in olds:
        by_key.setdefault(spec.key_of(old), []).append(old)
    for entry in declared:
        matches = by_key.pop(spec.key_of(entry), [])
        if len(matches) != 1 or spec.changed_inputs(matches[0], entry):
            return True
    return bool(by_key)


def entry_after_write(spec: SettingsType, declared: Mapping[str, Any], entry: Mapping[str, Any]) -> Entry:
    """One entry's outputs after a write: its id, the declared values (the API's for fields the program
    leaves to it), and what the API computed."""
    out: Entry = {ENTRY_ID: str(entry[ENTRY_ID])}
    for name in spec.fields:
        value = integral_floats_to_ints(declared.get(name))
        out[name] = entry.get(name) if value is None and not spec.clearable(name) else value
    return {**out, **{k: entry.get(k) for k in spec.computed}}


def entry_as_read(spec: SettingsType, recorded: Mapping[str, Any], entry: Mapping[str, Any]) -> Entry:
    """One entry's outputs as the API has it, keeping recorded values that differ only in order or case."""
    outputs = spec.outputs_from_entry(recorded, entry)
    return {ENTRY_ID: str(entry[ENTRY_ID]), **{k: outputs[k] for k in (*spec.fields, *spec.computed)}}


def recorded_ids(entries: Any) -> list[str]:
    """The entry ids recorded in a set's outputs."""
    return [str(e[ENTRY_ID]) for e in entries or [] if isinstance(e, dict) and e.get(ENTRY_ID)]


# --- writes --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    deletes: list[str] = field(default_factory=list)
    patches: list[Bag] = field(default_factory=list)
    """PATCH bodies, each with the entry's ``id``."""
    posts: list[tuple[Key, Bag]] = field(default_factory=list)
    """POST bodies with the natural key each creates."""

    def __bool__(self) -> bool:
        return bool(self.deletes or self.patches or self.posts)


class SetWrite:
    """One create, update or delete of a set: plan by natural key, write, and after a failure list again,
    reconcile and carry on; when that cannot succeed, delete what this call created (see the module's
    documentation).

    ``owned`` are the ids recorded in the set's state; ``declared`` the checked entries (empty to delete).
    """

    def __init__(
        self,
        spec: SettingsType,
        set_name: str,
        client: CloudflareClient,
        account_id: str,
        declared: Sequence[Mapping[str, Any]],
        owned: Iterable[str],
        *,
        exclusive: bool = False,
        adopt_existing: bool = False,
    ) -> None:
        self.spec, self.set_name, self.client, self.account_id = spec, set_name, client, account_id
        self.path = settings_path(account_id, spec.collection)
        self.declared = [dict(e) for e in declared]
        self.index: dict[Key, int] = {}
        for position, entry in enumerate(self.declared):
            self.index.setdefault(spec.key_of(entry), position)
        self.exclusive, self.adopt_existing = exclusive, adopt_existing
        self.mine: set[str] = set(owned)
        """The ids that are this set's: recorded, adopted, or created by this call."""
        self.current: dict[str, Entry] = {}
        """The collection as last listed, with this call's writes applied since."""
        self.baseline: set[str] = set()
        """The ids of the call's first listing."""
        self.posted: set[Key] = set()
        """The keys this call has sent a POST for."""
        self.landed: dict[Key, str] = {}
        """The entry each of those POSTs made, where known (by answer, or found by a later listing)."""
        self.created: dict[str, Key] = {}
        self.patched: set[str] = set()
        self.deleted: set[str] = set()
        self.unsure = False
        """A POST may have landed unseen: its outcome was unknown, and no listing since has shown it."""
        self.lost: set[Key] = set()
        """Keys whose POST got no answer after it was sent, not listed since: never POSTed again by this call."""
        self.lost_error: TransportError | None = None
        self.lost_at = 0.0
        """When the last POST that got no answer failed (``time.monotonic``): the grace wait counts from here."""
        self.tries = Tries()
        self._lock = threading.Lock()

    # --- the steps

    def run(self) -> list[Entry]:
        """Make the collection hold the declared entries; return the API's entry for each, in order."""
        self._take_stock()
        try:
            self._converge()
            assigned = self._plan()[1]
        except Exception as failure:
            raise self._undo(failure) from None
        results = []
        for entry in self.declared:
            entry_id = assigned.get(self.spec.key_of(entry))
            if entry_id is None:  # a write the API answered as done, yet without the entry
                raise malformed("a write without one of its entries", "POST", f"{self.path}/batch", repr(entry))
            results.append(self.current[entry_id])
        logger.info(
            "%s: %d created, %d updated, %d deleted in %s",
            self.set_name,
            len(self.created),
            len(self.patched),
            len(self.deleted),
            self.spec.collection,
        )
        return results

    def remove(self, recorded: Sequence[Mapping[str, Any]]) -> None:
        """Delete the recorded entries (this object was made with none declared); those gone count as deleted.

        No listing first: the recorded entries are taken as present, and a listing only follows a failure.
        """
        self.current = {str(e[ENTRY_ID]): dict(e) for e in recorded if e.get(ENTRY_ID)}
        self.baseline = set(self.current)
        try:
            self._converge()
        except Exception as failure:
            raise self._explained(failure, self._kept()) from None

    def _take_stock(self) -> None:
        """The first listing; refuses, before any write, declared entries that exist but are not the set's
        (unless adopting them) and entries the API does not let anyone manage."""
        self._list()
        self.baseline = set(self.current)
        by_key: dict[Key, list[Entry]] = {}
        for entry in self.current.values():
            by_key.setdefault(self.spec.key_of(entry), []).append(entry)
        blocked, taken, ambiguous = [], [], []
        for key, position in self.index.items():
            found = by_key.get(key, [])
            where = f"{ENTRIES}[{position}] ({describe_key(self.spec, self.declared[position])})"
            reasons = [(e, self._unmanageable(e)) for e in found]
            refused = [(e, reason) for e, reason in reasons if reason]
            if refused:
                entry, reason = refused[0]
                name = self.spec.resource_name
                blocked.append(f"{where} is {name} {entry[ENTRY_ID]}, which cannot be managed: {reason}")
            elif not found or any(str(e[ENTRY_ID]) in self.mine for e in found):
                continue
            elif not self.adopt_existing:
                taken.append(f"{where} is {_ids(found)}")
            elif len(found) > 1 and not self.exclusive:
                ambiguous.append(f"{where} matches {len(found)} entries ({_ids(found)})")
            else:
                self.mine.add(str(found[0][ENTRY_ID]))  # adopted; an exclusive set deletes the others
        problems = []
        if blocked:
            problems.append(f"{len(blocked)} declared entries cannot be managed: {_listed(blocked)}; remove them")
        if taken:
            problems.append(
                f"{len(taken)} declared entries already exist in account {self.account_id} and are not this "
                f"set's: {_listed(taken)}; set {ADOPT_EXISTING}=True to take them over (destroying the set then "
                f"deletes them), or remove them from {ENTRIES}"
            )
        if ambiguous:
            problems.append(
                f"{ADOPT_EXISTING} cannot tell which entry to take over: {_listed(ambiguous)}; delete all but one"
            )
        if problems:
            raise InputError(f"{self.set_name}: nothing was changed: " + "; ".join(problems))

    def _converge(self) -> None:
        """Write the plan; after a failure, list again, plan afresh and carry on until the retry deadline.
        Keys whose POST got no answer are waited for once the rest is done; the call fails if they stay away."""
        while True:
            plan = self._plan()[0]
            while plan:
                try:
                    self._execute(plan)
                except _RECOVERABLE as error:
                    self.unsure = self.unsure or error.outcome_unknown
                    self._recover(error)
                    plan = self._plan()[0]
                else:
                    break
            if not self.lost:
                return
            self._await_lost()
            if self.lost and self.lost_error is not None:
                self.lost_error.add_detail(
                    f"{len(self.lost)} entries whose POST got no answer were not listed after a grace wait"
                )
                raise self.lost_error

    def _await_lost(self) -> None:
        """Give POSTs that got no answer a last chance to show: wait briefly, then list once more."""
        left = self.client.retry.deadline - (time.monotonic() - self.lost_at)
        wait = min(LOST_GRACE, left)
        logger.info("%s: %d POSTs got no answer; listing again in %.1fs", self.set_name, len(self.lost), wait)
        if wait > 0:
            time.sleep(wait)
        self.tries = Tries()
        try:
            self._list()
        except _RECOVERABLE as error:
            self._recover(error)

    def _recover(self, error: CloudflareAPIError) -> None:
        """Wait as the retry policy says (raising past the deadline), then list the collection again."""
        while True:
            self.client.wait_before_retry(error, self.tries)
            try:
                self._list()
                return
            except _RECOVERABLE as again:
                error = again

    def _list(self) -> None:
        """The collection as it is now (every page); notes the entries that POSTs of this call left."""
        listed = self.client.list_all(self.path)
        current = {str(e[ENTRY_ID]): e for e in listed if e.get(ENTRY_ID)}
        with self._lock:
            self.current = current
            self.unsure = False
            for entry_id, entry in current.items():
                if entry_id in self.baseline or entry_id in self.mine or self._unmanageable(entry):
                    continue
                key = self.spec.key_of(entry)
                if key in self.posted:
                    # New since the first listing, with a key this call POSTed: a POST whose answer was lost.
                    self._note_created(key, entry)
                    self.lost.discard(key)

    def _plan(self) -> tuple[_Plan, dict[Key, str]]:
        """What is left to write, and the entry (id) that stands for each declared key so far."""
        plan, assigned = _Plan(), {}
        for key, entry_id in self.landed.items():
            if entry_id in self.current:
                assigned[key] = entry_id  # by the POST's answer: even if the API changed the key's spelling
        claimed = set(assigned.values())
        for entry_id, entry in self.current.items():
            if entry_id in claimed or self._unmanageable(entry):
                continue
            key = self.spec.key_of(entry)
            if entry_id in self.mine and key in self.index and key not in assigned:
                assigned[key] = entry_id
            elif entry_id in self.mine or self.exclusive:
                plan.deletes.append(entry_id)  # undeclared, a second entry of a key, or not ours in an exclusive set
        for key, position in self.index.items():
            wanted = self.declared[position]
            target = assigned.get(key)
            if target is None:
                if key not in self.lost:  # a POST that got no answer may still land: never send a second
                    plan.posts.append((key, self.spec.create_body(wanted)))
            elif self.spec.changed_inputs(self.current[target], wanted):
                plan.patches.append({ENTRY_ID: target, **self.spec.update_body(wanted)})
        return plan, assigned

    def _execute(self, plan: _Plan) -> None:
        """Send the plan: through ``/batch`` for the kinds the type batches, as single calls for the rest."""
        parts = self.spec.batch_parts
        self._batches(
            plan.deletes if "deletes" in parts else [],
            plan.patches if "patches" in parts else [],
            plan.posts if "posts" in parts else [],
        )
        self._singles(
            [] if "deletes" in parts else plan.deletes,
            [] if "patches" in parts else plan.patches,
            [] if "posts" in parts else plan.posts,
        )

    def _batches(self, deletes: list[str], patches: list[Bag], posts: list[tuple[Key, Bag]]) -> None:
        longest = max(len(deletes), len(patches), len(posts))
        for start in range(0, longest, MAX_BATCH_ITEMS):
            chunk = slice(start, start + MAX_BATCH_ITEMS)
            ids, changes, new = deletes[chunk], patches[chunk], posts[chunk]
            with self._lock:
                self.posted.update(key for key, _ in new)
            try:
                bodies = [body for _, body in new]
                result = self.client.batch(
                    self.path, deletes=ids, patches=changes, posts=bodies, parts=self.spec.batch_parts
                )
            except TransportError as error:
                self._note_lost([key for key, _ in new], error)
                raise
            made = result.get("posts") or []
            if len(made) != len(new):
                detail = f"{len(new)} posts sent, {len(made)} entries in the answer"
                raise malformed("a batch whose posts do not match the request", "POST", f"{self.path}/batch", detail)
            with self._lock:
                self.tries = Tries()  # progress: the retry deadline counts afresh
                for entry_id in ids:
                    self._note_deleted(entry_id)
                for item in result.get("patches") or []:
                    self._note_patched(item)
                for (key, _), entry in zip(new, made, strict=True):
                    self._note_created(key, entry)

    def _singles(self, deletes: list[str], patches: list[Bag], posts: list[tuple[Key, Bag]]) -> None:
        calls: list[Callable[[], None]] = [partial(self._delete_one, i) for i in deletes]
        calls += [partial(self._patch_one, body) for body in patches]
        calls += [partial(self._post_one, key, body) for key, body in posts]
        if not calls:
            return
        stop = threading.Event()

        def call(one: Callable[[], None]) -> None:
            if stop.is_set():
                return  # another call failed: list again before sending more
            try:
                one()
            except Exception:
                stop.set()
                raise

        with ThreadPoolExecutor(max_workers=min(SINGLE_CALL_WORKERS, len(calls))) as pool:
            futures = [pool.submit(call, one) for one in calls]
        failures = [error for error in (f.exception() for f in futures) if error is not None]
        if failures:
            # One the retries cannot help is raised first, so that the call stops rather than waits.
            failures.sort(key=lambda e: isinstance(e, _RECOVERABLE))
            raise failures[0]

    def _delete_one(self, entry_id: str) -> None:
        with contextlib.suppress(NotFoundError):  # already gone: deleted
            self.client.delete(settings_path(self.account_id, self.spec.collection, entry_id))
        with self._lock:
            self.tries = Tries()
            self._note_deleted(entry_id)

    def _patch_one(self, body: Bag) -> None:
        entry_id = str(body[ENTRY_ID])
        changes = {k: v for k, v in body.items() if k != ENTRY_ID}
        entry = self.client.patch(settings_path(self.account_id, self.spec.collection, entry_id), changes)
        with self._lock:
            self.tries = Tries()
            self._note_patched({**entry, ENTRY_ID: entry_id})

    def _post_one(self, key: Key, body: Bag) -> None:
        with self._lock:
            self.posted.add(key)
        try:
            entry = self.client.post(self.path, body)
        except TransportError as error:
            self._note_lost([key], error)
            raise
        with self._lock:
            self.tries = Tries()
            self._note_created(key, entry)

    def _note_lost(self, keys: list[Key], error: TransportError) -> None:
        """Keys whose POST was sent and got no answer (one that never reached the server is not lost)."""
        if not keys or not error.outcome_unknown:
            return
        with self._lock:
            self.lost.update(keys)
            self.lost_error, self.lost_at = error, time.monotonic()

    def _note_created(self, key: Key, entry: Mapping[str, Any]) -> None:
        entry_id = entry.get(ENTRY_ID)
        if not entry_id:
            raise malformed("a create without the new entry's id", "POST", self.path, f"fields {sorted(entry)}")
        entry_id = str(entry_id)
        self.current[entry_id] = dict(entry)
        self.mine.add(entry_id)
        self.created[entry_id] = key
        self.landed.setdefault(key, entry_id)

    def _note_patched(self, entry: Mapping[str, Any]) -> None:
        entry_id = str(entry.get(ENTRY_ID))
        self.current[entry_id] = {**self.current.get(entry_id, {}), **entry}
        self.patched.add(entry_id)

    def _note_deleted(self, entry_id: str) -> None:
        self.current.pop(entry_id, None)
        self.deleted.add(entry_id)

    def _unmanageable(self, entry: Mapping[str, Any]) -> str | None:
        return self.spec.unmanageable(entry) if self.spec.unmanageable else None

    # --- after a failure

    def _undo(self, failure: Exception) -> Exception:
        """Delete the entries this call created, then explain: what stays, what to do."""
        if not self.posted:
            return self._explained(failure, self._kept())
        problem = self._delete_created()
        kept = self._kept()
        lost = self._lost_explained()
        if problem is None:
            undone = f"the {len(self.created)} entries it had created were deleted again" if self.created else ""
            if undone and lost:
                undone += " (those listed by then)"
            what = "; ".join(p for p in (undone, kept) if p) or "nothing was created"
            advice = lost or "run `pulumi up` again once the cause is fixed"
            return self._explained(failure, f"{what}; {advice}")
        left = [self._described(entry_id, key) for entry_id, key in self.created.items() if entry_id in self.current]
        detail = f"the {len(left)} entries it created could not be deleted again ({_summary(problem)}): {_listed(left)}"
        if self.unsure and not lost:
            detail += "; and entries whose POST was answered by no response may exist too"
        detail += f"; run `pulumi up` again with {ADOPT_EXISTING}=True to take them over, or delete them"
        return self._explained(failure, "; ".join(p for p in (detail, lost, kept) if p))

    def _lost_explained(self) -> str:
        """What to do about the keys whose POST got no answer and that no listing has shown: they may land yet."""
        if not self.lost:
            return ""
        named = [
            f"{ENTRIES}[{self.index[key]}] ({describe_key(self.spec, self.declared[self.index[key]])})"
            for key in sorted(self.lost, key=lambda k: self.index.get(k, -1))
            if key in self.index
        ]
        return (
            f"the POST of {len(named)} entries got no answer and they are not listed, but they may still land: "
            f"{_listed(named)}; run `pulumi up` again: if they landed, it refuses them as existing entries unless "
            f"{ADOPT_EXISTING}=True, which takes them over; if they did not, it creates them"
        )

    def _described(self, entry_id: str, key: Key) -> str:
        position = self.index.get(key)
        if position is None:
            return entry_id
        return f"{ENTRIES}[{position}] ({describe_key(self.spec, self.declared[position])}) is {entry_id}"

    def _delete_created(self) -> Exception | None:
        """Delete every entry this call created (found by a fresh listing); the error when that failed."""
        self.tries = Tries()
        while True:
            try:
                self._list()
                leftover = [entry_id for entry_id in self.created if entry_id in self.current]
                if not leftover:
                    return None
                if "deletes" in self.spec.batch_parts:
                    self._batches(leftover, [], [])
                else:
                    self._singles(leftover, [], [])
                return None
            except _RECOVERABLE as error:
                try:
                    self.client.wait_before_retry(error, self.tries)
                except CloudflareAPIError as final:
                    return final
            except Exception as error:
                return error

    def _kept(self) -> str:
        patched = len(self.patched - set(self.created))
        deleted = len(self.deleted - set(self.created))
        done = [f"{count} {what}" for count, what in ((patched, "updated"), (deleted, "deleted")) if count]
        if not done:
            return ""
        return f"of its entries, {' and '.join(done)} before the failure stay so (the next run finds that done)"

    def _explained(self, failure: Exception, detail: str) -> Exception:
        if not detail:
            return failure
        sentence = f"{self.set_name}: the write stopped here; {detail}"
        if isinstance(failure, CloudflareAPIError):
            failure.add_detail(sentence)
            return failure
        if isinstance(failure, InputError | ConfigurationError):
            return type(failure)(f"{failure}; {sentence}")
        logger.warning("%s", sentence)
        return failure


def _ids(entries: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(str(e[ENTRY_ID]) for e in entries)


def _listed(items: Sequence[str]) -> str:
    shown_items = "; ".join(items[:LISTED_IN_MESSAGES])
    more = len(items) - LISTED_IN_MESSAGES
    return f"{shown_items}; and {more} more" if more > 0 else shown_items


def _summary(error: Exception) -> str:
    if isinstance(error, CloudflareAPIError):
        return f"{error.summary}, HTTP {error.status}" if error.status else error.summary
    return str(error).splitlines()[0] if str(error) else type(error).__name__


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
        """Validate every entry and the set's own inputs before any API call; unknowns pass unchecked."""
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
        return UpdateResult(self._write(news, owned=recorded_ids(olds.get(ENTRIES))))

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
        with writing(client, account_id, spec.collection):
            listed = write.run()
        entries = [entry_after_write(spec, wanted, entry) for wanted, entry in zip(declared, listed, strict=True)]
        return self._outputs(props, entries)

    @staticmethod
    def _outputs(props: Mapping[str, Any], entries: list[Entry]) -> Bag:
        return {
            ACCOUNT_ID: props.get(ACCOUNT_ID),
            ENTRIES: entries,
            COUNT: len(entries),
            EXCLUSIVE: bool(props.get(EXCLUSIVE)),
            ADOPT_EXISTING: bool(props.get(ADOPT_EXISTING)),
        }

    @reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """List the collection (every page) and report the set's entries as they are: one deleted elsewhere
        drops out. An exclusive set also reports every other manageable entry, so the next diff shows it."""
        spec, account_id = self.settings_type, str(props[ACCOUNT_ID])
        listed = self.client().list_all(settings_path(account_id, spec.collection))
        by_id = {str(e[ENTRY_ID]): e for e in listed if e.get(ENTRY_ID)}

        def manageable(entry: Mapping[str, Any]) -> bool:
            return not (spec.unmanageable and spec.unmanageable(entry))

        entries = []
        for recorded in props.get(ENTRIES) or []:
            entry = by_id.pop(str(recorded.get(ENTRY_ID)), None)
            if entry is not None and manageable(entry):
                entries.append(entry_as_read(spec, recorded, entry))
        if props.get(EXCLUSIVE):
            entries += [entry_as_read(spec, entry, entry) for entry in by_id.values() if manageable(entry)]
        return ReadResult(id_, self._outputs(props, entries))

    @reported
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Delete the set's entries (in batches where the type has them); one already gone counts as deleted."""
        spec, client, account_id = self.settings_type, self.client(), str(props[ACCOUNT_ID])
        recorded = [e for e in props.get(ENTRIES) or [] if isinstance(e, dict) and e.get(ENTRY_ID)]
        write = SetWrite(spec, self.set_name(), client, account_id, [], recorded_ids(recorded))
        with writing(client, account_id, spec.collection):
            write.remove(recorded)
