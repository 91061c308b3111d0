"""Thousands of entries in the seven set resources, through the gRPC provider, while a third of the batch and list
calls fail (429, 500, 502, 503, a connection reset before a listing is answered, and one after a write is committed).

Across create, update (entries changed, added and removed), an out-of-band deletion, refresh, the next up that
repairs it, and destroy, the account must hold exactly what the sets declare after each step: every declared key
exactly once with the declared values, nothing else, no duplicates; and the sets' outputs name exactly the
account's ids. A step that fails as a whole (the Pulumi engine then keeps no partial state) is run again as the
next ``pulumi up`` would, and must converge. A second test makes each step fail on purpose for some sets, after
part of their writes landed (an impatient provider: a short retry deadline), and checks that nothing the state
does not know of is left but what the error lists, and that the next run converges. One set holds more than 1,000
entries, so its writes take several batch arrays and its listings several pages.

The size is set for CI (2,100 entries in all); for a longer local run:

    CFES_SET_FAULT_TEST_ENTRIES=10000 .venv/bin/pytest tests/test_set_fault_tolerance.py -s
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault, FaultPlan
from pulumi_cloudflare_email_security.emulator.routes import ROUTE, EmulatorResponse, Router
from pulumi_cloudflare_email_security.registry import SET_RESOURCES, SET_SETTINGS_TYPES, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import ADOPT_EXISTING

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, assert_no_canary, provider_env
from .registration import register
from .samples import numbered_inputs

TOTAL = int(os.environ.get("CFES_SET_FAULT_TEST_ENTRIES", "2100"))
LARGE_SET = "BlockedSenderSet"
"""The set that holds more than 1,000 entries at the CI size: several batch arrays, several pages."""
ATTEMPTS = 3
"""How many times a step is run (as many ``pulumi up``) before the test gives up on it converging."""

SET_TYPE = {name: spec.resource_name for name, spec in SET_SETTINGS_TYPES.items()}
"""Each set resource class's settings type (of its entries)."""

SET_COLLECTIONS = {name: SETTINGS_TYPES[type_name].collection for name, type_name in SET_TYPE.items()}


def fault_mix(*, sparing: tuple[str, ...] = ()) -> list[Fault]:
    """About a third of POSTs (batches, and the single creates of the types without a batch create) and GETs
    (listings, and single reads) fail, in every way but slowness; a tenth of single PATCHes and DELETEs are
    committed and their answer lost. The first fault whose dice say so hits a request. ``sparing`` names
    collections left alone (those a test fails in a way of its own).

    A POST is not dropped before it is applied: to the client that is a POST that got no answer and may still
    land, which a write never sends again and fails on (tests/test_sets.py covers it); at this rate, a set of
    single creates would fail every run."""
    targets: list[str | None] = [None]
    if sparing:
        targets = [c for c in SET_COLLECTIONS.values() if c not in sparing]
    mix = [
        Fault(kind, method=method, collection=collection, rate=rate, retry_after=0.02)
        for collection in targets
        for method in ("POST", "GET")
        for kind, rate in (
            ("429", 0.08),
            ("500", 0.05),
            ("502", 0.05),
            ("503", 0.05),
            ("reset_before", 0.05),
            ("reset_after", 0.08),
        )
        if (kind, method) != ("reset_before", "POST")
    ]
    return mix + [
        Fault("reset_after", method=method, collection=collection, rate=0.1)
        for collection in targets
        for method in ("PATCH", "DELETE")
    ]


def kind_of(method: str, path: str) -> str:
    """What a request is: ``list``, ``batch``, ``get``, or its method (lower case)."""
    route = ROUTE.search(path)
    if route is not None and route["item"] == "batch":
        return "batch"
    if method.upper() == "GET":
        return "list" if route is not None and route["item"] is None else "get"
    return method.lower()


class CountingPlan(FaultPlan):
    """A fault plan that also counts requests and faults by kind of request (list, batch, ...)."""

    def __init__(self, *, seed: int) -> None:
        super().__init__(seed=seed)
        self.current = threading.local()
        """The kind of the request the server thread is answering."""
        self.calls: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()
        """Requests that a fault made fail, by kind (an added latency is no failure)."""
        self._counting = threading.Lock()

    def draw(self, method: str, collection: str | None) -> Fault | None:
        fault = super().draw(method, collection)
        kind = getattr(self.current, "kind", "other")
        with self._counting:
            self.calls[kind] += 1
            if fault is not None and fault.kind != "latency":
                self.hits[kind] += 1
        return fault


