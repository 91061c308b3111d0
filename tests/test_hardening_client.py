"""Client hardening (issue 8): credentials as secret files give them, secrets masked in every form, base URLs
checked before use, and retries that neither hammer the API nor outlive their deadline."""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from importlib.machinery import ModuleSpec
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from pulumi_cloudflare_email_security import credentials, tuning
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.credentials import Credentials
from pulumi_cloudflare_email_security.emulator import Fault, mock_cloudflare
from pulumi_cloudflare_email_security.envelope import scrub
from pulumi_cloudflare_email_security.errors import (
    CloudflareAPIError,
    ConfigurationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)

from .conftest import ACCOUNT_ID, CANARY
from .sockets import LoopbackServer
from .test_reliability import FakeTime

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")
OK = {"success": True, "errors": [], "messages": [], "result": []}


class Recorder:
    """An ``httpx.MockTransport`` handler that records requests and answers with ``answer``."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda request: httpx.Response(200, json=OK))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self, fake: FakeTime | None = None) -> CloudflareClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        if fake is None:
            return CloudflareClient(http, sleep=lambda s: None)
        return CloudflareClient(http, sleep=fake.sleep, clock=fake.clock, jitter=lambda: 1.0)


def answering(
    status: int, body: Any = None, *, text: str | None = None, headers: dict[str, str] | None = None
) -> Recorder:
    def answer(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return Recorder(answer)


def failure(message: str = "nope", code: object = 1000) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


# --- 1. credentials ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", [("", "\n"), ("", "\r\n"), ("  ", " \t\n"), ("\n", "")])
@pytest.mark.parametrize("source", ["env", "stack config"])
def test_credentials_lose_surrounding_whitespace(
    monkeypatch: pytest.MonkeyPatch, source: str, padding: tuple[str, str]
) -> None:
    padded = padding[0] + CANARY + padding[1]
    if source == "env":
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", padded)
    else:
        credentials.remember_stack_config({"cloudflare:apiToken": padded})
    recorder = Recorder()
    recorder.client().list_all(POLICIES)
    assert recorder.requests[0].headers["authorization"] == f"Bearer {CANARY}"


def test_email_and_key_lose_surrounding_whitespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL", " ops@corp.example\n")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", CANARY + "\n")
    recorder = Recorder()
    recorder.client().list_all(POLICIES)
    headers = recorder.requests[0].headers
    assert (headers["x-auth-email"], headers["x-auth-key"]) == ("ops@corp.example", CANARY)


def test_a_blank_token_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", " \n")
    credentials.remember_stack_config({"cloudflare-email-security:apiToken": "\n", "cloudflare:apiToken": CANARY})
    assert credentials.resolve_credentials() == Credentials(token=CANARY, source="stack config cloudflare:apiToken")


UNSENDABLE = {
    "inner space": f"{CANARY[:12]} {CANARY[12:]}",
    "two lines": f"{CANARY}\nsecond-line",
    "control character": f"{CANARY}\x1b[0m",
    "non-ASCII": f"{CANARY}é",
    "tab inside": f"{CANARY[:5]}\t{CANARY[5:]}",
}
SOURCES: dict[str, tuple[dict[str, str], dict[str, str], str]] = {
    # name: (environment, stack config, what the error must name); "{}" stands for the bad value
    "env token": ({"CLOUDFLARE_API_TOKEN": "{}"}, {}, "CLOUDFLARE_API_TOKEN"),
    "env key": ({"CLOUDFLARE_EMAIL": "a@b.example", "CLOUDFLARE_API_KEY": "{}"}, {}, "CLOUDFLARE_API_KEY"),
    "env email": ({"CLOUDFLARE_EMAIL": "{}", "CLOUDFLARE_API_KEY": CANARY}, {}, "CLOUDFLARE_EMAIL"),
    "config token": ({}, {"cloudflare:apiToken": "{}"}, "stack config cloudflare:apiToken"),
    "config key": (
        {},
        {"cloudflare-email-security:email": "a@b.example", "cloudflare-email-security:apiKey": "{}"},
        "stack config cloudflare-email-security:apiKey",
    ),
}


@pytest.mark.parametrize("bad", UNSENDABLE.values(), ids=UNSENDABLE.keys())
@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_an_unsendable_credential_is_a_configuration_error_before_any_request(
    monkeypatch: pytest.MonkeyPatch, source: tuple[dict[str, str], dict[str, str], str], bad: str
) -> None:
    environ, config, named = source
    for name, value in environ.items():
        monkeypatch.setenv(name, value.replace("{}", bad))
    credentials.remember_stack_config({k: v.replace("{}", bad) for k, v in config.items()})
    recorder = Recorder()
    with pytest.raises(ConfigurationError, match=f"^{named} cannot be sent") as raised:
        recorder.client().list_all(POLICIES)
    assert recorder.requests == []
    assert CANARY[:12] not in str(raised.value) and bad not in str(raised.value)


@pytest.mark.parametrize(
    "error",
    [
        httpx.LocalProtocolError("Illegal header value"),
        httpx.UnsupportedProtocol("Request URL has an unsupported protocol"),
        httpx.InvalidURL("Invalid non-printable ASCII character in URL"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_no_retry_can_change_are_raised_at_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise error

    recorder, fake = Recorder(refuse), FakeTime()
    with pytest.raises(ConfigurationError, match=f"Retrying cannot help.*|{type(error).__name__}") as raised:
        recorder.client(fake).create(POLICIES, {}, find_landed=lambda: pytest.fail("nothing was sent"))
    assert len(recorder.requests) == 1 and fake.sleeps == []
    assert "may have been created" not in str(raised.value)
    assert type(error).__name__ in str(raised.value) and "api.cloudflare.com" in str(raised.value)


def test_a_create_that_never_left_never_says_it_may_have_been_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    recorder, fake = Recorder(refuse), FakeTime()
    with pytest.raises(TransportError, match="gave up after") as raised:
        recorder.client(fake).create(POLICIES, {}, find_landed=lambda: pytest.fail("nothing was sent"))
    assert not raised.value.outcome_unknown and "may have been created" not in str(raised.value)
    assert len(recorder.requests) > 1  # a POST that never left is safe to send again


# --- 2. secrets never leave ----------------------------------------------------------------------------------

ODD_SECRET = 'odd/secret+"with\\escapes&=%' + CANARY


def forms_of(secret: str) -> dict[str, str]:
    """The ways a secret can be quoted back: as sent, escaped once or twice, URL-encoded."""
    return {
        "raw": secret,
        "repr": repr(secret)[1:-1],
        "json": json.dumps(secret)[1:-1],
        "json of json": json.dumps(json.dumps(secret))[1:-1],
        "repr of repr": repr(repr(secret))[1:-1],
        "url-encoded": quote(secret, safe=""),
        "url-encoded, lower case": quote(secret, safe="").replace("%2F", "%2f").replace("%2B", "%2b"),
        "form-encoded": quote_plus(secret),
        "json, slash escaped": json.dumps(secret)[1:-1].replace("/", "\\/"),
    }


@pytest.mark.parametrize("form", forms_of(ODD_SECRET).items(), ids=forms_of(ODD_SECRET).keys())
def test_scrub_masks_every_form_of_a_secret(form: tuple[str, str]) -> None:
    text = f"before {form[1]} after"
    quotes_escaped = {"before *** after", 'before \\"***\\" after', "before \\'***\\' after"}
    assert scrub(text, Credentials(token=ODD_SECRET)) in quotes_escaped


@pytest.mark.parametrize("short", ["t", "o", "abc", "Could"])
def test_very_short_values_do_not_garble_messages(short: str) -> None:
    text = "Could not reach the Cloudflare API (ConnectError: connection refused)"
    assert scrub(text, Credentials(token=short)) == text
    assert scrub(text, Credentials(email="a@b.example", api_key=short)) == text


def echo_in(where: str) -> Recorder:
    """A server that quotes the request's token back in ``where`` of a failed answer."""

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        if where == "code":
            return httpx.Response(400, json=failure("bad token", code=f"E{token}"))
        if where == "json-escaped message":
            return httpx.Response(400, json=failure(json.dumps(f"token {token}\n")))
        if where == "cf-ray":
            return httpx.Response(400, json=failure(), headers={"cf-ray": f"{token}-EWR"})
        if where == "url-encoded message":
            return httpx.Response(400, json=failure(f"url=https://x.example/?t={quote(token)}"))
        if where == "non-JSON body across the cut":
            return httpx.Response(502, text="x" * 190 + token + "y" * 100)
        raise AssertionError(where)

    return Recorder(answer)


