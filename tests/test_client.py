"""The API client: credentials, envelope, error hierarchy, paging, batch, embedded mode, thread safety."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from pulumi_cloudflare_email_security import credentials, transport
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.emulator import mock_cloudflare
from pulumi_cloudflare_email_security.errors import (
    AuthenticationError,
    CloudflareAPIError,
    ConfigurationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)

from .conftest import ACCOUNT_ID, CANARY
from .samples import numbered_body

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")


def replying(status: int, body: Any, headers: dict[str, str] | None = None) -> CloudflareClient:
    """A client whose every request is answered with one canned response."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers or {})

    return CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler)))


def test_paths_quote_their_parts() -> None:
    assert settings_path("abc", "domains", "x/../y") == "/accounts/abc/email-security/settings/domains/x%2F..%2Fy"


def test_token_from_environment(cloudflare: mock_cloudflare) -> None:
    CloudflareClient().list_all(POLICIES)
    assert cloudflare.requests[-1].headers["authorization"] == f"Bearer {CANARY}"


def test_email_and_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "ops@corp.example")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", CANARY)
    with mock_cloudflare() as cf:
        CloudflareClient().list_all(POLICIES)
    headers = cf.requests[-1].headers
    assert (headers["x-auth-email"], headers["x-auth-key"]) == ("ops@corp.example", CANARY)
    assert "authorization" not in headers


def test_stack_config_is_used_when_the_environment_has_nothing() -> None:
    credentials.remember_stack_config({"cloudflare:apiToken": CANARY, "other:key": "x"})
    with mock_cloudflare() as cf:
        CloudflareClient().list_all(POLICIES)
    assert cf.requests[-1].headers["authorization"] == f"Bearer {CANARY}"


def test_environment_wins_over_stack_config(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials.remember_stack_config({"cloudflare-email-security:apiToken": "stale"})
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    assert credentials.resolve_credentials().token == CANARY


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "CLOUDFLARE_API_TOKEN"),
        ({"CLOUDFLARE_EMAIL": "a@b.example"}, "CLOUDFLARE_API_KEY"),
        ({"CLOUDFLARE_API_KEY": CANARY}, "CLOUDFLARE_EMAIL"),
    ],
)
def test_missing_credentials_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as raised:
        credentials.resolve_credentials(env)
    assert CANARY not in str(raised.value)


def test_credentials_never_show_their_secret() -> None:
    creds = credentials.Credentials(token=CANARY, source="test")
    assert CANARY not in repr(creds) and CANARY not in str(creds)


def test_base_url_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert credentials.resolve_base_url() == credentials.CLOUDFLARE_API_URL
    credentials.remember_stack_config({"cloudflare-email-security:baseUrl": "http://127.0.0.1:1/client/v4/"})
    assert credentials.resolve_base_url() == "http://127.0.0.1:1/client/v4"
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:2/client/v4")
    assert credentials.resolve_base_url() == "http://127.0.0.1:2/client/v4"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, ValidationError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_failures_map_to_the_error_hierarchy(monkeypatch: pytest.MonkeyPatch, status: int, kind: type) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    body = {
        "success": False,
        "errors": [{"code": 1234, "message": f"nope, {CANARY} is wrong"}],
        "messages": [],
        "result": None,
    }
    with pytest.raises(kind) as raised:
        replying(status, body, {"cf-ray": "8f00ba11-EWR", "retry-after": "7"}).get(POLICIES)
    error = raised.value
    assert isinstance(error, CloudflareAPIError)
    assert (error.status, error.codes, error.ray_id) == (status, (1234,), "8f00ba11-EWR")
    first_line = str(error).splitlines()[0]
    assert "[1234] nope" in first_line and "cf-ray 8f00ba11-EWR" in first_line and f"HTTP {status}" in first_line
    assert CANARY not in str(error) and CANARY not in repr(error.errors)
    if kind is RateLimitedError:
        assert error.retry_after == 7.0


def test_success_false_in_a_200_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    with pytest.raises(ValidationError):
        replying(200, {"success": False, "errors": [{"code": 1, "message": "x"}], "messages": []}).get(POLICIES)


def test_non_json_answers_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad gateway</html>")

    with pytest.raises(ServerError, match="non-JSON answer"):
        CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler))).get(POLICIES)


