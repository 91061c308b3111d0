"""The network client: its deadline on every socket, the proxies the environment names, a pool sized for every
request in flight, credentials put on by one ``httpx.Auth``, and no private attribute of a dependency."""

from __future__ import annotations

import ast
import base64
import contextlib
import importlib.util
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pulumi_cloudflare_email_security
from pulumi_cloudflare_email_security import set_write, transport
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.errors import ServerError, TransportError

from .conftest import ACCOUNT_ID, CANARY
from .sockets import LoopbackServer
from .test_hardening_client import TricklingServer

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
GENEROUS = 30.0
"""Seconds a request given a 1 s deadline may take before the test calls the deadline not in force: far more
than the deadline, far less than a trickling server takes to end on its own (never)."""


@pytest.fixture
def fresh_network_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No proxy from the machine's environment, and a network client made anew for this test's environment."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    transport.close_shared_clients()
    yield monkeypatch
    transport.close_shared_clients()


def give_up_within(seconds: float) -> BaseException:
    """What a GET of the allow policies ends with, run on a thread under a retry deadline of 1 s; the test fails,
    saying the deadline is not in force, when it has not ended ``seconds`` after it began."""
    ended: list[BaseException] = []

    def get() -> None:
        try:
            CloudflareClient().get(POLICIES)
        except BaseException as exc:
            ended.append(exc)

    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the request still waits {seconds:g}s after it began, its retry deadline 1s: that is not in force")
    assert ended, "the request to a trickling server got an answer"
    return ended[0]


def assert_cut_off(error: BaseException, server: TricklingServer) -> None:
    """``error`` is the client's own giving up at the retry deadline, on a server still sending."""
    assert isinstance(error, TransportError), repr(error)
    assert error.deadline_passed and "sent no complete answer within the retry deadline of 1s" in str(error)
    # The client hung up, not the server: it was still sending when the client closed the connection.
    assert server.hung_up.wait(GENEROUS)


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_server_meets_the_deadline_error_or_the_test_says_the_deadline_is_off(
    fresh_network_client: pytest.MonkeyPatch, phase: str
) -> None:
    fresh_network_client.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "1")
    with TricklingServer(phase) as server:
        fresh_network_client.setenv("CLOUDFLARE_BASE_URL", server.base_url)
        error = give_up_within(GENEROUS)
        assert_cut_off(error, server)


def test_a_proxy_from_the_environment_carries_plain_http_and_meets_the_deadline(
    fresh_network_client: pytest.MonkeyPatch,
) -> None:
    fresh_network_client.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "1")
    target = "http://127.0.0.1:9/client/v4"  # nothing listens there: only the proxy can answer
    with TricklingServer("headers") as proxy:
        fresh_network_client.setenv("HTTP_PROXY", f"127.0.0.1:{proxy.listener.getsockname()[1]}")
        fresh_network_client.setenv("CLOUDFLARE_BASE_URL", target)
        error = give_up_within(GENEROUS)
        assert_cut_off(error, proxy)
    assert proxy.heads[0].startswith(f"GET {target}{POLICIES} HTTP/1.1\r\n".encode())


def test_a_proxy_from_the_environment_tunnels_https_and_meets_the_deadline(
    fresh_network_client: pytest.MonkeyPatch,
) -> None:
    fresh_network_client.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "1")
    with TricklingServer("headers") as proxy:
        fresh_network_client.setenv("https_proxy", f"http://127.0.0.1:{proxy.listener.getsockname()[1]}")
        error = give_up_within(GENEROUS)  # to the default base URL, Cloudflare's, through the proxy
        assert_cut_off(error, proxy)
    assert proxy.heads[0].startswith(b"CONNECT api.cloudflare.com:443 HTTP/1.1\r\n")


@pytest.mark.parametrize("exempt", ["127.0.0.1", "*"])
def test_no_proxy_exempts_its_hosts(
    fresh_network_client: pytest.MonkeyPatch, emulator_server: Any, exempt: str
) -> None:
    with TricklingServer("headers") as proxy:
        fresh_network_client.setenv("ALL_PROXY", f"http://127.0.0.1:{proxy.listener.getsockname()[1]}")
        fresh_network_client.setenv("NO_PROXY", f"corp.example, {exempt}")
        fresh_network_client.setenv("CLOUDFLARE_BASE_URL", emulator_server.base_url)
        CloudflareClient().list_all(POLICIES)
    assert proxy.connections == 0


@pytest.mark.parametrize(
    ("entry", "pattern"),
    [
        ("corp.example", "all://*corp.example"),
        (".corp.example", "all://*.corp.example"),
        ("localhost", "all://localhost"),
        ("192.0.2.7", "all://192.0.2.7"),
        ("::1", "all://[::1]"),
        ("https://corp.example", "https://corp.example"),
    ],
)
def test_no_proxy_entries_become_the_mounts_httpx_makes_of_them(
    fresh_network_client: pytest.MonkeyPatch, entry: str, pattern: str
) -> None:
    fresh_network_client.setenv("HTTPS_PROXY", "proxy.corp.example:3128")
    fresh_network_client.setenv("NO_PROXY", entry)
    assert transport.environment_proxies() == {"https://": "http://proxy.corp.example:3128", pattern: None}


