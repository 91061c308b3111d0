"""The emulator's state and behaviour, apart from any HTTP: accounts, entries, validation, lists, batch.

One :class:`Backend` holds every account's collections. All methods are thread-safe and raise
:class:`ApiFailure` for anything the API would refuse. ``Backend(normalise=True)`` answers like an API that
normalises what it stores: list fields sorted (without duplicates), domain names and email addresses
lower-cased.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeGuard

from . import openapi, rules
from .batch import run_batch
from .failures import ApiFailure
from .listing import ListQuery

Entry = dict[str, Any]
ACCOUNT_ID_MAX = 32

LOWER_CASED: dict[str, tuple[tuple[str, str | None, tuple[str, ...] | None], ...]] = {
    "allow_policies": (("pattern", "is_regex", ("EMAIL", "DOMAIN")),),
    "block_senders": (("pattern", "is_regex", ("EMAIL", "DOMAIN")),),
    "trusted_domains": (("pattern", "is_regex", None),),
    "impersonation_registry": (("email", "is_email_regex", None),),
    "sending_domain_restrictions": (("domain", None, None), ("exclude", None, None)),
    "domains": (("domain", None, None),),
}
"""What a normalising backend lower-cases in each collection: the field (for a list, its items), the flag
that makes it a regex (left as written), and the ``pattern_type`` values it applies to (``None``: all)."""


def utc_now() -> str:
    """The current time as the API writes timestamps."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Backend:
    """Every account's settings, with the API's validation, listing and batch semantics."""

    def __init__(
        self,
        *,
        clock: Callable[[], str] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        normalise: bool = False,
    ) -> None:
        self.normalise = normalise
        """Store (and so answer with) list fields sorted and domain names and email addresses lower-cased, as
        an API may: a provider must not see that as a change."""
        self._clock = clock
        self._new_id = new_id
        self._lock = threading.RLock()
        self._accounts: dict[str, dict[str, dict[str, Entry]]] = {}
        self.version = 0
        """Bumped on every change, so a persisted copy knows when to save."""

    # --- state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every account."""
        with self._lock:
            self._accounts.clear()
            self.version += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the whole state."""
        with self._lock:
            return {"accounts": copy.deepcopy(self._accounts)}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Replace the whole state with a :meth:`snapshot`."""
        with self._lock:
            self._accounts = copy.deepcopy(dict(state.get("accounts", {})))
            for collections in self._accounts.values():
                for collection, entries in collections.items():
                    for entry in entries.values():
                        rules.upgrade(collection, entry)
            self.version += 1

    def entries(self, account_id: str, collection: str) -> list[Entry]:
        """Copies of a collection's entries, in creation order (for tests and inspection)."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._store(account_id, collection).values()]

    def seed(self, account_id: str, collection: str, entry: Mapping[str, Any]) -> Entry:
        """Insert an entry as-is, bypassing validation: for entries the API makes itself."""
        with self._lock:
            store = self._store(account_id, collection)
            stamped = self._stamp(collection, {**entry}, created=True)
            rules.upgrade(collection, stamped)
            stamped.setdefault("id", self._new_id())
            store[stamped["id"]] = stamped
            self.version += 1
            return copy.deepcopy(stamped)

    def _store(self, account_id: str, collection: str) -> dict[str, Entry]:
        if collection not in openapi.collections():
            raise ApiFailure.not_found(f"collection {collection}")
        if not account_id or len(account_id) > ACCOUNT_ID_MAX:
            raise ApiFailure.invalid(f"account_id: must be 1 to {ACCOUNT_ID_MAX} characters")
        return self._accounts.setdefault(account_id, {}).setdefault(collection, {})

    def _stamp(self, collection: str, entry: Entry, *, created: bool) -> Entry:
        now = self._clock()
        if created:
            entry["created_at"] = now
        entry["modified_at"] = now
        if "last_modified" in openapi.collections()[collection].entry_properties:
            entry["last_modified"] = now  # deprecated, and absent from collections newer than it
        return entry

    def find_entry(self, account_id: str, collection: str, entry_id: str) -> Entry:
        entry = self._store(account_id, collection).get(entry_id)
        if entry is None:
            raise ApiFailure.not_found(f"{collection} entry {entry_id}")
        return entry

    # --- single-entry operations -----------------------------------------------------------------

    def create(self, account_id: str, collection: str, body: Any) -> Entry:
        """POST a new entry; returns it as the API would."""
        with self._lock:
            entry = self.prepare_create(account_id, collection, body)
            self.insert_entry(account_id, collection, entry)
            return copy.deepcopy(entry)

    def get(self, account_id: str, collection: str, entry_id: str) -> Entry:
        """GET one entry."""
        with self._lock:
            return copy.deepcopy(self.find_entry(account_id, collection, entry_id))

    def edit(self, account_id: str, collection: str, entry_id: str, body: Any) -> Entry:
        """PATCH an entry with the fields in ``body``."""
        with self._lock:
            self.find_entry(account_id, collection, entry_id)
            self._check_body(openapi.collections()[collection].item_bodies["patch"], body)
            merged = self.prepare_change(account_id, collection, entry_id, body)
            return self.commit_change(account_id, collection, merged)

    def replace(self, account_id: str, collection: str, entry_id: str, body: Any) -> Entry:
        """PUT: replace an entry's writable fields (domains only)."""
        with self._lock:
            schema = openapi.collections()[collection].item_bodies.get("put")
            if schema is None:
                raise ApiFailure(405, [(7001, f"PUT is not supported on {collection}")])
            self.find_entry(account_id, collection, entry_id)
            self._check_body(schema, body)
            merged = self.prepare_change(account_id, collection, entry_id, body, reset=openapi.properties_of(schema))
            return self.commit_change(account_id, collection, merged)

    def delete(self, account_id: str, collection: str, entry_id: str) -> dict[str, str]:
        """DELETE an entry."""
        with self._lock:
            self.find_entry(account_id, collection, entry_id)
            del self._store(account_id, collection)[entry_id]
            self.version += 1
            return {"id": entry_id}

    def verification(self, account_id: str, entry_id: str) -> dict[str, Any]:
        """GET a domain's DNS verification details."""
        with self._lock:
            domain = self.find_entry(account_id, "domains", entry_id)
            return {
                "status": domain.get("status"),
                "txt_record_name": f"_cf-email-security.{domain.get('domain')}",
                "txt_record_value": f"cf-email-security-verification={entry_id}",
                "last_checked_at": domain.get("modified_at"),
            }

    # --- validation helpers ----------------------------------------------------------------------

    @staticmethod
    def _check_body(schema: openapi.Schema | None, body: Any) -> None:
        errors = openapi.schema_errors(schema or {}, body)
        if errors:
            raise ApiFailure.invalid(*errors)

    def prepare_create(self, account_id: str, collection: str, body: Any) -> Entry:
        """Validate a create body and build the new entry, without storing it."""
        api = openapi.collections()[collection]
        self._check_body(api.collection_bodies["post"], body)
        entry: Entry = {name: None for name in api.entry_properties}
        entry.update(rules.CREATE_DEFAULTS.get(collection, {}))
        entry.update(body)
        rules.fill_defaults(collection, entry)
        entry = self.normalised(collection, entry)
        rules.check_write(collection, entry, body)
        if collection == "domains":
            self._refuse_duplicate_domain(account_id, str(entry["domain"]))
        entry["id"] = self._new_id()
        self._mirror_deprecated(collection, entry)
        return self._stamp(collection, entry, created=True)

    def prepare_change(
        self, account_id: str, collection: str, entry_id: str, body: Mapping[str, Any], *, reset: Iterable[str] = ()
    ) -> Entry:
        """The entry as a (schema-checked) change would leave it, without storing it.

        ``reset`` names the writable fields a replace sets to null when ``body`` leaves them out.
        """
        existing = self.find_entry(account_id, collection, entry_id)
        merged = self.normalised(collection, {**existing, **{k: None for k in reset if k not in body}, **body})
        rules.fill_defaults(collection, merged)
        body = {k: merged[k] for k in body}
        rules.check_editable(collection, existing, body)
        rules.check_write(collection, merged, body)
        self._mirror_deprecated(collection, merged)
        return merged

    def normalised(self, collection: str, entry: Entry) -> Entry:
        """``entry`` as this backend stores it: as written, or normalised when :attr:`normalise` is on."""
        if not self.normalise:
            return entry
        result = {k: sorted(set(v)) if _strings(v) else v for k, v in entry.items()}
        for name, regex_flag, pattern_types in LOWER_CASED.get(collection, ()):
            if regex_flag and result.get(regex_flag):
                continue
            if pattern_types is not None and result.get("pattern_type") not in pattern_types:
                continue
            value = result.get(name)
            if isinstance(value, str):
                result[name] = value.lower()
            elif _strings(value):
                result[name] = sorted({v.lower() for v in value})
        return result

    def commit_change(self, account_id: str, collection: str, merged: Entry) -> Entry:
        self._store(account_id, collection)[merged["id"]] = self._stamp(collection, merged, created=False)
        self.version += 1
        return copy.deepcopy(merged)

    def insert_entry(self, account_id: str, collection: str, entry: Entry) -> None:
        self._store(account_id, collection)[entry["id"]] = entry
        self.version += 1

    def _refuse_duplicate_domain(self, account_id: str, domain: str) -> None:
        for other in self._store(account_id, "domains").values():
            if other.get("domain") == domain:
                raise ApiFailure(409, [(1003, f"domain: {domain} is already protected ({other['id']})")])

    @staticmethod
    def _mirror_deprecated(collection: str, entry: Entry) -> None:
        for old, new in rules.DEPRECATED_MIRRORS.get(collection, {}).items():
            entry[old] = entry.get(new)

    # --- lists -----------------------------------------------------------------------------------

    def list_entries(
        self, account_id: str, collection: str, query: Sequence[tuple[str, str]]
    ) -> tuple[list[Entry], dict[str, int]]:
        """GET the collection: filtered, searched, sorted and paged as the spec describes."""
        with self._lock:
            entries = list(self._store(account_id, collection).values())
            listing = ListQuery.parse(openapi.collections()[collection], query)
            page, info = listing.apply(entries)
            return copy.deepcopy(page), info

    # --- batch -----------------------------------------------------------------------------------

    def batch(self, account_id: str, collection: str, body: Any) -> dict[str, list[Any]]:
        """POST …/batch: validate every part first, then apply them all, or none."""
        with self._lock:
            return run_batch(self, account_id, collection, body)

    def bulk_delete_domains(self, account_id: str, body: Any) -> list[dict[str, str]]:
        """DELETE /domains (deprecated): unprotect several domains at once.

        Without a body (as the SDK sends it, overlay 06) no domain is named, so none is unprotected.
        """
        with self._lock:
            if body is None:
                return []
            if not isinstance(body, list) or not body:
                raise ApiFailure.invalid("body: must be a non-empty array of {id}")
            ids = [item.get("id") if isinstance(item, dict) else None for item in body]
            for entry_id in ids:
                self.find_entry(account_id, "domains", str(entry_id))
            return [self.delete(account_id, "domains", str(entry_id)) for entry_id in ids]


def _strings(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
