"""Diffs settle whatever the API does with order and letter case (issue 8, point 6).

An API may answer with set-like lists in another order and with domain names and email addresses
lower-cased. Against an emulator that does both (``Backend(normalise=True)``), every settings type settles
after create, update and refresh, through the gRPC path ``pulumi up`` takes; a real change still shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_cloudflare_email_security.emulator import Backend, EmulatorServer, Fault, Router, mock_cloudflare
from pulumi_cloudflare_email_security.emulator.failures import ApiFailure
from pulumi_cloudflare_email_security.registry import PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import UNKNOWN, SettingsType
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, assert_no_canary, provider_env
from .samples import API_CREATE_BODIES, OUT_OF_BAND_EDIT, SAMPLE_INPUTS

MIXED_CREATE: dict[str, dict[str, Any]] = {
    "AllowPolicy": {"pattern": "Partner.EXAMPLE"},
    "BlockedSender": {"pattern": "Phisher@Bad-Actor.Example", "pattern_type": "EMAIL"},
    "TrustedDomain": {"pattern": "Newly-Acquired.Example"},
    "ImpersonationRegistryEntry": {"email": "Dana.Chief@Corp.Example"},
    "SendingDomainRestriction": {"domain": "Bank.Example", "exclude": ["Legacy.Bank.Example", "alpha.bank.example"]},
    "UrlIgnorePattern": {"pattern": "https://Intranet.Corp.Example/Docs/*"},
    "ProtectedDomain": {
        "domain": "Corp.Example",
        "allowed_delivery_modes": ["JOURNAL", "API"],
        "regions": ["US", "DE"],
        "drop_dispositions": ["SPOOF", "MALICIOUS"],
        "ip_restrictions": ["198.51.100.0/24", "192.0.2.0/24"],
    },
    "ContentPolicy": {"targets": ["SUBJECT", "BODY"]},
}
"""Inputs (over the samples) in mixed case and unsorted order, as people write them."""

MIXED_UPDATE: dict[str, dict[str, Any]] = {
    "AllowPolicy": {"pattern": "Sender@Partner.Example", "pattern_type": "EMAIL", "verify_sender": False},
    "BlockedSender": {"pattern": "Bad-Actor.EXAMPLE", "pattern_type": "DOMAIN", "comments": "The whole domain"},
    "TrustedDomain": {"pattern": "Other.Newly-Acquired.Example", "is_similarity": True},
    "ImpersonationRegistryEntry": {"email": "DANA@Corp.Example", "name": "Dana Chief (CEO)"},
    "SendingDomainRestriction": {"exclude": ["Zeta.Bank.Example", "legacy.BANK.example", "Old.Bank.Example"]},
    "UrlIgnorePattern": {"comments": "Internal docs, reviewed"},
    "ProtectedDomain": {"regions": ["US", "AU", "DE"], "drop_dispositions": ["SPOOF", "MALICIOUS-BEC", "MALICIOUS"]},
    "ContentPolicy": {"pattern": r"(?i)\bwire\s+transfer\b.*\btoday\b", "enabled": False},
}
"""A real change for each type (over ``MIXED_CREATE``), again in mixed case and unsorted order."""


def restated(spec: SettingsType, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` written otherwise with the same meaning: set-like lists reversed, case-insensitive values
    upper-cased."""
    result = dict(values)
    for name in spec.unordered:
        result[name] = list(reversed(result[name]))
    for rule in spec.case_insensitive:
        if rule.holds(values):
            value = result[rule.field]
            result[rule.field] = [v.upper() for v in value] if isinstance(value, list) else value.upper()
    return result


# --- the rules, on the declarations ------------------------------------------------------------------


def outputs_of(type_name: str, /, **changes: Any) -> dict[str, Any]:
    return {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name], "created_at": "t0", "modified_at": "t1", **changes}


def inputs_of(type_name: str, /, **changes: Any) -> dict[str, Any]:
    return {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name], **changes}