@pytest.mark.parametrize(
    "where", ["code", "json-escaped message", "cf-ray", "url-encoded message", "non-JSON body across the cut"]
)
def test_an_echoed_token_never_reaches_the_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "0.01")
    logs = caplog.at_level(logging.DEBUG, logger="pulumi_cloudflare_email_security")
    with logs, pytest.raises(CloudflareAPIError) as raised:
        echo_in(where).client().get(POLICIES)
    error = raised.value
    shown = [str(error), repr(error), repr(error.errors), str(error.ray_id), *(r.getMessage() for r in caplog.records)]
    for text in shown:
        assert CANARY[:10] not in text, f"{where}: {text}"
    assert "***" in str(error)


def test_a_success_answer_quoting_the_token_is_kept_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    entry = {"id": "abc", "comments": f"set by {CANARY}", "tags": [f"{CANARY}"], CANARY: {"nested": quote(CANARY)}}
    recorder = answering(201, {"success": True, "errors": [], "messages": [], "result": entry})
    created = recorder.client().post(POLICIES, {})
    assert created == {"id": "abc", "comments": "set by ***", "tags": ["***"], "***": {"nested": "***"}}


def test_transport_error_messages_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)

    def quoting(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"peer said {request.headers['authorization']!r}", request=request)

    with pytest.raises(TransportError) as raised:
        Recorder(quoting).client().get(POLICIES)
    assert CANARY[:10] not in str(raised.value) and "Bearer ***" in str(raised.value)