def test_transport_errors_are_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransportError, match="Could not reach the Cloudflare API") as raised:
        CloudflareClient(httpx.Client(transport=httpx.MockTransport(handler))).get(POLICIES)
    assert CANARY not in str(raised.value)


def test_lists_are_paged_to_the_end(cloudflare: mock_cloudflare) -> None:
    for n in range(23):
        cloudflare.backend.create(ACCOUNT_ID, "allow_policies", numbered_body("allow_policies", n))
    listed = list(CloudflareClient().iter_list(POLICIES, per_page=10))
    assert len({e["id"] for e in listed}) == 23
    assert [r.url.params["page"] for r in cloudflare.requests] == ["1", "2", "3"]


def test_a_full_last_page_ends_the_list_when_the_total_says_so(cloudflare: mock_cloudflare) -> None:
    for n in range(20):
        cloudflare.backend.create(ACCOUNT_ID, "allow_policies", numbered_body("allow_policies", n))
    assert len(list(CloudflareClient().iter_list(POLICIES, per_page=10))) == 20
    assert len(cloudflare.requests) == 2


def test_without_a_total_a_full_last_page_is_followed_by_an_empty_one(cloudflare: mock_cloudflare) -> None:
    # result_info is not to be trusted to be there: without total_count, only a short page ends the list.
    for n in range(20):
        cloudflare.backend.create(ACCOUNT_ID, "allow_policies", numbered_body("allow_policies", n))
    listing = cloudflare.backend.list_entries

    def without_total(*args: Any) -> Any:
        page, info = listing(*args)
        return page, {k: v for k, v in info.items() if k != "total_count"}

    cloudflare.backend.list_entries = without_total  # type: ignore[method-assign]
    assert len(list(CloudflareClient().iter_list(POLICIES, per_page=10))) == 20
    assert len(cloudflare.requests) == 3


def test_list_filters_are_passed_through(cloudflare: mock_cloudflare) -> None:
    cloudflare.backend.create(ACCOUNT_ID, "allow_policies", numbered_body("allow_policies", 1))
    assert CloudflareClient().list_all(POLICIES, {"pattern_type": "DOMAIN"}) == []
    assert len(CloudflareClient().list_all(POLICIES, {"pattern_type": "EMAIL"})) == 1


def test_batch_is_chunked_by_1000(cloudflare: mock_cloudflare) -> None:
    posts = [numbered_body("block_senders", n) for n in range(2100)]
    path = settings_path(ACCOUNT_ID, "block_senders")
    result = CloudflareClient().batch(path, posts=posts)
    assert len(result["posts"]) == 2100 and result["deletes"] == []
    assert len(cloudflare.requests) == 3
    assert len(cloudflare.backend.entries(ACCOUNT_ID, "block_senders")) == 2100
    deleted = CloudflareClient().batch(path, deletes=[e["id"] for e in result["posts"][:5]])
    assert len(deleted["deletes"]) == 5


def test_batch_refuses_parts_the_endpoint_lacks(cloudflare: mock_cloudflare) -> None:
    path = settings_path(ACCOUNT_ID, "sending_domain_restrictions")
    with pytest.raises(ValueError, match="posts"):
        CloudflareClient().batch(path, posts=[{"domain": "a.example", "exclude": []}], parts=("deletes",))
    assert len(cloudflare.requests) == 0


def test_embedded_mode_persists_to_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    state = tmp_path / "emulator.json"
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"embedded:{state}")
    created = CloudflareClient().post(POLICIES, numbered_body("allow_policies", 1))
    assert created["id"] in state.read_text()
    transport.close_shared_clients()  # a new process would start with a new pool
    assert CloudflareClient().get(f"{POLICIES}/{created['id']}") == created
    assert CANARY not in state.read_text()


def test_one_pooled_client_is_shared_by_threads(cloudflare: mock_cloudflare) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            CloudflareClient().post(POLICIES, numbered_body("allow_policies", n))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cloudflare.backend.entries(ACCOUNT_ID, "allow_policies")) == 40
    assert transport._POOL.get("https://api.cloudflare.com/client/v4", "default") is transport._POOL.get(
        "https://example.invalid/client/v4", "default"
    )
