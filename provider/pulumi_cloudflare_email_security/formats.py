"""The value formats the API describes: sender patterns by ``pattern_type``, account ids, domain names,
UUIDs, IP networks.

Both the provider's input checks and the emulator use these, so a pattern the provider accepts is one the
API's documented rules accept. Every pattern here is anchored with ``\\A`` and ``\\Z``: ``$`` would also match
before a trailing newline, letting ``"example.com\\n"`` through.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9](?:[A-Za-z0-9-]{0,57}[A-Za-z0-9])?)"
"""A top-level label: letters, or an internationalised one in punycode (``xn--p1ai``)."""
EMAIL_RE = re.compile(rf"\A[^@\s\x00-\x1f\x7f]+@(?=.{{1,253}}\Z)(?:{_LABEL}\.)+{_TLD}\Z")
DOMAIN_RE = re.compile(rf"\A(?=.{{1,253}}\Z)(?:{_LABEL}\.)+{_TLD}\Z")
ACCOUNT_ID_RE = re.compile(r"\A[0-9a-fA-F]{32}\Z")
UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
ACCOUNT_ID_RULE = "the Cloudflare account id, 32 hexadecimal characters"


NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
"""The characters :func:`escaped` writes by name rather than in hex."""


def hex_escape(char: str) -> str:
    """A character as Python and YAML escape it in hex: ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escaped(text: str, also: Mapping[str, str] | None = None, escape: Callable[[str], str] = hex_escape) -> str:
    """``text`` safe for a terminal, a log and generated source: every character that is not printable
    (``str.isprintable``, the rule ``repr`` follows) written as its escape, ``\\n`` and the like by name,
    others by :func:`hex_escape` (or ``escape``). That takes in C0 and C1 controls (so ANSI and OSC sequences,
    whose ESC or CSI is shown, never acted on), line and paragraph separators, bidi and other format
    characters, non-breaking and other odd spaces, surrogates and unassigned code points.

    The one rule for text that is not the package's own: what ``cfes`` prints, API error messages, and the
    comments and literals of exported code. ``also`` maps further characters to what to write for them (a
    string literal's quote and backslash). Already escaped text comes back as it is.
    """
    if text.isprintable() and not (also and any(char in also for char in text)):
        return text
    also = also or {}
    out = []
    for char in text:
        if char in also:
            out.append(also[char])
        elif char.isprintable():
            out.append(char)
        else:
            out.append(NAMED_ESCAPES.get(char) or escape(char))
    return "".join(out)


def shown(value: object, limit: int = 60) -> str:
    """A value as messages quote it: its repr, shortened so that a huge input makes no huge message.

    A shortened value keeps both ends, where stray characters (a trailing newline, a space) most often are.
    """
    return elided(repr(value), limit)


def elided(text: str, limit: int) -> str:
    """``text`` as it is when at most ``limit`` characters, else shortened to ``limit``, keeping both ends."""
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


def pattern_problem(pattern: str, pattern_type: str) -> str | None:
    """Why ``pattern``, not a regex, does not fit ``pattern_type``, or ``None`` when it does.

    Whether a regex compiles is not a format: the provider's checks and the emulator each have their own rule.
    """
    if pattern_type == "EMAIL" and not EMAIL_RE.fullmatch(pattern):
        return f"must be an email address such as user@example.com when pattern_type is EMAIL (got {shown(pattern)})"
    if pattern_type == "DOMAIN" and not DOMAIN_RE.fullmatch(pattern):
        return f"must be a domain name such as example.com when pattern_type is DOMAIN (got {shown(pattern)})"
    if pattern_type == "IP":
        return ip_pattern_problem(pattern)
    return None


def _ipv4_mapped(block: str) -> str:
    network = ipaddress.IPv4Network(block)
    return f"::ffff:{network.network_address}/{96 + network.prefixlen}"


_REFUSED_IPV4 = {
    "private": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
    "loopback": ("127.0.0.0/8",),
    "link-local": ("169.254.0.0/16",),
    "unspecified": ("0.0.0.0/32",),
    "broadcast": ("255.255.255.255/32",),
}
_REFUSED_IPV6 = {
    "unique-local": ("fc00::/7",),
    "loopback": ("::1/128",),
    "link-local": ("fe80::/10",),
    "unspecified": ("::/128",),
}
REFUSED_IP_NETWORKS: tuple[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network], ...] = (
    *((kind, ipaddress.ip_network(block)) for kind, blocks in _REFUSED_IPV4.items() for block in blocks),
    *((kind, ipaddress.ip_network(block)) for kind, blocks in _REFUSED_IPV6.items() for block in blocks),
    *(
        (f"IPv4-mapped {kind}", ipaddress.ip_network(_ipv4_mapped(block)))
        for kind, blocks in _REFUSED_IPV4.items()
        for block in blocks
    ),
)
"""The ranges an ``IP`` pattern may not touch, each with its kind: private (RFC 1918) or unique-local
(RFC 4193), loopback, link-local, unspecified, the IPv4 broadcast address, and the IPv4-mapped IPv6 form of
each IPv4 one."""
_REFUSED_RULE = (
    "the API refuses private or unique-local, loopback, link-local, unspecified and IPv4 broadcast addresses, "
    "and their IPv4-mapped IPv6 forms"
)


def ip_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not an IP pattern the API takes (an IPv4 or IPv6 address or CIDR block outside the
    refused ranges), or ``None`` when it is one. A block is refused when any of its addresses would be."""
    try:
        network = ip_network(pattern)
    except ValueError:
        example = "an IPv4 or IPv6 address or CIDR block such as 203.0.113.0/24 or 2606:4700:4700::/48"
        return f"must be {example} when pattern_type is IP (got {shown(pattern)})"
    for kind, refused in REFUSED_IP_NETWORKS:
        if network.version == refused.version and network.overlaps(refused):
            what = f"is {kind}" if network.num_addresses == 1 else f"takes in {kind} addresses"
            return f"must be a public IP address or CIDR block; {shown(pattern)} {what} ({_REFUSED_RULE})"
    return None