# --- 3. base URL ---------------------------------------------------------------------------------------------

BAD_BASE_URLS = {
    "no scheme": ("api.cloudflare.com/client/v4", "did you mean 'https://api.cloudflare.com/client/v4'"),
    "host:port": ("127.0.0.1:9787/client/v4", "did you mean 'http://127.0.0.1:9787/client/v4'"),
    "file": ("file:///var/lib/state.json", "'file' is not supported"),
    "garbage": ("garbage", "no scheme"),
    "spaces": ("not a url", "cannot contain whitespace"),
    "embedded typo": ("embeded:./state.json", "did you mean 'embedded:./state.json'"),
    "scheme typo": ("htps://api.cloudflare.com/client/v4", "did you mean 'https://api.cloudflare.com/client/v4'"),
    "clear text": ("http://192.0.2.10/client/v4", "clear text"),
    "clear text with password": ("http://user:pw@192.0.2.10/client/v4", "'http://***@192.0.2.10/client/v4'"),
    "no host": ("https:///client/v4", "names no host"),
    "bad port": ("http://127.0.0.1:99999/client/v4", "not a valid URL"),
    "query": ("https://api.cloudflare.com/client/v4?debug=1", "cannot have a query"),
}


@pytest.mark.parametrize("source", ["CLOUDFLARE_BASE_URL", "stack config cloudflare-email-security:baseUrl"])
@pytest.mark.parametrize("case", BAD_BASE_URLS.values(), ids=BAD_BASE_URLS.keys())
def test_a_bad_base_url_is_a_configuration_error_naming_its_source(
    monkeypatch: pytest.MonkeyPatch, case: tuple[str, str], source: str
) -> None:
    url, hint = case
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    if source == "CLOUDFLARE_BASE_URL":
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", url)
    else:
        credentials.remember_stack_config({"cloudflare-email-security:baseUrl": url})
    recorder, fake = Recorder(), FakeTime()
    with pytest.raises(ConfigurationError) as raised:
        recorder.client(fake).list_all(POLICIES)
    message = str(raised.value)
    assert message.startswith(f"{source} is ") and hint in message and "\n" not in message
    assert recorder.requests == [] and fake.sleeps == [] and "pw@" not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://api.cloudflare.com/client/v4",
        "HTTPS://api.cloudflare.com/client/v4/",
        "http://127.0.0.1:9787/client/v4",
        "http://127.3.4.5/client/v4",
        "http://localhost:9787/client/v4",
        "http://[::1]:9787/client/v4",
        " https://api.cloudflare.com/client/v4\n",
    ],
)
def test_good_base_urls_are_used(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", url)
    recorder = Recorder()
    recorder.client().list_all(POLICIES)
    assert str(recorder.requests[0].url).lower().startswith(url.strip().rstrip("/").lower() + "/accounts/")


def test_embedded_base_urls_still_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"embedded:{tmp_path / 'state.json'}\n")
    assert CloudflareClient().list_all(POLICIES) == []


