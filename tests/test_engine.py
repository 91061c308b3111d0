"""The declarations against the spec, and the generic engine's check, diff and CRUD over the respx emulator."""

from __future__ import annotations

import pickle
import typing
from typing import Any

import dill
import pytest
from pulumi.output import Unknown

from pulumi_cloudflare_email_security.emulator import mock_cloudflare, openapi
from pulumi_cloudflare_email_security.errors import InputError
from pulumi_cloudflare_email_security.registry import PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import UNKNOWN
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID, OTHER_ACCOUNT_ID
from .samples import CHANGED_INPUTS, SAMPLE_INPUTS

DEPRECATED_INPUTS = {"is_sender", "is_spoof", "is_recipient", "external_directory_node_id"}


def inputs_of(type_name: str, /, **changes: Any) -> dict[str, Any]:
    return {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name], **changes}


def failures_of(name: str, news: dict[str, Any]) -> dict[str, str]:
    _, failures = check_inputs(SETTINGS_TYPES[name], news)
    return {f.property: f.reason for f in failures}


# --- the declarations agree with Cloudflare's spec ---------------------------------------------------


def test_every_type_has_samples_and_a_provider(settings_type_name: str) -> None:
    assert settings_type_name in SAMPLE_INPUTS and settings_type_name in PROVIDERS


def test_declaration_matches_the_spec(settings_type_name: str) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    api = openapi.collections()[spec.collection]
    assert spec.id_param == api.id_param
    create_schema = openapi.resolve(api.collection_bodies["post"] or {})
    writable = {k: v for k, v in openapi.properties_of(create_schema).items() if not v.get("readOnly")}
    assert set(spec.fields) == set(writable) - DEPRECATED_INPUTS - set(spec.api_managed)
    assert set(spec.api_managed) <= set(spec.computed)
    assert set(spec.deprecated_inputs) == set(writable) & DEPRECATED_INPUTS
    required = {n for n in spec.fields if spec.required(n)}
    assert required == set(create_schema.get("required", [])) - DEPRECATED_INPUTS
    entry = api.entry_properties
    assert set(spec.computed) <= set(entry)
    assert set(spec.computed) & set(writable) == set(spec.api_managed)
    assert set(spec.natural_key) <= set(spec.fields)
    batch = api.batch_body["properties"] if api.batch_body else {}
    assert set(spec.batch_parts) == set(batch)
    for name in spec.fields:
        declared = spec.args_model.model_fields[name]
        schema = openapi.flatten(writable[name])
        limits = {type(m).__name__: m for m in declared.metadata}
        if "maxLength" in schema:
            assert str(schema["maxLength"]) in repr(limits), f"{name}: maxLength {schema['maxLength']}"
        if "enum" in schema:
            literal = next(a for a in _flatten_args(declared.annotation) if typing.get_origin(a) is typing.Literal)
            assert set(typing.get_args(literal)) == set(schema["enum"]) - {"UNKNOWN", None}


def _flatten_args(annotation: Any) -> list[Any]:
    found = [annotation]
    for arg in typing.get_args(annotation):
        found += _flatten_args(arg)
    return found


# --- check -------------------------------------------------------------------------------------------


def test_valid_inputs_pass(settings_type_name: str) -> None:
    checked, failures = check_inputs(SETTINGS_TYPES[settings_type_name], inputs_of(settings_type_name))
    assert failures == []
    assert checked == {k: v for k, v in checked.items() if k in SETTINGS_TYPES[settings_type_name].inputs}


def test_computed_placeholders_and_the_pickle_are_not_inputs(settings_type_name: str) -> None:
    news = {**inputs_of(settings_type_name), "__provider": "x", "created_at": None, "modified_at": None}
    checked, failures = check_inputs(SETTINGS_TYPES[settings_type_name], news)
    assert failures == [] and "__provider" not in checked and "created_at" not in checked


@pytest.mark.parametrize("account_id", [None, "", "abc", "g" * 32, 12, "023e105f4ecef8ad9ca31a8372d0c3533"])
def test_bad_account_ids(settings_type_name: str, account_id: Any) -> None:
    reason = failures_of(settings_type_name, inputs_of(settings_type_name, account_id=account_id))["account_id"]
    assert reason.startswith("account_id: ") and "32 hexadecimal characters" in reason


def test_unknown_inputs_are_named(settings_type_name: str) -> None:
    reason = failures_of(settings_type_name, inputs_of(settings_type_name, colour="blue"))["colour"]
    assert "not an input" in reason and "account_id" in reason


def test_missing_required_fields_are_named(settings_type_name: str) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    for name in (n for n in spec.fields if spec.required(n)):
        news = inputs_of(settings_type_name)
        del news[name]
        assert failures_of(settings_type_name, news)[name] == f"{name}: is required"


def test_unknown_values_are_not_checked(settings_type_name: str) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    for value in (UNKNOWN, Unknown()):
        news = {k: value for k in spec.inputs}
        assert check_inputs(spec, news)[1] == []


