"""Check refuses what the API's formats refuse, whole values only, set-like lists without repeats, and quotes
nothing at length; lookups refuse a malformed account before any request."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

import pulumi_cloudflare_email_security as email_security
from pulumi_cloudflare_email_security import formats
from pulumi_cloudflare_email_security.emulator import mock_cloudflare, openapi
from pulumi_cloudflare_email_security.errors import ConfigurationError
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings import checking
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID
from .registration import register
from .samples import SAMPLE_INPUTS

UUID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"


def failures_of(type_name: str, **changes: Any) -> dict[str, str]:
    """Check the type's sample inputs with ``changes``: the failures, by property."""
    bag = {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS[type_name], **changes}
    return {f.property: f.reason for f in check_inputs(SETTINGS_TYPES[type_name], bag)[1]}


# --- every pattern matches whole values ----------------------------------------------------------------------

PATTERN_EXAMPLES = {
    "EMAIL_RE": "user@example.com",
    "DOMAIN_RE": "example.com",
    "ACCOUNT_ID_RE": ACCOUNT_ID,
    "UUID_RE": UUID,
    "ADOPT_ID_RE": f"{ACCOUNT_ID}/{UUID}",
}
"""A value each validation pattern accepts."""

PATTERNS = {
    name: value
    for module in (formats, checking)
    for name, value in vars(module).items()
    if isinstance(value, re.Pattern)
}


def test_every_validation_pattern_has_an_example() -> None:
    assert set(PATTERNS) == set(PATTERN_EXAMPLES)


@pytest.mark.parametrize("name", sorted(PATTERN_EXAMPLES))
@pytest.mark.parametrize("tail", ["\n", "\r\n", " ", "\n\n"])
def test_patterns_match_whole_values_only(name: str, tail: str) -> None:
    pattern, good = PATTERNS[name], PATTERN_EXAMPLES[name]
    assert pattern.fullmatch(good) and pattern.match(good)
    for bad in (good + tail, tail + good):
        assert not pattern.fullmatch(bad) and not pattern.match(bad) and not pattern.search(bad), repr(bad)


TRAILING_NEWLINE = [
    ("AllowPolicy", {"pattern": "partner.example\n", "pattern_type": "DOMAIN"}, "pattern"),
    ("AllowPolicy", {"pattern": "user@partner.example\n", "pattern_type": "EMAIL"}, "pattern"),
    ("BlockedSender", {"pattern": "bad-actor.example\n", "pattern_type": "DOMAIN"}, "pattern"),
    ("BlockedSender", {"pattern": "45.60.12.0/24\n", "pattern_type": "IP"}, "pattern"),
    ("ImpersonationRegistryEntry", {"email": "dana.chief@corp.example\n"}, "email"),
    ("SendingDomainRestriction", {"domain": "bank.example\n"}, "domain"),
    ("SendingDomainRestriction", {"exclude": ["legacy.bank.example\n"]}, "exclude"),
    ("ProtectedDomain", {"domain": "corp.example\n"}, "domain"),
    ("ProtectedDomain", {"integration_id": UUID + "\n"}, "integration_id"),
    ("ProtectedDomain", {"ip_restrictions": ["192.0.2.0/24\n"]}, "ip_restrictions"),
    ("UrlIgnorePattern", {"account_id": ACCOUNT_ID + "\n"}, "account_id"),
    ("UrlIgnorePattern", {"adopt_id": UUID + "\n"}, "adopt_id"),
    ("UrlIgnorePattern", {"adopt_id": f"{ACCOUNT_ID}/{UUID}\n"}, "adopt_id"),
]


def stripped(value: Any) -> Any:
    return [stripped(v) for v in value] if isinstance(value, list) else value.strip()


