"""How long requests are retried, and who hears of each retry (issue 14.8).

``cfes list`` and ``cfes export`` give up after 15 s when nothing answers (``--retry-deadline`` wins over
``CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE``, which wins over those 15 s), saying each retry in one line on
stderr; the provider keeps its 300 s for pipelines, logging each retry at INFO and warning once per request.
The policy is tested in process with a fake clock; the commands as real processes against a closed port.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from pulumi_cloudflare_email_security import tuning
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.emulator import Fault, mock_cloudflare
from pulumi_cloudflare_email_security.errors import ConfigurationError, ServerError, TransportError

from .canned import Answer, CannedServer
from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, provider_env
from .test_cli import assert_one_line_error
from .test_export import cfes, closed_port, cloudflare_env
from .test_reliability import FakeTime

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")
DEADLINE = "CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE"
BASE_DELAY = "CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY"
GAVE_UP = re.compile(r"gave up after (\d+) tr(?:y|ies) in ([\d.]+)s \(retry deadline of ([\d.]+)s, set by ([^)]*)\)")
MARGIN = 10.0
"""Seconds a command may take beyond its deadline to start up and finish, on a busy machine."""


def ignored(line: str) -> None:
    """A report that goes nowhere."""


# --- the policy, in process ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "environ", "deadline"),
    [
        (None, {}, 15.0),
        (None, {DEADLINE: "40"}, 40.0),
        (2.0, {DEADLINE: "40"}, 2.0),
        (2.0, {DEADLINE: "soon"}, 2.0),  # the option wins: the environment is not even read
    ],
)
def test_on_the_command_line_the_option_wins_then_the_environment_then_15s(
    option: float | None, environ: dict[str, str], deadline: float
) -> None:
    with tuning.command_line_retries(option, ignored):
        policy = tuning.retry_policy(environ)
    assert policy.deadline == deadline
    assert policy.setting == "--retry-deadline or CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE"
    assert policy.report is ignored


def test_elsewhere_the_deadline_stays_300s_and_nothing_is_reported() -> None:
    with tuning.command_line_retries(2.0, ignored):
        pass
    policy = tuning.retry_policy({})
    assert (policy.deadline, policy.report) == (300.0, None)
    assert policy.setting == tuning.RETRY_DEADLINE_SETTING


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "inf"])
def test_a_deadline_must_be_a_positive_finite_number(raw: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{DEADLINE}: must be a positive number of seconds"):
        tuning.retry_policy({DEADLINE: raw})


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_on_the_command_line_each_retry_is_reported_and_nothing_warns(caplog: pytest.LogCaptureFixture) -> None:
    said: list[str] = []
    fake = FakeTime()
    with tuning.command_line_retries(None, said.append), caplog.at_level(logging.INFO):
        http = httpx.Client(transport=httpx.MockTransport(refused))
        environ = {"CLOUDFLARE_API_TOKEN": CANARY, "CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT": "1000000/1"}
        client = CloudflareClient(http, environ=environ, sleep=fake.sleep, clock=fake.clock, jitter=lambda: 1.0)
        with pytest.raises(TransportError) as raised:
            client.list_all(POLICIES)
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0] and sum(fake.sleeps) <= 15  # the next wait, 8 s, would pass 15 s
    assert len(said) == len(fake.sleeps)
    elapsed = 0.0
    for attempt, (line, delay) in enumerate(zip(said, fake.sleeps, strict=True), start=2):
        assert line.startswith(f"retrying in {delay:.1f}s (try {attempt}, {15 - elapsed:.1f}s left of the 15s retry")
        assert "Could not reach the Cloudflare API at https://api.cloudflare.com/client/v4" in line
        assert line.endswith(f"(GET {POLICIES})") and "\n" not in line
        elapsed += delay
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == [], "said once, not logged or warned too"
    assert "gave up after 5 tries in 7.5s (retry deadline of 15s, set by --retry-deadline or " in str(raised.value)


def test_elsewhere_each_retry_is_logged_at_info_and_one_warning_is_given(
    cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(DEADLINE, "60")
    monkeypatch.setenv(BASE_DELAY, "1")
    monkeypatch.setattr(tuning, "_under_pulumi", lambda: False)
    cloudflare.faults.add(Fault("503"))
    fake = FakeTime()
    with caplog.at_level(logging.INFO, logger=tuning.PACKAGE_LOGGER), pytest.raises(ServerError):
        CloudflareClient(sleep=fake.sleep, clock=fake.clock, jitter=lambda: 1.0).list_all(POLICIES)
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(infos) == len(fake.sleeps) >= 5
    assert all(m.startswith("retrying in ") and "HTTP 503" in m and "cf-ray" in m for m in infos)
    assert len(warnings) == 1 and "still retrying" in warnings[0]
    assert CANARY not in " ".join(infos + warnings)


# --- the commands, as real processes -------------------------------------------------------------


def unreachable_env(**settings: str) -> dict[str, str]:
    """Settings for a command whose API is a closed port on this machine, with the default retry settings
    unless ``settings`` say otherwise."""
    env = cloudflare_env(f"http://127.0.0.1:{closed_port()}/client/v4", CLOUDFLARE_ACCOUNT_ID=ACCOUNT_ID)
    for name in (DEADLINE, BASE_DELAY):
        env.pop(name, None)
    return {**env, **settings}


def timed(*args: str | Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = cfes(*args, env=env)
    return done, time.monotonic() - started


def assert_retried_then_failed(done: subprocess.CompletedProcess[str], deadline: float) -> list[str]:
    """One line per retry, then one error line that says the deadline; no traceback. Returns the lines."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    *retries, last = done.stderr.strip().splitlines()
    assert last.startswith("cfes: error: "), done.stderr
    gave_up = GAVE_UP.search(last)
    assert gave_up is not None, last
    tries, took, said_deadline, setting = gave_up.groups()
    assert float(said_deadline) == deadline and float(took) <= deadline
    assert setting == "--retry-deadline or CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE"
    assert len(retries) == int(tries) - 1 >= 1, done.stderr
    for attempt, line in enumerate(retries, start=2):
        assert re.match(rf"cfes: retrying in [\d.]+s \(try {attempt}, [\d.]+s left of the {deadline:g}s retry", line)
        assert "Could not reach the Cloudflare API at http://127.0.0.1:" in line and "ConnectError" in line
    return [*retries, last]


