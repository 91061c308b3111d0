"""Client hardening (issue 8) as ``pulumi up`` meets it: through ``python -m pulumi.dynamic`` over gRPC."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, assert_no_canary, provider_env
from .test_hardening_client import TricklingServer

NAME = "AllowPolicy"
MISSING_ID = "0b8e6a8c-1111-4222-8333-944455556666"


def error_line(details: str) -> str:
    """The line of the gRPC details (what ``pulumi up`` shows) that names the error and gives its message."""
    return next(line for line in details.splitlines() if line.startswith("pulumi_cloudflare_email_security."))


@pytest.fixture
def faults_cleared(emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The module's emulator, with the faults a test adds removed afterwards."""
    yield emulator_server
    emulator_server.router.faults.clear()


@pytest.mark.parametrize("source", ["environment", "stack config"])
def test_a_token_read_from_a_file_with_its_newline_works_and_never_shows(
    source: str, emulator_server: EmulatorServer, registered: dict[str, dict[str, Any]]
) -> None:
    emulator_server.router.accepted_tokens = {CANARY}
    env = provider_env(emulator_server.base_url)
    if source == "environment":
        env["CLOUDFLARE_API_TOKEN"] = CANARY + "\n"
    with ProviderProcess(env) as process:
        if source == "stack config":
            process.configure({"cloudflare:apiToken": CANARY + "\r\n"})
        checked = process.check(NAME, registered[NAME])
        id_, outs = process.create(NAME, checked.inputs)
        assert process.read(NAME, id_, outs)[0] == id_
        process.delete(NAME, id_, outs)
    assert emulator_server.router.backend.entries(ACCOUNT_ID, "allow_policies") == []
    assert_no_canary(process, CANARY)


@pytest.mark.parametrize(
    ("source", "url", "hint"),
    [
        ("CLOUDFLARE_BASE_URL", "embeded:./emulator-state.json", "did you mean 'embedded:./emulator-state.json'?"),
        ("CLOUDFLARE_BASE_URL", "http://192.0.2.10/client/v4", "clear text"),
        (
            "stack config cloudflare-email-security:baseUrl",
            "api.cloudflare.com/client/v4",
            "did you mean 'https://api.cloudflare.com/client/v4'?",
        ),
    ],
)
def test_a_bad_base_url_is_an_immediate_one_line_error_naming_the_setting(
    source: str, url: str, hint: str, registered: dict[str, dict[str, Any]]
) -> None:
    env = provider_env(url, CLOUDFLARE_API_TOKEN=CANARY, CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60")
    if source != "CLOUDFLARE_BASE_URL":
        del env["CLOUDFLARE_BASE_URL"]
    with ProviderProcess(env) as process:
        if source != "CLOUDFLARE_BASE_URL":
            process.configure({"cloudflare-email-security:baseUrl": url})
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as raised:
            process.create(NAME, registered[NAME])  # Check fails the same way (see test_preview_checks.py)
        assert time.monotonic() - started < 5  # not retried until the 60 s deadline
    details = (raised.value.details() or "").strip()
    assert details.startswith(f"pulumi_cloudflare_email_security.errors.ConfigurationError: {source} is {url!r}: ")
    assert hint in details and "\n" not in details
    assert CANARY not in "".join(process.output) + details


def test_a_retry_after_of_zero_does_not_hammer_the_api(
    provider: ProviderProcess, faults_cleared: EmulatorServer, registered: dict[str, dict[str, Any]]
) -> None:
    plan = faults_cleared.router.faults
    plan.add(Fault("429", retry_after=0))
    checked = provider.check(NAME, registered[NAME])
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as raised:
        provider.read(NAME, MISSING_ID, checked.inputs)
    took = time.monotonic() - started
    assert "Cloudflare rate limit reached" in error_line(raised.value.details() or "")
    # With the suite's 3 s deadline and 0.01 s first backoff, doubling: a handful of tries, not hundreds.
    assert 2 <= plan.requests <= 20, plan.requests
    assert took < 5


def test_a_retry_after_past_the_deadline_fails_at_once_and_says_why(
    provider: ProviderProcess, faults_cleared: EmulatorServer, registered: dict[str, dict[str, Any]]
) -> None:
    plan = faults_cleared.router.faults
    plan.add(Fault("429", retry_after=120))
    checked = provider.check(NAME, registered[NAME])
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(NAME, checked.inputs)
    error = error_line(raised.value.details() or "")
    assert plan.requests == 1
    assert "the server asked to wait 120s before trying again (Retry-After), past the retry deadline of 3s" in error
    assert "CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE or stack config cloudflare-email-security:retryDeadline" in error


def test_a_trickling_server_is_cut_off_at_the_deadline(registered: dict[str, dict[str, Any]]) -> None:
    with TricklingServer("body") as server:
        env = provider_env(server.base_url, CLOUDFLARE_API_TOKEN=CANARY, CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="1.5")
        with ProviderProcess(env) as process:
            checked = process.check(NAME, registered[NAME])
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as raised:
                process.read(NAME, MISSING_ID, checked.inputs)
            took = time.monotonic() - started
    assert 1.4 <= took < 3.5, took
    error = error_line(raised.value.details() or "")
    assert "sent no complete answer within the retry deadline of 1.5s" in error and server.connections >= 1
    assert_no_canary(process, CANARY)