@pytest.mark.parametrize(
    ("name", "recorded", "declared", "changed"),
    [
        ("ProtectedDomain", {"regions": ["US", "DE"]}, {"regions": ["DE", "US"]}, []),
        ("ProtectedDomain", {"regions": ["US", "DE"]}, {"regions": ["US"]}, ["regions"]),
        ("ProtectedDomain", {"regions": ["US", "DE"]}, {"regions": ["US", "DE", "AU"]}, ["regions"]),
        ("ProtectedDomain", {"allowed_delivery_modes": ["API", "BCC"]}, {"allowed_delivery_modes": ["BCC", "API"]}, []),
        (
            "ProtectedDomain",
            {"drop_dispositions": ["MALICIOUS", "SPOOF"]},
            {"drop_dispositions": ["SPOOF", "MALICIOUS"]},
            [],
        ),
        (
            "ProtectedDomain",
            {"ip_restrictions": ["192.0.2.0/24", "198.51.100.0/24"]},
            {"ip_restrictions": ["198.51.100.0/24", "192.0.2.0/24"]},
            [],
        ),
        ("ProtectedDomain", {"domain": "corp.example"}, {"domain": "Corp.EXAMPLE"}, []),
        ("ProtectedDomain", {"domain": "corp.example"}, {"domain": "corp2.example"}, ["domain"]),
        (
            "SendingDomainRestriction",
            {"domain": "bank.example", "exclude": ["a.bank.example", "b.bank.example"]},
            {"domain": "Bank.Example", "exclude": ["B.bank.example", "a.BANK.example"]},
            [],
        ),
        (
            "SendingDomainRestriction",
            {"exclude": ["a.bank.example"]},
            {"exclude": ["a.bank.example", "b.bank.example"]},
            ["exclude"],
        ),
        ("AllowPolicy", {"pattern": "partner.example"}, {"pattern": "Partner.Example"}, []),
        (
            "AllowPolicy",
            {"pattern": "sender@partner.example", "pattern_type": "EMAIL"},
            {"pattern": "Sender@Partner.example", "pattern_type": "EMAIL"},
            [],
        ),
        (
            "AllowPolicy",
            {"pattern": r"partner\.example", "is_regex": True},
            {"pattern": r"Partner\.example", "is_regex": True},
            ["pattern"],
        ),
        (
            "AllowPolicy",
            {"pattern": "partner.example", "is_regex": True},
            {"pattern": "Partner.example", "is_regex": False},
            ["pattern", "is_regex"],
        ),
        ("AllowPolicy", {"comments": "Partner relay"}, {"comments": "partner relay"}, ["comments"]),
        ("AllowPolicy", {}, {"pattern": "Partner.Example", "pattern_type": UNKNOWN}, ["pattern", "pattern_type"]),
        ("BlockedSender", {"pattern": "bad-actor.example"}, {"pattern": "BAD-ACTOR.example"}, []),
        ("BlockedSender", {"pattern": "bad.*", "is_regex": True}, {"pattern": "BAD.*", "is_regex": True}, ["pattern"]),
        ("TrustedDomain", {"pattern": "newly-acquired.example"}, {"pattern": "Newly-Acquired.Example"}, []),
        ("TrustedDomain", {"pattern": "new.*", "is_regex": True}, {"pattern": "New.*", "is_regex": True}, ["pattern"]),
        ("ImpersonationRegistryEntry", {"email": "dana.chief@corp.example"}, {"email": "Dana.Chief@Corp.Example"}, []),
        (
            "ImpersonationRegistryEntry",
            {"email": r"dana.*@corp\.example", "is_email_regex": True},
            {"email": r"Dana.*@corp\.example", "is_email_regex": True},
            ["email"],
        ),
        ("ImpersonationRegistryEntry", {"name": "Dana Chief"}, {"name": "DANA CHIEF"}, ["name"]),
        (
            "UrlIgnorePattern",
            {"pattern": "https://intranet.corp.example/docs/*"},
            {"pattern": "https://intranet.corp.example/Docs/*"},
            ["pattern"],
        ),
        ("ContentPolicy", {"targets": ["SUBJECT", "BODY"]}, {"targets": ["BODY", "SUBJECT"]}, []),
        ("ContentPolicy", {"targets": ["SUBJECT", "BODY"]}, {"targets": ["SUBJECT"]}, ["targets"]),
        ("ContentPolicy", {"pattern": "wire transfer"}, {"pattern": "Wire Transfer"}, ["pattern"]),
        ("ContentPolicy", {"name": "Wire fraud"}, {"name": "WIRE FRAUD"}, ["name"]),
    ],
)
def test_order_and_case_rules(
    name: str, recorded: dict[str, Any], declared: dict[str, Any], changed: list[str]
) -> None:
    spec = SETTINGS_TYPES[name]
    assert spec.changed_inputs(outputs_of(name, **recorded), inputs_of(name, **{**recorded, **declared})) == changed


