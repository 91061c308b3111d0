"""Valid and changed inputs for every settings type, for tests parametrized over the types."""

from __future__ import annotations

from typing import Any

SAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "AllowPolicy": {
        "pattern": "partner.example",
        "pattern_type": "DOMAIN",
        "is_trusted_sender": True,
        "is_acceptable_sender": False,
        "is_exempt_recipient": False,
        "is_regex": False,
        "verify_sender": True,
        "comments": "Partner mail relay",
    },
    "BlockedSender": {
        "pattern": "bad-actor.example",
        "pattern_type": "DOMAIN",
        "is_regex": False,
        "comments": "Known phishing source",
    },
    "TrustedDomain": {
        "pattern": "newly-acquired.example",
        "is_recent": True,
        "is_similarity": False,
        "is_regex": False,
        "comments": "Acquisition, registered last month",
    },
    "ImpersonationRegistryEntry": {
        "name": "Dana Chief",
        "email": "dana.chief@corp.example",
        "is_email_regex": False,
        "comments": "CEO",
    },
    "SendingDomainRestriction": {
        "domain": "bank.example",
        "exclude": ["legacy.bank.example"],
        "comments": "Bank mail must use TLS",
    },
    "UrlIgnorePattern": {"pattern": "https://intranet.corp.example/*", "comments": "Internal links"},
    "ProtectedDomain": {
        "domain": "corp.example",
        "allowed_delivery_modes": ["API"],
        "regions": ["US", "DE"],
        "drop_dispositions": ["MALICIOUS", "SPOOF"],
        "ip_restrictions": [],
        "folder": "Inbox",
        "lookback_hops": 2,
    },
    "ContentPolicy": {
        "name": "Urgent wire transfer",
        "pattern": r"(?i)\burgent\b.*\bwire\s+transfer",
        "enabled": True,
        "targets": ["SUBJECT", "BODY"],
        "notes": "Invoice fraud asks for urgent wire transfers",
    },
}
"""A valid set of inputs (account aside) for each type."""

CHANGED_INPUTS: dict[str, dict[str, Any]] = {
    "AllowPolicy": {"comments": "Partner relay, reviewed", "verify_sender": False},
    "BlockedSender": {"comments": "Known phishing source, reported twice"},
    "TrustedDomain": {"is_similarity": True},
    "ImpersonationRegistryEntry": {"name": "Dana Chief (CEO)"},
    "SendingDomainRestriction": {"exclude": ["legacy.bank.example", "old.bank.example"]},
    "UrlIgnorePattern": {"comments": "Internal links, reviewed"},
    "ProtectedDomain": {"drop_dispositions": ["MALICIOUS", "MALICIOUS-BEC", "SPOOF"], "lookback_hops": 3},
    "ContentPolicy": {"enabled": False, "notes": "Paused while finance reviews false positives"},
}
"""A valid change to apply with an update, for each type."""

OUT_OF_BAND_EDIT: dict[str, dict[str, Any]] = {
    "AllowPolicy": {"is_acceptable_sender": True},
    "BlockedSender": {"is_regex": True},
    "TrustedDomain": {"is_recent": False},
    "ImpersonationRegistryEntry": {"comments": "edited in the dashboard"},
    "SendingDomainRestriction": {"exclude": []},
    "UrlIgnorePattern": {"pattern": "https://intranet.corp.example/public/*"},
    "ProtectedDomain": {"regions": ["GLOBAL"]},
    "ContentPolicy": {"targets": ["BODY"]},
}
"""A change someone makes outside Pulumi (through the API), for each type."""

API_CREATE_BODIES: dict[str, dict[str, Any]] = {
    "allow_policies": {
        "pattern": "sender@partner.example",
        "pattern_type": "EMAIL",
        "is_regex": False,
        "is_trusted_sender": True,
        "is_acceptable_sender": False,
        "is_exempt_recipient": False,
        "verify_sender": True,
    },
    "block_senders": {"pattern": "45.60.12.0/24", "pattern_type": "IP", "is_regex": False, "comments": "x"},
    "trusted_domains": {"pattern": "partner.example", "is_recent": True, "is_regex": False, "is_similarity": False},
    "impersonation_registry": {"email": "ceo@corp.example", "is_email_regex": False, "name": "The CEO"},
    "sending_domain_restrictions": {"domain": "corp.example", "exclude": ["legacy.corp.example"]},
    "domains": {
        "domain": "corp.example",
        "allowed_delivery_modes": ["API"],
        "ip_restrictions": [],
        "drop_dispositions": ["MALICIOUS"],
        "regions": ["GLOBAL"],
    },
    "url_ignore_patterns": {"pattern": "https://intranet.corp.example/*"},
    "content_policies": {"name": "Wire fraud", "pattern": "wire transfer", "enabled": True, "targets": ["SUBJECT"]},
}
"""A valid POST body for each API collection, straight from the spec's required fields."""

