"""Shared fixtures: the emulator (respx-mounted and over HTTP), settings types, canary credentials."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from pulumi_cloudflare_email_security import credentials
from pulumi_cloudflare_email_security.emulator import EmulatorServer, mock_cloudflare
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
OTHER_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
CANARY = "CANARYtoken" + secrets.token_hex(12)


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
    credentials.remember_stack_config({})
    yield
    credentials.remember_stack_config({})


@pytest.fixture
def cloudflare(monkeypatch: pytest.MonkeyPatch) -> Iterator[mock_cloudflare]:
    """A fresh respx-mounted emulator at Cloudflare's public URL, with the canary token set."""
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    with mock_cloudflare() as cf:
        yield cf


@pytest.fixture
def emulator_server() -> Iterator[EmulatorServer]:
    """The emulator served over HTTP on a free loopback port; always stopped."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture(params=sorted(SETTINGS_TYPES))
def settings_type_name(request: pytest.FixtureRequest) -> str:
    """Each settings type's resource class name, in turn."""
    name: str = request.param
    return name
