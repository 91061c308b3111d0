"""Hundreds of entries of every type through the gRPC provider while the API fails a fifth of the time.

After each step (up, update, refresh, destroy) the account must hold exactly what is declared: no
duplicates, no orphans, nothing missing. The size is set for CI; for a longer local run:

    CFES_FAULT_TEST_PER_TYPE=150 .venv/bin/pytest tests/test_fault_tolerance.py -s
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault, FaultPlan
from pulumi_cloudflare_email_security.emulator.routes import Router
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, assert_no_canary, provider_env
from .samples import NATURAL_KEY_OF, numbered_inputs

PER_TYPE = int(os.environ.get("CFES_FAULT_TEST_PER_TYPE", "30"))
WORKERS = 8  # more calls in flight than the provider's 4 worker threads, as `pulumi up` does

# About a quarter of all requests fail, in every way the emulator can fail.
FAULT_MIX = [
    Fault("429", rate=0.06, retry_after=0),
    Fault("500", rate=0.03),
    Fault("502", rate=0.03),
    Fault("503", rate=0.03),
    Fault("reset_before", rate=0.04),
    Fault("reset_after", rate=0.05),
    Fault("latency", rate=0.03, latency=0.01),
]

Declared = dict[tuple[str, int], dict[str, Any]]


@pytest.fixture
def faulty() -> Iterator[tuple[EmulatorServer, FaultPlan]]:
    plan = FaultPlan(seed=20261122)
    with EmulatorServer(Router(faults=plan)) as server:
        yield server, plan


@pytest.fixture
def patient_provider(faulty: tuple[EmulatorServer, FaultPlan]) -> Iterator[ProviderProcess]:
    env = provider_env(faulty[0].base_url, CLOUDFLARE_API_TOKEN=CANARY)
    env.update(CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60", CLOUDFLARE_EMAIL_SECURITY_LOG_LEVEL="INFO")
    with ProviderProcess(env) as process:
        yield process
    assert_no_canary(process, CANARY)


def versioned_field(name: str) -> str:
    """The field a new version of the program changes in every entry of a type: a number, a display name, or
    else the type's free-text notes (the field it clears when left out)."""
    if name == "ProtectedDomain":
        return "lookback_hops"
    return "name" if "Impersonation" in name else SETTINGS_TYPES[name].clear_when_omitted[0]


def declared(registered: dict[str, dict[str, Any]], version: int = 0) -> Declared:
    """What the program declares: PER_TYPE entries of every type (``version`` changes a field of each)."""
    bags: Declared = {}
    for name in SETTINGS_TYPES:
        for n in range(PER_TYPE):
            inputs = {**registered[name], **numbered_inputs(name, n)}
            if version:
                changed = versioned_field(name)
                inputs[changed] = 2 + version if changed == "lookback_hops" else f"v{version} {n}"
            bags[(name, n)] = inputs
    return bags


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.exception() or f.result() for f in futures]


def account_keys(server: EmulatorServer) -> Counter[tuple[str, str]]:
    """Every entry in the account, by type and natural key (a count above 1 is a duplicate)."""
    found: Counter[tuple[str, str]] = Counter()
    for name, spec in SETTINGS_TYPES.items():
        for entry in server.router.backend.entries(ACCOUNT_ID, spec.collection):
            found[(name, str(entry[NATURAL_KEY_OF[name]]))] += 1
    return found


def assert_account_holds_exactly(server: EmulatorServer, bags: Declared, state: dict[tuple[str, int], str]) -> None:
    expected = Counter((name, str(bags[(name, n)][NATURAL_KEY_OF[name]])) for (name, n) in state)
    actual = account_keys(server)
    duplicates = {k: c for k, c in actual.items() if c > 1}
    orphans = set(actual) - set(expected)
    missing = set(expected) - set(actual)
    assert (duplicates, orphans, missing) == ({}, set(), set())
    backend = server.router.backend
    ids = {e["id"] for spec in SETTINGS_TYPES.values() for e in backend.entries(ACCOUNT_ID, spec.collection)}
    assert ids == set(state.values()), "the state's ids and the account's ids differ"


Outputs = dict[tuple[str, int], dict[str, Any]]


