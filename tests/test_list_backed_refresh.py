"""A refresh lists a collection once instead of a GET per resource (issue 10.4), over gRPC as ``pulumi refresh``
drives ``python -m pulumi.dynamic``: four worker threads, one provider process for several refreshes."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import pytest

from pulumi_cloudflare_email_security.client import CloudflareClient
from pulumi_cloudflare_email_security.emulator import EmulatorServer, mock_cloudflare
from pulumi_cloudflare_email_security.emulator.routes import ROUTE, EmulatorResponse, Router
from pulumi_cloudflare_email_security.read_cache import IDLE_SECONDS, RefreshRounds
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

from .conftest import ACCOUNT_ID
from .protocol import ProviderProcess
from .samples import API_EDITS, CHANGED_INPUTS, OUT_OF_BAND_EDIT, numbered_body, numbered_inputs

RESOURCES = 30
"""How many single resources of one type each refresh reads."""
PAGE = 1000
"""The most entries a listing page holds."""

T = TypeVar("T")


class CountingRouter(Router):
    """The emulator, noting the method, collection and entry id of every request it answers."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: list[tuple[str, str | None, str | None]] = []
        self._seen_lock = threading.Lock()

    def handle(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> EmulatorResponse:
        route = ROUTE.search(path)
        collection, item = (route["collection"], route["item"]) if route else (None, None)
        with self._seen_lock:
            self._seen.append((method.upper(), collection, item))
        return super().handle(method, path, query, headers, body)

    def calls(self, collection: str) -> list[tuple[str, str | None]]:
        """The requests made of ``collection`` since the last :meth:`forget`: method and entry id (``None``
        for the collection itself, i.e. a listing page)."""
        with self._seen_lock:
            return [(method, item) for method, seen, item in self._seen if seen == collection]

    def forget(self) -> None:
        """Start counting afresh."""
        with self._seen_lock:
            self._seen.clear()


@pytest.fixture(scope="module")
def _module_server() -> Iterator[EmulatorServer]:
    """The module's HTTP emulator (behind conftest's ``emulator_server`` and ``provider``) counts requests."""
    with EmulatorServer(CountingRouter()) as server:
        yield server


def counter(server: EmulatorServer) -> CountingRouter:
    router = server.router
    assert isinstance(router, CountingRouter)
    return router


def four_threads(calls: Iterable[Callable[[], T]]) -> list[T]:
    """Run ``calls`` as the Pulumi engine does: concurrently, four at a time."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda call: call(), list(calls)))


def create_resources(
    provider: ProviderProcess, registered: dict[str, dict[str, Any]], name: str
) -> dict[str, dict[str, Any]]:
    """Create :data:`RESOURCES` resources through the provider (the sample's inputs first): outputs by id."""
    declared = [registered[name]] + [{**registered[name], **numbered_inputs(name, n)} for n in range(RESOURCES - 1)]

    def create(news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        checked = provider.check(name, news)
        assert checked.failures == []
        return provider.create(name, checked.inputs)

    return dict(four_threads(partial(create, news) for news in declared))


def seed(server: EmulatorServer, collection: str, count: int) -> int:
    """Add ``count`` entries that no resource declares; the collection's size after."""
    backend = server.router.backend
    for n in range(count):
        backend.seed(ACCOUNT_ID, collection, numbered_body(collection, n))
    return len(backend.entries(ACCOUNT_ID, collection))


def refresh(
    provider: ProviderProcess, name: str, resources: Mapping[str, dict[str, Any]]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Read every resource, four at a time, as ``pulumi refresh`` does: what each Read answered, by id."""
    answers = four_threads(partial(provider.read, name, id_, outs) for id_, outs in resources.items())
    return dict(zip(resources, answers, strict=True))


def declared_outputs(name: str, outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: outs.get(k) for k in SETTINGS_TYPES[name].outputs}


@pytest.mark.parametrize("unmanaged", [970, 1000], ids=["1000-entries", "1030-entries"])
def test_a_refresh_lists_the_collection_once_instead_of_a_get_per_resource(
    settings_type_name: str,
    unmanaged: int,
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
    registered: dict[str, dict[str, Any]],
) -> None:
    name, collection = settings_type_name, SETTINGS_TYPES[settings_type_name].collection
    resources = create_resources(provider, registered, name)
    size = seed(emulator_server, collection, unmanaged)
    counter(emulator_server).forget()

    answers = refresh(provider, name, resources)

    for id_, (read_id, outs) in answers.items():
        assert read_id == id_
        assert declared_outputs(name, outs) == declared_outputs(name, resources[id_])
    calls = counter(emulator_server).calls(collection)
    assert len(calls) <= min(RESOURCES, math.ceil(size / PAGE) + 2), calls
    assert ("GET", None) in calls, "the collection was listed"


def test_a_second_refresh_sees_what_changed_in_between(
    settings_type_name: str,
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
    registered: dict[str, dict[str, Any]],
) -> None:
    name, collection = settings_type_name, SETTINGS_TYPES[settings_type_name].collection
    resources = create_resources(provider, registered, name)
    size = seed(emulator_server, collection, PAGE)
    first = refresh(provider, name, resources)
    assert all(read_id == id_ for id_, (read_id, _) in first.items())

    # Between the two refreshes, someone else edits one entry and deletes another.
    edited, deleted, *others = resources
    backend = emulator_server.router.backend
    backend.edit(ACCOUNT_ID, collection, edited, OUT_OF_BAND_EDIT[name])
    backend.delete(ACCOUNT_ID, collection, deleted)
    counter(emulator_server).forget()

    # The second refresh reads the untouched ones first, so that the changed ones come from its listing.
    second = refresh(provider, name, {id_: first[id_][1] for id_ in others})
    assert all(read_id == id_ for id_, (read_id, _) in second.items())
    edited_id, edited_outs = provider.read(name, edited, first[edited][1])
    assert edited_id == edited
    assert {k: edited_outs[k] for k in OUT_OF_BAND_EDIT[name]} == OUT_OF_BAND_EDIT[name]
    gone_id, gone = provider.read(name, deleted, first[deleted][1])
    assert gone_id == "" and set(gone) <= {"__provider"}

    calls = counter(emulator_server).calls(collection)
    assert calls.count(("GET", deleted)) == 1, "a GET confirmed the entry the listing lacked was gone"
    assert len(calls) <= math.ceil(size / PAGE) + 2 + 1, calls


def test_what_the_provider_writes_is_what_a_later_read_answers(
    settings_type_name: str,
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
    registered: dict[str, dict[str, Any]],
) -> None:
    name, collection = settings_type_name, SETTINGS_TYPES[settings_type_name].collection
    resources = create_resources(provider, registered, name)
    sample, removed, *others = resources  # neither is read before the writes, so the listing holds both
    counter(emulator_server).forget()
    answers = refresh(provider, name, {id_: resources[id_] for id_ in others})
    assert all(read_id == id_ for id_, (read_id, _) in answers.items())
    assert ("GET", None) in counter(emulator_server).calls(collection), "the collection was listed"

    news = {**registered[name], **CHANGED_INPUTS[name]}
    changed = provider.check(name, news, olds=registered[name])
    assert changed.failures == []
    updated = provider.update(name, sample, resources[sample], changed.inputs)
    read_id, outs = provider.read(name, sample, updated)
    assert read_id == sample
    assert {k: outs[k] for k in CHANGED_INPUTS[name]} == CHANGED_INPUTS[name]

    provider.delete(name, removed, resources[removed])
    assert provider.read(name, removed, resources[removed])[0] == ""


def test_a_round_ends_when_reads_pause(settings_type_name: str, cloudflare: mock_cloudflare) -> None:
    """After a pause, a new round lists again: an entry changed during the pause is read as it is now."""
    collection = SETTINGS_TYPES[settings_type_name].collection
    now = [0.0]
    rounds, client = RefreshRounds(clock=lambda: now[0]), CloudflareClient()
    first, second, third = (
        cloudflare.backend.create(ACCOUNT_ID, collection, numbered_body(collection, n))["id"] for n in range(3)
    )
    for entry_id in (first, second):  # a GET, then the listing
        assert rounds.read(client, ACCOUNT_ID, collection, entry_id)["id"] == entry_id
    cloudflare.backend.edit(ACCOUNT_ID, collection, third, API_EDITS[collection])

    now[0] += IDLE_SECONDS + 1
    cloudflare.requests.clear()
    entry = rounds.read(client, ACCOUNT_ID, collection, third)
    assert {k: entry[k] for k in API_EDITS[collection]} == API_EDITS[collection]
    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in cloudflare.requests] == [("GET", third)]