def test_transport_errors_name_the_base_url_in_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:9/client/v4")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransportError) as raised:
        Recorder(refuse).client().get(POLICIES)
    assert "at http://127.0.0.1:9/client/v4 (from CLOUDFLARE_BASE_URL)" in str(raised.value)


# --- 4. retries ----------------------------------------------------------------------------------------------


def rate_limited_then_ok(retry_after: str) -> Recorder:
    answers = iter([429, 429, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 429:
            return httpx.Response(429, json=failure("slow down", 10000), headers={"retry-after": retry_after})
        return httpx.Response(200, json=OK)

    return Recorder(answer)


@pytest.mark.parametrize("retry_after", ["0", "-3", email.utils.formatdate(time.time() - 3600, usegmt=True)])
def test_a_retry_after_of_zero_or_in_the_past_waits_the_backoff(
    monkeypatch: pytest.MonkeyPatch, retry_after: str
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY", "0.5")
    fake = FakeTime()
    rate_limited_then_ok(retry_after).client(fake).list_all(POLICIES)
    assert fake.sleeps == [0.5, 1.0]


def test_a_retry_after_longer_than_the_backoff_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "60")
    fake = FakeTime()
    rate_limited_then_ok("2").client(fake).list_all(POLICIES)
    assert fake.sleeps == [2.0, 2.0]


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "HTTP date"])
def test_a_retry_after_past_the_deadline_fails_at_once(monkeypatch: pytest.MonkeyPatch, as_date: bool) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "60")
    retry_after = email.utils.formatdate(time.time() + 600, usegmt=True) if as_date else "600"
    recorder, fake = rate_limited_then_ok(retry_after), FakeTime()
    with pytest.raises(RateLimitedError) as raised:
        recorder.client(fake).list_all(POLICIES)
    message = str(raised.value)
    assert fake.sleeps == [] and len(recorder.requests) == 1
    asked = re.search(r"the server asked to wait (\d+)s before trying again \(Retry-After\)", message)
    assert asked and 590 <= int(asked[1]) <= 600 and "retry deadline of 60s" in message
    assert (
        "raise CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE or stack config cloudflare-email-security:retryDeadline"
        in message
    )


def test_a_long_retry_warns_once_saying_what_and_why(
    cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "60")
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY", "1")
    monkeypatch.setattr(tuning, "_under_pulumi", lambda: False)
    cloudflare.faults.add(Fault("503"))
    fake = FakeTime()
    logs = caplog.at_level(logging.WARNING, logger="pulumi_cloudflare_email_security")
    with logs, pytest.raises(ServerError, match="gave up after"):
        CloudflareClient(sleep=fake.sleep, clock=fake.clock, jitter=lambda: 1.0).list_all(POLICIES)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"GET {POLICIES}: still retrying after 7s, next try in 8.0s")
    assert "HTTP 503" in warnings[0] and "CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE" in warnings[0]
    assert CANARY not in warnings[0]


