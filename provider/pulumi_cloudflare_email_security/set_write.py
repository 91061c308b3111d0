"""A set resource's writes: planned by natural key against a listing, sent through ``/batch`` (or single
calls), and made safe to run again after a failure midway (see :mod:`.sets` for the rules)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

from .adoption import could_have_made, created_at, describe_key
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
from .reporting import UnexpectedError, as_reported
from .set_inputs import ENTRIES, ENTRY_ID, Entry, Key
from .settings.base import (
    ADOPT_EXISTING,
    Bag,
    SettingsType,
)
from .transport import CALLS_PER_ENGINE_CALL
from .tuning import warn

logger = logging.getLogger(__name__)

SINGLE_CALL_WORKERS = CALLS_PER_ENGINE_CALL
"""How many single calls (for writes a type cannot batch) are in flight at once; the rate budget still rules.
The network pool is sized for this many in each of the engine's threads (:data:`.transport.MAX_CONNECTIONS`)."""
LISTED_IN_MESSAGES = 20
"""How many entries an error message names before it only counts the rest."""
LOST_GRACE = 3.0
"""Seconds to wait, at most (and never past the retry deadline), for POSTs that got no answer to show in a listing."""


_RECOVERABLE = (RateLimitedError, ServerError, TransportError, NotFoundError)
"""Failures after which listing again and carrying on can succeed: a 404 means an entry went meanwhile."""


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
        self.started = datetime.now(timezone.utc)
        self.rivals: set[str] = set()
        """Entries another writer created with a key this call created, at the same moment: never this set's."""
        self.tries = Tries()
        self._lock = threading.Lock()

    # --- the steps

    def run(self) -> list[Entry]:
        """Make the collection hold the declared entries; return the API's entry for each, in order."""
        self._take_stock()
        try:
            self._converge()
            self._refuse_rivals()
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
                if entry_id in self.baseline or entry_id in self.mine or entry_id in self.rivals:
                    continue
                if self._unmanageable(entry):
                    continue
                key = self.spec.key_of(entry)
                if key in self.posted and self._could_be_ours(key, entry):
                    # New since the first listing, as this call POSTed it: a POST whose answer was lost.
                    self._note_created(key, entry)
                    self.lost.discard(key)

    def _could_be_ours(self, key: Key, entry: Mapping[str, Any]) -> bool:
        """Whether a POST of this call could have made ``entry`` (another writer's entry of the key, made with
        other values or before this call began, is not taken for this call's)."""
        position = self.index.get(key)
        return position is not None and could_have_made(self.spec, entry, self.declared[position], self.started)

    def _refuse_rivals(self) -> None:
        """List once more after creating entries, to catch a writer in another process that created one of the
        same keys at the same moment (both listings showed the key free). Of two such entries the one created
        first stays: when that is the other's, this call fails, and its entries are deleted again."""
        if not self.created:
            return
        listed = self._listing_as_is()
        ours = {key: entry_id for entry_id, key in self.created.items() if entry_id in listed}
        beaten: list[str] = []
        later: list[str] = []
        for entry_id, entry in listed.items():
            if entry_id in self.baseline or entry_id in self.mine or self._unmanageable(entry):
                continue
            key = self.spec.key_of(entry)
            if key not in ours:
                continue
            self.rivals.add(entry_id)
            if _created_first(entry, listed[ours[key]]):
                beaten.append(f"{self._described(ours[key], key)}, and another writer created {entry_id} before it")
            else:
                later.append(f"{self._described(ours[key], key)}, and another writer created {entry_id} after it")
        if later and not beaten:
            # The other writer, if it checks as this one does, deletes its entry again; say so in case it does not.
            warn(
                f"{self.set_name}: {len(later)} declared entries were created again by another writer at the same "
                f"moment: {_listed(later)}; the set keeps its own; delete the others if their writer does not"
            )
        if beaten:
            raise InputError(
                f"{self.set_name}: {len(beaten)} declared entries were created at the same moment by another writer "
                f"(another stack, or another run of this one): {_listed(beaten)}; run `pulumi up` again: it refuses "
                f"the other writer's entries as existing ones unless {ADOPT_EXISTING}=True, which takes them over"
            )

    def _listing_as_is(self) -> dict[str, Entry]:
        """The collection now, every page, retried as the retry policy says; nothing reconciled."""
        tries = Tries()
        while True:
            try:
                listed = self.client.list_all(self.path)
            except _RECOVERABLE as error:
                self.client.wait_before_retry(error, tries)
            else:
                return {str(e[ENTRY_ID]): e for e in listed if e.get(ENTRY_ID)}

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
        return self.spec.unmanageable_reason(entry)

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
                self._execute(_Plan(deletes=leftover))
                return None
            except _RECOVERABLE as error:
                try:
                    self.client.wait_before_retry(error, self.tries)
                except CloudflareAPIError as final:
                    return final
            except Exception as error:  # a bug: reported (its traceback logged), and named in the error
                return as_reported(error)

    def _kept(self) -> str:
        patched = len(self.patched - set(self.created))
        deleted = len(self.deleted - set(self.created))
        done = [f"{count} {what}" for count, what in ((patched, "updated"), (deleted, "deleted")) if count]
        if not done:
            return ""
        return f"of its entries, {' and '.join(done)} before the failure stay so (the next run finds that done)"

    def _explained(self, failure: Exception, detail: str) -> Exception:
        """``failure`` with what the write did before it and after it (``detail``) in its message. A bug is
        reported as the provider's methods report one (its traceback to the log, where it happened in the
        message), so that the error still says what was deleted again and what stays."""
        if not detail:
            return failure
        sentence = f"{self.set_name}: the write stopped here; {detail}"
        if isinstance(failure, CloudflareAPIError):
            failure.add_detail(sentence)
            return failure
        if isinstance(failure, InputError | ConfigurationError | UnexpectedError):
            return type(failure)(f"{failure}; {sentence}")
        return UnexpectedError(f"{as_reported(failure)}; {sentence}")


def _created_first(entry: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether ``entry`` was created before ``other``: by the API's ``created_at``, then by id, so that two
    writers comparing the same two entries agree."""

    def order(e: Mapping[str, Any]) -> tuple[datetime, str]:
        return created_at(e) or datetime.max.replace(tzinfo=timezone.utc), str(e.get(ENTRY_ID))

    return order(entry) < order(other)


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
