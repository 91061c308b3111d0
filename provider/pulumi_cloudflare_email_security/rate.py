"""The per-process rate budget: at most N requests in any window of S seconds, shared by every thread.

A large ``pulumi up`` waits for budget instead of collecting 429s. A sliding window (not a token bucket)
keeps every S-second window at or under N, the way Cloudflare counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)


class RateBudget:
    """At most ``limit`` acquisitions in any ``period`` seconds."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()

    def try_acquire(self) -> float:
        """Take one request's worth of budget if there is some (returns 0), or return the seconds until
        there will be (nothing is taken)."""
        with self._lock:
            now = self._clock()
            while self._sent and now - self._sent[0] >= self.period:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return 0.0
            return max(self._sent[0] + self.period - now, 1e-3)

    def acquire(self) -> float:
        """Take one request's worth of budget, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if not wait:
                return waited
            if waited == 0.0:
                logger.info("rate budget of %d requests per %gs used up: waiting %.1fs", self.limit, self.period, wait)
            self._sleep(wait)
            waited += wait


_budget: RateBudget | None = None
_budget_lock = threading.Lock()


def process_budget(limit: int, period: float) -> RateBudget:
    """The budget shared by the whole process (made anew if the configured limit changed)."""
    global _budget
    with _budget_lock:
        if _budget is None or (_budget.limit, _budget.period) != (limit, period):
            _budget = RateBudget(limit, period)
        return _budget
