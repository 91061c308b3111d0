"""Claims on natural keys: two writes in one process never create entries of the same key at once.

The Pulumi engine runs the Creates of independent resources at the same time (four worker threads in one
provider process). Two sets of one type, or a set and a single resource, that declare the same natural key
would each list the collection before the other writes, find the key free, and both create it. So a write
first *claims* every key it may create, per API base URL, account and collection: a claim held by another
write makes it wait until that write is over, and only then does it list the collection, where it finds the
other's entry and refuses it as any existing entry is refused. All keys of a write are claimed at once, so
two writes waiting for each other's keys cannot deadlock. A write that still waits after
:func:`.waits.claim_patience` (a number of retry deadlines) fails with a :class:`.WaitTimeoutError`: the other
write may be stuck.

Claims live in this process only (never on a provider instance, which is pickled into the state). Writers
in other processes are caught after the fact: see the re-listing in :mod:`.set_write`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from .client import CloudflareClient
from .credentials import displayed_base_url
from .errors import WaitTimeoutError
from .per_process import PerProcess
from .waits import claim_patience

Key = tuple[Any, ...]
_Claimed = tuple[str, str, str, Key]


class KeyClaims:
    """The natural keys that writes of this process are creating now (thread-safe)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held: set[_Claimed] = set()

    @contextmanager
    def holding(
        self, client: CloudflareClient, account_id: str, collection: str, keys: Collection[Key]
    ) -> Iterator[None]:
        """Hold ``keys`` of a collection for the duration of the block, waiting while another write holds any
        (a :class:`.WaitTimeoutError` when that lasts past the patience)."""
        scope = (displayed_base_url(client.base_url()), account_id, collection)
        wanted = {(*scope, key) for key in keys}
        patience = claim_patience(client)
        with self._changed:
            if not self._changed.wait_for(lambda: self._held.isdisjoint(wanted), timeout=patience):
                taken = len(wanted & self._held)
                raise WaitTimeoutError(
                    f"A write to {collection} in account {account_id} at {scope[0]} waited {patience:g}s for "
                    f"another write of this run that holds {taken} of the same natural keys, and it has not ended: "
                    f"it may be stuck. Nothing was written; stop this `pulumi up` and run it again, and if this "
                    f"happens again, raise {client.retry.setting}"
                )
            self._held |= wanted
        try:
            yield
        finally:
            with self._changed:
                self._held -= wanted
                self._changed.notify_all()

    def held(self) -> int:
        """How many keys are held now (for tests and logs)."""
        with self._changed:
            return len(self._held)


_CLAIMS = PerProcess(KeyClaims)


def process_claims() -> KeyClaims:
    """This process's claims, created at first use."""
    return _CLAIMS.get()


@contextmanager
def claimed(client: CloudflareClient, account_id: str, collection: str, keys: Collection[Key]) -> Iterator[None]:
    """Hold the keys a write may create (see the module's documentation) while the block runs."""
    with process_claims().holding(client, account_id, collection, keys):
        yield
