"""Set resources (issue 10.1-10.3) as ``pulumi up`` drives them: ``python -m pulumi.dynamic`` over gRPC, against
the HTTP emulator, for every set type. The emulator notes every request, so the tests also say what was sent:
batch calls and their array sizes, single calls, listings."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault
from pulumi_cloudflare_email_security.emulator.routes import ROUTE, EmulatorResponse, Router
from pulumi_cloudflare_email_security.registry import SET_PROVIDERS, SET_RESOURCES, SET_SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import SettingsType, is_unknown

from .conftest import ACCOUNT_ID, CANARY, OTHER_ACCOUNT_ID
from .protocol import UNKNOWN, ProviderProcess, provider_env
from .registration import RecordingMocks
from .samples import API_EDITS, changed_numbered_inputs, numbered_inputs

SETS = sorted(SET_PROVIDERS)
BATCHED = [name for name in SETS if SET_SETTINGS_TYPES[name].batch_parts]
CHUNKED = 2100
"""Entries in the sets that take several batch calls (1,000 operations per array in a call)."""
PAGE = 1000


@dataclass(frozen=True)
class Seen:
    """One request the emulator answered."""

    method: str
    collection: str | None
    item: str | None
    parts: Mapping[str, int]
    """For a batch call: how many items each array held."""
    status: int


class SetRouter(Router):
    """The emulator, noting every request; ``after_first_write`` runs once, after the next write that succeeds."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Seen] = []
        self.after_first_write: Callable[[], None] | None = None
        self._seen_lock = threading.Lock()

    def handle(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> EmulatorResponse:
        route = ROUTE.search(path)
        collection, item = (route["collection"], route["item"]) if route else (None, None)
        parts: dict[str, int] = {}
        if item == "batch" and body:
            parts = {name: len(items) for name, items in json.loads(body).items()}
        response = super().handle(method, path, query, headers, body)
        trip = None
        with self._seen_lock:
            self.seen.append(Seen(method.upper(), collection, item, parts, response.status))
            if method.upper() != "GET" and 200 <= response.status < 300 and self.after_first_write is not None:
                trip, self.after_first_write = self.after_first_write, None
        if trip is not None:
            trip()
        return response

    def requests(self, collection: str) -> list[Seen]:
        with self._seen_lock:
            return [s for s in self.seen if s.collection == collection]

    def forget(self) -> None:
        with self._seen_lock:
            self.seen.clear()
        self.after_first_write = None
        self.faults.clear()


@pytest.fixture(scope="module")
def _module_server() -> Iterator[EmulatorServer]:
    """The module's HTTP emulator (behind conftest's ``emulator_server`` and ``provider``) notes requests."""
    with EmulatorServer(SetRouter()) as server:
        yield server


@pytest.fixture(scope="module")
def _module_provider(_module_server: EmulatorServer) -> Iterator[ProviderProcess]:
    """The module's provider process, giving up after 1 s of retries, so failing steps fail quickly."""
    env = provider_env(
        _module_server.base_url, CLOUDFLARE_API_TOKEN=CANARY, CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="1"
    )
    with ProviderProcess(env) as process:
        yield process


@pytest.fixture
def router(emulator_server: EmulatorServer) -> SetRouter:
    found = emulator_server.router
    assert isinstance(found, SetRouter)
    found.forget()
    return found


@pytest.fixture(params=SETS)
def set_name(request: pytest.FixtureRequest) -> str:
    """Each set resource's class name, in turn."""
    name: str = request.param
    return name


def spec_of(name: str) -> SettingsType:
    return SET_SETTINGS_TYPES[name]


def entry(name: str, n: int) -> dict[str, Any]:
    """The n-th entry of a set (valid, with a distinct natural key)."""
    return numbered_inputs(spec_of(name).resource_name, n)


def changed(name: str, n: int) -> dict[str, Any]:
    """The n-th entry with a valid change that keeps its key."""
    return changed_numbered_inputs(spec_of(name).resource_name, n)


def entries(name: str, numbers: Sequence[int] | range) -> list[dict[str, Any]]:
    return [entry(name, n) for n in numbers]


def seed(server: EmulatorServer, name: str, values: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Create an entry in the account behind the provider's back (through the API's rules)."""
    spec = spec_of(name)
    if extra:
        return server.router.backend.seed(ACCOUNT_ID, spec.collection, {**spec.create_body(values), **extra})
    return server.router.backend.create(ACCOUNT_ID, spec.collection, spec.create_body(values))


def account(server: EmulatorServer, name: str) -> list[dict[str, Any]]:
    return server.router.backend.entries(ACCOUNT_ID, spec_of(name).collection)


@dataclass
class SetStack:
    """One set resource as the Pulumi engine drives it: check, then create, or diff and update."""

    provider: ProviderProcess
    name: str
    registered: dict[str, Any]
    id: str = ""
    outs: dict[str, Any] = field(default_factory=dict)

    def inputs(self, declared: Any, **extra: Any) -> dict[str, Any]:
        return {**self.registered, "entries": declared, **extra}

    def check(self, declared: Any, **extra: Any) -> dict[str, Any]:
        checked = self.provider.check(self.name, self.inputs(declared, **extra))
        assert checked.failures == []
        return checked.inputs

    def up(self, declared: Any, **extra: Any) -> str:
        """One ``pulumi up``: the diff's verdict (``DIFF_NONE``, ``DIFF_SOME``, or ``CREATE``)."""
        news = self.check(declared, **extra)
        if not self.outs:
            self.id, self.outs = self.provider.create(self.name, news)
            return "CREATE"
        diff = self.provider.diff(self.name, self.id, self.outs, news)
        assert diff.replaces == []
        if diff.changes == "DIFF_SOME":
            self.outs = self.provider.update(self.name, self.id, self.outs, news)
        return diff.changes

    def refresh(self) -> dict[str, Any]:
        read_id, self.outs = self.provider.read(self.name, self.id, self.outs)
        assert read_id == self.id
        return self.outs

    def destroy(self) -> None:
        self.provider.delete(self.name, self.id, self.outs)


@pytest.fixture
def stack(provider: ProviderProcess, set_registered: dict[str, dict[str, Any]], set_name: str) -> SetStack:
    return SetStack(provider, set_name, set_registered[set_name])


def assert_account_holds(
    server: EmulatorServer, stack: SetStack, declared: Sequence[Mapping[str, Any]], others: int = 0
) -> None:
    """The account holds each declared entry once, with the declared values, plus ``others`` entries that are
    not the set's; the set's outputs name exactly the declared entries' ids."""
    spec = spec_of(stack.name)
    by_key: dict[Any, list[dict[str, Any]]] = {}
    for found in account(server, stack.name):
        by_key.setdefault(spec.key_of(found), []).append(found)
    ids = set()
    for wanted in declared:
        matches = by_key.pop(spec.key_of(wanted), [])
        assert len(matches) == 1, f"{len(matches)} entries for {wanted}"
        for name, value in wanted.items():
            assert spec.same_value(name, matches[0][name], matches[0], value, wanted), (name, matches[0][name], value)
        ids.add(matches[0]["id"])
    assert sum(len(rest) for rest in by_key.values()) == others
    assert {e["id"] for e in stack.outs["entries"]} == ids
    assert stack.outs["count"] == len(declared)


def writes(router: SetRouter, name: str) -> Counter[str]:
    """What the set's writes cost: batch calls, the items of each batch array, and single calls by method."""
    counted: Counter[str] = Counter()
    for seen in router.requests(spec_of(name).collection):
        if seen.item == "batch":
            counted["batch"] += 1
            counted.update({f"batch {part}": size for part, size in seen.parts.items()})
        elif seen.method != "GET":
            counted[seen.method] += 1
    return +counted


def listings(router: SetRouter, name: str) -> int:
    return sum(1 for s in router.requests(spec_of(name).collection) if s.method == "GET" and s.item is None)


def expected_writes(name: str, deletes: int = 0, patches: int = 0, posts: int = 0) -> Counter[str]:
    """What one write of that many deletes, patches and posts should cost: one batch call for the kinds the type
    batches (up to 1,000 each), one single call per item for the others."""
    parts = spec_of(name).batch_parts
    counted: Counter[str] = Counter()
    for kind, method, count in (
        ("deletes", "DELETE", deletes),
        ("patches", "PATCH", patches),
        ("posts", "POST", posts),
    ):
        if kind in parts:
            counted[f"batch {kind}"] += count
        else:
            counted[method] += count
    if any(counted[f"batch {kind}"] for kind in parts):
        counted["batch"] = 1
    return +counted


def failure_of(call: Callable[[], Any]) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.details() or ""


# --- registration ----------------------------------------------------------------------------------------------


def test_sets_register_their_type_and_pickle_the_provider_by_reference(
    set_registration: RecordingMocks, set_registered: dict[str, dict[str, Any]]
) -> None:
    for name, inputs in set_registered.items():
        assert set_registration.types[f"sample-{name}"] == f"pulumi-python:dynamic/cloudflare-email-security:{name}"
        pickled = base64.b64decode(inputs["__provider"])
        assert len(pickled) < 400, f"{name}'s provider pickle carries state ({len(pickled)} bytes)"
        assert f"{name}Provider".encode() in pickled
        assert inputs["exclusive"] is False and inputs["adopt_existing"] is False
        assert inputs["account_id"] == ACCOUNT_ID
    assert sorted(SET_PROVIDERS) == sorted(SET_RESOURCES)
    assert "ProtectedDomain" not in {spec.resource_name for spec in SET_SETTINGS_TYPES.values()}


def test_natural_keys_agree_with_same_value() -> None:
    for name in SETS:
        spec = spec_of(name)
        first, second = entry(name, 1), entry(name, 2)
        assert spec.key_of(first) == spec.key_of(dict(first)) != spec.key_of(second)
        for rule in spec.case_insensitive:
            if rule.field in spec.natural_key and rule.holds(first) and isinstance(first[rule.field], str):
                shouted = {**first, rule.field: first[rule.field].upper()}
                assert spec.key_of(shouted) == spec.key_of(first)
                assert spec.same_value(rule.field, shouted[rule.field], shouted, first[rule.field], first)


# --- the life of a set -------------------------------------------------------------------------------------------


def test_lifecycle(stack: SetStack, router: SetRouter, emulator_server: EmulatorServer) -> None:
    name, spec = stack.name, spec_of(stack.name)
    declared = entries(name, range(30))
    assert stack.up(declared) == "CREATE"
    assert_account_holds(emulator_server, stack, declared)
    for out, wanted in zip(stack.outs["entries"], declared, strict=True):
        assert {k: out[k] for k in wanted} == wanted
        assert out["id"] and out["created_at"] and out["modified_at"]
    assert writes(router, name) == expected_writes(name, posts=30)
    assert listings(router, name) == 2, "one listing to plan, one after creating to catch another writer's"

    created = stack.outs
    assert stack.refresh()["entries"] == created["entries"]
    assert stack.up(declared) == "DIFF_NONE"
    assert stack.up(list(reversed(declared))) == "DIFF_NONE"  # order of entries does not count

    # Update: 10 changed, 15 kept, 5 removed, 5 added.
    router.forget()
    updated = [changed(name, n) for n in range(10)] + entries(name, range(10, 25)) + entries(name, range(30, 35))
    assert stack.up(updated) == "DIFF_SOME"
    assert_account_holds(emulator_server, stack, updated)
    assert writes(router, name) == expected_writes(name, deletes=5, patches=10, posts=5)
    kept = {e["id"] for e in created["entries"][:25]}
    assert kept <= {e["id"] for e in stack.outs["entries"]}, "updated entries keep their ids"

    # An entry edited elsewhere shows at refresh; the next up patches that entry alone.
    edited = stack.outs["entries"][7]
    emulator_server.router.backend.edit(ACCOUNT_ID, spec.collection, edited["id"], API_EDITS[spec.collection])
    drifted = {e["id"]: e for e in stack.refresh()["entries"]}[edited["id"]]
    assert all(drifted[k] == v for k, v in API_EDITS[spec.collection].items())
    router.forget()
    assert stack.up(updated) == "DIFF_SOME"
    assert writes(router, name) == expected_writes(name, patches=1)
    assert_account_holds(emulator_server, stack, updated)

    # An entry deleted elsewhere drops out at refresh; the next up creates it again.
    gone = stack.outs["entries"][3]
    emulator_server.router.backend.delete(ACCOUNT_ID, spec.collection, gone["id"])
    refreshed = stack.refresh()
    assert refreshed["count"] == len(updated) - 1
    assert gone["id"] not in {e["id"] for e in refreshed["entries"]}
    router.forget()
    assert stack.up(updated) == "DIFF_SOME"
    assert writes(router, name) == expected_writes(name, posts=1)
    assert_account_holds(emulator_server, stack, updated)

    router.forget()
    stack.destroy()
    assert account(emulator_server, name) == []
    deletes = expected_writes(name, deletes=len(updated))
    assert writes(router, name) == deletes
    stack.destroy()  # already gone: still a success
    assert account(emulator_server, name) == []


def test_an_account_change_replaces_the_set(stack: SetStack) -> None:
    outs = {**stack.registered, "entries": [{"id": "x", **entry(stack.name, 0)}], "count": 1}
    moved = stack.check([entry(stack.name, 0)], account_id=OTHER_ACCOUNT_ID)
    diff = stack.provider.diff(stack.name, "set-id", outs, moved)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", ["account_id"], False)


@pytest.mark.parametrize("set_name", BATCHED)
def test_large_sets_go_in_batches_of_1000(stack: SetStack, router: SetRouter, emulator_server: EmulatorServer) -> None:
    name, spec = stack.name, spec_of(stack.name)
    declared = entries(name, range(CHUNKED))
    if "posts" in spec.batch_parts:
        stack.up(declared)
    else:  # entries it cannot batch-create exist already, and are adopted (the batch deletes are the point here)
        for wanted in declared:
            seed(emulator_server, name, wanted)
        stack.up(declared, adopt_existing=True)
    assert_account_holds(emulator_server, stack, declared)
    chunks = -(-CHUNKED // PAGE)
    created = writes(router, name)
    if "posts" in spec.batch_parts:
        assert created == Counter({"batch": chunks, "batch posts": CHUNKED})
        assert all(max(s.parts.values()) <= PAGE for s in router.requests(spec.collection) if s.item == "batch")
    else:
        assert created == Counter(), "adopted entries that already hold the declared values are not written"
    # Created: the empty account's listing, then the one after creating (a page each 1,000); adopted: one.
    assert listings(router, name) == (1 + chunks if "posts" in spec.batch_parts else chunks)

    router.forget()
    assert stack.refresh()["count"] == CHUNKED
    assert listings(router, name) == chunks and writes(router, name) == Counter()

    router.forget()
    stack.destroy()
    assert writes(router, name) == Counter({"batch": chunks, "batch deletes": CHUNKED})
    assert account(emulator_server, name) == []


def shouted(name: str, n: int) -> dict[str, Any]:
    """The n-th (changed) entry, in upper case where case does not count, its set-like lists in reverse order."""
    spec, values = spec_of(name), changed(name, n)
    for rule in spec.case_insensitive:
        if rule.holds(values):
            value = values[rule.field]
            values[rule.field] = value.upper() if isinstance(value, str) else [v.upper() for v in value]
    for name_of_list in spec.unordered:
        values[name_of_list] = sorted(values[name_of_list], reverse=True)
    return values


def test_an_api_that_normalises_order_and_case_changes_nothing(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    backend = emulator_server.router.backend
    backend.normalise = True
    try:
        declared = [shouted(stack.name, n) for n in range(5)]
        stack.up(declared)
        assert_account_holds(emulator_server, stack, declared)
        spec = spec_of(stack.name)
        if spec.case_insensitive or spec.unordered:
            stored = [{k: e[k] for k in spec.fields} for e in account(emulator_server, stack.name)]
            assert stored != [{k: e.get(k) for k in spec.fields} for e in declared], "the API normalised something"
        stack.refresh()
        reported = [{k: e[k] for k in wanted} for e, wanted in zip(stack.outs["entries"], declared, strict=True)]
        assert reported == declared, "the declared spelling is kept"
        router.forget()
        assert stack.up(declared) == "DIFF_NONE"
        assert stack.up(list(reversed(declared)), adopt_existing=True) == "DIFF_NONE"
        stack.destroy()
        assert account(emulator_server, stack.name) == []
    finally:
        backend.normalise = False


# --- whose entries ------------------------------------------------------------------------------------------------


def test_existing_entries_are_refused_before_any_write(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name = stack.name
    existing = [seed(emulator_server, name, entry(name, n)) for n in (2, 5)]
    router.forget()
    message = failure_of(lambda: stack.up(entries(name, range(8))))
    assert "2 declared entries already exist" in message and "adopt_existing=True" in message
    for found in existing:
        assert found["id"] in message
    assert "entries[2]" in message and "entries[5]" in message
    assert writes(router, name) == Counter(), "nothing may be written"
    assert len(account(emulator_server, name)) == 2


def test_adopt_existing_takes_entries_over(stack: SetStack, router: SetRouter, emulator_server: EmulatorServer) -> None:
    name = stack.name
    same = seed(emulator_server, name, entry(name, 2))
    different = seed(emulator_server, name, entry(name, 5))
    declared = [changed(name, n) if n == 5 else entry(name, n) for n in range(8)]
    router.forget()
    stack.up(declared, adopt_existing=True)
    assert_account_holds(emulator_server, stack, declared)
    ids = [e["id"] for e in stack.outs["entries"]]
    assert ids[2] == same["id"] and ids[5] == different["id"]
    assert writes(router, name) == expected_writes(name, patches=1, posts=6)


def test_a_set_that_is_not_exclusive_leaves_other_entries_alone(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name = stack.name
    other = seed(emulator_server, name, entry(name, 100))
    declared = entries(name, range(5))
    stack.up(declared)
    seed(emulator_server, name, entry(name, 101))
    assert stack.refresh()["count"] == 5
    assert stack.up(declared[:3]) == "DIFF_SOME"
    assert_account_holds(emulator_server, stack, declared[:3], others=2)
    stack.destroy()
    assert {e["id"] for e in account(emulator_server, name)} >= {other["id"]}
    assert len(account(emulator_server, name)) == 2


def test_an_exclusive_set_owns_the_collection(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name = stack.name
    for n in range(100, 104):
        seed(emulator_server, name, entry(name, n))
    declared = entries(name, range(5))
    stack.up(declared, exclusive=True)
    assert_account_holds(emulator_server, stack, declared)
    assert writes(router, name) == expected_writes(name, deletes=4, posts=5)

    drift = seed(emulator_server, name, entry(name, 200))
    refreshed = stack.refresh()
    assert refreshed["count"] == 6 and drift["id"] in {e["id"] for e in refreshed["entries"]}
    router.forget()
    assert stack.up(declared, exclusive=True) == "DIFF_SOME"
    assert_account_holds(emulator_server, stack, declared)
    assert writes(router, name) == expected_writes(name, deletes=1)


@pytest.mark.parametrize("set_name", ["ImpersonationRegistrySet"])
def test_directory_synced_impersonation_entries(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name = stack.name
    synced = [
        seed(emulator_server, name, entry(name, n), provenance="SNOOPY-OFFICE_365", directory_id=7) for n in (50, 51)
    ]
    seed(emulator_server, name, entry(name, 52))  # an internal entry, not declared: an exclusive set deletes it
    declared = entries(name, range(3))
    stack.up(declared, exclusive=True)
    assert_account_holds(emulator_server, stack, declared, others=2)
    assert {e["id"] for e in account(emulator_server, name)} >= {s["id"] for s in synced}
    assert stack.refresh()["count"] == 3, "directory-synced entries are no drift"
    assert stack.up(declared, exclusive=True) == "DIFF_NONE"

    router.forget()
    message = failure_of(lambda: stack.up([*declared, entry(name, 50)], exclusive=True))
    assert "cannot be managed" in message and "synced from a directory" in message and synced[0]["id"] in message
    assert writes(router, name) == Counter()
    stack.destroy()
    assert sorted(e["id"] for e in account(emulator_server, name)) == sorted(s["id"] for s in synced)


# --- check and preview -------------------------------------------------------------------------------------------


def test_check_names_each_failing_entry_by_position_and_field(stack: SetStack) -> None:
    name, spec = stack.name, spec_of(stack.name)
    first_field = spec.fields[0]
    declared: list[Any] = entries(name, range(3))
    declared += [entry(name, 0), {**entry(name, 4), first_field: 12.5}, {**entry(name, 5), "bogus": 1}, "oops"]
    checked = stack.provider.check(name, stack.inputs(declared, exclusive="yes", surplus=1))
    failures = dict(checked.failures)
    assert "entries[0]" in failures["entries[3]"] and failures["entries[3]"].startswith("entries[3]: declares the same")
    assert failures[f"entries[4].{first_field}"].startswith(f"entries[4].{first_field}: ")
    assert failures["entries[5].bogus"].startswith("entries[5].bogus: is not a field of")
    assert failures["entries[6]"].startswith("entries[6]: must be a mapping")
    assert failures["exclusive"].startswith("exclusive: must be true or false")
    assert failures["surplus"].startswith("surplus: is not an input of")
    assert len(failures) == 6

    missing = {k: v for k, v in entry(name, 1).items() if k != first_field}
    failures = dict(stack.provider.check(name, stack.inputs([entry(name, 0), missing])).failures)
    assert failures == {f"entries[1].{first_field}": f"entries[1].{first_field}: is required"}


def test_check_finds_duplicates_whatever_their_letter_case(stack: SetStack) -> None:
    spec = spec_of(stack.name)
    first = entry(stack.name, 1)
    for rule in spec.case_insensitive:
        if rule.field in spec.natural_key and rule.holds(first):
            shouted = {**first, rule.field: first[rule.field].upper()}
            failures = dict(stack.provider.check(stack.name, stack.inputs([first, shouted])).failures)
            assert list(failures) == ["entries[1]"] and "entries[0]" in failures["entries[1]"]
            return
    failures = dict(stack.provider.check(stack.name, stack.inputs([first, dict(first)])).failures)
    assert list(failures) == ["entries[1]"]


def test_unknown_values_pass_a_preview(stack: SetStack) -> None:
    name, spec = stack.name, spec_of(stack.name)
    recorded = {**stack.registered, "entries": [{"id": "x", **entry(name, 0)}], "count": 1}
    key_field = spec.natural_key[0]
    for declared in (
        UNKNOWN,
        [entry(name, 0), UNKNOWN],
        [{**entry(name, 0), key_field: UNKNOWN}, entry(name, 1)],
        [{**entry(name, 0), spec.fields[-1]: UNKNOWN}],
    ):
        checked = stack.provider.check(name, stack.inputs(declared))
        assert checked.failures == []
        assert is_unknown(checked.inputs["entries"])
        diff = stack.provider.diff(name, "set-id", recorded, checked.inputs)
        assert (diff.changes, diff.replaces) == ("DIFF_SOME", [])
    unknown_account = stack.provider.check(name, stack.inputs([entry(name, 0)], account_id=UNKNOWN))
    assert unknown_account.failures == []
    diff = stack.provider.diff(name, "set-id", recorded, unknown_account.inputs)
    assert diff.replaces == ["account_id"]


# --- failures midway ----------------------------------------------------------------------------------------------


def size_for(name: str) -> int:
    """Enough entries that a create takes two batch calls, where the type batches its creates."""
    return 1100 if "posts" in spec_of(name).batch_parts else 30


def test_lost_answers_and_failed_calls_within_a_write_are_reconciled(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name, collection = stack.name, spec_of(stack.name).collection
    declared = entries(name, range(size_for(name)))
    # A POST dropped without an answer may yet be committed (the client cannot tell that it never was): its
    # entries are not sent again in that call, which fails naming them; the next up creates them.
    router.faults.add(Fault("reset_before", method="POST", collection=collection, count=1))
    message = failure_of(lambda: stack.up(declared))
    assert "got no answer" in message and "may still land" in message and "entries[" in message
    assert account(emulator_server, name) == []

    router.forget()
    router.faults.add(
        Fault("reset_before", method="GET", collection=collection, count=1),  # the first listing
        Fault("reset_after", method="POST", collection=collection, count=1),  # committed, answer lost
        Fault("503", method="POST", collection=collection, count=1),
        Fault("429", method="POST", collection=collection, count=1, retry_after=0.01),
    )
    stack.up(declared)
    assert router.faults.total_fired == 4
    assert_account_holds(emulator_server, stack, declared)

    router.forget()
    router.faults.add(
        Fault("reset_after", method="POST", collection=collection, count=1),
        Fault("reset_after", method="PATCH", collection=collection, count=1),
        Fault("reset_after", method="DELETE", collection=collection, count=1),
    )
    updated = [changed(name, n) for n in range(10)] + declared[15:] + entries(name, range(5000, 5005))
    stack.up(updated)
    assert_account_holds(emulator_server, stack, updated)


@pytest.mark.parametrize("step", ["create", "update"])
def test_a_write_that_fails_midway_is_undone_and_the_next_up_converges(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer, step: str
) -> None:
    name, spec = stack.name, spec_of(stack.name)
    before = entries(name, range(10000, 10020))
    if step == "update":
        stack.up(before)
    added = entries(name, range(size_for(name)))
    declared = before + added if step == "update" else added
    news = stack.check(declared)
    news["entries"][-1][spec.fields[0]] = 12345  # as a bug in check would let through: the API refuses it
    router.forget()
    if step == "create":
        message = failure_of(lambda: stack.provider.create(name, news))
    else:
        message = failure_of(lambda: stack.provider.update(name, stack.id, stack.outs, news))
    assert "Cloudflare rejected the request" in message
    landed = sum(1 for s in router.requests(spec.collection) if s.method == "POST" and s.status < 300)
    assert landed, "some entries were written before the failure"
    assert "were deleted again" in message and "run `pulumi up` again" in message
    kept = before if step == "update" else []
    assert sorted(spec.key_of(e) for e in account(emulator_server, name)) == sorted(spec.key_of(e) for e in kept)

    stack.up(declared)  # the next up, with the mistake fixed
    assert_account_holds(emulator_server, stack, declared)


def test_when_even_the_undo_fails_the_error_lists_what_was_written(
    stack: SetStack, router: SetRouter, emulator_server: EmulatorServer
) -> None:
    name, spec = stack.name, spec_of(stack.name)
    declared = entries(name, range(size_for(name)))

    def api_down() -> None:
        for method in ("POST", "PATCH", "DELETE"):
            router.faults.add(Fault("503", method=method, collection=spec.collection))

    router.after_first_write = api_down
    message = failure_of(lambda: stack.up(declared))
    left = account(emulator_server, name)
    assert left, "the first write landed"
    assert "could not be deleted again" in message and "adopt_existing=True" in message
    assert left[0]["id"] in message
    assert len({spec.key_of(e) for e in left}) == len(left), "no key twice"

    router.forget()  # the API is back
    refused = failure_of(lambda: stack.up(declared))
    assert "already exist" in refused and writes(router, name) == Counter()
    stack.up(declared, adopt_existing=True)
    assert_account_holds(emulator_server, stack, declared)
    assert {e["id"] for e in left} <= {e["id"] for e in stack.outs["entries"]}


@pytest.fixture(scope="module")
def _deadline_2_provider(_module_server: EmulatorServer) -> Iterator[ProviderProcess]:
    env = provider_env(
        _module_server.base_url, CLOUDFLARE_API_TOKEN=CANARY, CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="2"
    )
    with ProviderProcess(env) as process:
        yield process


@pytest.mark.parametrize(
    ("name", "latency"),
    [
        ("BlockedSenderSet", 3.0),  # the batch's commit shows within the grace wait
        ("ImpersonationRegistrySet", 3.0),  # single POSTs
        ("BlockedSenderSet", 5.5),  # the commit comes after the grace wait: the create fails, naming the entries
    ],
)
def test_a_post_that_got_no_answer_is_never_sent_twice(
    _deadline_2_provider: ProviderProcess,
    set_registered: dict[str, dict[str, Any]],
    router: SetRouter,
    emulator_server: EmulatorServer,
    name: str,
    latency: float,
) -> None:
    """A POST whose answer does not come before the retry deadline (2 s) may still be committed: its entries are
    not POSTed again by that call, even when the next listing does not show them yet."""
    stack = SetStack(_deadline_2_provider, name, set_registered[name])
    spec = spec_of(name)
    declared = entries(name, range(20))
    router.faults.add(Fault("latency", method="POST", collection=spec.collection, count=1, latency=latency))
    message, started = "", time.monotonic()
    try:
        stack.up(declared)
    except grpc.RpcError as error:
        message = error.details() or ""
    time.sleep(max(0.0, started + latency + 0.5 - time.monotonic()))  # the slow POST is committed by now
    assert router.faults.total_fired == 1
    keys = Counter(spec.key_of(e) for e in account(emulator_server, name))
    assert keys and max(keys.values()) == 1, "no key twice, even after the late commit"

    if latency > 3.5:
        assert "got no answer" in message and "may still land" in message, message
        assert "entries[0] (" in message and "adopt_existing=True" in message, message
        refused = failure_of(lambda: stack.up(declared))
        assert "already exist" in refused
        stack.up(declared, adopt_existing=True)
    else:
        assert message == ""
    assert_account_holds(emulator_server, stack, declared)
