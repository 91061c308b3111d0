"""The value formats the API describes in prose: sender patterns by ``pattern_type``, account ids.

Both the provider's input checks and the emulator use these, so a pattern the provider accepts is one the
API's documented rules accept.
"""

from __future__ import annotations

import ipaddress
import re

PATTERN_TYPES_WRITABLE = ("EMAIL", "DOMAIN", "IP")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^[^@\s]+@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")
DOMAIN_RE = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")
ACCOUNT_ID_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def shown(value: object, limit: int = 60) -> str:
    """A value as messages quote it: its repr, shortened so that a huge input makes no huge message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}…({len(text)} chars)"


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid regular expression, or ``None``.

    Checked with Python's ``re`` syntax, which is close to, but not the same as, the engine Cloudflare
    matches with: a pattern that passes here may still be refused by the API, which then says why.
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression in Python's re syntax ({exc})"
    return None


def pattern_problem(pattern: str, pattern_type: str, is_regex: bool) -> str | None:
    """Why ``pattern`` does not fit ``pattern_type`` (and ``is_regex``), or ``None`` when it does."""
    if is_regex:
        return regex_problem(pattern)
    if pattern_type == "EMAIL" and not EMAIL_RE.match(pattern):
        return f"must be an email address such as user@example.com when pattern_type is EMAIL (got {shown(pattern)})"
    if pattern_type == "DOMAIN" and not DOMAIN_RE.match(pattern):
        return f"must be a domain name such as example.com when pattern_type is DOMAIN (got {shown(pattern)})"
    if pattern_type == "IP":
        try:
            network = ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            example = "an IPv4 address or CIDR block such as 203.0.113.0/24"
            return f"must be {example} when pattern_type is IP (got {shown(pattern)})"
        if network.version != 4 or not network.is_global:
            return f"must be a globally reachable IPv4 address or CIDR block (got {shown(pattern)})"
    return None
