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
}
"""A valid set of inputs (account aside) for each type."""

CHANGED_INPUTS: dict[str, dict[str, Any]] = {
    "AllowPolicy": {"comments": "Partner relay, reviewed", "verify_sender": False},
}
"""A valid change to apply with an update, for each type."""

OUT_OF_BAND_EDIT: dict[str, dict[str, Any]] = {
    "AllowPolicy": {"is_acceptable_sender": True},
}
"""A change someone makes outside Pulumi (through the API), for each type."""