@pytest.mark.parametrize(("type_name", "changes", "field"), TRAILING_NEWLINE)
def test_a_trailing_newline_is_refused(type_name: str, changes: dict[str, Any], field: str) -> None:
    reason = failures_of(type_name, **changes)[field]
    assert reason.startswith(field) and "\\n" in reason, reason
    assert failures_of(type_name, **{k: stripped(v) for k, v in changes.items()}) == {}


# --- domain names -------------------------------------------------------------------------------------------

GOOD_DOMAINS = ["shop.xn--p1ai", "xn--bcher-kva.example", "mail.shop.XN--P1AI", "a.co", "x1.example", "a-b.example"]
BAD_DOMAINS = [
    "",
    "not a domain",
    "example",
    "-bad-.example",
    "bad-.example",
    "a..example",
    "example.com.",
    ".example.com",
    "shop.xn--",
    "shop.xn--p1ai-",
    "shop.x1",
    "shop.c",
    "x" * 64 + ".example",
    ".".join(["a" * 60] * 5) + ".example",
    "bank.example\n",
    "bänk.example",
]
Put = Callable[[str], dict[str, Any]]
DOMAIN_FIELDS: list[tuple[str, str, Put, Put]] = [
    ("AllowPolicy", "pattern", lambda d: {"pattern": d, "pattern_type": "DOMAIN"}, lambda d: {"pattern": d}),
    ("BlockedSender", "pattern", lambda d: {"pattern": d, "pattern_type": "DOMAIN"}, lambda d: {"pattern": d}),
    ("ImpersonationRegistryEntry", "email", lambda d: {"email": f"ceo@{d}"}, lambda d: {"email": f"ceo@{d}"}),
    ("SendingDomainRestriction", "domain", lambda d: {"domain": d, "exclude": []}, lambda d: {"domain": d}),
    (
        "SendingDomainRestriction",
        "exclude",
        lambda d: {"domain": d, "exclude": [f"mail.{d}"]},
        lambda d: {"exclude": ["legacy.bank.example", d]},
    ),
    ("ProtectedDomain", "domain", lambda d: {"domain": d}, lambda d: {"domain": d}),
]
"""Every field that holds a domain name (or ends in one), and how to put a good or a bad one into it."""


@pytest.mark.parametrize(("type_name", "field", "good", "bad"), DOMAIN_FIELDS)
@pytest.mark.parametrize("domain", GOOD_DOMAINS)
def test_domain_fields_take_domain_names_punycode_included(
    type_name: str, field: str, good: Put, bad: Put, domain: str
) -> None:
    assert failures_of(type_name, **good(domain)) == {}


@pytest.mark.parametrize(("type_name", "field", "good", "bad"), DOMAIN_FIELDS)
@pytest.mark.parametrize("domain", BAD_DOMAINS)
def test_domain_fields_refuse_what_is_not_a_domain_name(
    type_name: str, field: str, good: Put, bad: Put, domain: str
) -> None:
    reason = failures_of(type_name, **bad(domain))[field]
    says = r"must be .*(domain name|email address)|String should have at least 1 character"
    assert re.match(rf"{field}(\.1)?: ({says})", reason), reason


# --- what the spec gives a format ---------------------------------------------------------------------------

FORMAT_EXAMPLES: dict[str, tuple[str, list[str]]] = {
    "uuid": (
        UUID,
        [
            "not-a-uuid",
            "0123456789abcdef0123456789abcdef",
            "{f174e90a-fafe-4643-bbbc-4a0ed4fc8415}",
            "urn:uuid:f174e90a-fafe-4643-bbbc-4a0ed4fc8415",
            UUID + "\n",
            UUID[:-1] + "g",
            "",
        ],
    ),
}
"""For each ``format`` the spec uses on writable fields: a good value, and values that are not of it."""