def test_list_gives_up_after_15_seconds_by_default() -> None:
    done, took = timed("list", "allow_policies", env=unreachable_env())
    lines = assert_retried_then_failed(done, 15.0)
    assert lines[-1].startswith(f"cfes: error: cannot list allow_policies of account {ACCOUNT_ID}: Could not reach")
    assert took < 15.0 + MARGIN


def test_list_gives_up_sooner_with_a_lower_retry_deadline() -> None:
    done, took = timed("list", "allow_policies", "--retry-deadline", "2", env=unreachable_env())
    assert_retried_then_failed(done, 2.0)
    assert took < 2.0 + MARGIN


def test_the_environment_sets_the_deadline_and_the_option_wins_over_it() -> None:
    from_env, _ = timed("list", "trusted_domains", env=unreachable_env(**{DEADLINE: "1.5"}))
    assert_retried_then_failed(from_env, 1.5)
    both, _ = timed("list", "trusted_domains", "--retry-deadline", "1", env=unreachable_env(**{DEADLINE: "600"}))
    assert_retried_then_failed(both, 1.0)


def test_export_says_each_retry_then_fails_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done, _ = timed("export", "--output", out, "--retry-deadline", "1.5", env=unreachable_env())
    lines = assert_retried_then_failed(done, 1.5)
    assert lines[-1].startswith("cfes: error: cannot reach the Cloudflare API: Could not reach")
    assert CANARY not in done.stderr
    assert list(tmp_path.iterdir()) == []


FAILING_MESSAGE = "overloaded\x1b[2J\x1b]0;owned\x07 \u202eretry later"
"""A 503's message holding what a terminal would act on."""


def failing(_method: str, _path: str) -> Answer:
    return 503, {"success": False, "errors": [{"code": 10001, "message": FAILING_MESSAGE}], "messages": []}


def test_each_retry_line_escapes_what_the_answer_holds() -> None:
    with CannedServer(failing) as server:
        env = {**unreachable_env(), "CLOUDFLARE_BASE_URL": server.base_url}
        done = cfes("list", "allow_policies", "--retry-deadline", "1", env=env)
    assert done.returncode == 2, done.stderr
    retries = [line for line in done.stderr.splitlines() if line.startswith("cfes: retrying in ")]
    assert retries, done.stderr
    for line in retries:
        assert "[10001] overloaded\\x1b[2J\\x1b]0;owned\\x07 \\u202eretry later" in line, line
        assert line.isprintable() and "HTTP 503" in line


@pytest.mark.parametrize("raw", ["0", "-3", "soon", "nan", "inf"])
@pytest.mark.parametrize("command", ["list", "export"])
def test_a_bad_retry_deadline_is_one_line(command: str, raw: str, tmp_path: Path) -> None:
    args = ["list", "allow_policies"] if command == "list" else ["export", "--output", str(tmp_path / "out")]
    done = cfes(*args, f"--retry-deadline={raw}", env=unreachable_env())
    assert_one_line_error(done, f"--retry-deadline: must be a positive number of seconds (got '{raw}')")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_deadline_in_the_environment_is_one_line_naming_it() -> None:
    done = cfes("list", "allow_policies", env=unreachable_env(**{DEADLINE: "nan"}))
    assert_one_line_error(done, f"{DEADLINE}: must be a positive number of seconds (got 'nan')")


def test_the_provider_logs_each_retry_at_info_over_grpc(registered: dict[str, dict[str, Any]]) -> None:
    env = provider_env(
        f"http://127.0.0.1:{closed_port()}/client/v4",
        CLOUDFLARE_API_TOKEN=CANARY,
        CLOUDFLARE_EMAIL_SECURITY_LOG_LEVEL="INFO",
        **{DEADLINE: "1.5", BASE_DELAY: "0.1"},
    )
    with ProviderProcess(env) as provider:
        checked = provider.check("policy", registered["AllowPolicy"])
        with pytest.raises(grpc.RpcError) as raised:
            provider.create("policy", checked.inputs)
        output = "".join(provider.output)
    message = raised.value.details() or ""
    gave_up = GAVE_UP.search(message)
    assert gave_up is not None, message
    assert gave_up.group(3) == "1.5" and gave_up.group(4) == tuning.RETRY_DEADLINE_SETTING
    logged = [line for line in output.splitlines() if "retrying in " in line]
    assert len(logged) == int(gave_up.group(1)) - 1 >= 1, output
    assert all(line.startswith("INFO pulumi_cloudflare_email_security.client: retrying in ") for line in logged)
    assert CANARY not in output + message
