"""A preview fails on the configuration ``up`` would fail on, without a request (issue 14.4), and a missing
account id says where to set it (issue 14.9): over gRPC through ``python -m pulumi.dynamic``, for every single
resource and set type.

``pulumi preview`` runs Check (and Diff) only, so Check must fail with the error Create would give for the
same configuration. The emulator counts every request it answers: Check sends none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.errors import ConfigurationError
from pulumi_cloudflare_email_security.lookups import list_trusted_domains
from pulumi_cloudflare_email_security.registry import SET_RESOURCES

from .conftest import CANARY
from .protocol import UNKNOWN, ProviderProcess, assert_no_canary, provider_env

REMOTE_HTTP = "http://192.0.2.10/client/v4"
"""A plain-HTTP base URL on a host that is not this machine (TEST-NET-1: nothing answers there)."""
TYPO = "htps://api.cloudflare.com/client/v4"
OWN_BASE_URL = "cloudflare-email-security:baseUrl"

Setup = Callable[[str, Path], tuple[dict[str, str], dict[str, str]]]
"""From the emulator's base URL and a scratch directory: the provider's environment and its stack config."""

BAD_CONFIGURATIONS: dict[str, tuple[Setup, str]] = {
    "no credentials": (
        lambda url, _: (provider_env(url), {}),
        "No Cloudflare credentials found: set CLOUDFLARE_API_TOKEN",
    ),
    "plain http to a remote host": (
        lambda _, __: (provider_env(REMOTE_HTTP, CLOUDFLARE_API_TOKEN=CANARY), {}),
        f"CLOUDFLARE_BASE_URL is {REMOTE_HTTP!r}: plain http:// would send the API token in clear text",
    ),
    "a typo in the scheme": (
        lambda _, __: (provider_env(TYPO, CLOUDFLARE_API_TOKEN=CANARY), {}),
        f"CLOUDFLARE_BASE_URL is {TYPO!r}: 'htps' is not a supported protocol (did you mean",
    ),
    "a typo in the stack config's base URL": (
        lambda url, _: (_without_base_url(provider_env(url, CLOUDFLARE_API_TOKEN=CANARY)), {OWN_BASE_URL: TYPO}),
        f"stack config {OWN_BASE_URL} is {TYPO!r}: 'htps' is not a supported protocol",
    ),
    "an embedded state file in a missing directory": (
        lambda _, tmp: (provider_env(f"embedded:{tmp / 'missing' / 'state.json'}", CLOUDFLARE_API_TOKEN=CANARY), {}),
        "state.json (from CLOUDFLARE_BASE_URL=embedded:",
    ),
    "an embedded base URL without a path": (
        lambda _, __: (provider_env("embedded:", CLOUDFLARE_API_TOKEN=CANARY), {}),
        "CLOUDFLARE_BASE_URL is 'embedded:', which names no emulator state file",
    ),
    "an embedded state file that is not JSON": (
        lambda _, tmp: (
            provider_env(f"embedded:{_written(tmp / 'state.json', '{oops')}", CLOUDFLARE_API_TOKEN=CANARY),
            {},
        ),
        "state.json) is not valid JSON",
    ),
    "a rate budget that is not one": (
        lambda url, _: (
            provider_env(url, CLOUDFLARE_API_TOKEN=CANARY, CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT="fast"),
            {},
        ),
        "CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT",
    ),
    "a token that cannot be sent": (
        lambda url, _: (provider_env(url, CLOUDFLARE_API_TOKEN="two words"), {}),
        "CLOUDFLARE_API_TOKEN cannot be sent to the API",
    ),
}


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _without_base_url(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "CLOUDFLARE_BASE_URL"}


@pytest.fixture
def every_type(
    registered: dict[str, dict[str, Any]], set_registered: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The registered inputs of every single resource and every set, by class name."""
    return {**registered, **set_registered}


