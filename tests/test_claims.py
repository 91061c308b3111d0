"""Claims on natural keys (issue 14.2), in one process: a write waits only for writes holding one of its keys,
all of a write's keys are taken at once, and a claim is let go whatever the write's outcome."""

from __future__ import annotations

import threading

import pytest

from pulumi_cloudflare_email_security.claims import KeyClaims
from pulumi_cloudflare_email_security.client import CloudflareClient

from .conftest import ACCOUNT_ID, OTHER_ACCOUNT_ID

WAIT = 10.0
"""How long a thread that must go on may take (it never does: it is a bound for a broken build)."""


def client(base_url: str = "https://api.cloudflare.com/client/v4") -> CloudflareClient:
    return CloudflareClient(environ={"CLOUDFLARE_BASE_URL": base_url})


class Writer(threading.Thread):
    """A write holding ``keys`` until told to finish; ``holding`` is set once it holds them."""

    def __init__(
        self, claims: KeyClaims, keys: list[tuple[str]], account: str = ACCOUNT_ID, on: CloudflareClient | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.claims, self.keys, self.account, self.on = claims, keys, account, on or client()
        self.holding, self.finish = threading.Event(), threading.Event()

    def run(self) -> None:
        with self.claims.holding(self.on, self.account, "block_senders", self.keys):
            self.holding.set()
            self.finish.wait(WAIT)


def test_a_write_waits_for_a_write_holding_one_of_its_keys_and_only_then() -> None:
    claims = KeyClaims()
    first = Writer(claims, [("a",), ("b",)])
    first.start()
    assert first.holding.wait(WAIT)
    other = Writer(claims, [("c",)])
    overlapping = Writer(claims, [("c",), ("b",)])
    other.start()
    assert other.holding.wait(WAIT), "disjoint keys do not wait"
    other.finish.set()
    overlapping.start()
    assert not overlapping.holding.wait(0.2), "a key held by another write makes it wait"
    first.finish.set()
    assert overlapping.holding.wait(WAIT)
    overlapping.finish.set()
    for writer in (first, other, overlapping):
        writer.join(WAIT)
    assert claims.held() == 0


def test_keys_of_other_accounts_and_base_urls_are_other_keys() -> None:
    claims = KeyClaims()
    first = Writer(claims, [("a",)])
    first.start()
    assert first.holding.wait(WAIT)
    elsewhere = [
        Writer(claims, [("a",)], account=OTHER_ACCOUNT_ID),
        Writer(claims, [("a",)], on=client("http://127.0.0.1:9787/client/v4")),
    ]
    for writer in elsewhere:
        writer.start()
        assert writer.holding.wait(WAIT)
        writer.finish.set()
    first.finish.set()


def test_a_failed_write_lets_its_keys_go() -> None:
    claims = KeyClaims()
    with pytest.raises(RuntimeError), claims.holding(client(), ACCOUNT_ID, "block_senders", [("a",), ("b",)]):
        assert claims.held() == 2
        raise RuntimeError("the write failed")
    assert claims.held() == 0
    with claims.holding(client(), ACCOUNT_ID, "block_senders", [("a",)]):
        assert claims.held() == 1
