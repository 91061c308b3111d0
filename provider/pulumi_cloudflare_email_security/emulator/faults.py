"""Fault injection: make the emulator fail the way a busy API and a flaky network do.

A :class:`FaultPlan` holds faults; each matches requests by collection and method and fires by rate
(a probability per matching request) and/or by count (at most N times). Kinds:

| kind | what the client sees | applied? |
|---|---|---|
| ``429`` | HTTP 429 with ``Retry-After`` | no |
| ``500``, ``502``, ``503`` | that HTTP status with a failure envelope | no |
| ``latency`` | the normal answer, ``latency`` seconds late | yes |
| ``reset_before`` | the connection drops before any answer | no |
| ``reset_after`` | the connection drops before any answer | **yes**: committed, then dropped |

Text form, for ``cfes emulator --fault``: ``KIND[:key=value,...]`` with keys ``collection``, ``method``,
``rate``, ``count``, ``retry_after``, ``latency``; e.g. ``reset_after:method=POST,rate=0.1``.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import openapi

KINDS = ("429", "500", "502", "503", "latency", "reset_before", "reset_after")
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_NUMBERS = {"rate": float, "count": int, "retry_after": float, "latency": float}


@dataclass
class Fault:
    """One kind of failure, for the requests it matches."""

    kind: str
    collection: str | None = None
    method: str | None = None
    rate: float = 1.0
    count: int | None = None
    retry_after: float = 1.0
    latency: float = 0.1
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1 (got {self.rate})")
        self.method = self.method.upper() if self.method else None
        if self.method is not None and self.method not in METHODS:
            raise ValueError(f"fault method must be one of {', '.join(METHODS)} (got {self.method!r})")
        collections = sorted(openapi.collections())
        if self.collection is not None and self.collection not in collections:
            raise ValueError(f"fault collection must be one of {', '.join(collections)} (got {self.collection!r})")
        for name in ("retry_after", "latency"):
            if getattr(self, name) < 0:
                raise ValueError(f"fault {name} must be 0 seconds or more (got {getattr(self, name)})")
        if self.count is not None and self.count < 1:
            raise ValueError(f"fault count must be 1 or more (got {self.count})")

    def __str__(self) -> str:
        """The text form ``cfes emulator --fault`` takes."""
        options: dict[str, str | float | None] = {
            "collection": self.collection,
            "method": self.method,
            "count": self.count,
        }
        options["rate"] = self.rate if self.rate != 1.0 else None
        if self.kind == "429":
            options["retry_after"] = self.retry_after
        if self.kind == "latency":
            options["latency"] = self.latency
        text = ",".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in options.items() if v is not None
        )
        return f"{self.kind}:{text}" if text else self.kind

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Read the text form ``KIND[:key=value,...]``."""
        kind, _, options = text.partition(":")
        values: dict[str, str] = {}
        for option in filter(None, options.split(",")):
            key, sep, value = option.partition("=")
            if not sep:
                raise ValueError(f"fault option {option!r} must be key=value")
            values[key.strip()] = value.strip()
        known = {"collection", "method", *_NUMBERS}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown fault options {sorted(unknown)}; use {sorted(known)}")
        numbers: dict[str, Any] = {}
        for key, kind_of_number in _NUMBERS.items():
            if key in values:
                try:
                    numbers[key] = kind_of_number(values[key])
                except ValueError:
                    what = "a whole number" if kind_of_number is int else "a number"
                    raise ValueError(f"fault option {key} must be {what} (got {values[key]!r})") from None
        return cls(kind=kind.strip(), collection=values.get("collection"), method=values.get("method"), **numbers)

    def matches(self, method: str, collection: str | None) -> bool:
        """Whether this fault applies to a request (before its rate and count are considered)."""
        exhausted = self.count is not None and self.fired >= self.count
        return (
            not exhausted
            and (self.method is None or self.method == method)
            and (self.collection is None or self.collection == collection)
        )


class FaultPlan:
    """The faults in force; thread-safe, and reproducible with a ``seed``."""

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.faults: list[Fault] = list(faults)
        self.fired: Counter[str] = Counter()
        """How many times each kind fired."""
        self.requests = 0
        """How many requests the plan has seen."""

    def add(self, *faults: Fault) -> None:
        """Put more faults in force."""
        with self._lock:
            self.faults.extend(faults)

    def clear(self) -> None:
        """Remove every fault and reset the counters."""
        with self._lock:
            self.faults.clear()
            self.fired.clear()
            self.requests = 0

    @property
    def total_fired(self) -> int:
        """How many requests a fault hit."""
        return sum(self.fired.values())

    def draw(self, method: str, collection: str | None) -> Fault | None:
        """The fault that hits this request, if any (the first matching fault whose dice say so)."""
        with self._lock:
            self.requests += 1
            for fault in self.faults:
                if fault.matches(method, collection) and self._rng.random() < fault.rate:
                    fault.fired += 1
                    self.fired[fault.kind] += 1
                    return fault
        return None