def test_quick_retries_do_not_warn(cloudflare: mock_cloudflare, caplog: pytest.LogCaptureFixture) -> None:
    cloudflare.faults.add(Fault("503", count=3))
    with caplog.at_level(logging.WARNING, logger="pulumi_cloudflare_email_security"):
        CloudflareClient(sleep=FakeTime().sleep, clock=FakeTime().clock).list_all(POLICIES)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_warnings_go_to_the_pulumi_engine_in_the_provider_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: said.append(message))
    provider_main = types.ModuleType("__main__")
    provider_main.__spec__ = ModuleSpec("pulumi.dynamic.__main__", None)
    monkeypatch.setitem(sys.modules, "__main__", provider_main)
    tuning.warn("still retrying")
    assert said == ["still retrying"]


class TricklingServer(LoopbackServer):
    """An HTTP server on 127.0.0.1 that answers one byte at a time, ``gap`` seconds apart, for ever:
    from the status line on (``phase="headers"``), or after complete headers (``phase="body"``).
    ``first``, when given, is the whole answer on the first connection, which is then closed. ``heads`` holds
    each request's head as received; ``hung_up`` is set when a client closes a connection while it trickles."""

    def __init__(self, phase: str, gap: float = 0.2, *, first: bytes | None = None) -> None:
        super().__init__()
        self.phase, self.gap, self.first = phase, gap, first
        self.hung_up = threading.Event()
        self.heads: list[bytes] = []

    def serve(self, connection: socket.socket) -> None:
        self._trickle(connection)

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(0.5)
            try:
                received = b""
                while b"\r\n\r\n" not in received:
                    received += connection.recv(65536)
                self.heads.append(received)
                if self.first is not None and self.connections == 1:
                    connection.sendall(self.first)
                    return
                if self.phase == "body":
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n")
                    endless: Iterator[bytes] = iter(lambda: b" ", None)
                else:
                    endless = iter([b"H", b"T", b"T", b"P", b"/", b"1", b".", b"1", b" ", b"2", b"0", b"0"])
                    endless = (b for part in (endless, iter(lambda: b"x", None)) for b in part)
                for byte in endless:
                    if self.stopping.wait(self.gap):
                        return
                    try:
                        connection.sendall(byte)
                    except OSError:
                        self.hung_up.set()  # the client gave up and closed the connection
                        return
            except OSError:
                return


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_answer_is_cut_at_the_deadline(monkeypatch: pytest.MonkeyPatch, phase: str) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "1")
    with TricklingServer(phase) as server:
        base_url = server.base_url
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
        started = time.monotonic()
        with pytest.raises(TransportError) as raised:
            CloudflareClient().get(POLICIES)
        took = time.monotonic() - started
    assert 0.9 <= took < 2.0, took
    assert "sent no complete answer within the retry deadline of 1s" in str(raised.value)
    assert base_url in str(raised.value) and raised.value.deadline_passed


def test_a_retry_cut_off_at_the_deadline_reports_the_answer_that_caused_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "1")
    body = json.dumps(failure("overloaded", 10001)).encode()
    head = f"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    with TricklingServer("body", first=head.encode() + body) as server:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", server.base_url)
        with pytest.raises(ServerError) as raised:
            CloudflareClient().get(POLICIES)
    message = str(raised.value)
    assert message.startswith("Cloudflare API server error: [10001] overloaded") and "HTTP 503" in message
    assert "gave up after 2 tries" in message and "the last try got no complete answer before the deadline" in message


@pytest.mark.parametrize("suffix", ["", "/client", "/api"])
def test_a_base_url_missing_client_v4_is_a_configuration_error_not_a_missing_entry(
    monkeypatch: pytest.MonkeyPatch, emulator_server: Any, suffix: str
) -> None:
    # Were it a NotFoundError, a refresh would drop every entry from the state.
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{emulator_server.port}{suffix}")
    with pytest.raises(ConfigurationError, match="does not end in /client/v4; is that part missing"):
        CloudflareClient().get(settings_path(ACCOUNT_ID, "allow_policies", "some-id"))
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", emulator_server.base_url)
    with pytest.raises(NotFoundError):
        CloudflareClient().get(settings_path(ACCOUNT_ID, "allow_policies", "some-id"))