def test_allow_policy_specific_rules() -> None:
    name = "AllowPolicy"
    assert "use is_trusted_sender" in failures_of(name, inputs_of(name, is_sender=True))["is_sender"]
    assert "UNKNOWN is deprecated" in failures_of(name, inputs_of(name, pattern_type="UNKNOWN"))["pattern_type"]
    assert "EMAIL, DOMAIN or IP" in failures_of(name, inputs_of(name, pattern_type="UNKNOWN"))["pattern_type"]
    assert "valid boolean" in failures_of(name, inputs_of(name, is_regex="true"))["is_regex"]
    assert "1024" in failures_of(name, inputs_of(name, comments="x" * 1025))["comments"]
    assert "1" in failures_of(name, inputs_of(name, pattern=""))["pattern"]
    assert "domain name" in failures_of(name, inputs_of(name, pattern="not a domain"))["pattern"]
    assert "email address" in failures_of(name, inputs_of(name, pattern_type="EMAIL"))["pattern"]
    assert "public IP address" in failures_of(name, inputs_of(name, pattern="10.1.2.3", pattern_type="IP"))["pattern"]
    assert "regular expression" in failures_of(name, inputs_of(name, pattern="(", is_regex=True))["pattern"]
    assert failures_of(name, inputs_of(name, pattern=r".*\.partner\.example", is_regex=True)) == {}


def test_integral_floats_become_ints() -> None:
    from pulumi_cloudflare_email_security.settings.base import integral_floats_to_ints

    assert integral_floats_to_ints([3.0, 2.5, "x"]) == [3, 2.5, "x"]
    assert type(integral_floats_to_ints(3.0)) is int


# --- diff --------------------------------------------------------------------------------------------


def outputs_of(type_name: str, /, **changes: Any) -> dict[str, Any]:
    return {**inputs_of(type_name), "created_at": "t0", "modified_at": "t1", "__provider": "old-pickle", **changes}


def test_no_diff_when_only_the_pickle_or_computed_fields_differ(settings_type_name: str) -> None:
    provider = PROVIDERS[settings_type_name]()
    news = {**inputs_of(settings_type_name), "__provider": "new-pickle"}
    diff = provider.diff("id", outputs_of(settings_type_name, modified_at="t9"), news)
    assert (diff.changes, diff.replaces) == (False, [])


def test_changes_are_updates_and_account_changes_replace(settings_type_name: str) -> None:
    provider = PROVIDERS[settings_type_name]()
    changed = provider.diff(
        "id", outputs_of(settings_type_name), inputs_of(settings_type_name, **CHANGED_INPUTS[settings_type_name])
    )
    assert (changed.changes, changed.replaces) == (True, [])
    moved = provider.diff(
        "id", outputs_of(settings_type_name), inputs_of(settings_type_name, account_id=OTHER_ACCOUNT_ID)
    )
    assert (moved.changes, moved.replaces, moved.delete_before_replace) == (True, ["account_id"], False)


def test_leaving_out_a_clearable_field_clears_it() -> None:
    provider, spec = PROVIDERS["AllowPolicy"](), SETTINGS_TYPES["AllowPolicy"]
    news = {k: v for k, v in inputs_of("AllowPolicy").items() if k != "comments"}
    assert provider.diff("id", outputs_of("AllowPolicy"), news).changes is True
    assert spec.update_body(check_inputs(spec, news)[0])["comments"] is None
    assert provider.diff("id", outputs_of("AllowPolicy", comments=None), news).changes is False


def test_numbers_from_the_engine_compare_equal_to_ints() -> None:
    spec = SETTINGS_TYPES["AllowPolicy"]
    assert spec.changed_inputs({"x": 3}, {"x": 3.0}) == []


# --- the provider is stateless and pickles by reference ------------------------------------------------


