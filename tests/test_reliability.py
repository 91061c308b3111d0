"""Rate budget, retries, never-twice creates, and the emulator's faults, one behaviour at a time."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from typing import Any

import httpx
import pytest

from pulumi_cloudflare_email_security import tuning
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.emulator import EmulatorServer, Fault, FaultPlan, mock_cloudflare
from pulumi_cloudflare_email_security.emulator.routes import Router
from pulumi_cloudflare_email_security.errors import ConfigurationError, ServerError, TransportError
from pulumi_cloudflare_email_security.rate import RateBudget
from pulumi_cloudflare_email_security.registry import PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID, CANARY
from .samples import SAMPLE_INPUTS, numbered_body

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_with(fake: FakeTime) -> CloudflareClient:
    return CloudflareClient(sleep=fake.sleep, clock=fake.clock, jitter=lambda: 1.0)


# --- the rate budget ---------------------------------------------------------------------------------------


def test_budget_allows_the_limit_then_waits_for_the_window() -> None:
    fake = FakeTime()
    budget = RateBudget(3, 10.0, clock=fake.clock, sleep=fake.sleep)
    assert [budget.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    fake.now += 4
    assert budget.acquire() == pytest.approx(6.0)  # until the first request leaves the window
    assert fake.now == pytest.approx(1010.0)


def test_budget_holds_across_threads() -> None:
    budget, stamps, lock = RateBudget(5, 0.3), [], threading.Lock()

    def worker() -> None:
        for _ in range(5):
            budget.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 20
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s - start < 0.3 - 0.01]
        assert len(in_window) <= 5


@pytest.mark.parametrize(("raw", "expected"), [("600/60", (600, 60.0)), ("600", (600, 300.0))])
def test_rate_limit_setting(raw: str, expected: tuple[int, float]) -> None:
    assert tuning.rate_limit({"CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT": raw}) == expected
    assert tuning.rate_limit({}) == (1200, 300.0)


@pytest.mark.parametrize("raw", ["0", "fast", "10/0", "-5/60"])
def test_bad_rate_limit_names_the_setting(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT: must be REQUESTS/SECONDS"):
        tuning.rate_limit({"CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT": raw})


def test_settings_come_from_stack_config_too() -> None:
    from pulumi_cloudflare_email_security import credentials

    credentials.remember_stack_config(
        {"cloudflare-email-security:rateLimit": "50/10", "cloudflare-email-security:retryDeadline": "7"}
    )
    assert tuning.rate_limit({}) == (50, 10.0)
    assert tuning.retry_policy({}).deadline == 7.0
    with pytest.raises(ConfigurationError, match="RETRY_DEADLINE"):
        tuning.retry_policy({"CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE": "soon"})


def test_client_waits_for_budget_instead_of_collecting_429s(
    cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT", "4/0.5")
    client = CloudflareClient()
    started = time.monotonic()
    for _ in range(9):
        client.list_all(POLICIES)
    assert time.monotonic() - started >= 1.0  # 9 requests at 4 per half second need two full windows


# --- retries -----------------------------------------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "60")
    cloudflare.faults.add(Fault("429", count=2, retry_after=2.5))
    fake = FakeTime()
    client_with(fake).list_all(POLICIES)
    assert fake.sleeps == [2.5, 2.5]


def test_429_retry_after_http_date_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "60")
    answers = iter([429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 429:
            later = email.utils.formatdate(time.time() + 30, usegmt=True)
            return httpx.Response(429, headers={"retry-after": later}, json={"success": False, "errors": []})
        return httpx.Response(200, json={"success": True, "errors": [], "messages": [], "result": []})

    fake = FakeTime()
    client = CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler)), sleep=fake.sleep, clock=fake.clock)
    client.list_all(POLICIES)
    assert len(fake.sleeps) == 1 and 28 <= fake.sleeps[0] <= 30


@pytest.mark.parametrize("kind", ["500", "502", "503", "reset_before", "reset_after"])
def test_idempotent_requests_are_retried(cloudflare: mock_cloudflare, kind: str) -> None:
    entry = cloudflare.backend.create(ACCOUNT_ID, "allow_policies", numbered_body("allow_policies", 1))
    cloudflare.faults.add(Fault(kind, count=3))
    fake = FakeTime()
    assert client_with(fake).get(f"{POLICIES}/{entry['id']}")["id"] == entry["id"]
    assert len(fake.sleeps) == 3
    assert fake.sleeps == sorted(fake.sleeps)  # exponential backoff


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = tuning.RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.backoff(n, None, 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.backoff(3, None, 0.25) == 1.0
    assert policy.backoff(3, 9.0, 0.25) == 9.0


def test_retries_stop_at_the_deadline(cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE", "10")
    monkeypatch.setenv("CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY", "1")
    cloudflare.faults.add(Fault("503"))
    fake = FakeTime()
    with pytest.raises(ServerError, match=r"gave up after \d+ tries in .*retry deadline") as raised:
        client_with(fake).list_all(POLICIES)
    assert sum(fake.sleeps) <= 10 and len(fake.sleeps) >= 3
    assert raised.value.status == 503 and raised.value.ray_id


def test_other_client_errors_are_not_retried(cloudflare: mock_cloudflare) -> None:
    fake = FakeTime()
    with pytest.raises(Exception, match="is required"):
        client_with(fake).post(POLICIES, {})
    assert fake.sleeps == [] and len(cloudflare.requests) == 1


def test_retries_are_logged_with_the_ray_id_and_never_the_token(
    cloudflare: mock_cloudflare, caplog: pytest.LogCaptureFixture
) -> None:
    cloudflare.faults.add(Fault("502", count=1))
    with caplog.at_level(logging.DEBUG, logger="pulumi_cloudflare_email_security"):
        client_with(FakeTime()).list_all(POLICIES)
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 1 and "cf-ray" in retries[0] and "-EMU" in retries[0]
    assert all(CANARY not in r.getMessage() for r in caplog.records)


# --- POSTs are never sent twice blindly ---------------------------------------------------------------------


def test_a_post_whose_answer_was_lost_is_found_not_repeated(cloudflare: mock_cloudflare) -> None:
    cloudflare.faults.add(Fault("reset_after", method="POST", count=1))
    provider = PROVIDERS["AllowPolicy"]()
    checked, _ = check_inputs(SETTINGS_TYPES["AllowPolicy"], {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS["AllowPolicy"]})
    created = provider.create(checked)
    entries = cloudflare.backend.entries(ACCOUNT_ID, "allow_policies")
    assert [e["id"] for e in entries] == [created.id]
    assert [r.method for r in cloudflare.requests].count("POST") == 1


@pytest.mark.parametrize("kind", ["reset_before", "500", "503"])
def test_a_post_that_provably_did_not_land_is_sent_again(cloudflare: mock_cloudflare, kind: str) -> None:
    cloudflare.faults.add(Fault(kind, method="POST", count=2))
    provider = PROVIDERS["BlockedSender"]()
    checked, _ = check_inputs(
        SETTINGS_TYPES["BlockedSender"], {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS["BlockedSender"]}
    )
    created = provider.create(checked)
    assert [e["id"] for e in cloudflare.backend.entries(ACCOUNT_ID, "block_senders")] == [created.id]
    assert [r.method for r in cloudflare.requests].count("POST") == 3


def test_a_post_is_retried_without_lookup_when_it_never_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(201, json={"success": True, "errors": [], "messages": [], "result": {"id": "x"}})

    client = CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None)
    assert client.create(POLICIES, {}, find_landed=lambda: pytest.fail("no lookup needed"))["id"] == "x"
    assert calls == ["POST", "POST"]


def test_two_landed_candidates_are_an_error_not_a_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None)
    with pytest.raises(TransportError, match="2 entries now match what was sent \\(a, b\\)"):
        client.create(POLICIES, {}, find_landed=lambda: [{"id": "a"}, {"id": "b"}])


def test_every_type_survives_lost_create_answers(settings_type_name: str, cloudflare: mock_cloudflare) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    cloudflare.faults.add(Fault("reset_after", collection=spec.collection, method="POST", count=1))
    checked, _ = check_inputs(spec, {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[settings_type_name]})
    created = PROVIDERS[settings_type_name]().create(checked)
    assert [e["id"] for e in cloudflare.backend.entries(ACCOUNT_ID, spec.collection)] == [created.id]


# --- the faults themselves ------------------------------------------------------------------------------------


def test_fault_text_form() -> None:
    fault = Fault.parse("reset_after:collection=domains,method=post,rate=0.5,count=3")
    assert (fault.kind, fault.collection, fault.method, fault.rate, fault.count) == (
        "reset_after",
        "domains",
        "POST",
        0.5,
        3,
    )
    for bad in ("teapot", "429:rate=2", "429:speed=1", "429:rate"):
        with pytest.raises(ValueError):
            Fault.parse(bad)


def test_faults_match_by_collection_method_rate_and_count() -> None:
    plan = FaultPlan([Fault("500", collection="domains", method="GET", count=2)], seed=1)
    assert plan.draw("POST", "domains") is None and plan.draw("GET", "allow_policies") is None
    assert plan.draw("GET", "domains") is not None and plan.draw("GET", "domains") is not None
    assert plan.draw("GET", "domains") is None  # the count is used up
    sometimes = FaultPlan([Fault("503", rate=0.3)], seed=7)
    hits = sum(sometimes.draw("GET", "x") is not None for _ in range(2000))
    assert 500 < hits < 700 and sometimes.fired["503"] == hits and sometimes.requests == 2000


def raw_post(server: EmulatorServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.base_url + POLICIES, json=body, headers={"Authorization": "Bearer t"})


@pytest.mark.parametrize(("kind", "applied"), [("reset_before", False), ("reset_after", True)])
def test_http_server_really_resets_the_connection(kind: str, applied: bool) -> None:
    router = Router(faults=FaultPlan([Fault(kind, count=1)]))
    with EmulatorServer(router) as server:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            raw_post(server, numbered_body("allow_policies", 1))
        assert len(router.backend.entries(ACCOUNT_ID, "allow_policies")) == int(applied)
        assert raw_post(server, numbered_body("allow_policies", 2)).status_code == 201


@pytest.mark.parametrize("kind", ["429", "500", "502", "503"])
def test_http_server_answers_injected_statuses_without_applying(kind: str) -> None:
    router = Router(faults=FaultPlan([Fault(kind, count=1, retry_after=3)]))
    with EmulatorServer(router) as server:
        reply = raw_post(server, numbered_body("allow_policies", 1))
    assert reply.status_code == int(kind) and reply.json()["success"] is False
    assert (reply.headers.get("retry-after") == "3") == (kind == "429")
    assert router.backend.entries(ACCOUNT_ID, "allow_policies") == []


def test_latency_delays_but_answers() -> None:
    router = Router(faults=FaultPlan([Fault("latency", latency=0.3, count=1)]))
    with EmulatorServer(router) as server:
        started = time.monotonic()
        assert raw_post(server, numbered_body("allow_policies", 1)).status_code == 201
    assert time.monotonic() - started >= 0.3