def test_a_case_only_change_of_a_domain_is_no_replacement() -> None:
    provider = PROVIDERS["ProtectedDomain"]()
    diff = provider.diff("id", outputs_of("ProtectedDomain"), inputs_of("ProtectedDomain", domain="CORP.Example"))
    assert (diff.changes, diff.replaces) == (False, [])
    diff = provider.diff("id", outputs_of("ProtectedDomain"), inputs_of("ProtectedDomain", domain="other.example"))
    assert (diff.changes, diff.replaces) == (True, ["domain"])


def test_values_restated_in_another_order_or_case_are_no_change(settings_type_name: str) -> None:
    name, spec = settings_type_name, SETTINGS_TYPES[settings_type_name]
    values = inputs_of(name, **MIXED_CREATE[name])
    assert spec.changed_inputs({**values, "created_at": "t0"}, restated(spec, values)) == []


def test_declarations_name_fields_of_the_right_kind(settings_type_name: str) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    fields = spec.args_model.model_fields
    for name in spec.unordered:
        assert "list[" in str(fields[name].annotation), f"{name} is declared unordered but is not a list"
    for rule in spec.case_insensitive:
        assert rule.field in fields
        assert rule.unless is None or rule.unless in fields
        assert rule.only_if is None or rule.only_if[0] in fields


def test_reads_keep_declared_values_that_the_api_only_reordered_or_lowercased() -> None:
    spec = SETTINGS_TYPES["ProtectedDomain"]
    recorded = outputs_of("ProtectedDomain", **MIXED_CREATE["ProtectedDomain"])
    entry = {
        **recorded,
        "domain": "corp.example",
        "regions": ["DE", "US"],
        "allowed_delivery_modes": ["API", "JOURNAL"],
        "modified_at": "t2",
    }
    outs = spec.outputs_from_entry(recorded, entry)
    assert outs["domain"] == "Corp.Example" and outs["regions"] == ["US", "DE"]
    assert outs["allowed_delivery_modes"] == ["JOURNAL", "API"] and outs["modified_at"] == "t2"

    changed = spec.outputs_from_entry(recorded, {**entry, "regions": ["GLOBAL"], "lookback_hops": 5})
    assert changed["regions"] == ["GLOBAL"] and changed["lookback_hops"] == 5 and changed["domain"] == "Corp.Example"


def test_reads_report_a_value_that_changed_meaning() -> None:
    spec = SETTINGS_TYPES["BlockedSender"]
    recorded = outputs_of("BlockedSender", pattern="Bad-Actor.Example")
    assert (
        spec.outputs_from_entry(recorded, {**recorded, "pattern": "bad-actor.example"})["pattern"]
        == "Bad-Actor.Example"
    )
    # Made a regex out of band: case now counts, so the API's value is the truth.
    regex = spec.outputs_from_entry(recorded, {**recorded, "pattern": "bad-actor.example", "is_regex": True})
    assert (regex["pattern"], regex["is_regex"]) == ("bad-actor.example", True)


# --- the normalising emulator --------------------------------------------------------------------------


def test_the_emulator_stores_as_written_unless_asked_to_normalise() -> None:
    spec = SETTINGS_TYPES["ProtectedDomain"]
    body = spec.create_body(inputs_of("ProtectedDomain", **MIXED_CREATE["ProtectedDomain"]))
    as_written = Backend().create(ACCOUNT_ID, "domains", body)
    assert {k: as_written[k] for k in body} == body

    normalising = Backend(normalise=True)
    entry = normalising.create(ACCOUNT_ID, "domains", body)
    assert entry["domain"] == "corp.example"
    assert entry["regions"] == ["DE", "US"] and entry["ip_restrictions"] == ["192.0.2.0/24", "198.51.100.0/24"]
    edited = normalising.edit(ACCOUNT_ID, "domains", entry["id"], {"domain": "CORP.example", "regions": ["US", "AU"]})
    assert (edited["domain"], edited["regions"]) == ("corp.example", ["AU", "US"])
    with pytest.raises(ApiFailure) as refused:
        normalising.create(ACCOUNT_ID, "domains", {**body, "domain": "CORP.EXAMPLE"})
    assert refused.value.status == 409


