"""The HTTP emulator's transport: one write per response, Nagle off, and API envelopes for every failure."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault, FaultPlan, Router
from pulumi_cloudflare_email_security.emulator import server as server_module

from .conftest import ACCOUNT_ID

LIST_PATH = f"/client/v4/accounts/{ACCOUNT_ID}/email-security/settings/allow_policies"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as running:
        yield running


@pytest.fixture
def raw(server: EmulatorServer) -> Iterator[socket.socket]:
    """A plain TCP connection to the server, to see exactly what arrives in each read."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        yield sock


def request(path: str = LIST_PATH, method: str = "GET", extra: str = "", body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: emulator\r\nAuthorization: Bearer test\r\n{extra}\r\n"
    return head.encode() + body


def split_response(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and body of one complete response; fails if it is incomplete."""
    head, separator, body = data.partition(b"\r\n\r\n")
    assert separator, f"the headers are incomplete: {data!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    assert len(body) == int(headers["content-length"]), f"the body is incomplete: {data!r}"
    return int(status_line.split()[1]), headers, body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one whole response, however many reads it takes (and no further)."""
    data = b""
    while (chunk := sock.recv(65536)) and not complete(data := data + chunk):
        pass
    return split_response(data)


def complete(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    return bool(separator and lengths) and len(body) >= int(lengths[0])


def envelope(body: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(body)
    assert decoded["success"] is False and decoded["messages"] == [] and decoded["result"] is None
    return decoded


def test_each_keep_alive_response_arrives_whole_in_one_read(raw: socket.socket) -> None:
    # Split into a header write and a body write, the second and later responses on a connection are held
    # back by Nagle's algorithm until the client's delayed ACK, and a read returns the headers alone.
    for _ in range(3):
        raw.sendall(request())
        status, headers, body = split_response(raw.recv(65536))
        assert status == 200 and headers.get("connection") != "close"
        assert json.loads(body)["result"] == []


def test_accepted_connections_have_nagle_off(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    setup = server_module._Handler.setup

    def recording_setup(handler: Any) -> None:
        setup(handler)
        seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(server_module._Handler, "setup", recording_setup)
    assert httpx.get(server.base_url.replace("/client/v4", "") + LIST_PATH, headers={"Authorization": "Bearer t"})
    assert seen and all(seen)


def test_an_unexpected_router_error_is_a_500_envelope_and_the_connection_stays_usable(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("the router broke")

    origin = server.base_url.replace("/client/v4", "")
    with httpx.Client(base_url=origin, headers={"Authorization": "Bearer t"}) as client:
        monkeypatch.setattr(server.router, "handle", broken)
        failed = client.get(LIST_PATH)
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/json"
        assert envelope(failed.content)["errors"] == [
            {"code": 10001, "message": "Internal emulator error: RuntimeError"}
        ]
        monkeypatch.undo()
        assert client.get(LIST_PATH).json()["success"] is True
    assert "RuntimeError: the router broke" in capsys.readouterr().err


def test_a_client_that_goes_away_prints_no_traceback(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def gone(*args: object) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(server.router, "handle", gone)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request())
        read_response(sock)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra",
    ["Content-Length: abc\r\n", "Content-Length: -5\r\n", "Content-Length: 2\r\nContent-Length: 3\r\n"],
    ids=["not-a-number", "negative", "conflicting"],
)
def test_a_malformed_content_length_is_a_400_envelope_and_closes(raw: socket.socket, extra: str) -> None:
    raw.sendall(request(method="POST", extra=extra, body=b"{}"))
    status, headers, body = read_response(raw)
    assert status == 400 and headers["connection"] == "close"
    assert envelope(body)["errors"] == [{"code": 1001, "message": "Content-Length: is not a valid length"}]
    assert raw.recv(65536) == b""  # closed cleanly: FIN, not a reset


def test_a_chunked_body_is_refused_with_an_envelope_and_closes(raw: socket.socket) -> None:
    raw.sendall(request(method="POST", extra="Transfer-Encoding: chunked\r\n", body=b"2\r\n{}\r\n0\r\n\r\n"))
    status, headers, body = read_response(raw)
    assert status == 411 and headers["connection"] == "close"
    assert "send a Content-Length" in envelope(body)["errors"][0]["message"]
    assert raw.recv(65536) == b""


def test_a_connection_that_stalls_mid_request_is_closed(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module._Handler, "timeout", 0.2)
    with socket.create_connection((server.host, server.port), timeout=5) as stalled:
        stalled.sendall(request(method="POST", extra="Content-Length: 100\r\n", body=b"{"))
        status, headers, _ = read_response(stalled)
        assert status == 408 and headers["connection"] == "close"
        assert stalled.recv(65536) == b"", "the server kept the connection after giving up on it"


def test_requests_the_router_cannot_serve_get_json_envelopes(raw: socket.socket, server: EmulatorServer) -> None:
    raw.sendall(request(path="/elsewhere"))
    status, _, body = read_response(raw)
    assert status == 404 and envelope(body)["errors"][0]["code"] == 7003
    raw.sendall(request(method="OPTIONS"))  # the standard library's own refusal, reshaped
    status, headers, body = read_response(raw)
    assert status == 501 and headers["content-type"] == "application/json"
    assert envelope(body)["errors"][0]["code"] == 7001
    assert raw.recv(65536) == b""


def test_an_injected_reset_still_resets_the_connection() -> None:
    router = Router(faults=FaultPlan([Fault("reset_before")]))
    with EmulatorServer(router) as server, socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request())
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)
