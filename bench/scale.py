"""API calls and wall time of N entries managed as N single resources and as one set, through the gRPC provider.

Starts the HTTP emulator (``EmulatorServer``, 127.0.0.1, free port, always stopped) and ``python -m
pulumi.dynamic`` (exactly what the Pulumi CLI starts for dynamic providers), drives it over gRPC with the
``__provider`` a real registration produces, and counts the API calls the emulator answers in each phase:

* create, refresh, an update of 10 entries, and destroy, for N ``BlockedSender`` resources (Check + Create,
  Read, Check + Diff + Update, Delete each; 8 calls in flight, the provider serving 4 at a time; the Reads of
  the refresh come from 4 threads, as the engine sends them) and for one ``BlockedSenderSet`` of N entries;
* the wall time of each phase, and its projected time under Cloudflare's default budget of 1,200 requests
  per 5 minutes (calls / 1200 x 300 s, plus the wall time);
* the calls of a single-resource refresh against N (a collection of N entries, N resources Read);
* the goals, each as a PASS or MISS line: a set of 5,000 entries in at most 5 write calls and 5 list calls
  per step (a create 5 more: the listing after writing that catches another writer's duplicates); 10 changed
  entries of a set in one batch call; a single-resource refresh of 2,000 entries in at most 4 calls.

The provider runs with an unlimited rate budget, so that wall times are its own; only the projection uses
the default budget. It prints figures and never fails on a missed goal: machines are noisy, and a goal
missed is a figure to read.

    python bench/scale.py [--entries N] [--goal-entries N]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' gRPC driver and registration

from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.emulator.routes import ROUTE
from pulumi_cloudflare_email_security.registry import RESOURCES, SET_RESOURCES
from tests.protocol import ProviderProcess, provider_env
from tests.registration import register
from tests.samples import numbered_inputs

ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
TYPE = "BlockedSender"
SET = "BlockedSenderSet"
COLLECTION = "block_senders"
TOKEN_PREFIX = "pulumi-python:dynamic/cloudflare-email-security:"
BUDGET = (1200, 300.0)  # Cloudflare's default: requests per seconds
WRITE_KINDS = ("post", "patch", "put", "delete", "batch")
READ_KINDS = ("list", "get")
CHANGED = 10
REFRESH_SIZES = (1, 2, 10, 100, 1000, 2000, 5000)


class CallCounter:
    """Wraps the emulator router's ``handle`` and counts each request by kind (list, get, post, batch...)."""

    def __init__(self, server: EmulatorServer) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        router = server.router
        handle = router.handle

        def counting(method: str, path: str, *args: Any) -> Any:
            with self._lock:
                self.counts[kind_of(method, path)] += 1
            return handle(method, path, *args)

        router.handle = counting  # type: ignore[method-assign]

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)


def kind_of(method: str, path: str) -> str:
    route = ROUTE.search(path)
    method = method.upper()
    if route is None:
        return "other"
    if route["item"] is None:
        return {"GET": "list", "POST": "post"}.get(method, method.lower())
    if route["item"] == "batch":
        return "batch"
    return {"GET": "get"}.get(method, method.lower())


@dataclass
class Phase:
    """What one phase cost: its API calls by kind, and its wall time."""

    name: str
    calls: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def of(self, kinds: Iterable[str]) -> int:
        return sum(self.calls[k] for k in kinds)

    @property
    def projected(self) -> float:
        return self.total / BUDGET[0] * BUDGET[1] + self.wall


@contextmanager
def measured(counter: CallCounter, phase: Phase):
    before = counter.snapshot()
    started = time.perf_counter()
    yield phase
    phase.wall = time.perf_counter() - started
    phase.calls = counter.snapshot() - before


