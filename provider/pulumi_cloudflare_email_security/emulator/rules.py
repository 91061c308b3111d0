"""What the API enforces beyond its JSON schema, and the values it fills in itself.

These rules come from the spec's descriptions (``UNKNOWN`` cannot be written, pattern formats per
``pattern_type``, directory-synced impersonation entries are read-only, a domain's name is immutable), from
what the SDK's descriptions imply (a content policy's pattern is a regular expression, matched against at
least one part of the email, each part once) and from the API's observed behaviour (a domain is protected
once per account).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..formats import pattern_problem
from .failures import ApiFailure

PATTERN_TYPED = frozenset({"allow_policies", "block_senders"})
ALWAYS_REGEX = frozenset({"content_policies"})
"""Collections whose ``pattern`` is always a regular expression."""
REGEX_FLAGGED = frozenset({"allow_policies", "block_senders", "trusted_domains"})
"""Collections whose ``pattern`` is a regular expression when the entry's ``is_regex`` is set."""
NON_EMPTY_SETS: dict[str, tuple[str, ...]] = {"content_policies": ("targets",)}
"""List fields that must name at least one value, and each value once."""
DIRECTORY_INTERNAL = "A1S_INTERNAL"

# Values the API fills in when a create leaves them out (fields not listed default to null).
CREATE_DEFAULTS: dict[str, dict[str, Any]] = {
    "impersonation_registry": {"provenance": DIRECTORY_INTERNAL},
    "domains": {
        "lookback_hops": 1,
        "folder": None,
        "require_tls_inbound": False,
        "require_tls_outbound": False,
        "transport": "",
        "status": "PENDING",
        "dmarc_status": "none",
        "spf_status": "none",
    },
}

NULL_MEANS_DEFAULT: dict[str, tuple[str, ...]] = {
    "impersonation_registry": ("provenance",),
    "domains": ("lookback_hops",),
}
"""Fields a write may send as null (or a PUT leave out) for the API to keep its default from
:data:`CREATE_DEFAULTS` (overlays 04 and 13)."""


def fill_defaults(collection: str, entry: dict[str, Any]) -> None:
    """Give the fields of :data:`NULL_MEANS_DEFAULT` that a write left null the API's default."""
    for name in NULL_MEANS_DEFAULT.get(collection, ()):
        if entry.get(name) is None:
            entry[name] = CREATE_DEFAULTS[collection][name]


UPPER_CASED: dict[str, tuple[str, ...]] = {"domains": ("status",)}
"""Enum fields the API used to answer in lower case (overlay 01): an entry stored then answers in upper case."""


def upgrade(collection: str, entry: dict[str, Any]) -> None:
    """Bring an entry stored by an older emulator (a state file, a seed) to today's API."""
    for name in UPPER_CASED.get(collection, ()):
        if isinstance(entry.get(name), str):
            entry[name] = entry[name].upper()


# Deprecated response fields the API still returns, mirrored from their replacements.
DEPRECATED_MIRRORS: dict[str, dict[str, str]] = {
    "allow_policies": {
        "is_sender": "is_trusted_sender",
        "is_spoof": "is_acceptable_sender",
        "is_recipient": "is_exempt_recipient",
    },
}


def check_write(collection: str, entry: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Refuse a create or edit whose resulting ``entry`` the API would not accept."""
    if collection in PATTERN_TYPED and body.get("pattern_type") == "UNKNOWN":
        raise ApiFailure.invalid("pattern_type: UNKNOWN is deprecated and cannot be used when creating or updating")
    pattern = str(entry.get("pattern", ""))
    if collection in ALWAYS_REGEX or (collection in REGEX_FLAGGED and entry.get("is_regex")):
        problem = regex_problem(pattern)
    elif collection in PATTERN_TYPED:
        problem = pattern_problem(pattern, str(entry.get("pattern_type")))
    else:
        problem = None
    if problem:
        raise ApiFailure.invalid(f"pattern: {problem}")
    for name in NON_EMPTY_SETS.get(collection, ()):
        values = list(entry.get(name) or [])
        if not values:
            raise ApiFailure.invalid(f"{name}: must list at least one value")
        if len(set(values)) != len(values):
            raise ApiFailure.invalid(f"{name}: must list each value once")


def regex_problem(pattern: str) -> str | None:
    """Why the API would refuse ``pattern`` as a regular expression, or ``None``: the emulator takes what
    Python's ``re`` compiles, and refuses every way ``re.compile`` can fail, not only ``re.error`` (a
    repetition count too large, groups nested too deeply, clashing inline flags)."""
    try:
        re.compile(pattern)
    except RecursionError:
        why = "its groups nest too deeply"
    except (re.error, OverflowError, ValueError, MemoryError) as exc:
        why = " ".join(str(exc).split()) or "it needs too much memory"  # one line: re quotes line breaks
    else:
        return None
    return f"is not a valid regular expression: {why}"


def check_editable(collection: str, existing: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Refuse edits the API does not allow on an existing entry."""
    if collection == "impersonation_registry" and existing.get("provenance") != DIRECTORY_INTERNAL:
        raise ApiFailure.invalid(
            f"impersonation registry entry {existing.get('id')} is synced from a directory "
            f"(provenance {existing.get('provenance')}) and cannot be edited"
        )
    if collection == "domains" and "domain" in body and body["domain"] != existing.get("domain"):
        raise ApiFailure.invalid("domain: cannot be changed on an existing domain")
