"""Nothing deleted or duplicated by surprise (issue 14.1-14.3), as ``pulumi up`` drives the provider over gRPC:

* turning ``exclusive`` off drops the drift a refresh recorded, and never deletes it;
* two writes of one process that declare the same natural key (two sets, or a set and a single resource)
  never both create it, however the engine's four worker threads interleave them;
* two processes that create the same keys at the same moment leave each key once;
* a single resource whose natural key exists already is refused before its POST, at the cost of one
  listing per collection for many such Creates.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault
from pulumi_cloudflare_email_security.emulator.routes import ROUTE, EmulatorResponse
from pulumi_cloudflare_email_security.registry import SET_SETTINGS_TYPES, SETTINGS_TYPES

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, provider_env
from .samples import numbered_inputs
from .test_sets import (
    SETS,
    SetRouter,
    SetStack,
    account,
    assert_account_holds,
    changed,
    entries,
    entry,
    expected_writes,
    failure_of,
    seed,
    spec_of,
    writes,
)

SINGLES = sorted(name for name in SETTINGS_TYPES if not SETTINGS_TYPES[name].adopt_by_key_on_create)
"""The single resources that refuse an existing key (a protected domain adopts its domain instead)."""
SET_OF = {spec.resource_name: name for name, spec in SET_SETTINGS_TYPES.items()}


class ListingGate(SetRouter):
    """The emulator, able to hold the first listings of a collection until ``parties`` of them have arrived
    (the moment two writers have both looked and neither has written), or to deliver listings late: taken at
    once, answered ``slow`` seconds later, so that a write may land between the two."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: tuple[str, threading.Barrier] | None = None
        self.arrived = 0
        self.slow: tuple[str, float] | None = None
        self.when_dropped: Callable[[], None] | None = None
        """Runs once, when a POST's connection is dropped without an answer."""

    def hold_listings(self, collection: str, parties: int) -> None:
        self.gate = (collection, threading.Barrier(parties, timeout=20))
        self.arrived = 0

    def answer_listings_late(self, collection: str, seconds: float) -> None:
        self.slow = (collection, seconds)

    def handle(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> EmulatorResponse:
        route = ROUTE.search(path)
        gate, held = self.gate, False
        if gate and method.upper() == "GET" and route and route["collection"] == gate[0] and not route["item"]:
            with self._seen_lock:
                self.arrived += 1
                held = self.arrived <= gate[1].parties
                if self.arrived == gate[1].parties:
                    self.gate = None  # the listings after these pass
        response = super().handle(method, path, query, headers, body)
        hook = self.when_dropped
        if hook is not None and method.upper() == "POST" and response.drop_connection:
            self.when_dropped = None
            hook()
        if held:  # answered only once every held listing is taken: neither writer has written yet
            gate[1].wait()
        slow = self.slow
        if slow and method.upper() == "GET" and route and route["collection"] == slow[0] and not route["item"]:
            time.sleep(slow[1])
        return response

    def forget(self) -> None:
        super().forget()
        self.gate = self.slow = self.when_dropped = None


@pytest.fixture(scope="module")
def _module_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(ListingGate()) as server:
        yield server


@pytest.fixture
def router(emulator_server: EmulatorServer) -> ListingGate:
    found = emulator_server.router
    assert isinstance(found, ListingGate)
    found.forget()
    return found


def new_provider(server: EmulatorServer) -> ProviderProcess:
    """A provider process of its own, as each ``pulumi up`` starts one."""
    return ProviderProcess(provider_env(server.base_url, CLOUDFLARE_API_TOKEN=CANARY)).start()


@pytest.fixture
def fresh_provider(emulator_server: EmulatorServer) -> Iterator[ProviderProcess]:
    process = new_provider(emulator_server)
    try:
        yield process
    finally:
        process.stop()


def in_parallel(*calls: Callable[[], Any]) -> list[BaseException | None]:
    """Run the calls at once (as the engine's worker threads do); each one's exception, or None."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
    return [f.exception() for f in futures]


def details(error: BaseException | None) -> str:
    assert isinstance(error, grpc.RpcError), error
    return error.details() or ""


def keys_in_account(server: EmulatorServer, set_name: str) -> Counter[Any]:
    spec = spec_of(set_name)
    return Counter(spec.key_of(e) for e in account(server, set_name))


def create_single(
    provider: ProviderProcess, registered: dict[str, dict[str, Any]], type_name: str, n: int, label: str = "single"
) -> tuple[str, dict[str, Any]]:
    checked = provider.check(label, {**registered[type_name], **numbered_inputs(type_name, n)})
    assert checked.failures == []
    return provider.create(label, checked.inputs)


def posts_of(router: SetRouter, set_name: str) -> int:
    counted = writes(router, set_name)
    return counted["POST"] + counted["batch posts"]


# --- 14.1: exclusive off ---------------------------------------------------------------------------------------


@pytest.fixture(params=SETS)
def set_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def stack(provider: ProviderProcess, set_registered: dict[str, dict[str, Any]], set_name: str) -> SetStack:
    return SetStack(provider, set_name, set_registered[set_name])


def test_turning_exclusive_off_drops_recorded_drift_and_deletes_nothing(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name = stack.name
    declared = entries(name, range(4))
    stack.up(declared, exclusive=True)
    dashboard = seed(emulator_server, name, entry(name, 50))
    refreshed = stack.refresh()
    assert refreshed["drift_ids"] == [dashboard["id"]] and refreshed["count"] == 5

    router.forget()
    assert stack.up(declared, exclusive=False) == "DIFF_SOME"
    assert writes(router, name) == Counter(), "the dashboard entry is dropped from the set, not deleted"
    assert_account_holds(emulator_server, stack, declared, others=1)
    assert stack.outs["drift_ids"] == [] and stack.outs["exclusive"] is False
    assert stack.up(declared) == "DIFF_NONE"

    # What the set declared before and no longer declares is still the set's to delete.
    router.forget()
    stack.up(declared[1:])
    assert writes(router, name) == expected_writes(name, deletes=1)
    assert_account_holds(emulator_server, stack, declared[1:], others=1)


def test_while_exclusive_recorded_drift_is_deleted_and_kept_track_of(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name = stack.name
    declared = entries(name, range(3))
    stack.up(declared, exclusive=True)
    first = seed(emulator_server, name, entry(name, 60))
    stack.refresh()
    second = seed(emulator_server, name, entry(name, 61))
    assert sorted(stack.refresh()["drift_ids"]) == sorted([first["id"], second["id"]])
    router.forget()
    stack.up(declared, exclusive=True)
    assert writes(router, name) == expected_writes(name, deletes=2)
    assert stack.outs["drift_ids"] == []
    assert_account_holds(emulator_server, stack, declared)


def test_a_state_without_drift_marks_keeps_every_undeclared_entry_when_exclusive_goes_off(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    """A state whose refresh recorded drift before drift was marked: a refresh now does not start marking
    (that drift would count as the set's), and only the entries still declared count as the set's."""
    name = stack.name
    declared = entries(name, range(4))
    stack.up(declared, exclusive=True)
    earlier = seed(emulator_server, name, entry(name, 70))
    stack.refresh()
    stack.outs.pop("drift_ids")  # as the earlier release recorded it
    later = seed(emulator_server, name, entry(name, 71))
    assert "drift_ids" not in stack.refresh() and stack.outs["count"] == 6
    router.forget()
    stack.up(declared[1:], exclusive=False)
    assert writes(router, name) == Counter()
    kept = {e["id"] for e in account(emulator_server, name)}
    assert {earlier["id"], later["id"]} <= kept and len(kept) == 6
    assert stack.outs["drift_ids"] == []


# --- 14.2: overlapping declarations in one process --------------------------------------------------------------


def test_two_sets_declaring_one_key_at_once_write_it_once(
    provider: ProviderProcess,
    set_registered: dict[str, dict[str, Any]],
    set_name: str,
    router: ListingGate,
    emulator_server: EmulatorServer,
) -> None:
    first, second = (SetStack(provider, set_name, set_registered[set_name]) for _ in range(2))
    # Late listings: without claims both Creates would list the empty collection before either writes.
    router.answer_listings_late(spec_of(set_name).collection, 0.3)
    shared = entries(set_name, range(3))
    outcomes = in_parallel(
        lambda: first.up([*shared, entry(set_name, 10)]), lambda: second.up([*shared, entry(set_name, 20)])
    )
    assert sorted(o is None for o in outcomes) == [False, True], outcomes
    message = details(next(o for o in outcomes if o is not None))
    assert "3 declared entries already exist" in message and "are not this set's" in message
    assert "nothing was changed" in message
    assert set(keys_in_account(emulator_server, set_name).values()) == {1}
    assert len(account(emulator_server, set_name)) == 4


@pytest.mark.parametrize("type_name", sorted(SET_OF))
def test_a_set_and_a_single_resource_declaring_one_key_at_once_write_it_once(
    provider: ProviderProcess,
    set_registered: dict[str, dict[str, Any]],
    registered: dict[str, dict[str, Any]],
    type_name: str,
    router: ListingGate,
    emulator_server: EmulatorServer,
) -> None:
    set_name = SET_OF[type_name]
    the_set = SetStack(provider, set_name, set_registered[set_name])
    # The set's listing is taken first and answered late; the single's POST lands in between.
    router.answer_listings_late(spec_of(set_name).collection, 0.3)
    router.faults.add(Fault("latency", collection=spec_of(set_name).collection, method="POST", latency=0.15))
    outcomes = in_parallel(
        lambda: the_set.up(entries(set_name, range(3))), lambda: create_single(provider, registered, type_name, 1)
    )
    assert sorted(o is None for o in outcomes) == [False, True], outcomes
    assert "already exist" in details(next(o for o in outcomes if o is not None))
    assert keys_in_account(emulator_server, set_name)[spec_of(set_name).key_of(entry(set_name, 1))] == 1


@pytest.mark.parametrize("type_name", sorted(SET_OF))
def test_a_single_resource_created_after_a_set_with_its_key_is_refused(
    provider: ProviderProcess,
    set_registered: dict[str, dict[str, Any]],
    registered: dict[str, dict[str, Any]],
    type_name: str,
    router: SetRouter,
    emulator_server: EmulatorServer,
) -> None:
    set_name = SET_OF[type_name]
    the_set = SetStack(provider, set_name, set_registered[set_name])
    the_set.up(entries(set_name, range(3)))
    taken = the_set.outs["entries"][2]["id"]
    router.forget()
    message = failure_of(lambda: create_single(provider, registered, type_name, 2))
    assert f"already exists in account {ACCOUNT_ID} ({taken})" in message
    assert f"adopt_existing=True or adopt_id='{taken}'" in message and "nothing was written" in message
    assert "is being renamed or removed, use aliases" in message
    assert posts_of(router, set_name) == 0
    assert len(account(emulator_server, set_name)) == 3


# --- 14.2: the same keys from two processes at the same moment --------------------------------------------------


def test_two_processes_creating_one_key_at_the_same_moment_leave_it_once(
    set_registered: dict[str, dict[str, Any]], set_name: str, router: ListingGate, emulator_server: EmulatorServer
) -> None:
    """Both list before either writes (the emulator holds the listings until both have arrived); the listing
    after the write catches it. Of each key the entry created first stays: a writer that lost any key fails
    and deletes what it created (both fail when each lost one), and a rerun converges."""
    spec = spec_of(set_name)
    router.hold_listings(spec.collection, parties=2)
    first, second = new_provider(emulator_server), new_provider(emulator_server)
    try:
        stacks = [SetStack(p, set_name, set_registered[set_name]) for p in (first, second)]
        shared = entries(set_name, range(3))
        outcomes = in_parallel(*(lambda s=s: s.up(shared) for s in stacks))
        assert router.gate is None, "both writers listed before either wrote"
        assert max(keys_in_account(emulator_server, set_name).values(), default=1) == 1, "a key was written twice"
        failed = [s for s, o in zip(stacks, outcomes, strict=True) if o is not None]
        assert failed, "one writer must lose"
        for outcome in outcomes:
            if outcome is not None:
                message = details(outcome)
                assert "created at the same moment by another writer" in message
                assert "entries it had created were deleted again" in message
        winners = [s for s in stacks if s not in failed]
        for stack in winners:
            assert_account_holds(emulator_server, stack, shared)
        if not winners:  # each lost a key: nothing is left, and a rerun creates the entries once
            assert account(emulator_server, set_name) == []
            failed.pop(0).up(shared)
        for stack in failed:
            assert "already exist" in failure_of(lambda stack=stack: stack.up(shared))
        assert list(keys_in_account(emulator_server, set_name).values()) == [1, 1, 1]
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("set_name", ["AllowPolicySet", "ImpersonationRegistrySet"])  # batched, single calls
def test_another_writers_entry_is_not_taken_for_a_post_that_got_no_answer(
    stack: SetStack, router: ListingGate, emulator_server: EmulatorServer
) -> None:
    """The set's POST is dropped unanswered, and meanwhile another writer creates that key with other values:
    the set does not take that entry for its own lost one, nor change it."""
    name, spec = stack.name, spec_of(stack.name)
    declared = entries(name, range(2))
    rival_values = changed(name, 1)
    rivals: list[dict[str, Any]] = []
    router.when_dropped = lambda: rivals.append(seed(emulator_server, name, rival_values))
    router.faults.add(Fault("reset_before", method="POST", collection=spec.collection, count=1))
    message = failure_of(lambda: stack.up(declared))
    assert "got no answer" in message
    [rival] = rivals
    stored = {e["id"]: e for e in account(emulator_server, name)}
    assert {k: stored[rival["id"]][k] for k in rival_values} == {k: rival[k] for k in rival_values}, "left as it was"


# --- 14.3: a single resource never duplicates an existing entry ---------------------------------------------------


@pytest.mark.parametrize("type_name", SINGLES)
def test_a_single_resource_whose_key_exists_is_refused_before_any_post(
    fresh_provider: ProviderProcess,
    registered: dict[str, dict[str, Any]],
    type_name: str,
    router: SetRouter,
    emulator_server: EmulatorServer,
) -> None:
    spec = SETTINGS_TYPES[type_name]
    existing = emulator_server.router.backend.create(
        ACCOUNT_ID, spec.collection, spec.create_body(numbered_inputs(type_name, 7))
    )
    create_single(fresh_provider, registered, type_name, 1, label="first")  # the round's first Create
    router.forget()
    message = failure_of(lambda: create_single(fresh_provider, registered, type_name, 7, label="second"))
    assert f"{type_name} with " in message and f"({existing['id']})" in message
    assert "adopt_existing=True" in message and f"adopt_id='{existing['id']}'" in message
    assert not [s for s in router.requests(spec.collection) if s.method == "POST"]
    assert len(emulator_server.router.backend.entries(ACCOUNT_ID, spec.collection)) == 2


@pytest.mark.parametrize("type_name", ["BlockedSender", "ContentPolicy", "ImpersonationRegistryEntry"])
def test_many_single_creates_cost_one_listing_of_their_collection(
    fresh_provider: ProviderProcess,
    registered: dict[str, dict[str, Any]],
    type_name: str,
    router: SetRouter,
    emulator_server: EmulatorServer,
) -> None:
    """Creates into a collection of 1,500 entries, ten of them with keys that exist: the keys that are free cost
    no request beyond their POST, each refused one a GET (the listing is read again before refusing)."""
    spec = SETTINGS_TYPES[type_name]
    backend = emulator_server.router.backend
    for n in range(1000, 2500):
        backend.create(ACCOUNT_ID, spec.collection, spec.create_body(numbered_inputs(type_name, n)))
    router.forget()
    calls = [lambda n=n: create_single(fresh_provider, registered, type_name, n, label=f"e{n}") for n in range(40)]
    calls += [
        lambda n=n: create_single(fresh_provider, registered, type_name, n, label=f"t{n}") for n in range(1000, 1010)
    ]
    outcomes = in_parallel(*calls)
    assert all(o is None for o in outcomes[:40]) and all("already exists" in details(o) for o in outcomes[40:])
    seen = router.requests(spec.collection)
    listings = [s for s in seen if s.method == "GET" and s.item is None]
    gets = [s for s in seen if s.method == "GET" and s.item is not None]
    # A type whose filters find a key alone asks for the first key so (one request), then lists: 2 pages.
    assert len(listings) in (2, 3), listings
    assert len(gets) == 10 and sum(1 for s in seen if s.method == "POST") == 40


def test_a_single_update_that_takes_another_entrys_key_is_refused_before_its_patch(
    fresh_provider: ProviderProcess,
    registered: dict[str, dict[str, Any]],
    set_registered: dict[str, dict[str, Any]],
    router: SetRouter,
    emulator_server: EmulatorServer,
) -> None:
    type_name, spec = "BlockedSender", SETTINGS_TYPES["BlockedSender"]
    the_set = SetStack(fresh_provider, "BlockedSenderSet", set_registered["BlockedSenderSet"])
    the_set.up(entries("BlockedSenderSet", [5]))
    id_, outs = create_single(fresh_provider, registered, type_name, 1)
    router.forget()
    news = fresh_provider.check("single", {**registered[type_name], **numbered_inputs(type_name, 5)}).inputs
    message = failure_of(lambda: fresh_provider.update("single", id_, outs, news))
    assert f"({the_set.outs['entries'][0]['id']})" in message and "already exists" in message
    assert not [s for s in router.requests(spec.collection) if s.method == "PATCH"]
    free = fresh_provider.check("single", {**registered[type_name], **numbered_inputs(type_name, 6)}).inputs
    assert fresh_provider.update("single", id_, outs, free)["pattern"] == numbered_inputs(type_name, 6)["pattern"]
    assert sorted(keys_in_account(emulator_server, "BlockedSenderSet").values()) == [1, 1]


def test_a_refusal_quoting_the_account_shows_its_text_escaped(
    fresh_provider: ProviderProcess, registered: dict[str, dict[str, Any]], emulator_server: EmulatorServer
) -> None:
    type_name, spec = "BlockedSender", SETTINGS_TYPES["BlockedSender"]
    hostile = "id\x1b[2J\u202e\x9b"
    body = spec.create_body(numbered_inputs(type_name, 3))
    emulator_server.router.backend.seed(ACCOUNT_ID, spec.collection, {**body, "id": hostile})
    message = failure_of(lambda: create_single(fresh_provider, registered, type_name, 3))
    assert "already exists" in message and "id\\x1b[2J\\u202e\\x9b" in message
    assert not any(char in message for char in "\x1b\u202e\x9b")