def in_parallel(calls: list[Callable[[], Any]], workers: int) -> list[Any]:
    """Run the calls on ``workers`` threads; the first failure stops the bench (its figures would mean nothing)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def registered_bag(class_name: str, resources: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    """The inputs a real registration of ``class_name`` sends the engine, ``__provider`` included."""
    name = f"bench-{class_name}"
    mocks = register(lambda: [resources[class_name](name, account_id=ACCOUNT_ID, **inputs).urn])
    return mocks.resources[name]


def provider_process(base_url: str, class_name: str) -> ProviderProcess:
    env = provider_env(
        base_url,
        CLOUDFLARE_API_TOKEN="bench-token",
        CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT="1000000/1",  # the provider's own speed; the budget is projected
        CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60",
        CLOUDFLARE_EMAIL_SECURITY_LOG_LEVEL="WARNING",
    )
    return ProviderProcess(env, type_token=TOKEN_PREFIX + class_name)


def changed_fields(n: int) -> dict[str, Any]:
    return {"comments": f"reviewed {n}"}


# --- N single resources ------------------------------------------------------------------------------


def single_phases(server: EmulatorServer, counter: CallCounter, entries: int) -> list[Phase]:
    bag = registered_bag(TYPE, RESOURCES, **numbered_inputs(TYPE, 0))
    declared = {n: {**bag, **numbered_inputs(TYPE, n)} for n in range(entries)}
    ids: dict[int, str] = {}
    outputs: dict[int, dict[str, Any]] = {}
    phases = [Phase(name) for name in ("create", "refresh", f"update {CHANGED}", "destroy")]
    with provider_process(server.base_url, TYPE) as provider:

        def create(n: int) -> None:
            checked = provider.check(f"s{n}", declared[n])
            assert checked.failures == [], checked.failures
            ids[n], outputs[n] = provider.create(f"s{n}", checked.inputs)

        with measured(counter, phases[0]):
            in_parallel([lambda n=n: create(n) for n in declared], 8)

        def read(n: int) -> None:
            read_id, outputs[n] = provider.read(f"s{n}", ids[n], outputs[n])
            assert read_id == ids[n]

        with measured(counter, phases[1]):
            in_parallel([lambda n=n: read(n) for n in declared], 4)

        def update(n: int) -> None:
            news = provider.check(f"s{n}", {**declared[n], **changed_fields(n)}, olds=declared[n]).inputs
            assert provider.diff(f"s{n}", ids[n], outputs[n], news).changes == "DIFF_SOME"
            outputs[n] = provider.update(f"s{n}", ids[n], outputs[n], news)

        with measured(counter, phases[2]):
            in_parallel([lambda n=n: update(n) for n in range(CHANGED)], 8)

        with measured(counter, phases[3]):
            in_parallel([lambda n=n: provider.delete(f"s{n}", ids[n], outputs[n]) for n in declared], 8)
    assert server.router.backend.entries(ACCOUNT_ID, COLLECTION) == []
    return phases


# --- one set of N entries ----------------------------------------------------------------------------


def set_phases(server: EmulatorServer, counter: CallCounter, entries: int, account_id: str = ACCOUNT_ID) -> list[Phase]:
    """Create, refresh, update of 10 entries and destroy of one set of ``entries`` entries, one gRPC step each."""
    bag = registered_bag(SET, SET_RESOURCES, entries=[numbered_inputs(TYPE, 0)])
    declared = [numbered_inputs(TYPE, n) for n in range(entries)]
    changed = [{**entry, **changed_fields(n)} if n < CHANGED else entry for n, entry in enumerate(declared)]
    news_of = {"entries": declared, "account_id": account_id}
    phases = [Phase(name) for name in ("create", "refresh", f"update {CHANGED}", "destroy")]
    with provider_process(server.base_url, SET) as provider:
        with measured(counter, phases[0]):
            checked = provider.check("set", {**bag, **news_of})
            assert checked.failures == [], checked.failures[:3]
            id_, outputs = provider.create("set", checked.inputs)
        assert outputs["count"] == entries

        with measured(counter, phases[1]):
            read_id, outputs = provider.read("set", id_, outputs)
        assert (read_id, outputs["count"]) == (id_, entries)

        with measured(counter, phases[2]):
            news = provider.check("set", {**bag, **news_of, "entries": changed}, olds={**bag, **news_of}).inputs
            assert provider.diff("set", id_, outputs, news).changes == "DIFF_SOME"
            outputs = provider.update("set", id_, outputs, news)

        with measured(counter, phases[3]):
            provider.delete("set", id_, outputs)
    assert server.router.backend.entries(account_id, COLLECTION) == []
    return phases


def refresh_against_n(server: EmulatorServer, counter: CallCounter, sizes: Iterable[int]) -> list[tuple[int, Phase]]:
    """The calls of refreshing N single resources in a collection of N entries (its own account each)."""
    bag = registered_bag(TYPE, RESOURCES, **numbered_inputs(TYPE, 0))
    backend = server.router.backend
    found = []
    with provider_process(server.base_url, TYPE) as provider:
        for size in sizes:
            account = f"{size:032x}"
            props = {}
            for n in range(size):
                inputs = numbered_inputs(TYPE, n)
                entry = backend.create(account, COLLECTION, inputs)
                props[str(entry["id"])] = {**bag, **inputs, "account_id": account}

            def read(id_: str, recorded: dict[str, Any]) -> None:
                assert provider.read("r", id_, recorded)[0] == id_

            phase = Phase(f"refresh {size}")
            with measured(counter, phase):
                in_parallel(
                    [lambda id_=id_, recorded=recorded: read(id_, recorded) for id_, recorded in props.items()], 4
                )
            found.append((size, phase))
            time.sleep(0.05)
    return found


# --- report ------------------------------------------------------------------------------------------


def seconds(value: float) -> str:
    return f"{value:8.1f} s" if value >= 10 else f"{value:8.2f} s"


def print_phases(entries: int, single: list[Phase] | None, sets: list[Phase] | None) -> None:
    """One line per phase: calls, calls per entry, wall and projected time of each side, and their ratio."""
    sides = [(label, phases) for label, phases in (("single", single), ("set", sets)) if phases]
    what = {"single": f"N single {TYPE} resources", "set": f"one {SET} of N entries"}
    print(f"\nN = {entries:,}: {' vs '.join(what[label] for label, _ in sides)}")
    header = f"  {'phase':<10}"
    for label, _ in sides:
        header += f" | {label + ' calls':>12} {'per entry':>9} {'wall':>10} {'projected':>10}"
    print(header + (f" | {'calls single/set':>16}" if len(sides) == 2 else ""))
    for index in range(4):
        count = CHANGED if index == 2 else entries
        line = f"  {sides[0][1][index].name:<10}"
        for _, phases in sides:
            phase = phases[index]
            line += (
                f" | {phase.total:>12} {phase.total / count:>9.3f} {seconds(phase.wall):>10} "
                f"{seconds(phase.projected):>10}"
            )
        if single and sets:
            ratio = single[index].total / sets[index].total if sets[index].total else float("nan")
            line += f" | {ratio:>15.1f}x" if ratio < 10 else f" | {ratio:>15.0f}x"
        print(line)
    print("  calls by kind:")
    for label, phases in sides:
        for phase in phases:
            detail = ", ".join(f"{k} {n}" for k, n in sorted(phase.calls.items()))
            print(f"    {label:<6} {phase.name:<10} {detail}")
    print(f"  per entry = calls / N ({CHANGED} changed entries for the update)")
    print(f"  projected = calls / {BUDGET[0]} x {BUDGET[1]:.0f} s + wall (Cloudflare's default rate budget)")


def print_refresh(rows: list[tuple[int, Phase]]) -> None:
    print("\nsingle-resource refresh against N (N resources Read from 4 threads, collection of N entries)")
    print(f"  {'N':>6} {'calls':>6} {'bound min(N, ceil(N/1000)+2)':>30} {'wall':>10}")
    for size, phase in rows:
        bound = min(size, -(-size // 1000) + 2)
        print(f"  {size:>6} {phase.total:>6} {bound:>30} {seconds(phase.wall):>10}")


def goal(met: bool, text: str) -> None:
    print(f"  {'PASS' if met else 'MISS'}  {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2000, help="N, entries per phase (default 2000)")
    parser.add_argument(
        "--goal-entries", type=int, default=5000, help="entries of the set the goals are measured on (default 5000)"
    )
    args = parser.parse_args(argv)
    if args.entries < CHANGED:
        parser.error(f"--entries must be at least {CHANGED}")

    sizes = sorted({s for s in REFRESH_SIZES if s <= max(args.entries, 2000)} | {args.entries})
    with EmulatorServer(host="127.0.0.1", port=0) as server:
        counter = CallCounter(server)
        single = single_phases(server, counter, args.entries)
        sets = set_phases(server, counter, args.entries)
        goal_set = set_phases(server, counter, args.goal_entries, account_id=f"{args.goal_entries:032x}")
        refresh_rows = refresh_against_n(server, counter, sizes)

    print_phases(args.entries, single, sets)
    print_phases(args.goal_entries, None, goal_set)
    print_refresh(refresh_rows)
    print("\ngoals")
    for phase in goal_set:
        writes, lists = phase.of(WRITE_KINDS), phase.calls["list"]
        # A create lists once more after writing, to catch another writer's entries of the same keys.
        relist = -(-args.goal_entries // 1000) if phase.name == "create" else 0
        goal(
            writes <= 5 and lists <= 5 + relist,
            f"a set of {args.goal_entries:,} entries, {phase.name}: at most 5 write calls and {5 + relist} list calls "
            f"({writes} write, {lists} list)",
        )
    for label, phase in ((f"{args.entries:,}", sets[2]), (f"{args.goal_entries:,}", goal_set[2])):
        goal(
            phase.calls["batch"] == 1 and phase.of(WRITE_KINDS) == 1,
            f"{CHANGED} changed entries of a set of {label} in one batch call "
            f"({phase.calls['batch']} batch, {phase.of(WRITE_KINDS)} writes in all)",
        )
    at_2000 = next((phase for size, phase in refresh_rows if size == 2000), None)
    if at_2000 is not None:
        goal(at_2000.total <= 4, f"single-resource refresh of 2,000 entries in at most 4 calls: {at_2000.total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
