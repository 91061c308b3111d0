"""A listing always ends (issue 14.7): against an API that ignores ``page``, sends no ``total_count`` or
repeats entries, the client stops with a malformed-answer error naming the URL, instead of paging for ever.

In process against ``httpx.MockTransport`` APIs that page in every wrong way; then through a real ``cfes
list`` and a real provider process (a set's Read over gRPC), against a small HTTP server that ignores
``page``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import pytest

from pulumi_cloudflare_email_security import client as client_module
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.errors import ServerError
from pulumi_cloudflare_email_security.registry import SET_PROVIDERS

from .canned import Answer, CannedServer
from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, provider_env
from .test_export import cfes, cloudflare_env

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")
PUBLIC_API = "https://api.cloudflare.com/client/v4"
SAFETY_STOP = 60
"""Requests after which the fake APIs below stop answering: a client that never stops fails the test
instead of filling the machine's memory."""

Pages = Callable[[int, int], list[dict[str, Any]]]
"""What a fake API answers for ``(page, per_page)``."""


class FakeApi:
    """An API answering lists as ``pages`` says, with ``total_count`` when ``total`` is given."""

    def __init__(self, pages: Pages, total: int | None = None) -> None:
        self.pages = pages
        self.total = total
        self.asked: list[int] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert len(self.asked) < SAFETY_STOP, "the client keeps paging"
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        self.asked.append(page)
        entries = self.pages(page, per_page)
        info: dict[str, Any] = {"page": page, "per_page": per_page, "count": len(entries)}
        if self.total is not None:
            info["total_count"] = self.total
        body = {"success": True, "errors": [], "messages": [], "result": entries, "result_info": info}
        return httpx.Response(200, json=body)

    def client(self) -> CloudflareClient:
        return CloudflareClient(httpx.Client(transport=httpx.MockTransport(self.handle)))


def numbered(first: int, count: int) -> list[dict[str, Any]]:
    return [{"id": f"entry-{n}", "pattern": f"n{n}.example"} for n in range(first, first + count)]


def honest(entries: list[dict[str, Any]], size: int | None = None) -> Pages:
    """A correct API over ``entries``, using ``size`` per page if given, else the page size asked for."""

    def pages(page: int, per_page: int) -> list[dict[str, Any]]:
        step = size or per_page
        return entries[(page - 1) * step : page * step]

    return pages


def read(api: FakeApi, per_page: int = 10) -> tuple[list[dict[str, Any]], ServerError | None]:
    """What a listing yields, and the error that ended it, if any."""
    got: list[dict[str, Any]] = []
    try:
        for entry in api.client().iter_list(POLICIES, per_page=per_page):
            got.append(entry)
    except ServerError as error:
        return got, error
    return got, None


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)


# --- in process ----------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [None, 5000], ids=["no total_count", "total_count"])
@pytest.mark.parametrize("size", [10, 25], ids=["per_page", "more than per_page"])
def test_a_server_that_ignores_page_is_a_malformed_answer_naming_the_url(total: int | None, size: int) -> None:
    api = FakeApi(lambda page, per_page: numbered(0, size), total)
    got, error = read(api)
    assert error is not None
    message = str(error)
    assert message.startswith("Cloudflare answered a list whose pages repeat: page 2 (per_page=10) from ")
    assert f"from {PUBLIC_API} holds only entries of earlier pages" in message
    assert "ignore the page parameter" in message and f"(GET {POLICIES})" in message
    assert api.asked == [1, 2]
    assert [e["id"] for e in got] == [f"entry-{n}" for n in range(size)]


@pytest.mark.parametrize("total", [None, 25], ids=["no total_count", "total_count"])
def test_overlapping_pages_give_each_entry_once_and_end(total: int | None) -> None:
    # An entry inserted at the front while the list is read shifts each later page by one.
    starts = {1: 0, 2: 9, 3: 18}
    api = FakeApi(lambda page, per_page: numbered(starts[page], min(10, 25 - starts[page])), total)
    got, error = read(api)
    assert error is None
    assert [e["id"] for e in got] == [f"entry-{n}" for n in range(25)]
    assert api.asked == [1, 2, 3]


@pytest.mark.parametrize("total", [None, 25], ids=["no total_count", "total_count"])
def test_entries_without_ids_are_not_taken_for_repeats(total: int | None) -> None:
    api = FakeApi(honest([{"pattern": "same.example"} for _ in range(25)]), total)
    got, error = read(api)
    assert error is None and len(got) == 25


@pytest.mark.parametrize("total", [None, 60], ids=["no total_count", "total_count"])
def test_pages_larger_than_asked_for_are_read_whole(total: int | None) -> None:
    api = FakeApi(honest(numbered(0, 60), size=25), total)
    got, error = read(api)
    assert error is None
    assert [e["id"] for e in got] == [f"entry-{n}" for n in range(60)]


