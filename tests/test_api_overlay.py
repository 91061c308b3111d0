"""The API overlay: the published spec stays as published, every change applies and names its source, and the
emulator, the check rules, the client and the lookups answer as the overlaid spec (today's API) says."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import typing
from importlib import resources
from typing import Any

import httpx
import jsonpatch
import pytest

from pulumi_cloudflare_email_security import lookups
from pulumi_cloudflare_email_security.emulator import Backend, mock_cloudflare, openapi, rules
from pulumi_cloudflare_email_security.formats import REFUSED_IP_NETWORKS, pattern_problem
from pulumi_cloudflare_email_security.registry import PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID, CANARY
from .samples import API_CREATE_BODIES, CHANGED_INPUTS, SAMPLE_INPUTS, numbered_body

PUBLISHED_SHA256 = "d2adad9f083d92fa470f6e9af359ea323f148f5df9fcfd4adc667ff1137f1fbd"
"""Of ``openapi.json`` as extracted from cloudflare/api-schemas at 3e0d2fa (2026-07-20)."""
SDK_ROWS = range(1, 14)
"""The rows of ``newer-sdk-5.9.0.md`` that change (or leave as they are) the existing collections."""
BASE = "https://api.cloudflare.com/client/v4"
PATTERN_TYPED = {"allow_policies": "AllowPolicy", "block_senders": "BlockedSender"}


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = openapi.document()["components"]["schemas"][name]
    return found


def url(collection: str, *rest: str) -> str:
    return "/".join([f"/accounts/{ACCOUNT_ID}/email-security/settings/{collection}", *rest])


@pytest.fixture
def api() -> Any:
    with mock_cloudflare() as cf:
        cf.http = httpx.Client(base_url=BASE, headers={"Authorization": f"Bearer {CANARY}"})
        yield cf


def ok(reply: httpx.Response) -> Any:
    assert reply.status_code in (200, 201), reply.text
    return reply.json()["result"]


def refused(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 400, reply.text
    return [e["message"] for e in reply.json()["errors"]]


# --- the overlay itself -------------------------------------------------------------------------------------


def test_the_published_spec_stays_as_published() -> None:
    shipped = resources.files(openapi.__package__).joinpath("openapi.json").read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == PUBLISHED_SHA256
    openapi.document()
    assert openapi.published_document() == json.loads(shipped)
    assert openapi.document() != openapi.published_document()


def test_every_change_applies_in_order_and_names_its_source() -> None:
    changes = openapi.api_changes()
    assert [c.name for c in changes] == sorted(c.name for c in changes)
    current = openapi.published_document()
    for change in changes:
        assert re.fullmatch(r"\d\d-[a-z0-9]+(?:-[a-z0-9]+)*", change.name), change.name
        assert change.summary.strip() and change.source.strip(), change.name
        current = jsonpatch.apply_patch(current, list(change.patch))
    assert current == openapi.document()


def test_every_row_of_the_sdk_differences_has_its_file() -> None:
    numbers = [change.name[:2] for change in openapi.api_changes()]
    assert len(numbers) == len(set(numbers)), "one file per row"
    assert {f"{row:02d}" for row in SDK_ROWS} <= set(numbers)
    empty = {c.name[:2] for c in openapi.api_changes() if not c.patch}
    assert all("nothing" in c.summary.lower() for c in openapi.api_changes() if c.name[:2] in empty)


# --- 01, 02: a domain's status is upper case -----------------------------------------------------------------


def test_what_the_emulator_fills_in_is_what_todays_spec_allows() -> None:
    for collection, defaults in rules.CREATE_DEFAULTS.items():
        entry_schema = {"$ref": f"#/components/schemas/{openapi.collections()[collection].entry_schema}"}
        assert openapi.schema_errors(entry_schema, defaults, writing=False) == [], collection


def test_domain_status_is_upper_case_in_every_answer(api: Any) -> None:
    statuses = schema("email-security_DomainStatus")["enum"]
    assert statuses == ["PENDING", "ACTIVE", "FAILED", "TIMEOUT", None]
    created = ok(api.http.post(url("domains"), json=API_CREATE_BODIES["domains"]))
    edited = ok(api.http.patch(url("domains", created["id"]), json={"lookback_hops": 4}))
    replaced = ok(api.http.put(url("domains", created["id"]), json=_replacement()))
    got = ok(api.http.get(url("domains", created["id"])))
    verification = ok(api.http.get(url("domains", created["id"], "verification")))
    listed = ok(api.http.get(url("domains")))
    batch = {"deletes": [], "patches": [], "puts": [], "posts": [numbered_body("domains", 1)]}
    batched = ok(api.http.post(url("domains", "batch"), json=batch))["posts"]
    answers = [created, edited, replaced, got, verification, *listed, *batched]
    assert {answer["status"] for answer in answers} == {"PENDING"}
    status = {"$ref": "#/components/schemas/email-security_DomainStatus"}
    assert openapi.schema_errors(status, "PENDING", writing=False) == []
    assert openapi.schema_errors(status, "pending", writing=False) != []


@pytest.mark.parametrize(("status", "other"), [("PENDING", "ACTIVE"), ("pending", "active"), ("Pending", "Active")])
def test_the_status_filter_takes_either_case(api: Any, status: str, other: str) -> None:
    created = ok(api.http.post(url("domains"), json=API_CREATE_BODIES["domains"]))
    assert [d["id"] for d in ok(api.http.get(url("domains"), params={"status": status}))] == [created["id"]]
    assert ok(api.http.get(url("domains"), params={"status": other})) == []
    assert refused(api.http.get(url("domains"), params={"status": "parked"})) == [
        "status: must be one of PENDING|ACTIVE|FAILED|TIMEOUT"
    ]


def test_a_state_saved_with_lower_case_statuses_answers_in_upper_case() -> None:
    backend = Backend()
    entry = backend.create(ACCOUNT_ID, "domains", API_CREATE_BODIES["domains"])
    backend.restore({"accounts": {ACCOUNT_ID: {"domains": {entry["id"]: {**entry, "status": "active"}}}}})
    assert backend.get(ACCOUNT_ID, "domains", entry["id"])["status"] == "ACTIVE"
    assert backend.seed(ACCOUNT_ID, "domains", {"domain": "seeded.example", "status": "failed"})["status"] == "FAILED"


@pytest.mark.parametrize("status", ["ACTIVE", "active"])
def test_the_domain_lookup_sends_upper_case(cloudflare: mock_cloudflare, status: Any) -> None:
    entry = cloudflare.backend.seed(ACCOUNT_ID, "domains", {**API_CREATE_BODIES["domains"], "status": "ACTIVE"})
    cloudflare.backend.seed(ACCOUNT_ID, "domains", {**numbered_body("domains", 1), "status": "PENDING"})
    assert [d.id for d in lookups.list_protected_domains(ACCOUNT_ID, status=status)] == [entry["id"]]
    assert cloudflare.requests[-1].url.params["status"] == "ACTIVE"
    statuses = schema("email-security_DomainStatus")["enum"]
    assert set(typing.get_args(lookups.DomainStatus)) == set(statuses) - {None}


# --- 03: no domain in a domain's PATCH ----------------------------------------------------------------------


def test_the_patch_body_and_batch_patches_of_domains_have_no_domain() -> None:
    api = openapi.collections()["domains"]
    assert "domain" not in openapi.properties_of(api.item_bodies["patch"] or {})
    assert "domain" not in openapi.properties_of(api.batch_body["properties"]["patches"]["items"])  # type: ignore[index]


def test_every_patch_the_provider_sends_fits_the_patch_schema(
    settings_type_name: str, cloudflare: mock_cloudflare
) -> None:
    spec = SETTINGS_TYPES[settings_type_name]
    provider = PROVIDERS[settings_type_name]()
    inputs = {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[settings_type_name]}
    created = provider.create(check_inputs(spec, inputs)[0])
    news = check_inputs(spec, {**inputs, **CHANGED_INPUTS[settings_type_name]})[0]
    provider.update(created.id, created.outs, news)
    adopter = {**inputs, "adopt_id": created.id}
    provider.create(check_inputs(spec, adopter)[0])
    patches = [json.loads(r.content) for r in cloudflare.requests if r.method == "PATCH"]
    allowed = set(openapi.properties_of(openapi.collections()[spec.collection].item_bodies["patch"] or {}))
    assert len(patches) == 2 and all(set(body) <= allowed for body in patches), patches
    assert not any(set(body) & set(spec.replace_on) for body in patches)


# --- 04: lookback_hops may be left out of a domain's PUT -----------------------------------------------------


def _replacement(**changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in API_CREATE_BODIES["domains"].items() if k != "domain"}
    return {**body, **changes}


@pytest.mark.parametrize("lookback_hops", ["left out", None])
def test_a_domain_put_without_lookback_hops_keeps_the_default(api: Any, lookback_hops: Any) -> None:
    created = ok(api.http.post(url("domains"), json={**API_CREATE_BODIES["domains"], "lookback_hops": 5}))
    body = _replacement() if lookback_hops == "left out" else _replacement(lookback_hops=None)
    replaced = ok(api.http.put(url("domains", created["id"]), json=body))
    assert replaced["lookback_hops"] == rules.CREATE_DEFAULTS["domains"]["lookback_hops"]
    batch = {"deletes": [], "patches": [], "posts": [], "puts": [{"id": created["id"], **body}]}
    assert ok(api.http.post(url("domains", "batch"), json=batch))["puts"][0]["lookback_hops"] == 1
    assert "lookback_hops" not in schema("email-security_ReplaceDomain")["required"]
    assert refused(api.http.put(url("domains", created["id"]), json=_replacement(lookback_hops=21)))


# --- 06: the deprecated bulk delete may come without a body --------------------------------------------------


def test_a_bulk_delete_without_a_body_unprotects_nothing(api: Any) -> None:
    created = ok(api.http.post(url("domains"), json=API_CREATE_BODIES["domains"]))
    assert ok(api.http.delete(url("domains"))) == []
    assert [d["id"] for d in api.backend.entries(ACCOUNT_ID, "domains")] == [created["id"]]
    assert ok(api.http.request("DELETE", url("domains"), json=[{"id": created["id"]}])) == [{"id": created["id"]}]
    assert refused(api.http.request("DELETE", url("domains"), json=[]))


# --- 09, 10, 11: batch puts are full replacements, and every item names its entry --------------------------


def _required(schema_: dict[str, Any]) -> set[str]:
    """What a write must carry: the required properties, read-only ones aside, ``allOf`` parts included."""
    resolved = openapi.resolve(schema_)
    read_only = {k for k, v in openapi.properties_of(resolved).items() if v.get("readOnly")}
    found = set(resolved.get("required", [])) - read_only
    for part in resolved.get("allOf", []):
        found |= _required(part)
    return found


PUT_COLLECTIONS = sorted(
    c for c, a in openapi.collections().items() if a.batch_body and "puts" in a.batch_body["properties"]
)


@pytest.mark.parametrize("collection", PUT_COLLECTIONS)
def test_batch_puts_need_what_the_spec_requires(api: Any, collection: str) -> None:
    items = openapi.collections()[collection].batch_body["properties"]["puts"]["items"]  # type: ignore[index]
    required = _required(items) - {"id"}
    expected = {
        "block_senders": {"is_regex", "pattern", "pattern_type"},
        "trusted_domains": {"is_recent", "is_regex", "is_similarity", "pattern"},
    }
    assert required >= expected.get(collection, set())
    created = ok(api.http.post(url(collection), json=numbered_body(collection, 0)))
    bare = {"deletes": [], "patches": [], "posts": [], "puts": [{"id": created["id"]}]}
    reply = api.http.post(url(collection, "batch"), json=bare)
    if required:
        assert sorted(refused(reply)) == sorted(f"puts.0.{name}: is required" for name in required)
    full = {k: v for k, v in numbered_body(collection, 1).items() if k in openapi.properties_of(items)}
    replaced = ok(api.http.post(url(collection, "batch"), json={**bare, "puts": [{"id": created["id"], **full}]}))
    stored = api.backend.get(ACCOUNT_ID, collection, created["id"])
    assert replaced["puts"] == [stored] and stored["created_at"] == created["created_at"]
    assert all(stored[k] == v for k, v in full.items())
    no_id = {**bare, "puts": [full], "patches": [{"comments": "x"}]}
    messages = refused(api.http.post(url(collection, "batch"), json=no_id))
    assert any(m.startswith("puts.0.id:") for m in messages) and any(m.startswith("patches.0.id:") for m in messages)


# --- 12: IPv4 and IPv6 patterns, outside the refused ranges --------------------------------------------------

REFUSED_EXAMPLES = {
    "private": ["10.1.2.3", "172.16.0.0/12", "192.168.1.1"],
    "unique-local": ["fd00::1", "fc00::/7"],
    "loopback": ["127.0.0.1", "::1"],
    "link-local": ["169.254.10.1", "fe80::1", "fe80::/64"],
    "unspecified": ["0.0.0.0", "::"],
    "broadcast": ["255.255.255.255"],
    "IPv4-mapped": ["::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.0.1", "::ffff:0.0.0.0", "::ffff:c0a8:1"],
}
"""For each kind of address the overlaid description says the API refuses: addresses and blocks of it."""
ACCEPTED_EXAMPLES = ["8.8.8.8", "45.60.12.0/24", "2606:4700:4700::1111", "2001:DB8::/32", "::ffff:8.8.8.8"]


def _pattern_descriptions() -> list[str]:
    return [
        schema("email-security_AllowPolicy")["properties"]["pattern"]["description"],
        schema("email-security_BlockedSender")["properties"]["pattern"]["description"],
        schema("email-security_PatternType")["description"],
    ]


def test_the_ip_rule_takes_the_examples_the_spec_gives() -> None:
    for description in _pattern_descriptions():
        assert "IPv6" in description
        ip_part = description[description.index("IP") :]
        examples = [e for e in re.findall(r"`([^`]+)`", ip_part) if re.fullmatch(r"[0-9a-fA-F.:/]+", e)]
        assert any(":" in e for e in examples) and any("." in e for e in examples), examples
        for example in examples:
            ipaddress.ip_network(example, strict=False)
            assert pattern_problem(example, "IP") is None, example


def test_the_ip_rule_refuses_every_range_the_spec_names() -> None:
    for description in _pattern_descriptions():
        for kind in REFUSED_EXAMPLES:
            assert kind.lower() in description.lower(), kind
    assert {kind.removeprefix("IPv4-mapped ") for kind, _ in REFUSED_IP_NETWORKS} <= set(REFUSED_EXAMPLES)
    for examples in REFUSED_EXAMPLES.values():
        for example in examples:
            problem = pattern_problem(example, "IP")
            assert problem is not None and "public IP address" in problem, example
    for example in ACCEPTED_EXAMPLES:
        assert pattern_problem(example, "IP") is None, example


@pytest.mark.parametrize("collection", sorted(PATTERN_TYPED))
@pytest.mark.parametrize(
    ("pattern", "accepted"),
    [*((p, True) for p in ACCEPTED_EXAMPLES), ("fe80::1", False), ("::ffff:192.168.0.1", False), ("::/0", False)],
)
def test_check_and_the_emulator_agree_on_ip_patterns(api: Any, collection: str, pattern: str, accepted: bool) -> None:
    type_name = PATTERN_TYPED[collection]
    inputs = {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name], "pattern": pattern, "pattern_type": "IP"}
    failures = check_inputs(SETTINGS_TYPES[type_name], inputs)[1]
    body = {**API_CREATE_BODIES[collection], "pattern": pattern, "pattern_type": "IP", "is_regex": False}
    reply = api.http.post(url(collection), json=body)
    if accepted:
        assert failures == [] and reply.status_code == 201, reply.text
    else:
        assert [f.property for f in failures] == ["pattern"]
        assert [m.split(":")[0] for m in refused(reply)] == ["pattern"]


# --- 13: provenance may be null on create and edit -----------------------------------------------------------


def test_a_null_provenance_keeps_the_internal_default(api: Any) -> None:
    body = {**API_CREATE_BODIES["impersonation_registry"], "provenance": None}
    created = ok(api.http.post(url("impersonation_registry"), json=body))
    assert created["provenance"] == rules.DIRECTORY_INTERNAL
    edited = ok(api.http.patch(url("impersonation_registry", created["id"]), json={"provenance": None}))
    assert edited["provenance"] == rules.DIRECTORY_INTERNAL
    assert refused(api.http.post(url("impersonation_registry"), json={**body, "provenance": "LDAP"}))
    listing = openapi.collections()["impersonation_registry"].list_filters["provenance"]
    assert None not in listing["enum"]