@pytest.mark.parametrize(
    ("collection", "body", "field", "stored"),
    [
        (
            "allow_policies",
            {"pattern": "Sender@Partner.Example", "pattern_type": "EMAIL"},
            "pattern",
            "sender@partner.example",
        ),
        ("allow_policies", {"pattern": r"Partner\.Example", "is_regex": True}, "pattern", r"Partner\.Example"),
        ("block_senders", {"pattern": "Bad-Actor.Example", "pattern_type": "DOMAIN"}, "pattern", "bad-actor.example"),
        ("trusted_domains", {"pattern": "Partner.Example"}, "pattern", "partner.example"),
        ("trusted_domains", {"pattern": "Partner.*", "is_regex": True}, "pattern", "Partner.*"),
        ("impersonation_registry", {"email": "CEO@Corp.Example"}, "email", "ceo@corp.example"),
        ("impersonation_registry", {"name": "The CEO"}, "name", "The CEO"),
        (
            "sending_domain_restrictions",
            {"exclude": ["Z.corp.example", "a.corp.example"]},
            "exclude",
            ["a.corp.example", "z.corp.example"],
        ),
        (
            "url_ignore_patterns",
            {"pattern": "https://Intranet.Corp.Example/Docs/*"},
            "pattern",
            "https://Intranet.Corp.Example/Docs/*",
        ),
        ("content_policies", {"pattern": "(?i)Wire Transfer"}, "pattern", "(?i)Wire Transfer"),
        ("content_policies", {"name": "Wire Fraud"}, "name", "Wire Fraud"),
        ("content_policies", {"targets": ["SUBJECT", "BODY"]}, "targets", ["BODY", "SUBJECT"]),
    ],
)
def test_the_normalising_emulator_lowercases_names_and_addresses_only(
    collection: str, body: dict[str, Any], field: str, stored: Any
) -> None:
    entry = Backend(normalise=True).create(ACCOUNT_ID, collection, {**API_CREATE_BODIES[collection], **body})
    assert entry[field] == stored


# --- through the gRPC provider, against the normalising emulator over HTTP ----------------------------


@pytest.fixture(scope="module")
def _normalising_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(Router(Backend(normalise=True))) as server:
        yield server


@pytest.fixture(scope="module")
def _normalising_provider(_normalising_server: EmulatorServer) -> Iterator[ProviderProcess]:
    with ProviderProcess(provider_env(_normalising_server.base_url, CLOUDFLARE_API_TOKEN=CANARY)) as process:
        yield process


@pytest.fixture
def normalising_server(_normalising_server: EmulatorServer) -> EmulatorServer:
    """The normalising emulator over HTTP (one per module), emptied at the start of each test."""
    _normalising_server.router.backend.reset()
    _normalising_server.router.faults.clear()
    return _normalising_server


@pytest.fixture
def provider(_normalising_provider: ProviderProcess, normalising_server: EmulatorServer) -> Iterator[ProviderProcess]:
    """The provider process, pointed at the normalising emulator; the token must show up nowhere."""
    yield _normalising_provider
    assert_no_canary(_normalising_provider, CANARY)


def checked(provider: ProviderProcess, name: str, news: dict[str, Any]) -> dict[str, Any]:
    outcome = provider.check(name, news)
    assert outcome.failures == []
    return outcome.inputs


