"""Credentials never leak, on any path; rotation works; one process serves many threads, accounts and URLs."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.credentials import Credentials
from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.emulator.routes import EmulatorResponse, Router
from pulumi_cloudflare_email_security.errors import CloudflareAPIError
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES
from pulumi_cloudflare_email_security.transport import close_shared_clients

from .conftest import ACCOUNT_ID, OTHER_ACCOUNT_ID
from .protocol import ProviderProcess, assert_no_canary, provider_env
from .samples import numbered_body, numbered_inputs

ENV_CANARY = "ENVcanary" + secrets.token_hex(10)
CONFIG_CANARY = "CFGcanary" + secrets.token_hex(10)
KEY_CANARY = "KEYcanary" + secrets.token_hex(10)


class EchoingRouter(Router):
    """An API that misbehaves as badly as it can: it quotes the request's credentials back in its errors."""

    status = 403

    def handle(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> EmulatorResponse:
        quoted = f"{headers.get('authorization')} {headers.get('x-auth-key')} {body.decode(errors='replace')}"
        envelope = {"success": False, "errors": [{"code": 9109, "message": f"refused: {quoted}"}], "result": None}
        return EmulatorResponse(self.status, envelope, {"cf-ray": "echo-EMU", "content-type": "application/json"})


@pytest.fixture
def echoing() -> Iterator[tuple[EmulatorServer, EchoingRouter]]:
    router = EchoingRouter()
    with EmulatorServer(router) as server:
        yield server, router


def assert_clean(process: ProviderProcess, errors: list[str]) -> None:
    for canary in (ENV_CANARY, CONFIG_CANARY, KEY_CANARY):
        assert_no_canary(process, canary)
        assert all(canary not in e for e in errors)


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_no_credential_leaks_through_error_bodies(
    status: int, echoing: tuple[EmulatorServer, EchoingRouter], registered: dict[str, dict[str, Any]]
) -> None:
    server, router = echoing
    router.status = status
    errors: list[str] = []
    env = provider_env(server.base_url, CLOUDFLARE_API_TOKEN=ENV_CANARY)
    # Give up soon (the answers are all failures), but never before the first answer is read, even on a busy
    # machine: a long first backoff ends the retries instead of a deadline that could cut the first try short.
    env["CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE"] = "0.3"
    env["CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY"] = "1"
    with ProviderProcess(env) as process:
        process.configure({"cloudflare:apiToken": CONFIG_CANARY, "cloudflare:apiKey": KEY_CANARY})
        for name in SETTINGS_TYPES:
            checked = process.check(name, registered[name])
            for call in (
                lambda name=name, checked=checked: process.create(name, checked.inputs),
                lambda name=name, checked=checked: process.read(
                    name, "0b8e6a8c-1111-4222-8333-944455556666", checked.inputs
                ),
                lambda name=name, checked=checked: process.update(
                    name, "0b8e6a8c-1111-4222-8333-944455556666", checked.inputs, checked.inputs
                ),
                lambda name=name, checked=checked: process.delete(
                    name, "0b8e6a8c-1111-4222-8333-944455556666", checked.inputs
                ),
            ):
                with pytest.raises(grpc.RpcError) as raised:
                    call()
                errors.append(raised.value.details() or "")
    assert all("***" in e for e in errors), "the echoed token is shown masked"
    assert_clean(process, errors)


def test_no_credential_leaks_through_transport_errors_or_email_and_key(registered: dict[str, dict[str, Any]]) -> None:
    with EmulatorServer() as gone:
        dead_url = gone.base_url  # stopped at once: every request is refused
    env = provider_env(dead_url, CLOUDFLARE_EMAIL="ops@corp.example", CLOUDFLARE_API_KEY=KEY_CANARY)
    env["CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE"] = "0.05"
    errors: list[str] = []
    with ProviderProcess(env) as process:
        for name in SETTINGS_TYPES:
            checked = process.check(name, registered[name])
            with pytest.raises(grpc.RpcError) as raised:
                process.create(name, checked.inputs)
            errors.append(raised.value.details() or "")
    assert all("Could not reach the Cloudflare API" in e for e in errors)
    assert_clean(process, errors)


def test_credentials_and_errors_never_show_secrets_in_process() -> None:
    creds = Credentials(token=ENV_CANARY, email="ops@corp.example", api_key=KEY_CANARY, source="test")
    for text in (repr(creds), str(creds), repr(creds.__dict__.keys())):
        assert ENV_CANARY not in text and KEY_CANARY not in text
    error = CloudflareAPIError("x", method="GET", path="/p")
    assert ENV_CANARY not in repr(error)


def test_registered_providers_carry_no_secret(registered: dict[str, dict[str, Any]]) -> None:
    for inputs in registered.values():
        pickled = base64.b64decode(inputs["__provider"])
        assert ENV_CANARY.encode() not in pickled and CONFIG_CANARY.encode() not in pickled


def test_rotated_token_works_for_refresh_and_destroy(registered: dict[str, dict[str, Any]]) -> None:
    old, new = "old" + secrets.token_hex(8), "new" + secrets.token_hex(8)
    router = Router(accepted_tokens={old})
    with EmulatorServer(router) as server:
        created: dict[str, tuple[str, dict[str, Any]]] = {}
        with ProviderProcess(provider_env(server.base_url, CLOUDFLARE_API_TOKEN=old)) as process:
            for name in SETTINGS_TYPES:
                created[name] = process.create(name, process.check(name, registered[name]).inputs)
        router.accepted_tokens = {new}  # the old token is revoked
        with ProviderProcess(provider_env(server.base_url, CLOUDFLARE_API_TOKEN=new)) as process:
            process.configure({"cloudflare:apiToken": old})  # stale stack config: the environment wins
            for name, (id_, outs) in created.items():
                assert process.read(name, id_, outs)[0] == id_  # refresh
                process.delete(name, id_, outs)  # destroy
        assert all(router.backend.entries(ACCOUNT_ID, s.collection) == [] for s in SETTINGS_TYPES.values())


# --- concurrency -------------------------------------------------------------------------------------------


def test_four_worker_threads_share_client_and_budget_without_429s(registered: dict[str, dict[str, Any]]) -> None:
    """The emulator enforces a rate limit and the provider's budget stays just under it (the client counts
    a request when it sends it, the server when it arrives), so nothing is refused."""
    router = Router(rate_limit=(40, 1.0))
    with EmulatorServer(router) as server:
        env = provider_env(server.base_url, CLOUDFLARE_API_TOKEN=ENV_CANARY)
        env.update(CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT="36/1", CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60")
        jobs = [(name, n) for name in SETTINGS_TYPES for n in range(15)]
        with ProviderProcess(env) as process, ThreadPoolExecutor(12) as pool:

            def create(job: tuple[str, int]) -> str:
                name, n = job
                news = {
                    **registered[name],
                    **numbered_inputs(name, n),
                    "account_id": ACCOUNT_ID if n % 2 else OTHER_ACCOUNT_ID,
                }
                return process.create(name, process.check(name, news).inputs)[0]

            ids = list(pool.map(create, jobs))
        assert len(set(ids)) == len(jobs)
        assert router.refused == 0
        per_account = {
            account: sum(len(router.backend.entries(account, s.collection)) for s in SETTINGS_TYPES.values())
            for account in (ACCOUNT_ID, OTHER_ACCOUNT_ID)
        }
        assert per_account == {ACCOUNT_ID: len(SETTINGS_TYPES) * 7, OTHER_ACCOUNT_ID: len(SETTINGS_TYPES) * 8}


def test_without_the_budget_the_same_load_collects_429s(registered: dict[str, dict[str, Any]]) -> None:
    """The control for the test above: an unthrottled client is refused, then recovers by retrying."""
    router = Router(rate_limit=(40, 1.0))
    with EmulatorServer(router) as server:
        env = provider_env(server.base_url, CLOUDFLARE_API_TOKEN=ENV_CANARY)
        env.update(CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="60")
        with ProviderProcess(env) as process, ThreadPoolExecutor(12) as pool:

            def create(n: int) -> str:
                news = {**registered["UrlIgnorePattern"], **numbered_inputs("UrlIgnorePattern", n)}
                return process.create("UrlIgnorePattern", process.check("UrlIgnorePattern", news).inputs)[0]

            ids = list(pool.map(create, range(100)))
        assert len(set(ids)) == 100
        assert router.refused > 0
        assert len(router.backend.entries(ACCOUNT_ID, "url_ignore_patterns")) == 100


def test_one_process_serves_several_base_urls_and_accounts_at_once() -> None:
    with EmulatorServer() as first, EmulatorServer() as second:
        targets = [(first, ACCOUNT_ID), (second, OTHER_ACCOUNT_ID), (first, OTHER_ACCOUNT_ID), (second, ACCOUNT_ID)]
        errors: list[BaseException] = []

        def work(server: EmulatorServer, account: str, n: int) -> None:
            environ = {
                "CLOUDFLARE_API_TOKEN": ENV_CANARY,
                "CLOUDFLARE_BASE_URL": server.base_url,
                "CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT": "1000000/1",
            }
            try:
                client = CloudflareClient(environ=environ)
                client.post(settings_path(account, "block_senders"), numbered_body("block_senders", n))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(*targets[n % 4], n)) for n in range(80)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for server, account in targets:
            entries = server.router.backend.entries(account, "block_senders")
            expected = {
                numbered_body("block_senders", n)["pattern"] for n in range(80) if targets[n % 4] == (server, account)
            }
            assert {e["pattern"] for e in entries} == expected
    close_shared_clients()
