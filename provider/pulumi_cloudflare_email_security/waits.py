"""Waits for another thread's work, each with a deadline: no call of the provider waits forever.

The Reads of a refresh and the Creates of an ``up`` share listings of a collection (:mod:`.read_cache`,
:mod:`.existing`): one thread lists, the others wait for it. Each page of a listing is one request, which
the rate budget lets go within its period and the retry deadline then ends; so a waiting thread gives up,
with a :class:`.WaitTimeoutError`, when the listing has read nothing for :func:`listing_patience`. A write
that waits for another write of the process holding the same natural keys (:mod:`.claims`) gives up after
:data:`CLAIM_WAIT_DEADLINES` retry deadlines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .client import CloudflareClient
from .errors import WaitTimeoutError

CLAIM_WAIT_DEADLINES = 12
"""How many retry deadlines a write waits for another write holding one of its keys (an hour by default):
longer than a write takes, which is many requests, each over by the retry deadline."""


def listing_patience(client: CloudflareClient) -> float:
    """How long a listing may read nothing before a thread waiting for it gives up: one page's wait for rate
    budget (its period), then its tries (the retry deadline)."""
    return client.retry.deadline + client.budget.period


def claim_patience(client: CloudflareClient) -> float:
    """How long a write waits for another write holding one of its keys."""
    return CLAIM_WAIT_DEADLINES * client.retry.deadline


class SharedWork:
    """Work one thread does for others (a listing): over once, whatever its outcome; moving while it makes
    progress. The others :meth:`wait` for it, each until it has not moved for their patience."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._over = False
        self._moved_at = time.monotonic()

    @property
    def over(self) -> bool:
        """Whether the work has ended (done or failed)."""
        return self._over

    def moved(self) -> None:
        """The work made progress (read a page): waiting threads' patience counts afresh."""
        self._moved_at = time.monotonic()

    def finish(self) -> None:
        """The work is over: every waiting thread goes on."""
        with self._changed:
            self._over = True
            self._changed.notify_all()

    def wait(self, patience: float, timed_out: Callable[[], str]) -> None:
        """Wait until the work is over; a :class:`.WaitTimeoutError` saying ``timed_out()`` when it has not
        moved for ``patience`` seconds."""
        with self._changed:
            while not self._over:
                left = self._moved_at + patience - time.monotonic()
                if left <= 0:
                    raise WaitTimeoutError(timed_out())
                self._changed.wait(left)
