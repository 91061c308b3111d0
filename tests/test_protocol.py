"""The provider as the Pulumi CLI runs it: ``python -m pulumi.dynamic`` over gRPC, against the HTTP emulator."""

from __future__ import annotations

import base64
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import is_unknown

from .conftest import ACCOUNT_ID, CANARY, OTHER_ACCOUNT_ID
from .protocol import UNKNOWN, ProviderProcess, assert_no_canary, provider_env
from .samples import CHANGED_INPUTS, OUT_OF_BAND_EDIT, SAMPLE_INPUTS


def entry_of(server: EmulatorServer, name: str, id_: str) -> dict[str, Any]:
    return server.router.backend.get(ACCOUNT_ID, SETTINGS_TYPES[name].collection, id_)


def test_registration_pickles_the_provider_by_reference(registered: dict[str, dict[str, Any]]) -> None:
    for name, inputs in registered.items():
        pickled = base64.b64decode(inputs["__provider"])
        assert len(pickled) < 400, f"{name}'s provider pickle carries state ({len(pickled)} bytes)"
        assert f"{name}Provider".encode() in pickled
        assert CANARY.encode() not in pickled


def test_full_lifecycle(
    settings_type_name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
) -> None:
    name, spec = settings_type_name, SETTINGS_TYPES[settings_type_name]
    news = registered[name]

    checked = provider.check(name, news)
    assert checked.failures == []
    id_, outs = provider.create(name, checked.inputs)
    entry = entry_of(emulator_server, name, id_)
    for field, value in SAMPLE_INPUTS[name].items():
        assert entry[field] == value == outs[field]
    assert outs["account_id"] == ACCOUNT_ID
    assert outs["created_at"] == entry["created_at"] and outs["modified_at"]

    read_id, read_outs = provider.read(name, id_, outs)
    assert read_id == id_
    assert {k: read_outs.get(k) for k in spec.outputs} == {k: outs.get(k) for k in spec.outputs}
    assert provider.diff(name, id_, read_outs, checked.inputs).changes == "DIFF_NONE"

    changed = provider.check(name, {**news, **CHANGED_INPUTS[name]}, olds=checked.inputs)
    assert changed.failures == []
    diff = provider.diff(name, id_, read_outs, changed.inputs)
    assert (diff.changes, diff.replaces) == ("DIFF_SOME", [])
    updated = provider.update(name, id_, read_outs, changed.inputs)
    entry = entry_of(emulator_server, name, id_)
    for field, value in CHANGED_INPUTS[name].items():
        assert entry[field] == value == updated[field]
    assert provider.diff(name, id_, updated, changed.inputs).changes == "DIFF_NONE"

    emulator_server.router.backend.edit(ACCOUNT_ID, spec.collection, id_, OUT_OF_BAND_EDIT[name])
    _, drifted = provider.read(name, id_, updated)
    for field, value in OUT_OF_BAND_EDIT[name].items():
        assert drifted[field] == value
    assert provider.diff(name, id_, drifted, changed.inputs).changes == "DIFF_SOME"
    provider.update(name, id_, drifted, changed.inputs)
    repaired = entry_of(emulator_server, name, id_)
    for field in OUT_OF_BAND_EDIT[name]:
        assert repaired[field] == changed.inputs[field]

    provider.delete(name, id_, drifted)
    assert emulator_server.router.backend.entries(ACCOUNT_ID, spec.collection) == []
    gone_id, gone = provider.read(name, id_, drifted)
    assert gone_id == "" and set(gone) <= {"__provider"}
    provider.delete(name, id_, drifted)  # already gone: still a success


def test_preview_with_unknown_inputs(
    settings_type_name: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    name = settings_type_name
    news = {**registered[name], "account_id": UNKNOWN}
    first_field = SETTINGS_TYPES[name].fields[0]
    news[first_field] = UNKNOWN
    checked = provider.check(name, news)
    assert checked.failures == []
    assert is_unknown(checked.inputs["account_id"]) and is_unknown(checked.inputs[first_field])

    olds = {**registered[name], "created_at": "2026-01-01T00:00:00Z", "modified_at": "2026-01-01T00:00:00Z"}
    diff = provider.diff(name, "some-id", olds, checked.inputs)
    assert diff.changes == "DIFF_SOME"
    assert diff.replaces == [f for f in ("account_id", first_field) if f in SETTINGS_TYPES[name].replace_on]


def test_account_change_is_a_replacement(
    settings_type_name: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    name = settings_type_name
    checked = provider.check(name, registered[name])
    id_, outs = provider.create(name, checked.inputs)
    moved = provider.check(name, {**registered[name], "account_id": OTHER_ACCOUNT_ID})
    diff = provider.diff(name, id_, outs, moved.inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", ["account_id"], False)


def test_check_failures_name_the_field(
    settings_type_name: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    name = settings_type_name
    first_field = SETTINGS_TYPES[name].fields[0]
    bad = {**registered[name], "account_id": "not-an-account", first_field: 12.5}
    failures = dict(provider.check(name, bad).failures)
    assert "32 hexadecimal" in failures["account_id"]
    assert failures[first_field].startswith(f"{first_field}: ")


def test_api_refusal_is_a_clear_error_without_the_token(
    settings_type_name: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    name = settings_type_name
    checked = provider.check(name, registered[name])
    unchecked = {**checked.inputs, SETTINGS_TYPES[name].fields[0]: 12345}  # skips check, as a bug would
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(name, unchecked)
    assert "Cloudflare rejected the request" in (raised.value.details() or "")
    assert "cf-ray" in (raised.value.details() or "")


def test_credentials_from_stack_config(registered: dict[str, dict[str, Any]], emulator_server: EmulatorServer) -> None:
    emulator_server.router.accepted_tokens = {CANARY}
    with ProviderProcess(provider_env(emulator_server.base_url)) as process:
        process.configure({"cloudflare:apiToken": CANARY, "project:unrelated": "x"})
        checked = process.check("AllowPolicy", registered["AllowPolicy"])
        id_, _ = process.create("AllowPolicy", checked.inputs)
        assert entry_of(emulator_server, "AllowPolicy", id_)["pattern"] == SAMPLE_INPUTS["AllowPolicy"]["pattern"]
    assert_no_canary(process, CANARY)


def test_environment_token_wins_over_stack_config(
    registered: dict[str, dict[str, Any]], emulator_server: EmulatorServer
) -> None:
    emulator_server.router.accepted_tokens = {CANARY}
    env = provider_env(emulator_server.base_url, CLOUDFLARE_API_TOKEN=CANARY)
    with ProviderProcess(env) as process:
        process.configure({"cloudflare:apiToken": "an-old-rotated-token"})
        checked = process.check("AllowPolicy", registered["AllowPolicy"])
        process.create("AllowPolicy", checked.inputs)
    assert_no_canary(process, CANARY)


def test_missing_credentials_fail_loudly_naming_the_variable(
    registered: dict[str, dict[str, Any]], emulator_server: EmulatorServer
) -> None:
    with ProviderProcess(provider_env(emulator_server.base_url)) as process:
        for call in (process.check, process.create):  # a preview fails as up does
            with pytest.raises(grpc.RpcError) as raised:
                call("AllowPolicy", registered["AllowPolicy"])
            assert "CLOUDFLARE_API_TOKEN" in (raised.value.details() or "")
    assert emulator_server.router.backend.entries(ACCOUNT_ID, "allow_policies") == []
