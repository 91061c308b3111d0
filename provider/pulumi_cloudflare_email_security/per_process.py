"""One object per process, made at first use: the shared state of a provider process (its refresh rounds,
create rounds and key claims), never pickled and never on a provider instance."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    """The one ``T`` of this process, made by ``factory`` when first asked for (thread-safe)."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        """This process's object, made now if it was not yet."""
        with self._lock:
            if self._value is None:
                self._value = self._factory()
            return self._value