class HeldServer(LoopbackServer):
    """An HTTP server on 127.0.0.1 that holds every request until ``wanted`` are open at once (or ``patience``
    seconds have passed), then answers each with an empty result; ``most`` is the most it held at once."""

    def __init__(self, wanted: int, patience: float = 10.0) -> None:
        super().__init__(backlog=wanted * 2)
        self.all_in = threading.Barrier(wanted, timeout=patience)
        self.lock = threading.Lock()
        self.open = self.most = 0

    def __exit__(self, *exc: object) -> None:
        self.all_in.abort()
        super().__exit__(*exc)

    def serve(self, connection: socket.socket) -> None:
        self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        body = json.dumps({"success": True, "errors": [], "messages": [], "result": {"id": "x"}}).encode()
        with connection:
            connection.settimeout(5)
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                received += chunk
            with self.lock:
                self.open += 1
                self.most = max(self.most, self.open)
            with contextlib.suppress(threading.BrokenBarrierError):  # not all came at once: ``most`` tells
                self.all_in.wait()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            connection.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
            with self.lock:
                self.open -= 1


def test_the_pool_holds_every_request_the_engine_threads_can_have_in_flight_at_once(
    fresh_network_client: pytest.MonkeyPatch,
) -> None:
    # Each of the engine's threads may run a set write whose single calls run SINGLE_CALL_WORKERS at once.
    assert transport.MAX_CONNECTIONS == transport.ENGINE_THREADS * set_write.SINGLE_CALL_WORKERS
    in_flight = transport.ENGINE_THREADS * set_write.SINGLE_CALL_WORKERS
    fresh_network_client.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "60")
    failures: list[BaseException] = []

    def get() -> None:
        try:
            CloudflareClient().get(POLICIES)
        except BaseException as exc:
            failures.append(exc)

    with HeldServer(in_flight) as server:
        fresh_network_client.setenv("CLOUDFLARE_BASE_URL", server.base_url)
        threads = [threading.Thread(target=get) for _ in range(in_flight)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert server.most == in_flight, f"only {server.most} of {in_flight} requests got a connection at once"


def test_the_engine_threads_are_the_pulumi_sdk_s() -> None:
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")  # read, not imported: importing it serves
    assert spec is not None and spec.origin is not None
    server = Path(spec.origin).read_text()
    assert f"futures.ThreadPoolExecutor(max_workers={transport.ENGINE_THREADS})" in server


def answered_by(handler: Any) -> CloudflareClient:
    return CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler)))


def test_credentials_are_resolved_at_each_try_and_masked_as_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "first" + CANARY)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", f"rotated{len(sent)}" + CANARY)
        echo = {"code": 10001, "message": f"overloaded for {request.headers['authorization']}"}
        return httpx.Response(503, json={"success": False, "errors": [echo], "messages": [], "result": None})

    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "0.05")
    with pytest.raises(ServerError) as raised:
        answered_by(handler).get(POLICIES)
    assert sent[:2] == [f"Bearer first{CANARY}", f"Bearer rotated1{CANARY}"]
    assert CANARY not in str(raised.value) and "overloaded for Bearer ***" in str(raised.value)


def test_a_base_url_with_a_user_sends_basic_authentication_as_httpx_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "ops@corp.example")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", CANARY)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://gateway:opensesame@127.0.0.1:1/client/v4")
    sent: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers)
        return httpx.Response(200, json={"success": True, "errors": [], "messages": [], "result": {"id": "x"}})

    answered_by(handler).get(POLICIES)
    assert sent[0]["authorization"] == "Basic " + base64.b64encode(b"gateway:opensesame").decode()
    assert (sent[0]["x-auth-email"], sent[0]["x-auth-key"]) == ("ops@corp.example", CANARY)


def private_attributes_read(tree: ast.AST) -> Iterator[tuple[str, int, str]]:
    """Every ``x._name`` (``x`` not ``self`` or ``cls``) and ``getattr(x, "_name", …)`` in ``tree``: the name,
    the line and the code."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                yield node.attr, node.lineno, ast.unparse(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr"):
            named = node.args[1] if len(node.args) > 1 else None
            if isinstance(named, ast.Constant) and isinstance(named.value, str) and private(named.value):
                yield named.value, node.lineno, ast.unparse(node)


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_the_package_reads_no_private_attribute_of_a_dependency() -> None:
    package = Path(pulumi_cloudflare_email_security.__file__).parent
    trees = {path: ast.parse(path.read_text()) for path in sorted(package.rglob("*.py"))}
    # A private name the package itself puts on an object (a marker on the log handler it adds) is its own.
    own = {
        target.attr
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and not (isinstance(target.value, ast.Name) and target.value.id == "self")
    }
    reached = [
        f"{path.relative_to(package)}:{line}: {code}"
        for path, tree in trees.items()
        for name, line, code in private_attributes_read(tree)
        if name not in own
    ]
    assert reached == []