def failure_of(call: Callable[..., object], *args: Any) -> str:
    """What the engine shows for a failed gRPC call: its details, which must be one line, no traceback."""
    with pytest.raises(grpc.RpcError) as raised:
        call(*args)
    details = (raised.value.details() or "").strip()
    assert "\n" not in details and "Traceback" not in details, details
    return details


@pytest.mark.parametrize("case", sorted(BAD_CONFIGURATIONS))
def test_check_fails_with_the_error_create_gives_and_sends_nothing(
    case: str, tmp_path: Path, emulator_server: EmulatorServer, every_type: dict[str, dict[str, Any]]
) -> None:
    setup, expected = BAD_CONFIGURATIONS[case]
    env, config = setup(emulator_server.base_url, tmp_path)
    emulator_server.router.faults.clear()
    with ProviderProcess(env) as process:
        if config:
            process.configure(config)
        for name, inputs in every_type.items():
            checked = failure_of(process.check, name, inputs)
            assert checked.startswith("pulumi_cloudflare_email_security.") and expected in checked, (name, checked)
            assert checked == failure_of(process.create, name, inputs), name
    assert emulator_server.router.faults.requests == 0
    assert not (tmp_path / "missing").exists()
    assert CANARY not in "".join(process.output) + "".join(process.errors)


def _with_unknowns(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` as a preview may see them: the account and the first declared value not known yet."""
    declared = (k for k in inputs if k != "account_id" and not k.startswith("__") and inputs[k] is not None)
    first = "entries" if name in SET_RESOURCES else next(declared)
    return {**inputs, "account_id": UNKNOWN, first: UNKNOWN}


def test_with_a_sound_configuration_check_passes_unknowns_and_sends_nothing(
    provider: ProviderProcess, emulator_server: EmulatorServer, every_type: dict[str, dict[str, Any]]
) -> None:
    faults = emulator_server.router.faults
    faults.clear()
    for name, inputs in every_type.items():
        assert provider.check(name, inputs).failures == [], name
        assert provider.check(name, _with_unknowns(name, inputs)).failures == [], name
    assert faults.requests == 0
    provider.create("AllowPolicy", provider.check("AllowPolicy", every_type["AllowPolicy"]).inputs)
    assert faults.requests > 0  # the count is live: a create is seen


def test_the_environment_wins_over_a_bad_base_url_in_the_stack_config(
    emulator_server: EmulatorServer, every_type: dict[str, dict[str, Any]]
) -> None:
    with ProviderProcess(provider_env(emulator_server.base_url, CLOUDFLARE_API_TOKEN=CANARY)) as process:
        process.configure({OWN_BASE_URL: REMOTE_HTTP, "cloudflare:apiToken": "a-stale-token"})
        for name in ("AllowPolicy", "AllowPolicySet"):
            assert process.check(name, every_type[name]).failures == [], name
    assert_no_canary(process, CANARY)


@pytest.mark.parametrize("account", [None, ""])
def test_a_missing_account_id_names_the_input_the_stack_config_keys_and_the_variable(
    account: str | None, provider: ProviderProcess, every_type: dict[str, dict[str, Any]]
) -> None:
    for name, inputs in every_type.items():
        reason = dict(provider.check(name, {**inputs, "account_id": account}).failures)["account_id"]
        assert reason.startswith("account_id: is required: pass account_id (the Cloudflare account id, 32 hex"), name
        for where in ("cloudflare-email-security:accountId", "cloudflare:accountId", "CLOUDFLARE_ACCOUNT_ID"):
            assert where in reason, (name, reason)


def test_a_lookup_without_an_account_says_what_a_resource_says(
    provider: ProviderProcess, every_type: dict[str, dict[str, Any]]
) -> None:
    failures = dict(provider.check("TrustedDomain", {**every_type["TrustedDomain"], "account_id": None}).failures)
    pulumi.runtime.set_all_config({})  # no accountId left from another test's program
    with pytest.raises(ConfigurationError) as raised:
        list_trusted_domains()
    assert str(raised.value) == failures["account_id"]
