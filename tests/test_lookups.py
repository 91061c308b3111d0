"""Lookups: signatures that match the spec's list parameters, all pages, filters, sorting, typed results."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

import pulumi_cloudflare_email_security as email_security
from pulumi_cloudflare_email_security import lookups
from pulumi_cloudflare_email_security.emulator import mock_cloudflare, openapi
from pulumi_cloudflare_email_security.entries import DEPRECATED_FIELDS, ENTRY_MODELS
from pulumi_cloudflare_email_security.errors import ConfigurationError
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

from .conftest import ACCOUNT_ID, CANARY
from .registration import register
from .samples import numbered_body

LOOKUPS: dict[str, Callable[..., list[Any]]] = {
    "allow_policies": lookups.list_allow_policies,
    "block_senders": lookups.list_blocked_senders,
    "trusted_domains": lookups.list_trusted_domains,
    "impersonation_registry": lookups.list_impersonation_registry_entries,
    "sending_domain_restrictions": lookups.list_sending_domain_restrictions,
    "domains": lookups.list_protected_domains,
    "url_ignore_patterns": lookups.list_url_ignore_patterns,
    "content_policies": lookups.list_content_policies,
}
DEPRECATED_OUTPUTS = {"is_sender", "is_spoof", "is_recipient", "last_modified", "external_directory_node_id"}
assert DEPRECATED_FIELDS == DEPRECATED_OUTPUTS


def literal_values(annotation: Any) -> set[Any]:
    found: set[Any] = set()
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            found |= set(typing.get_args(arg))
        found |= literal_values(arg)
    return found


def test_every_collection_has_a_lookup_and_every_type_a_collection() -> None:
    assert set(LOOKUPS) == set(openapi.collections()) == set(ENTRY_MODELS)
    assert {spec.collection for spec in SETTINGS_TYPES.values()} == set(LOOKUPS)
    assert all(getattr(email_security, f.__name__) is f for f in LOOKUPS.values())


@pytest.mark.parametrize("collection", sorted(LOOKUPS))
def test_lookup_parameters_are_the_spec_list_parameters(collection: str) -> None:
    api = openapi.collections()[collection]
    hints = typing.get_type_hints(LOOKUPS[collection])
    params = set(inspect.signature(LOOKUPS[collection]).parameters) - {"account_id"}
    expected = set(api.list_filters) | ({"order", "direction", "search"} if api.order_fields else set())
    assert params == expected
    for name in api.list_filters:
        schema = api.list_filters[name]
        enum = schema.get("enum") or schema.get("items", {}).get("enum")
        if enum:
            assert literal_values(hints[name]) == set(enum) - {None}, name
    if api.order_fields:
        assert literal_values(hints["order"]) == set(api.order_fields)


@pytest.mark.parametrize("collection", sorted(ENTRY_MODELS))
def test_entry_models_cover_the_response_schema(collection: str) -> None:
    response = set(openapi.collections()[collection].entry_properties) - DEPRECATED_OUTPUTS
    assert set(ENTRY_MODELS[collection].model_fields) == response


@pytest.mark.parametrize("collection", sorted(LOOKUPS))
def test_lookups_read_every_page_as_typed_objects(collection: str, cloudflare: mock_cloudflare) -> None:
    created = [cloudflare.backend.seed(ACCOUNT_ID, collection, numbered_body(collection, n)) for n in range(1001)]
    found = LOOKUPS[collection](ACCOUNT_ID)
    assert [e.id for e in found] == [e["id"] for e in created]
    assert all(type(e) is ENTRY_MODELS[collection] for e in found)
    # The API still sends deprecated fields (where a collection has any); the typed entries leave them out.
    if set(openapi.collections()[collection].entry_properties) & DEPRECATED_OUTPUTS:
        assert created[0].keys() & DEPRECATED_OUTPUTS
    assert not set(found[0].model_dump()) & DEPRECATED_OUTPUTS
    assert not any(hasattr(found[0], name) for name in DEPRECATED_OUTPUTS)
    assert [(r.url.params["page"], r.url.params["per_page"]) for r in cloudflare.requests] == [
        ("1", "1000"),
        ("2", "1000"),
    ]


def test_filters_and_sorting_reach_the_api(cloudflare: mock_cloudflare) -> None:
    for n in range(3):
        cloudflare.backend.create(ACCOUNT_ID, "allow_policies", numbered_body("allow_policies", n))
    cloudflare.backend.create(
        ACCOUNT_ID,
        "allow_policies",
        {**numbered_body("allow_policies", 9), "pattern": "z.example", "pattern_type": "DOMAIN"},
    )
    domains = email_security.list_allow_policies(ACCOUNT_ID, pattern_type="DOMAIN")
    assert [p.pattern for p in domains] == ["z.example"]
    newest_first = email_security.list_allow_policies(ACCOUNT_ID, order="pattern", direction="desc")
    patterns = [p.pattern for p in newest_first]
    assert patterns == sorted(patterns, reverse=True) and patterns[0] == "z.example"
    assert (
        email_security.list_allow_policies(ACCOUNT_ID, search="sender0001")[0].pattern == "sender0001@partner.example"
    )
    assert "account_id" not in str(cloudflare.requests[-1].url.params)


def test_fields_the_api_adds_later_are_kept(cloudflare: mock_cloudflare) -> None:
    cloudflare.backend.seed(ACCOUNT_ID, "url_ignore_patterns", {"pattern": "x.example/*", "risk_score": 3})
    (found,) = lookups.list_url_ignore_patterns(ACCOUNT_ID)
    assert found.model_dump()["risk_score"] == 3


def test_entries_the_provider_cannot_create_are_still_readable(cloudflare: mock_cloudflare) -> None:
    cloudflare.backend.seed(ACCOUNT_ID, "allow_policies", {"pattern": "legacy", "pattern_type": "UNKNOWN"})
    cloudflare.backend.seed(
        ACCOUNT_ID,
        "impersonation_registry",
        {"email": "a@corp.example", "provenance": "SNOOPY-OFFICE_365", "directory_id": 4},
    )
    assert email_security.list_allow_policies(ACCOUNT_ID)[0].pattern_type == "UNKNOWN"
    synced = email_security.list_impersonation_registry_entries(ACCOUNT_ID, provenance="SNOOPY-OFFICE_365")
    assert (synced[0].provenance, synced[0].directory_id) == ("SNOOPY-OFFICE_365", 4)


def test_domain_filter_takes_several_names(cloudflare: mock_cloudflare) -> None:
    for n in range(3):
        cloudflare.backend.create(ACCOUNT_ID, "domains", numbered_body("domains", n))
    names = [numbered_body("domains", n)["domain"] for n in (0, 2)]
    assert [d.domain for d in email_security.list_protected_domains(ACCOUNT_ID, domain=names)] == names


def test_account_defaults_and_a_clear_error_without_one(
    cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="account_id"):
        email_security.list_url_ignore_patterns()
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
    assert email_security.list_url_ignore_patterns() == []


def test_lookups_in_a_program_use_the_stack_config() -> None:
    found: list[Any] = []

    def program() -> list[pulumi.Output[Any]]:
        found.extend(email_security.list_trusted_domains())
        return [
            email_security.lookup_output(
                email_security.list_trusted_domains, account_id=pulumi.Output.from_input(ACCOUNT_ID)
            )
        ]

    with mock_cloudflare(accepted_tokens={CANARY}) as cf:
        cf.backend.create(ACCOUNT_ID, "trusted_domains", numbered_body("trusted_domains", 1))
        register(program, config={"cloudflare:apiToken": CANARY, "cloudflare-email-security:accountId": ACCOUNT_ID})
    assert [d.pattern for d in found] == [numbered_body("trusted_domains", 1)["pattern"]]
    assert len(cf.requests) == 2 and all(r.headers["authorization"] == f"Bearer {CANARY}" for r in cf.requests)