class CountingRouter(Router):
    """Tells the plan what kind of request it is drawing for (one server thread serves one request at a time)."""

    plan: CountingPlan

    def handle(self, method: str, path: str, *args: Any) -> EmulatorResponse:
        self.plan.current.kind = kind_of(method, path)
        return super().handle(method, path, *args)


@pytest.fixture
def faulty() -> Iterator[tuple[EmulatorServer, CountingPlan]]:
    plan = CountingPlan(seed=20261205)
    router = CountingRouter(faults=plan)
    router.plan = plan
    with EmulatorServer(router) as server:
        yield server, plan


@pytest.fixture
def patient_provider(faulty: tuple[EmulatorServer, CountingPlan]) -> Iterator[ProviderProcess]:
    env = provider_env(faulty[0].base_url, CLOUDFLARE_API_TOKEN=CANARY)
    env.update(CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60", CLOUDFLARE_EMAIL_SECURITY_LOG_LEVEL="INFO")
    with SetProviderProcess(env) as process:
        yield process
    assert_no_canary(process, CANARY)


@pytest.fixture(scope="module")
def registered_sets() -> dict[str, dict[str, Any]]:
    """The inputs a real registration of each set class sends to the engine, ``__provider`` included."""

    def program() -> list[Any]:
        return [
            SET_RESOURCES[name](
                f"sample-{name}", account_id=ACCOUNT_ID, entries=[numbered_inputs(SET_TYPE[name], 0)]
            ).urn
            for name in SET_RESOURCES
        ]

    mocks = register(program)
    return {name: mocks.resources[f"sample-{name}"] for name in SET_RESOURCES}


def sizes(total: int) -> dict[str, int]:
    """How many entries each set declares: ``total`` in all, most of them in :data:`LARGE_SET`."""
    small = total // 14
    return {name: total - small * (len(SET_RESOURCES) - 1) if name == LARGE_SET else small for name in SET_RESOURCES}


def versioned_field(type_name: str) -> str:
    """The field a new version of the program changes: a display name, or else the free-text notes."""
    return "name" if "Impersonation" in type_name else SETTINGS_TYPES[type_name].clear_when_omitted[0]


Entries = dict[str, list[dict[str, Any]]]


def first_version(size_of: Mapping[str, int]) -> Entries:
    return {name: [numbered_inputs(SET_TYPE[name], n) for n in range(size)] for name, size in size_of.items()}


def second_version(size_of: Mapping[str, int]) -> Entries:
    """Every third entry changed, every seventh removed, a tenth more added (numbered past the first version)."""
    entries: Entries = {}
    for name, size in size_of.items():
        field = versioned_field(SET_TYPE[name])
        kept = [n for n in range(size) if n % 7 != 3]
        declared = []
        for n in [*kept, *range(size, size + max(1, size // 10))]:
            inputs = numbered_inputs(SET_TYPE[name], n)
            if n % 3 == 0:
                inputs[field] = f"v2 {n}"
            declared.append(inputs)
        entries[name] = declared
    return entries


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, as the engine runs independent resources; failures are returned, not raised."""
    with ThreadPoolExecutor(max(1, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.exception() or f.result() for f in futures]


def key(type_name: str, values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(repr(values.get(name)) for name in SETTINGS_TYPES[type_name].natural_key)


def assert_account_holds_exactly(server: EmulatorServer, declared: Entries) -> None:
    """Every declared key once, with its declared values; no other entry in any of the sets' collections."""
    backend = server.router.backend
    for name, entries in declared.items():
        type_name = SET_TYPE[name]
        spec = SETTINGS_TYPES[type_name]
        found = backend.entries(ACCOUNT_ID, spec.collection)
        counts = Counter(key(type_name, entry) for entry in found)
        duplicates = {k: c for k, c in counts.items() if c > 1}
        wanted = {key(type_name, inputs): inputs for inputs in entries}
        orphans, missing = set(counts) - set(wanted), set(wanted) - set(counts)
        assert (len(duplicates), len(orphans), len(missing)) == (0, 0, 0), (name, duplicates, orphans, missing)
        for entry in found:
            inputs = wanted[key(type_name, entry)]
            differ = [f for f in inputs if not spec.same_value(f, inputs[f], inputs, entry.get(f), entry)]
            assert differ == [], (name, entry, inputs)


def assert_outputs_name_the_account(server: EmulatorServer, name: str, outputs: Mapping[str, Any]) -> None:
    found = server.router.backend.entries(ACCOUNT_ID, SETTINGS_TYPES[SET_TYPE[name]].collection)
    output_ids = [str(entry["id"]) for entry in outputs["entries"]]
    assert len(output_ids) == len(set(output_ids)) == outputs["count"]
    assert set(output_ids) == {str(entry["id"]) for entry in found}, name


class SetProviderProcess(ProviderProcess):
    """The provider process, named by URNs of each set's own type (the resource name is the set class name)."""

    def urn(self, name: str) -> str:
        return f"urn:pulumi:test::proj::pulumi-python:dynamic/cloudflare-email-security:{name}::{name}"


class Stack:
    """The sets of one stack as the Pulumi engine records them (the id and outputs of each created set), and the
    engine's steps over them.

    A step that fails for a set leaves that set's state as it was (the engine keeps no partial state), and is
    run again for it, as the next ``pulumi up`` (or refresh, or destroy) would; when the error asks to rerun with
    ``adopt_existing=True``, the rerun does, as the person reading it would.
    """

    def __init__(self, provider: ProviderProcess, registered: Mapping[str, dict[str, Any]]) -> None:
        self.provider = provider
        self.registered = registered
        self.ids: dict[str, str] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.declared: Entries = {}
        self.adopt: set[str] = set()
        """The sets whose program now says ``adopt_existing=True``, as an error asked."""
        self.runs_again: Counter[str] = Counter()
        """How many times a step failed for a set and was run again."""
        self.errors: dict[str, str] = {}
        """The last error of each step and set that failed (first line)."""

    def bag(self, name: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {**self.registered[name], "entries": entries, **({ADOPT_EXISTING: True} if name in self.adopt else {})}

    def checked(self, name: str, declared: Entries) -> dict[str, Any]:
        olds = self.bag(name, self.declared[name]) if name in self.declared else None
        outcome = self.provider.check(name, self.bag(name, declared[name]), olds)
        assert outcome.failures == [], outcome.failures
        return outcome.inputs

    def up(self, declared: Entries, *, runs: int = ATTEMPTS) -> dict[str, grpc.RpcError]:
        """``pulumi up``: create the sets not in the state, update those that differ."""

        def up_one(name: str) -> None:
            news = self.checked(name, declared)
            if name not in self.ids:
                self.ids[name], self.outputs[name] = self.provider.create(name, news)
            elif self.provider.diff(name, self.ids[name], self.outputs[name], news).changes == "DIFF_SOME":
                self.outputs[name] = self.provider.update(name, self.ids[name], self.outputs[name], news)

        failed = self._run("up", up_one, list(declared), runs)
        self.declared = declared
        return failed

    def refresh(self) -> None:
        """``pulumi refresh``: the outputs become what Read answers."""

        def read(name: str) -> None:
            read_id, outputs = self.provider.read(name, self.ids[name], self.outputs[name])
            assert read_id == self.ids[name]
            self.outputs[name] = outputs

        self._run("refresh", read, list(self.ids), ATTEMPTS)

    def diffs(self) -> set[str]:
        """What a preview would say of the sets (``DIFF_SOME`` or ``DIFF_NONE``)."""

        def diff(name: str) -> str:
            news = self.checked(name, self.declared)
            return self.provider.diff(name, self.ids[name], self.outputs[name], news).changes

        outcomes = in_parallel([lambda n=n: diff(n) for n in self.ids])
        assert not any(isinstance(o, BaseException) for o in outcomes), outcomes
        return set(outcomes)

    def destroy(self, *, runs: int = ATTEMPTS) -> dict[str, grpc.RpcError]:
        """``pulumi destroy``: a set deleted leaves the state."""

        def delete(name: str) -> None:
            self.provider.delete(name, self.ids[name], self.outputs[name])
            del self.ids[name], self.outputs[name]

        return self._run("destroy", delete, list(self.ids), runs)

    def _run(self, step: str, action: Callable[[str], None], names: list[str], runs: int) -> dict[str, grpc.RpcError]:
        """Run ``action`` for every set at once, as the engine does, then again for those that failed, up to
        ``runs`` times in all. Fails when a set still fails after :data:`ATTEMPTS` runs; with fewer, returns the
        sets that failed the last run and their errors."""
        failed: dict[str, grpc.RpcError] = {}
        for _ in range(runs):
            outcomes = in_parallel([lambda n=n: action(n) for n in names])
            failed = {n: o for n, o in zip(names, outcomes, strict=True) if isinstance(o, BaseException)}
            assert all(isinstance(o, grpc.RpcError) for o in failed.values()), failed
            for name, error in failed.items():
                details = error.details() or ""
                self.errors[f"{step} {name}"] = details.splitlines()[0] if details else repr(error)
                if f"{ADOPT_EXISTING}=True" in details:
                    self.adopt.add(name)
            if not failed:
                return {}
            self.runs_again.update(f"{step} {n}" for n in failed)
            names = list(failed)
        assert runs < ATTEMPTS, f"{step} did not converge in {runs} runs: {self.errors}"
        return failed


def test_sets_converge_under_faults(
    registered_sets: dict[str, dict[str, Any]],
    faulty: tuple[EmulatorServer, CountingPlan],
    patient_provider: ProviderProcess,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, plan = faulty
    size_of = sizes(TOTAL)
    assert sum(size_of.values()) >= 2000 or "CFES_SET_FAULT_TEST_ENTRIES" in os.environ
    assert size_of[LARGE_SET] > 1000 or "CFES_SET_FAULT_TEST_ENTRIES" in os.environ
    plan.add(*fault_mix())
    stack = Stack(patient_provider, registered_sets)

    stack.up(first_version(size_of))
    assert_account_holds_exactly(server, stack.declared)
    for name in stack.ids:
        assert_outputs_name_the_account(server, name, stack.outputs[name])

    stack.up(second_version(size_of))
    assert_account_holds_exactly(server, stack.declared)
    for name in stack.ids:
        assert_outputs_name_the_account(server, name, stack.outputs[name])

    # Someone deletes a few entries of every set outside Pulumi: refresh drops them, the next up recreates them.
    backend = server.router.backend
    for name in stack.ids:
        collection = SETTINGS_TYPES[SET_TYPE[name]].collection
        for entry in backend.entries(ACCOUNT_ID, collection)[:3]:
            backend.delete(ACCOUNT_ID, collection, str(entry["id"]))
    stack.refresh()
    for name in stack.ids:
        assert stack.outputs[name]["count"] == len(stack.declared[name]) - 3
        assert_outputs_name_the_account(server, name, stack.outputs[name])
    assert stack.diffs() == {"DIFF_SOME"}
    stack.up(stack.declared)
    assert_account_holds_exactly(server, stack.declared)

    stack.refresh()
    assert_account_holds_exactly(server, stack.declared)
    assert stack.diffs() == {"DIFF_NONE"}

    stack.destroy()
    for name in SET_RESOURCES:
        assert backend.entries(ACCOUNT_ID, SETTINGS_TYPES[SET_TYPE[name]].collection) == []

    watched = plan.calls["batch"] + plan.calls["list"]
    faulted = plan.hits["batch"] + plan.hits["list"]
    with capsys.disabled():
        print(
            f"\nset fault tolerance: {sum(size_of.values())} entries in {len(size_of)} sets; {plan.requests} requests "
            f"({dict(plan.calls)}); survived {plan.total_fired} injected faults ({dict(plan.fired)}), "
            f"{faulted} of {watched} batch and list calls ({faulted / watched:.0%}); steps run again: "
            f"{dict(stack.runs_again) or 'none'}"
        )
    assert faulted / watched >= 0.20


def latency_then_503(collection: str, method: str, passed: int) -> list[Fault]:
    """The first ``passed`` requests of a method to a collection go through, every later one fails with a 503."""
    return [
        Fault("latency", method=method, collection=collection, count=passed, latency=0),
        Fault("503", method=method, collection=collection),
    ]


def assert_nothing_unknown(server: EmulatorServer, stack: Stack, failed: Mapping[str, grpc.RpcError]) -> None:
    """After a failed step: no duplicates anywhere, and no entry the state does not know of, but in the
    collections of the sets whose error listed what it left behind and asked for ``adopt_existing=True``."""
    backend = server.router.backend
    for name in SET_RESOURCES:
        type_name = SET_TYPE[name]
        found = backend.entries(ACCOUNT_ID, SETTINGS_TYPES[type_name].collection)
        assert max(Counter(key(type_name, entry) for entry in found).values(), default=0) <= 1, name
        if name in failed and f"{ADOPT_EXISTING}=True" in (failed[name].details() or ""):
            continue
        known = {str(entry["id"]) for entry in stack.outputs.get(name, {}).get("entries", [])}
        assert {str(entry["id"]) for entry in found} <= known, (name, failed.get(name))


def test_a_failed_step_converges_on_the_next_run(
    registered_sets: dict[str, dict[str, Any]],
    faulty: tuple[EmulatorServer, CountingPlan],
    patient_provider: ProviderProcess,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each step is first run by an impatient provider that must fail for some sets, after writing part of
    their entries, then by a patient one: the second run converges, with no duplicates and no orphans."""
    server, plan = faulty
    size_of = sizes(TOTAL)
    env = provider_env(server.base_url, CLOUDFLARE_API_TOKEN=CANARY)
    # Impatient: a write that cannot succeed gives up soon. Not sooner: the deadline also bounds each request at
    # the socket level, and a request the client gave up on that the emulator (slowed by a busy machine) commits
    # afterwards is a race no listing can see (a slow server: the set engine's matter), not what this test is about.
    env.update(CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="1.5")
    stack = Stack(patient_provider, registered_sets)
    seen: list[str] = []

    def impatiently(
        label: str, step: Callable[[], dict[str, grpc.RpcError]], *faults: Fault
    ) -> dict[str, grpc.RpcError]:
        plan.clear()
        plan.add(*faults, *fault_mix(sparing=tuple(str(f.collection) for f in faults)))
        with SetProviderProcess(env) as impatient:
            stack.provider = impatient
            try:
                failed = step()
            finally:
                stack.provider = patient_provider
        # The token appears in no property bag, log line or error (a destroy has no bags to check).
        assert not [
            text for text in (*map(repr, impatient.bags), *impatient.output, *impatient.errors) if CANARY in text
        ]
        assert_nothing_unknown(server, stack, failed)
        seen.append(f"{label}: {len(failed)} sets failed after {plan.total_fired} faults")
        for name, error in sorted(failed.items()):
            details = error.details() or ""
            said = details[details.find("the write stopped here") :].split("\n")[0] if "stopped here" in details else ""
            seen.append(f"  {name}: {details.splitlines()[0][:140] if details else error}... {said[:240]}")
        plan.clear()
        plan.add(*fault_mix())
        return failed

    # Create: the large set's first batch lands and its second never does, nor the batch that would undo the
    # first (the error lists what it left: the next run adopts it, as the error says); the impersonation
    # registry's first 40 single POSTs land, then none (undone by single DELETEs); trusted domains: no write lands.
    failed = impatiently(
        "create",
        lambda: stack.up(first_version(size_of), runs=1),
        *latency_then_503("block_senders", "POST", 1),
        *latency_then_503("impersonation_registry", "POST", 40),
        Fault("503", method="POST", collection="trusted_domains"),
    )
    assert {LARGE_SET, "ImpersonationRegistrySet", "TrustedDomainSet"} <= set(failed)
    assert f"{ADOPT_EXISTING}=True" in (failed[LARGE_SET].details() or "")
    assert server.router.backend.entries(ACCOUNT_ID, "block_senders") != []
    assert server.router.backend.entries(ACCOUNT_ID, "impersonation_registry") == []
    stack.up(stack.declared)
    assert_account_holds_exactly(server, stack.declared)

    # Update: the impersonation registry's deletes and patches land and its POSTs do not; every write of the URL
    # ignore patterns fails.
    failed = impatiently(
        "update",
        lambda: stack.up(second_version(size_of), runs=1),
        Fault("503", method="POST", collection="impersonation_registry"),
        Fault("503", method="POST", collection="url_ignore_patterns"),
    )
    assert {"ImpersonationRegistrySet", "UrlIgnorePatternSet"} <= set(failed)
    stack.up(stack.declared)
    assert_account_holds_exactly(server, stack.declared)
    for name in stack.ids:
        assert_outputs_name_the_account(server, name, stack.outputs[name])

    # Destroy: the large set's batch deletes and the impersonation registry's DELETEs fail.
    failed = impatiently(
        "destroy",
        lambda: stack.destroy(runs=1),
        Fault("503", method="POST", collection="block_senders"),
        *latency_then_503("impersonation_registry", "DELETE", 20),
    )
    assert {LARGE_SET, "ImpersonationRegistrySet"} <= set(failed)
    stack.destroy()
    for name in SET_RESOURCES:
        assert server.router.backend.entries(ACCOUNT_ID, SETTINGS_TYPES[SET_TYPE[name]].collection) == []

    with capsys.disabled():
        print("\nfailed set steps, each run again by a patient provider, which converged:")
        print("\n".join(seen))