def test_providers_pickle_by_reference(settings_type_name: str) -> None:
    provider = PROVIDERS[settings_type_name]()
    data = dill.dumps(provider, protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    assert len(data) < 300
    assert type(dill.loads(data)) is PROVIDERS[settings_type_name]


# --- CRUD over the respx emulator --------------------------------------------------------------------


def test_crud(settings_type_name: str, cloudflare: mock_cloudflare) -> None:
    provider, spec = PROVIDERS[settings_type_name](), SETTINGS_TYPES[settings_type_name]
    checked, _ = check_inputs(spec, inputs_of(settings_type_name))
    created = provider.create(checked)
    assert created.outs is not None and created.outs["created_at"]
    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs == created.outs
    news, _ = check_inputs(spec, inputs_of(settings_type_name, **CHANGED_INPUTS[settings_type_name]))
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs is not None
    assert provider.read(created.id, created.outs).outs == updated.outs
    provider.delete(created.id, updated.outs)
    assert provider.read(created.id, updated.outs).id is None
    provider.delete(created.id, updated.outs)
    assert cloudflare.backend.entries(ACCOUNT_ID, spec.collection) == []


# --- each type's own rules ------------------------------------------------------------------------------

BAD_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("BlockedSender", {"pattern_type": "UNKNOWN"}, "pattern_type", "UNKNOWN is deprecated"),
    ("BlockedSender", {"pattern": "192.168.1.1", "pattern_type": "IP"}, "pattern", "is private"),
    ("TrustedDomain", {"pattern": "[", "is_regex": True}, "pattern", "regular expression"),
    ("TrustedDomain", {"is_recent": "true"}, "is_recent", "valid boolean"),
    ("ImpersonationRegistryEntry", {"email": "not-an-address"}, "email", "email address"),
    ("ImpersonationRegistryEntry", {"email": "(", "is_email_regex": True}, "email", "regular expression"),
    ("ImpersonationRegistryEntry", {"name": "x" * 1025}, "name", "1024"),
    ("ImpersonationRegistryEntry", {"provenance": "A1S_INTERNAL"}, "provenance", "not an input"),
    ("ImpersonationRegistryEntry", {"external_directory_node_id": "x"}, "external_directory_node_id", "deprecated"),
    ("SendingDomainRestriction", {"exclude": "legacy.bank.example"}, "exclude", "valid list"),
    ("SendingDomainRestriction", {"exclude": [1]}, "exclude", "valid string"),
    ("UrlIgnorePattern", {"pattern": ""}, "pattern", "at least 1"),
    ("ProtectedDomain", {"domain": "not a domain"}, "domain", "domain name"),
    ("ProtectedDomain", {"allowed_delivery_modes": []}, "allowed_delivery_modes", "at least 1"),
    ("ProtectedDomain", {"allowed_delivery_modes": ["SMOKE_SIGNAL"]}, "allowed_delivery_modes", "'DIRECT'"),
    ("ProtectedDomain", {"regions": ["GLOBAL"] * 11}, "regions", "at most 10"),
    ("ProtectedDomain", {"drop_dispositions": ["LOUD"]}, "drop_dispositions", "'MALICIOUS'"),
    ("ProtectedDomain", {"ip_restrictions": ["not-an-ip"]}, "ip_restrictions", "IP address or CIDR"),
    ("ProtectedDomain", {"ip_restrictions": ["203.0.113.1"] * 101}, "ip_restrictions", "at most 100"),
    ("ProtectedDomain", {"lookback_hops": 21}, "lookback_hops", "less than or equal to 20"),
    ("ProtectedDomain", {"lookback_hops": 0.0}, "lookback_hops", "greater than or equal to 1"),
    ("ProtectedDomain", {"lookback_hops": 2.5}, "lookback_hops", "valid integer"),
    ("ProtectedDomain", {"folder": "Spam"}, "folder", "'AllItems'"),
    ("ProtectedDomain", {"integration_id": "abc"}, "integration_id", "UUID"),
    ("ProtectedDomain", {"unprotect_on_destroy": "yes"}, "unprotect_on_destroy", "true or false"),
]


@pytest.mark.parametrize(("name", "changes", "field", "says"), BAD_INPUTS)
def test_type_rules(name: str, changes: dict[str, Any], field: str, says: str) -> None:
    reason = failures_of(name, inputs_of(name, **changes))[field]
    assert reason.startswith(f"{field}") and says in reason, reason


def test_integral_floats_from_the_engine_are_accepted_for_integers() -> None:
    checked, failures = check_inputs(SETTINGS_TYPES["ProtectedDomain"], inputs_of("ProtectedDomain", lookback_hops=4.0))
    assert failures == [] and checked["lookback_hops"] == 4 and type(checked["lookback_hops"]) is int


# --- adoption at the request level ---------------------------------------------------------------------


def test_adoption_by_key_lists_with_the_key_filters_then_patches(
    settings_type_name: str, cloudflare: mock_cloudflare
) -> None:
    spec, provider = SETTINGS_TYPES[settings_type_name], PROVIDERS[settings_type_name]()
    existing = cloudflare.backend.create(ACCOUNT_ID, spec.collection, spec.create_body(inputs_of(settings_type_name)))
    checked, _ = check_inputs(spec, inputs_of(settings_type_name, adopt_existing=True))
    cloudflare.requests.clear()
    created = provider.create(checked)
    assert created.id == existing["id"] and created.outs and created.outs["adopted"] is True
    methods = [r.method for r in cloudflare.requests]
    assert methods == ["GET", "PATCH"]  # the listing found it; no POST, no second GET
    listing = cloudflare.requests[0]
    for key in spec.key_filters:
        assert listing.url.params[key] == str(checked[key])


def test_updates_to_directory_synced_entries_are_refused(cloudflare: mock_cloudflare) -> None:
    provider = PROVIDERS["ImpersonationRegistryEntry"]()
    olds = {**inputs_of("ImpersonationRegistryEntry"), "provenance": "SNOOPY-GOOGLE_DIRECTORY"}
    with pytest.raises(InputError, match="synced from a directory"):
        provider.update("some-id", olds, inputs_of("ImpersonationRegistryEntry"))
    assert cloudflare.requests == []