def refreshed_without_diff(
    provider: ProviderProcess, name: str, id_: str, outs: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    """Refresh twice: the outputs keep the declared values and do not flap, and the next preview is quiet."""
    read_id, first = provider.read(name, id_, outs)
    _, second = provider.read(name, id_, first)
    assert read_id == id_ and second == first
    for field in SETTINGS_TYPES[name].fields:
        if inputs.get(field) is not None:
            assert first[field] == inputs[field], f"{field}: the output changed from what the program declared"
    assert provider.diff(name, id_, first, inputs).changes == "DIFF_NONE"
    return first


def test_diffs_settle_against_a_normalising_api(
    settings_type_name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    normalising_server: EmulatorServer,
) -> None:
    name, spec = settings_type_name, SETTINGS_TYPES[settings_type_name]
    backend = normalising_server.router.backend

    declared = checked(provider, name, {**registered[name], **MIXED_CREATE[name]})
    id_, outs = provider.create(name, declared)
    entry = backend.get(ACCOUNT_ID, spec.collection, id_)
    given = [f for f in spec.fields if declared.get(f) is not None]
    assert any(entry[f] != declared[f] for f in given) == bool(spec.unordered or spec.case_insensitive)
    assert all(spec.same_value(f, declared[f], declared, entry[f], entry) for f in given)
    settled = refreshed_without_diff(provider, name, id_, outs, declared)
    assert provider.diff(name, id_, settled, restated(spec, declared)).changes == "DIFF_NONE"

    changed = checked(provider, name, {**registered[name], **MIXED_CREATE[name], **MIXED_UPDATE[name]})
    assert provider.diff(name, id_, settled, changed).changes == "DIFF_SOME"
    updated = provider.update(name, id_, settled, changed)
    assert provider.diff(name, id_, updated, changed).changes == "DIFF_NONE"
    settled = refreshed_without_diff(provider, name, id_, updated, changed)

    backend.edit(ACCOUNT_ID, spec.collection, id_, OUT_OF_BAND_EDIT[name])
    entry = backend.get(ACCOUNT_ID, spec.collection, id_)
    _, drifted = provider.read(name, id_, settled)
    for field in OUT_OF_BAND_EDIT[name]:
        assert drifted[field] == entry[field]
    assert provider.diff(name, id_, drifted, changed).changes == "DIFF_SOME"
    repaired = provider.update(name, id_, drifted, changed)
    refreshed_without_diff(provider, name, id_, repaired, changed)


def test_adoption_finds_the_entry_the_api_stored_in_another_case(
    settings_type_name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    normalising_server: EmulatorServer,
) -> None:
    name, spec = settings_type_name, SETTINGS_TYPES[settings_type_name]
    backend = normalising_server.router.backend
    news = {**registered[name], **MIXED_CREATE[name]}
    existing = backend.create(ACCOUNT_ID, spec.collection, spec.create_body(news))
    declared = checked(provider, name, {**news, "adopt_existing": True})
    id_, outs = provider.create(name, declared)
    assert id_ == existing["id"] and outs["adopted"] is True
    assert [e["id"] for e in backend.entries(ACCOUNT_ID, spec.collection)] == [id_]
    refreshed_without_diff(provider, name, id_, outs, declared)


def test_a_protected_domain_in_another_case_is_adopted_not_onboarded_again(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, normalising_server: EmulatorServer
) -> None:
    backend = normalising_server.router.backend
    existing = backend.create(
        ACCOUNT_ID, "domains", SETTINGS_TYPES["ProtectedDomain"].create_body(SAMPLE_INPUTS["ProtectedDomain"])
    )
    declared = checked(provider, "ProtectedDomain", {**registered["ProtectedDomain"], "domain": "CORP.Example"})
    id_, outs = provider.create("ProtectedDomain", declared)
    assert (id_, outs["adopted"], outs["domain"]) == (existing["id"], True, "CORP.Example")


# --- a lost answer, in process ---------------------------------------------------------------------


def test_a_post_whose_answer_was_lost_is_found_although_the_api_normalised_it(
    settings_type_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, spec = settings_type_name, SETTINGS_TYPES[settings_type_name]
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    with mock_cloudflare(backend=Backend(normalise=True)) as cf:
        cf.faults.add(Fault("reset_after", method="POST", count=1))
        declared, failures = check_inputs(spec, inputs_of(name, **MIXED_CREATE[name]))
        assert failures == []
        created = PROVIDERS[name]().create(declared)
        assert [e["id"] for e in cf.backend.entries(ACCOUNT_ID, spec.collection)] == [created.id]
        assert [r.method for r in cf.requests].count("POST") == 1
