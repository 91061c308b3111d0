"""Every wait for another thread has a deadline (issue 15.7): a Read or a Create waiting for a listing another
thread makes, and a write waiting for another write holding the same keys, fail with one clear line once the
other has not moved for the deadline (derived from the retry deadline, set small here), instead of waiting
for ever.

The other thread is stuck on an event, never on a timer; the bound each join takes is only there to fail a
broken build rather than hang it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from pulumi_cloudflare_email_security.claims import KeyClaims
from pulumi_cloudflare_email_security.client import MAX_PER_PAGE, CloudflareClient
from pulumi_cloudflare_email_security.emulator import mock_cloudflare
from pulumi_cloudflare_email_security.errors import WaitTimeoutError
from pulumi_cloudflare_email_security.existing import ExistingKeys
from pulumi_cloudflare_email_security.read_cache import RefreshRounds
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

from .conftest import ACCOUNT_ID
from .samples import numbered_body, numbered_inputs

BOUND = 20.0
"""How long a thread that must go on may take (it never does: it is a bound for a broken build)."""
DEADLINE = "0.05"
PERIOD = "0.05"
PATIENCE = "0.1s"
"""How long a wait for a listing lasts: the retry deadline plus the rate budget's period."""


@pytest.fixture(autouse=True)
def _short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", DEADLINE)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT", f"1000000/{PERIOD}")


class StuckListing(CloudflareClient):
    """A client whose listings of a whole collection (no filters) read nothing until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.listing, self.release = threading.Event(), threading.Event()

    def iter_list(
        self, path: str, params: Mapping[str, Any] | None = None, *, per_page: int = MAX_PER_PAGE
    ) -> Iterator[dict[str, Any]]:
        if not params:
            self.listing.set()
            self.release.wait(BOUND)
        yield from super().iter_list(path, params, per_page=per_page)


class Call(threading.Thread):
    """A call in a thread of its own, keeping what it returned or raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.call, self.result, self.error = call, None, None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.call()
        except Exception as error:
            self.error = error

    def failure(self) -> BaseException:
        self.join(BOUND)
        assert not self.is_alive(), "the wait went on past its deadline"
        assert self.error is not None, f"the call returned {self.result!r}"
        return self.error


def one_line(error: BaseException, *wanted: str) -> None:
    assert isinstance(error, WaitTimeoutError), repr(error)
    message = str(error)
    assert "\n" not in message and "CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE" in message
    for part in wanted:
        assert part in message, message


def test_a_read_waiting_for_a_stuck_listing_fails_in_one_line(
    settings_type_name: str, cloudflare: mock_cloudflare
) -> None:
    collection = SETTINGS_TYPES[settings_type_name].collection
    ids = [cloudflare.backend.create(ACCOUNT_ID, collection, numbered_body(collection, n))["id"] for n in range(3)]
    rounds, client = RefreshRounds(), StuckListing()
    assert rounds.read(client, ACCOUNT_ID, collection, ids[0])["id"] == ids[0]  # the round's first Read: a GET
    lister = Call(lambda: rounds.read(client, ACCOUNT_ID, collection, ids[1]))  # lists for the round
    assert client.listing.wait(BOUND)

    waiting = Call(lambda: rounds.read(client, ACCOUNT_ID, collection, ids[2]))
    one_line(waiting.failure(), f"A Read of {collection} in account {ACCOUNT_ID} waited {PATIENCE}", "stuck")
    client.release.set()
    lister.join(BOUND)
    assert lister.error is None and lister.result is not None and lister.result["id"] == ids[1]


def test_a_create_waiting_for_a_stuck_listing_fails_in_one_line(
    settings_type_name: str, cloudflare: mock_cloudflare
) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    keys, client = ExistingKeys(), StuckListing()
    lister = Call(lambda: keys.matches(client, spec, ACCOUNT_ID, numbered_inputs(settings_type_name, 0)))
    started = time.monotonic()
    while not client.listing.is_set() and lister.is_alive() and time.monotonic() - started < BOUND:
        time.sleep(0.001)
    if not client.listing.is_set():  # the round's first Create asked for its key alone: the second lists
        assert lister.error is None and lister.result == []
        lister = Call(lambda: keys.matches(client, spec, ACCOUNT_ID, numbered_inputs(settings_type_name, 1)))
        assert client.listing.wait(BOUND)

    waiting = Call(lambda: keys.matches(client, spec, ACCOUNT_ID, numbered_inputs(settings_type_name, 2)))
    wanted = f"A write of a {spec.resource_name} waited {PATIENCE} for the listing of {spec.collection}"
    one_line(waiting.failure(), wanted, "Nothing was written")
    client.release.set()
    lister.join(BOUND)
    assert lister.error is None and lister.result == []


def test_a_write_waiting_for_a_stuck_write_holding_its_keys_fails_in_one_line() -> None:
    claims, client, release = KeyClaims(), CloudflareClient(), threading.Event()
    holding = threading.Event()

    def stuck_write() -> None:
        with claims.holding(client, ACCOUNT_ID, "block_senders", [("a",), ("b",)]):
            holding.set()
            release.wait(BOUND)

    holder = Call(stuck_write)
    assert holding.wait(BOUND)
    waiting = Call(lambda: claims.holding(client, ACCOUNT_ID, "block_senders", [("b",), ("c",)]).__enter__())
    patience = f"{12 * float(DEADLINE):g}s"  # twelve retry deadlines
    one_line(waiting.failure(), f"A write to block_senders in account {ACCOUNT_ID}", f"waited {patience}")
    assert "holds 1 of the same natural keys" in str(waiting.error)
    release.set()
    holder.join(BOUND)
    assert claims.held() == 0, "the stuck write let its keys go; the one that gave up took none"
