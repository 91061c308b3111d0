"""Shared fixtures: the emulator (respx-mounted and over HTTP), settings types, canary credentials."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from pulumi_cloudflare_email_security import credentials, read_cache
from pulumi_cloudflare_email_security.emulator import EmulatorServer, mock_cloudflare
from pulumi_cloudflare_email_security.registry import RESOURCES, SET_RESOURCES, SET_SETTINGS_TYPES, SETTINGS_TYPES

from .protocol import ProviderProcess, assert_no_canary, provider_env
from .registration import RecordingMocks, register
from .samples import SAMPLE_INPUTS, numbered_inputs

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
OTHER_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
CANARY = "CANARYtoken" + secrets.token_hex(12)
FAST_RETRIES = {
    "CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE": "3",
    "CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY": "0.01",
    "CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT": "1000000/1",
}
"""Settings that keep tests quick: a few fast retries, then the error; and a rate budget the suite's own
thousands of requests do not exhaust (the tests of the budget set their own)."""


@pytest.fixture
def canary() -> str:
    """An API token that must never show up anywhere but in the Authorization header."""
    return CANARY


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no Cloudflare settings from the machine and no remembered stack config."""
    for name in (
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_EMAIL",
        "CLOUDFLARE_API_KEY",
        "CLOUDFLARE_BASE_URL",
        "CLOUDFLARE_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)
    credentials.remember_stack_config({})
    read_cache.process_rounds().clear()
    yield
    credentials.remember_stack_config({})
    read_cache.process_rounds().clear()


@pytest.fixture
def cloudflare(monkeypatch: pytest.MonkeyPatch) -> Iterator[mock_cloudflare]:
    """A fresh respx-mounted emulator at Cloudflare's public URL, with the canary token set."""
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    with mock_cloudflare() as cf:
        yield cf


@pytest.fixture(scope="module")
def _module_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator_server(_module_server: EmulatorServer) -> EmulatorServer:
    """The emulator served over HTTP on a free loopback port (one per test module, always stopped),
    emptied and accepting any token at the start of each test."""
    _module_server.router.backend.reset()
    _module_server.router.accepted_tokens = None
    return _module_server


@pytest.fixture(params=sorted(SETTINGS_TYPES))
def settings_type_name(request: pytest.FixtureRequest) -> str:
    """Each settings type's resource class name, in turn."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def registered() -> dict[str, dict[str, Any]]:
    """The inputs a real registration of each resource class sends to the engine, ``__provider`` included."""

    def program() -> list[Any]:
        return [
            RESOURCES[name](f"sample-{name}", account_id=ACCOUNT_ID, **SAMPLE_INPUTS[name]).urn
            for name in SETTINGS_TYPES
        ]

    mocks = register(program)
    return {name: mocks.resources[f"sample-{name}"] for name in SETTINGS_TYPES}


@pytest.fixture(scope="session")
def set_registration() -> RecordingMocks:
    """A real registration of each set class (under mocks): its type token and the inputs sent to the engine."""

    def program() -> list[Any]:
        return [
            SET_RESOURCES[name](
                f"sample-{name}",
                account_id=ACCOUNT_ID,
                entries=[numbered_inputs(SET_SETTINGS_TYPES[name].resource_name, 0)],
            ).urn
            for name in SET_RESOURCES
        ]

    return register(program)


@pytest.fixture(scope="session")
def set_registered(set_registration: RecordingMocks) -> dict[str, dict[str, Any]]:
    """The inputs a real registration of each set class sends to the engine, ``__provider`` included."""
    return {name: set_registration.resources[f"sample-{name}"] for name in SET_RESOURCES}


@pytest.fixture(scope="module")
def _module_provider(_module_server: EmulatorServer) -> Iterator[ProviderProcess]:
    with ProviderProcess(provider_env(_module_server.base_url, CLOUDFLARE_API_TOKEN=CANARY)) as process:
        yield process


@pytest.fixture
def provider(_module_provider: ProviderProcess, emulator_server: EmulatorServer) -> Iterator[ProviderProcess]:
    """The provider process (``python -m pulumi.dynamic``), with the canary token in its environment.

    Like the Pulumi CLI, which starts one for a whole run, the tests of a module share one process. After
    each test, the token must appear in no property bag, log line or error message it produced so far.
    """
    seen = len(_module_provider.bags)
    yield _module_provider
    assert len(_module_provider.bags) > seen, "the test sent the provider nothing"
    assert_no_canary(_module_provider, CANARY)