API_EDITS: dict[str, dict[str, Any]] = {
    "allow_policies": {"comments": "edited"},
    "block_senders": {"comments": "edited"},
    "trusted_domains": {"comments": "edited"},
    "impersonation_registry": {"comments": "edited"},
    "sending_domain_restrictions": {"comments": "edited"},
    "domains": {"lookback_hops": 3},
    "url_ignore_patterns": {"comments": "edited"},
    "content_policies": {"notes": "edited"},
}
"""A valid PATCH body for each API collection."""

API_NAME_FIELD: dict[str, str] = {
    "allow_policies": "pattern",
    "block_senders": "pattern",
    "trusted_domains": "pattern",
    "impersonation_registry": "email",
    "sending_domain_restrictions": "domain",
    "domains": "domain",
    "url_ignore_patterns": "pattern",
    "content_policies": "name",
}
"""The field that tells entries apart in each collection (and that ``search`` looks into)."""


def numbered_body(collection: str, n: int) -> dict[str, Any]:
    """A valid, distinct create body: the n-th entry of a collection."""
    body = dict(API_CREATE_BODIES[collection])
    value = str(body[API_NAME_FIELD[collection]])
    if collection == "block_senders":
        body["pattern"] = f"45.61.{n // 250}.{n % 250 + 1}"
    elif "@" in value:
        local, domain = value.split("@")
        body[API_NAME_FIELD[collection]] = f"{local}{n:04d}@{domain}"
    elif value.startswith("https://"):
        body["pattern"] = f"https://intranet{n:04d}.corp.example/*"
    else:
        body[API_NAME_FIELD[collection]] = f"e{n:04d}.{value}"
    if "exclude" in body:  # excluded subdomains stay below the numbered domain
        body["exclude"] = [name.replace(value, body["domain"]) for name in body["exclude"]]
    return body


def numbered_inputs(type_name: str, n: int) -> dict[str, Any]:
    """Valid resource inputs for the n-th entry of a type: the sample with a distinct natural key."""
    inputs = dict(SAMPLE_INPUTS[type_name])
    unique = {
        "AllowPolicy": {"pattern": f"p{n:04d}.partner.example"},
        "BlockedSender": {"pattern": f"b{n:04d}.bad-actor.example"},
        "TrustedDomain": {"pattern": f"t{n:04d}.newly-acquired.example"},
        "ImpersonationRegistryEntry": {"email": f"vip{n:04d}@corp.example", "name": f"VIP {n}"},
        "SendingDomainRestriction": {"domain": f"s{n:04d}.bank.example", "exclude": [f"legacy.s{n:04d}.bank.example"]},
        "UrlIgnorePattern": {"pattern": f"https://intranet{n:04d}.corp.example/*"},
        "ProtectedDomain": {"domain": f"d{n:04d}.corp.example"},
        "ContentPolicy": {"name": f"Content policy {n:04d}"},
    }
    inputs.update(unique[type_name])
    return inputs


NATURAL_KEY_OF: dict[str, str] = {
    "AllowPolicy": "pattern",
    "BlockedSender": "pattern",
    "TrustedDomain": "pattern",
    "ImpersonationRegistryEntry": "email",
    "SendingDomainRestriction": "domain",
    "UrlIgnorePattern": "pattern",
    "ProtectedDomain": "domain",
    "ContentPolicy": "name",
}
"""The field that tells numbered entries of a type apart."""


def changed_numbered_inputs(type_name: str, n: int) -> dict[str, Any]:
    """The n-th entry of a type (see :func:`numbered_inputs`) with a valid change that keeps its natural key."""
    inputs = numbered_inputs(type_name, n)
    change = dict(CHANGED_INPUTS[type_name])
    if type_name == "SendingDomainRestriction":  # excluded subdomains stay below the numbered domain
        change = {"exclude": [*inputs["exclude"], f"old.{inputs['domain']}"]}
    return {**inputs, **change}