def up(
    provider: ProviderProcess, bags: Declared, state: dict[tuple[str, int], str], outputs: Outputs
) -> list[BaseException]:
    """Create what is declared but not in the state, as `pulumi up` does; returns the failures."""

    def create(key: tuple[str, int]) -> None:
        name = key[0]
        checked = provider.check(name, bags[key])
        assert checked.failures == []
        id_, outs = provider.create(name, checked.inputs)
        state[key] = id_
        outputs[key] = outs

    todo = [key for key in bags if key not in state]
    results = in_parallel([lambda key=key: create(key) for key in todo])
    return [r for r in results if isinstance(r, BaseException)]


def test_every_step_converges_under_faults(
    registered: dict[str, dict[str, Any]],
    faulty: tuple[EmulatorServer, FaultPlan],
    patient_provider: ProviderProcess,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, plan = faulty
    provider = patient_provider
    plan.add(*FAULT_MIX)
    bags, state, outputs = declared(registered), {}, {}
    assert len(bags) >= 200

    assert up(provider, bags, state, outputs) == []
    assert_account_holds_exactly(server, bags, state)

    changed = declared(registered, version=1)

    def update(key: tuple[str, int]) -> None:
        name = key[0]
        news = provider.check(name, changed[key], olds=bags[key]).inputs
        assert provider.diff(name, state[key], outputs[key], news).changes == "DIFF_SOME"
        outputs[key] = provider.update(name, state[key], outputs[key], news)

    assert [r for r in in_parallel([lambda k=k: update(k) for k in state]) if r] == []
    assert_account_holds_exactly(server, changed, state)
    for (name, n), id_ in state.items():
        entry = server.router.backend.get(ACCOUNT_ID, SETTINGS_TYPES[name].collection, id_)
        field = versioned_field(name)
        assert changed[(name, n)][field] != bags[(name, n)].get(field)
        assert entry[field] == changed[(name, n)][field]

    def refresh(key: tuple[str, int]) -> None:
        read_id, outs = provider.read(key[0], state[key], outputs[key])
        assert read_id == state[key]
        news = provider.check(key[0], changed[key]).inputs
        assert provider.diff(key[0], read_id, outs, news).changes == "DIFF_NONE"

    assert [r for r in in_parallel([lambda k=k: refresh(k) for k in state]) if r] == []
    assert_account_holds_exactly(server, changed, state)

    def destroy(key: tuple[str, int]) -> None:
        provider.delete(key[0], state[key], outputs[key])

    assert [r for r in in_parallel([lambda k=k: destroy(k) for k in state]) if r] == []
    assert sum(account_keys(server).values()) == 0

    ratio = plan.total_fired / plan.requests
    with capsys.disabled():
        print(
            f"\nfault tolerance: {len(bags)} entries, {plan.requests} requests, survived {plan.total_fired} "
            f"injected faults ({ratio:.0%}): {dict(plan.fired)}"
        )
    assert ratio >= 0.20


def test_a_second_up_after_a_partly_failed_one_converges(
    registered: dict[str, dict[str, Any]],
    faulty: tuple[EmulatorServer, FaultPlan],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, plan = faulty
    env = provider_env(server.base_url, CLOUDFLARE_API_TOKEN=CANARY)
    env.update(CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="0.3")  # impatient: some creates give up
    bags, state, outputs = declared(registered), {}, {}
    # Creates fail hard and often, and half of the failed answers hide a committed entry. Every create of
    # one collection fails until the deadline, so the first up fails partly however fast the retries run.
    plan.add(
        Fault("503", method="POST", collection="trusted_domains"),
        Fault("reset_after", method="POST", rate=0.35),
        Fault("503", method="POST", rate=0.35),
    )
    with ProviderProcess(env) as provider:
        failures = up(provider, bags, state, outputs)
    assert failures, "the first up was meant to fail partly"
    assert all(isinstance(f, grpc.RpcError) for f in failures)
    assert_account_holds_exactly(server, bags, state)  # nothing half-done: no orphan of a failed create
    first_round = (len(state), len(failures), plan.total_fired)

    plan.clear()
    plan.add(*FAULT_MIX)
    env.update(CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60")
    with ProviderProcess(env) as provider:
        assert up(provider, bags, state, outputs) == []
    assert len(state) == len(bags)
    assert_account_holds_exactly(server, bags, state)
    with capsys.disabled():
        print(
            f"\npartly failed up: {first_round[0]} created, {first_round[1]} failed after "
            f"{first_round[2]} faults; the second up converged to {len(state)} entries, no duplicates"
        )
