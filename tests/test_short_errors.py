"""Failed provider calls reach ``pulumi up`` as our message in a few lines, not a Python traceback.

Driven over gRPC through ``python -m pulumi.dynamic``, whose answer to a failed call is what the Pulumi CLI
prints for the resource.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.reporting import as_reported

from .conftest import CANARY
from .protocol import ProviderProcess, provider_env

MAX_LINES = 8


def failure_text(call: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    text: str = caught.value.details()
    lines = text.strip().splitlines()
    assert len(lines) <= MAX_LINES, text
    assert "Traceback" not in text and CANARY not in text
    return text


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_api_error_is_short_and_whole(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    checked = provider.check("TrustedDomain", registered["TrustedDomain"])
    emulator_server.router.accepted_tokens = {"another-token"}
    text = failure_text(lambda: provider.create("TrustedDomain", checked.inputs))
    assert text.startswith("pulumi_cloudflare_email_security.errors.AuthenticationError: Cloudflare refused")
    # The create's first request: the look for an existing entry of the same key, before any POST.
    assert "(GET /accounts/" in text and "HTTP 403" in text and "cf-ray " in text


@pytest.mark.parametrize("kind", ["configuration", "transport"])
def test_configuration_and_transport_failures_are_short_and_whole(
    registered: dict[str, dict[str, Any]], kind: str
) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/client/v4"
    env = provider_env(base_url) if kind == "configuration" else provider_env(base_url, CLOUDFLARE_API_TOKEN=CANARY)
    with ProviderProcess(env) as provider:
        # what create says (Check says the same: see test_preview_checks.py)
        text = failure_text(lambda: provider.create("UrlIgnorePattern", registered["UrlIgnorePattern"]))
    if kind == "configuration":
        assert text.startswith("pulumi_cloudflare_email_security.errors.ConfigurationError: No Cloudflare credentials")
        assert "CLOUDFLARE_API_TOKEN" in text
    else:
        assert text.startswith("pulumi_cloudflare_email_security.errors.TransportError: Could not reach")
        assert "(retry deadline of " in text


def test_a_bug_is_short_and_says_where_it_happened(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    provider.check("BlockedSender", registered["BlockedSender"])
    # State without an account id cannot come from this provider: the engine fails on it unexpectedly.
    props = {"__provider": registered["BlockedSender"]["__provider"]}
    text = failure_text(lambda: provider.delete("BlockedSender", "some-id", props))
    assert text.startswith("pulumi_cloudflare_email_security.reporting.UnexpectedError: Unexpected KeyError")
    assert "engine.py:" in text and "in delete" in text and "please report it" in text


def logged(provider: ProviderProcess, since: int, wanted: str, seconds: float = 20.0) -> str:
    """The provider's log from line ``since`` on, once it holds ``wanted`` (or the bound passed)."""
    deadline = time.monotonic() + seconds
    while wanted not in "".join(provider.output[since:]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "".join(provider.output[since:])


def test_a_bug_s_full_traceback_goes_to_the_log_and_the_error_stays_one_line(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    provider.check("BlockedSender", registered["BlockedSender"])
    since = len(provider.output)
    props = {"__provider": registered["BlockedSender"]["__provider"]}  # no account id: a KeyError in delete
    text = failure_text(lambda: provider.delete("BlockedSender", "some-id", props))
    assert len(text.strip().splitlines()) == 1, text
    log = logged(provider, since, "KeyError: 'account_id'")
    head = "ERROR pulumi_cloudflare_email_security.reporting: Unexpected KeyError in the Cloudflare Email Security"
    assert head in log and "Traceback (most recent call last):" in log, log
    assert 'engine.py", line' in log and "in delete" in log and "KeyError: 'account_id'" in log
    assert log.index(head) < log.index("Traceback (most recent call last):") < log.index("KeyError: 'account_id'")


def test_a_bug_s_traceback_in_the_log_shows_no_token_and_no_control_character(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    try:
        raise RuntimeError(f"header Authorization: Bearer {CANARY} was refused \x1b[2J")
    except RuntimeError as bug:
        with caplog.at_level(logging.ERROR, logger="pulumi_cloudflare_email_security"):
            wrapped = as_reported(bug)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.getMessage().startswith(str(wrapped))
    log = record.getMessage()
    assert "Traceback (most recent call last):" in log and "test_short_errors.py" in log and "Bearer ***" in log
    assert CANARY not in log and "\x1b" not in log and "\\x1b[2J" in log


def test_the_package_own_errors_pass_unchanged_and_others_are_wrapped() -> None:
    from pulumi_cloudflare_email_security.errors import InputError

    own = InputError("account_id: is required")
    assert as_reported(own) is own
    try:
        {}["missing"]
    except KeyError as bug:
        wrapped = as_reported(bug)
    assert "Unexpected KeyError" in str(wrapped) and "test_short_errors.py:" in str(wrapped)


def test_a_bug_quoting_the_token_does_not_show_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    wrapped = as_reported(RuntimeError(f"header Authorization: Bearer {CANARY} was refused"))
    assert CANARY not in str(wrapped) and "Bearer ***" in str(wrapped)