def formatted_fields() -> list[tuple[str, str, str, bool]]:
    """Every writable field the spec gives a ``format`` (its items, for a list), with the settings type."""
    types_by_collection = {spec.collection: name for name, spec in SETTINGS_TYPES.items()}
    found = set()
    for collection, api in openapi.collections().items():
        bodies = [api.collection_bodies.get("post"), api.item_bodies.get("patch"), api.item_bodies.get("put")]
        for body in filter(None, bodies):
            for field, schema in openapi.properties_of(body).items():
                schema = openapi.flatten(schema)
                items = openapi.flatten(schema.get("items", {}))
                form = schema.get("format") or items.get("format")
                if form and not schema.get("readOnly"):
                    found.add((types_by_collection[collection], field, form, "items" in schema))
    return sorted(found)


FORMATTED = formatted_fields()


def test_the_spec_gives_formats_and_each_has_examples() -> None:
    assert ("ProtectedDomain", "integration_id", "uuid", False) in FORMATTED
    assert {form for _, _, form, _ in FORMATTED} <= set(FORMAT_EXAMPLES), "give examples of each new format"


@pytest.mark.parametrize(("type_name", "field", "form", "is_list"), FORMATTED)
def test_check_refuses_what_does_not_fit_the_spec_format(type_name: str, field: str, form: str, is_list: bool) -> None:
    good, bads = FORMAT_EXAMPLES[form]
    assert failures_of(type_name, **{field: [good] if is_list else good}) == {}
    post = openapi.collections()[SETTINGS_TYPES[type_name].collection].collection_bodies["post"]
    assert post is not None
    for bad in bads:
        value = [bad] if is_list else bad
        reason = failures_of(type_name, **{field: value})[field]
        assert reason.startswith(field) and "must be" in reason, reason
        spec_says = openapi.schema_errors(post, {field: value})
        assert any(m.startswith(field) for m in spec_says), f"the spec takes {bad!r}: pick another bad value"


def test_uuids_in_either_letter_case_are_accepted() -> None:
    assert failures_of("ProtectedDomain", integration_id=UUID.upper()) == {}


@pytest.mark.parametrize(
    "network", ["192.0.2.0/24", "192.0.2.7", "2001:db8::/32", "2001:DB8::1", "10.0.0.0/8", "192.0.2.7/24"]
)
def test_ip_restrictions_take_addresses_and_blocks(network: str) -> None:
    assert failures_of("ProtectedDomain", ip_restrictions=[network]) == {}


@pytest.mark.parametrize(
    "network", ["", "not-an-ip", "999.1.1.1", "192.0.2.0/33", "01.2.3.4", "fe80::1%eth0", " 192.0.2.7", "192.0.2.7\n"]
)
def test_ip_restrictions_refuse_what_is_not_an_address_or_block(network: str) -> None:
    reason = failures_of("ProtectedDomain", ip_restrictions=["192.0.2.0/24", network])["ip_restrictions"]
    assert reason.startswith("ip_restrictions.1: must be an IP address or CIDR block"), reason


# --- sending-domain restrictions ----------------------------------------------------------------------------


@pytest.mark.parametrize("exclude", [[], ["legacy.bank.example"], ["a.b.bank.example", "Mail.BANK.example"]])
def test_excludes_below_the_domain_are_accepted(exclude: list[str]) -> None:
    assert failures_of("SendingDomainRestriction", domain="bank.example", exclude=exclude) == {}


@pytest.mark.parametrize(
    ("exclude", "position", "outsider"),
    [
        (["mail.other.example"], 0, "mail.other.example"),
        (["legacy.bank.example", "bank.example"], 1, "bank.example"),
        (["legacy.bank.example", "xbank.example"], 1, "xbank.example"),
        (["legacy.bank.example", "bank.example.evil.example"], 1, "bank.example.evil.example"),
    ],
)
def test_an_exclude_outside_the_domain_is_named_by_position(exclude: list[str], position: int, outsider: str) -> None:
    reason = failures_of("SendingDomainRestriction", domain="bank.example", exclude=exclude)["exclude"]
    assert reason.startswith(f"exclude: item {position} must be a subdomain of domain 'bank.example'"), reason
    assert repr(outsider) in reason


