"""The value formats the API describes: sender patterns by ``pattern_type``, account ids, domain names,
UUIDs, IP networks.

Both the provider's input checks and the emulator use these, so a pattern the provider accepts is one the
API's documented rules accept. Every pattern here is anchored with ``\\A`` and ``\\Z``: ``$`` would also match
before a trailing newline, letting ``"example.com\\n"`` through.
"""

from __future__ import annotations

import ipaddress
import re

PATTERN_TYPES_WRITABLE = ("EMAIL", "DOMAIN", "IP")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9](?:[A-Za-z0-9-]{0,57}[A-Za-z0-9])?)"
"""A top-level label: letters, or an internationalised one in punycode (``xn--p1ai``)."""
EMAIL_RE = re.compile(rf"\A[^@\s\x00-\x1f\x7f]+@(?=.{{1,253}}\Z)(?:{_LABEL}\.)+{_TLD}\Z")
DOMAIN_RE = re.compile(rf"\A(?=.{{1,253}}\Z)(?:{_LABEL}\.)+{_TLD}\Z")
ACCOUNT_ID_RE = re.compile(r"\A[0-9a-fA-F]{32}\Z")
UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
ACCOUNT_ID_RULE = "the Cloudflare account id, 32 hexadecimal characters"


def shown(value: object, limit: int = 60) -> str:
    """A value as messages quote it: its repr, shortened so that a huge input makes no huge message.

    A shortened value keeps both ends, where stray characters (a trailing newline, a space) most often are.
    """
    return _elided(repr(value), limit)


def _elided(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = f" ({len(text)} chars)"
    keep = max(limit - len(note) - 1, 2)
    return f"{text[: keep - keep // 3]}…{text[-(keep // 3) :]}{note}"


def shown_name(name: str, limit: int = 60) -> str:
    """An input's name as messages give it: as written when short and plain, else as :func:`shown` quotes it."""
    plain = 0 < len(name) <= limit and name.isprintable() and name == name.strip()
    return name if plain else shown(name, limit)


def account_id_problem(value: object) -> str | None:
    """Why ``value`` is not an account id, or ``None`` when it is one."""
    if isinstance(value, str) and ACCOUNT_ID_RE.fullmatch(value):
        return None
    return f"must be {ACCOUNT_ID_RULE} (got {shown(value)})"


def is_domain_name(value: str) -> bool:
    """Whether ``value`` is a domain name: dot-separated labels of letters, digits and inner hyphens."""
    return DOMAIN_RE.fullmatch(value) is not None


def is_subdomain(name: str, parent: str) -> bool:
    """Whether domain ``name`` lies strictly below domain ``parent`` (domain names ignore case)."""
    return name.lower().endswith("." + parent.lower())


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in its canonical 8-4-4-4-12 hexadecimal form (the spec's ``uuid`` format)."""
    return UUID_RE.fullmatch(value) is not None


def is_ip_network(value: str) -> bool:
    """Whether ``value`` is an IP address or CIDR block (IPv4 or IPv6)."""
    try:
        ip_network(value)
    except ValueError:
        return False
    return True


def ip_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network an address or CIDR block names (host bits allowed); a zone (``%eth0``) is refused."""
    if "%" in value:
        raise ValueError("an IP address with a zone cannot be written")
    return ipaddress.ip_network(value, strict=False)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid regular expression, or ``None``.

    Checked with Python's ``re`` syntax, which is close to, but not the same as, the engine Cloudflare
    matches with: a pattern that passes here may still be refused by the API, which then says why.
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression in Python's re syntax ({_elided(str(exc), 160)})"
    return None


def pattern_problem(pattern: str, pattern_type: str, is_regex: bool) -> str | None:
    """Why ``pattern`` does not fit ``pattern_type`` (and ``is_regex``), or ``None`` when it does."""
    if is_regex:
        return regex_problem(pattern)
    if pattern_type == "EMAIL" and not EMAIL_RE.fullmatch(pattern):
        return f"must be an email address such as user@example.com when pattern_type is EMAIL (got {shown(pattern)})"
    if pattern_type == "DOMAIN" and not DOMAIN_RE.fullmatch(pattern):
        return f"must be a domain name such as example.com when pattern_type is DOMAIN (got {shown(pattern)})"
    if pattern_type == "IP":
        try:
            network = ip_network(pattern)
        except ValueError:
            example = "an IPv4 address or CIDR block such as 203.0.113.0/24"
            return f"must be {example} when pattern_type is IP (got {shown(pattern)})"
        if network.version != 4 or not network.is_global:
            return f"must be a globally reachable IPv4 address or CIDR block (got {shown(pattern)})"
    return None
