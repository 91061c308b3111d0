"""Taking over existing entries, through the gRPC provider path: by id, by ``<account_id>/<id>``, by natural key."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

from .conftest import ACCOUNT_ID
from .protocol import ProviderProcess
from .samples import CHANGED_INPUTS, SAMPLE_INPUTS


def seed(server: EmulatorServer, type_name: str, /, **changes: Any) -> dict[str, Any]:
    """An entry that exists before the stack: the sample, with some fields set otherwise."""
    spec = SETTINGS_TYPES[type_name]
    body = spec.create_body({**SAMPLE_INPUTS[type_name], **changes})
    return server.router.backend.create(ACCOUNT_ID, spec.collection, body)


def entries(server: EmulatorServer, name: str) -> list[dict[str, Any]]:
    return server.router.backend.entries(ACCOUNT_ID, SETTINGS_TYPES[name].collection)


def adopt_and_verify(
    provider: ProviderProcess, server: EmulatorServer, name: str, news: dict[str, Any], existing: dict[str, Any]
) -> dict[str, Any]:
    checked = provider.check(name, news)
    assert checked.failures == []
    id_, outs = provider.create(name, checked.inputs)
    assert id_ == existing["id"]
    assert [e["id"] for e in entries(server, name)] == [existing["id"]], "adoption must not POST"
    entry = entries(server, name)[0]
    for field, value in SAMPLE_INPUTS[name].items():
        assert entry[field] == value, f"{field} was not set to the declared value"
    assert outs["adopted"] is True
    assert provider.diff(name, id_, outs, checked.inputs).changes == "DIFF_NONE"
    return outs


@pytest.mark.parametrize("form", ["id", "account/id"])
def test_adopt_by_id(
    settings_type_name: str,
    form: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
) -> None:
    name = settings_type_name
    existing = seed(emulator_server, name, **CHANGED_INPUTS[name])
    adopt_id = existing["id"] if form == "id" else f"{ACCOUNT_ID}/{existing['id']}"
    outs = adopt_and_verify(provider, emulator_server, name, {**registered[name], "adopt_id": adopt_id}, existing)
    _, read = provider.read(name, f"{ACCOUNT_ID}/{existing['id']}", outs)
    assert read["adopted"] is True and read["account_id"] == ACCOUNT_ID


def test_adopt_by_natural_key(
    settings_type_name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
) -> None:
    name = settings_type_name
    existing = seed(emulator_server, name, **CHANGED_INPUTS[name])
    adopt_and_verify(provider, emulator_server, name, {**registered[name], "adopt_existing": True}, existing)


def test_adopting_nothing_is_a_clear_error(
    settings_type_name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
) -> None:
    name = settings_type_name
    checked = provider.check(name, {**registered[name], "adopt_existing": True})
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(name, checked.inputs)
    assert "adopt_existing: no " in (raised.value.details() or "")
    missing = provider.check(name, {**registered[name], "adopt_id": "0b8e6a8c-1111-4222-8333-944455556666"})
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(name, missing.inputs)
    assert "adopt_id: there is no " in (raised.value.details() or "")
    assert entries(emulator_server, name) == []


# The API protects a domain once per account, so two protected domains cannot share a natural key.
@pytest.mark.parametrize("name", sorted(n for n, t in SETTINGS_TYPES.items() if not t.adopt_by_key_on_create))
def test_two_matches_are_a_clear_error(
    name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
) -> None:
    first, second = seed(emulator_server, name), seed(emulator_server, name)
    checked = provider.check(name, {**registered[name], "adopt_existing": True})
    with pytest.raises(grpc.RpcError) as raised:
        provider.create(name, checked.inputs)
    details = raised.value.details() or ""
    assert "2 entries" in details and first["id"] in details and second["id"] in details
    assert len(entries(emulator_server, name)) == 2


def test_adoption_inputs_are_checked(
    settings_type_name: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    name = settings_type_name
    failures = dict(
        provider.check(name, {**registered[name], "adopt_id": "f" * 32 + "/abc", "adopt_existing": True}).failures
    )
    assert "names account" in failures["adopt_id"] or "not both" in failures["adopt_id"]
    assert (
        "true or false"
        in dict(provider.check(name, {**registered[name], "adopt_existing": "yes"}).failures)["adopt_existing"]
    )


def test_changing_adoption_inputs_later_changes_nothing(
    settings_type_name: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    name = settings_type_name
    checked = provider.check(name, registered[name])
    id_, outs = provider.create(name, checked.inputs)
    later = provider.check(name, {**registered[name], "adopt_id": id_})
    assert provider.diff(name, id_, outs, later.inputs).changes == "DIFF_NONE"


def test_directory_synced_impersonation_entries_are_refused(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    synced = emulator_server.router.backend.seed(
        ACCOUNT_ID,
        "impersonation_registry",
        {**SAMPLE_INPUTS["ImpersonationRegistryEntry"], "provenance": "SNOOPY-OFFICE_365", "directory_id": 7},
    )
    for how in ({"adopt_id": synced["id"]}, {"adopt_existing": True}):
        checked = provider.check("ImpersonationRegistryEntry", {**registered["ImpersonationRegistryEntry"], **how})
        with pytest.raises(grpc.RpcError) as raised:
            provider.create("ImpersonationRegistryEntry", checked.inputs)
        assert "synced from a directory (provenance SNOOPY-OFFICE_365)" in (raised.value.details() or "")
    assert entries(emulator_server, "ImpersonationRegistryEntry")[0]["provenance"] == "SNOOPY-OFFICE_365"


# --- protected domains: onboard or adopt, and what destroy does ------------------------------------------


def test_domain_onboarded_by_the_stack_is_unprotected_on_destroy(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    checked = provider.check("ProtectedDomain", registered["ProtectedDomain"])
    id_, outs = provider.create("ProtectedDomain", checked.inputs)
    assert outs["adopted"] is False and outs["status"] == "PENDING"
    provider.delete("ProtectedDomain", id_, outs)
    assert entries(emulator_server, "ProtectedDomain") == []


def test_already_protected_domain_is_adopted_and_released_on_destroy(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    existing = seed(emulator_server, "ProtectedDomain", **CHANGED_INPUTS["ProtectedDomain"])
    outs = adopt_and_verify(provider, emulator_server, "ProtectedDomain", registered["ProtectedDomain"], existing)
    logged = len(provider.output)
    provider.delete("ProtectedDomain", existing["id"], outs)
    assert [e["id"] for e in entries(emulator_server, "ProtectedDomain")] == [existing["id"]]
    deadline = time.monotonic() + 5  # stderr is read by another thread
    while not any("left in place" in line for line in provider.output[logged:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(f"ProtectedDomain {existing['id']} was adopted" in line for line in provider.output[logged:])


def test_adopted_domain_is_unprotected_when_opted_in(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    existing = seed(emulator_server, "ProtectedDomain")
    news = {**registered["ProtectedDomain"], "unprotect_on_destroy": True}
    outs = adopt_and_verify(provider, emulator_server, "ProtectedDomain", news, existing)
    provider.delete("ProtectedDomain", existing["id"], outs)
    assert entries(emulator_server, "ProtectedDomain") == []


def test_opting_in_later_is_recorded_by_an_update(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    existing = seed(emulator_server, "ProtectedDomain")
    outs = adopt_and_verify(provider, emulator_server, "ProtectedDomain", registered["ProtectedDomain"], existing)
    news = provider.check("ProtectedDomain", {**registered["ProtectedDomain"], "unprotect_on_destroy": True})
    assert provider.diff("ProtectedDomain", existing["id"], outs, news.inputs).changes == "DIFF_SOME"
    updated = provider.update("ProtectedDomain", existing["id"], outs, news.inputs)
    assert updated["adopted"] is True and updated["unprotect_on_destroy"] is True
    provider.delete("ProtectedDomain", existing["id"], updated)
    assert entries(emulator_server, "ProtectedDomain") == []


def test_changing_the_domain_replaces(registered: dict[str, dict[str, Any]], provider: ProviderProcess) -> None:
    checked = provider.check("ProtectedDomain", registered["ProtectedDomain"])
    id_, outs = provider.create("ProtectedDomain", checked.inputs)
    moved = provider.check("ProtectedDomain", {**registered["ProtectedDomain"], "domain": "other.example"})
    diff = provider.diff("ProtectedDomain", id_, outs, moved.inputs)
    assert (diff.changes, diff.replaces) == ("DIFF_SOME", ["domain"])


def test_adopting_a_domain_by_id_under_another_name_is_refused(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    # A PATCH cannot rename a domain, so the stack would record a name the entry does not have.
    existing = seed(emulator_server, "ProtectedDomain", domain="other.example")
    checked = provider.check("ProtectedDomain", {**registered["ProtectedDomain"], "adopt_id": existing["id"]})
    with pytest.raises(grpc.RpcError) as refused:
        provider.create("ProtectedDomain", checked.inputs)
    message = refused.value.details()
    assert "has domain 'other.example', not the declared" in message and "cannot be changed" in message
    assert entries(emulator_server, "ProtectedDomain") == [existing], "nothing may change"