def test_several_outsiders_are_all_counted() -> None:
    exclude = ["ok.bank.example", *[f"m{n}.other.example" for n in range(8)]]
    reason = failures_of("SendingDomainRestriction", domain="bank.example", exclude=exclude)["exclude"]
    assert "item 1 must be" in reason and reason.endswith("so must items 2, 3, 4, 5, 6 and 2 more"), reason


# --- set-like lists -----------------------------------------------------------------------------------------

LIST_ITEMS = {("ProtectedDomain", "ip_restrictions"): ["192.0.2.0/24", "2001:db8::/32"]}
"""Valid items for list fields whose sample is empty."""


def set_like_fields() -> list[tuple[str, str]]:
    """Every list field a settings type declares a set (``unordered``)."""
    return [(type_name, name) for type_name, spec in sorted(SETTINGS_TYPES.items()) for name in spec.unordered]


def test_the_set_like_lists_are_declared() -> None:
    assert set(set_like_fields()) >= {
        ("ProtectedDomain", "allowed_delivery_modes"),
        ("ProtectedDomain", "regions"),
        ("ProtectedDomain", "drop_dispositions"),
        ("ProtectedDomain", "ip_restrictions"),
        ("SendingDomainRestriction", "exclude"),
    }


@pytest.mark.parametrize(("type_name", "field"), set_like_fields())
def test_a_value_listed_twice_is_refused_and_named(type_name: str, field: str) -> None:
    items = SAMPLE_INPUTS[type_name][field] or LIST_ITEMS[(type_name, field)]
    assert failures_of(type_name, **{field: items}) == {}
    reason = failures_of(type_name, **{field: [*items, items[0]]})[field]
    assert reason.startswith(f"{field}: must list each value once: item {len(items)} {items[0]!r} repeats item 0")


@pytest.mark.parametrize(
    ("type_name", "changes", "field", "says"),
    [
        ("SendingDomainRestriction", {"exclude": ["a.bank.example", "A.Bank.Example"]}, "exclude", "'a.bank.example'"),
        ("ProtectedDomain", {"ip_restrictions": ["192.0.2.0/24", "192.0.2.9/24"]}, "ip_restrictions", "'192.0.2.0/24'"),
        ("ProtectedDomain", {"ip_restrictions": ["2001:db8::1", "2001:DB8::1"]}, "ip_restrictions", "'2001:db8::1'"),
    ],
)
def test_repeats_are_found_whatever_their_spelling(
    type_name: str, changes: dict[str, Any], field: str, says: str
) -> None:
    reason = failures_of(type_name, **changes)[field]
    assert reason.startswith(f"{field}: must list each value once: item 1 ") and f"repeats item 0 {says}" in reason


# --- messages quote nothing at length -----------------------------------------------------------------------

HUGE = "x" * 100_000


@pytest.mark.parametrize("name", [HUGE, "col\nour", " colour", ""])
def test_an_unknown_input_is_named_briefly_and_on_one_line(settings_type_name: str, name: str) -> None:
    failures = failures_of(settings_type_name, **{name: 1})
    ((prop, reason),) = failures.items()
    assert reason.startswith(f"{prop}: is not an input of {settings_type_name}")
    assert len(reason) < 400 and "\n" not in reason and len(prop) <= 60
    assert prop.endswith("' (100002 chars)") if name == HUGE else prop == repr(name)


def test_a_plain_unknown_input_is_named_as_written() -> None:
    assert "colour" in failures_of("AllowPolicy", colour=1)


def huge_values(type_name: str) -> list[tuple[str, Any]]:
    """Each input of a type, in turn, given a huge value that is wrong for it."""
    spec = SETTINGS_TYPES[type_name]
    values: list[tuple[str, Any]] = []
    for name in spec.inputs:
        sample = SAMPLE_INPUTS[type_name].get(name)
        values.append((name, [f"{HUGE} "] if isinstance(sample, list) else f"{HUGE} "))
    return values