def test_without_a_total_a_list_that_never_ends_stops_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # Entries without ids cannot be told apart: only the bound stops a server that ignores page then.
    monkeypatch.setattr(client_module, "MAX_LIST_ENTRIES", 100)
    api = FakeApi(lambda page, per_page: [{"pattern": "same.example"}] * per_page)
    got, error = read(api)
    assert error is not None
    message = str(error)
    assert message.startswith("Cloudflare answered a list that does not end: 110 entries in 11 pages from ")
    assert "more pages than the 11 that 100 entries (the most a list is read for) take" in message
    assert PUBLIC_API in message and f"(GET {POLICIES})" in message
    assert len(api.asked) == 11 and len(got) == 110


def test_a_total_that_grows_page_by_page_does_not_keep_the_list_going() -> None:
    class GrowingTotal(FakeApi):
        """Fresh ids on every page, and a total_count always one page ahead: only the first total counts."""

        def handle(self, request: httpx.Request) -> httpx.Response:
            self.total = int(request.url.params["page"]) * int(request.url.params["per_page"]) + 1
            return super().handle(request)

    api = GrowingTotal(lambda page, per_page: numbered((page - 1) * per_page, per_page))
    got, error = read(api)
    assert error is None, "the list ends once the first total is reached"
    assert api.asked == [1, 2] and len(got) == 20


def test_pages_far_larger_than_asked_for_are_bounded_by_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_LIST_ENTRIES", 100)
    api = FakeApi(lambda page, per_page: numbered((page - 1) * 60, 60))  # 60 a page where 10 were asked for
    got, error = read(api)
    assert error is not None and "the most a list is read for" in str(error)
    assert len(api.asked) == 2 and len(got) == 120


def test_with_a_total_no_more_pages_than_it_takes_plus_one() -> None:
    # Every page brings one new entry and repeats nine: the total of 100 is reached only after 91 pages.
    api = FakeApi(lambda page, per_page: numbered(page - 1, per_page), total=100)
    got, error = read(api)
    assert error is not None
    message = str(error)
    assert message.startswith("Cloudflare answered a list that does not end: 20 entries in 11 pages from ")
    assert "more pages than the 11 that its first total_count of 100 takes at per_page=10, plus one" in message
    assert api.asked == list(range(1, 12))
    assert len({e["id"] for e in got}) == len(got) == 20


# --- a real server, a real cfes, a real provider -------------------------------------------------


def ignoring_page(_method: str, path: str) -> Answer:
    """An API that answers every list with the same full page, whatever ``page`` says, and no ``total_count``
    (a 500 after :data:`SAFETY_STOP` requests, so that a client that never stops still ends the test)."""
    per_page = int(parse_qs(urlsplit(path).query).get("per_page", ["20"])[0])
    entries = [{"id": f"entry-{n}", "pattern": f"https://n{n}.example/*"} for n in range(per_page)]
    return 200, {"success": True, "errors": [], "messages": [], "result": entries, "result_info": {}}


@pytest.fixture(scope="module")
def page_ignoring() -> Iterator[CannedServer]:
    def answer(method: str, path: str) -> Answer:
        if server.requests > SAFETY_STOP:
            return 500, {"success": False, "errors": [], "messages": [], "result": None}
        return ignoring_page(method, path)

    with CannedServer(answer) as server:
        yield server


def test_cfes_list_against_a_server_that_ignores_page_fails_in_one_line(page_ignoring: CannedServer) -> None:
    before = page_ignoring.requests
    env = cloudflare_env(page_ignoring.base_url)
    done = cfes("list", "url_ignore_patterns", "--account-id", ACCOUNT_ID, env=env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"cfes: error: cannot list url_ignore_patterns of account {ACCOUNT_ID}: ")
    assert "Cloudflare answered a list whose pages repeat: page 2 (per_page=1000)" in lines[0]
    assert page_ignoring.base_url in lines[0] and "Traceback" not in done.stderr and done.stdout == ""
    assert page_ignoring.requests - before == 2


SETS = sorted(SET_PROVIDERS)


@pytest.fixture(scope="module")
def set_provider(page_ignoring: CannedServer) -> Iterator[ProviderProcess]:
    with ProviderProcess(provider_env(page_ignoring.base_url, CLOUDFLARE_API_TOKEN=CANARY)) as process:
        yield process


@pytest.mark.parametrize("set_name", SETS)
def test_a_set_refresh_against_a_server_that_ignores_page_fails_over_grpc(
    set_name: str,
    set_registered: dict[str, dict[str, Any]],
    set_provider: ProviderProcess,
    page_ignoring: CannedServer,
) -> None:
    before = page_ignoring.requests
    outs = {**set_registered[set_name], "entries": [], "count": 0}
    with pytest.raises(grpc.RpcError) as raised:
        set_provider.read(f"sample-{set_name}", "set-id", outs)
    message = raised.value.details() or ""
    assert "Cloudflare answered a list whose pages repeat: page 2 (per_page=1000)" in message, message
    assert page_ignoring.base_url in message and CANARY not in message
    assert page_ignoring.requests - before == 2