def test_no_message_quotes_a_huge_value(settings_type_name: str) -> None:
    for name, value in huge_values(settings_type_name):
        for reason in failures_of(settings_type_name, **{name: value}).values():
            assert len(reason) < 400, (name, reason[:200])


def test_an_adopt_id_naming_another_account_does_not_quote_a_huge_account() -> None:
    reasons = failures_of("UrlIgnorePattern", account_id=HUGE, adopt_id=f"{ACCOUNT_ID}/{UUID}")
    assert set(reasons) == {"account_id"} and len(reasons["account_id"]) < 200


@pytest.mark.parametrize(
    ("type_name", "changes", "field"),
    [
        ("ImpersonationRegistryEntry", {"email": f"(?P={HUGE})", "is_email_regex": True}, "email"),
        ("BlockedSender", {"pattern": "(?P=" + "x" * 1000 + ")", "is_regex": True}, "pattern"),
    ],
)
def test_a_regex_error_quotes_the_pattern_briefly(type_name: str, changes: dict[str, Any], field: str) -> None:
    reason = failures_of(type_name, **changes)[field]
    assert "not a valid regular expression" in reason and "unknown group name" in reason and len(reason) < 300


def test_check_problems_quote_values_briefly() -> None:
    assert formats.shown(HUGE).endswith("x' (100002 chars)") and len(formats.shown(HUGE)) == 60
    assert formats.shown(HUGE + "\n").endswith("x\\n' (100004 chars)"), "the end of a value stays visible"
    assert formats.shown_name("colour") == "colour" and formats.shown_name("a\tb") == "'a\\tb'"


# --- lookups check the account before any request -----------------------------------------------------------

LOOKUPS = [getattr(email_security, name) for name in email_security.__all__ if name.startswith("list_")]
BAD_ACCOUNTS = ["not-an-account", ACCOUNT_ID + "\n", ACCOUNT_ID[:-1], "g" * 32, f"{ACCOUNT_ID}/x", HUGE]


@pytest.mark.parametrize("lookup", LOOKUPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("account", BAD_ACCOUNTS, ids=range(len(BAD_ACCOUNTS)))
def test_lookups_refuse_a_malformed_account_before_any_request(
    lookup: Callable[..., list[Any]], account: str, cloudflare: mock_cloudflare
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        lookup(account)
    message = str(raised.value)
    assert message.startswith("account_id: must be the Cloudflare account id, 32 hexadecimal characters (got ")
    assert len(message) < 200 and "\n" not in message
    assert cloudflare.requests == []


@pytest.mark.parametrize("lookup", LOOKUPS, ids=lambda f: f.__name__)
def test_lookups_refuse_a_malformed_default_account_naming_where_defaults_come_from(
    lookup: Callable[..., list[Any]], cloudflare: mock_cloudflare, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "my-account")
    with pytest.raises(ConfigurationError, match=r"^account_id: must be .*'my-account'.*CLOUDFLARE_ACCOUNT_ID"):
        lookup()
    assert cloudflare.requests == []


def test_lookups_refuse_a_malformed_account_from_the_stack_config() -> None:
    raised: list[ConfigurationError] = []

    def program() -> list[Any]:
        try:
            email_security.list_trusted_domains()
        except ConfigurationError as error:
            raised.append(error)
        return []

    try:
        with mock_cloudflare() as cf:
            register(program, config={"cloudflare-email-security:accountId": "prod"})
    finally:
        pulumi.runtime.set_all_config({})  # the stack config must not reach later tests
    assert len(raised) == 1 and "cloudflare-email-security:accountId" in str(raised[0])
    assert str(raised[0]).startswith("account_id: must be ") and cf.requests == []


def test_lookups_take_an_account_in_either_letter_case(cloudflare: mock_cloudflare) -> None:
    assert email_security.list_url_ignore_patterns(ACCOUNT_ID.upper()) == []
